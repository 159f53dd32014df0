/*
 * The `xensim` command line tool: shared declarations.
 *
 * Exit status: 0 success; 1 the operation failed (daemon error, failed
 * expectations); 2 bad usage or no connection to the daemon.  `xensim run`
 * exits with its command's status, or 125 if it could not set up.
 */
#ifndef XENSIM_CLI_H
#define XENSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2
#define CLI_SETUP 125 /* xensim run: could not start the daemon etc. */

struct cli_command;

struct cli_ctx {
    const char *socket_path;          /* --socket, else $XENSIM_SOCKET */
    const struct cli_command *cmd;    /* the command being run */
};

struct cli_command {
    const char *name;   /* "domain create" */
    const char *usage;  /* synopsis and options, for --help */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

extern const struct cli_command cli_domain_create, cli_domain_destroy,
    cli_domain_list, cli_domain_pause, cli_domain_unpause, cli_domain_info,
    cli_guest_run, cli_irq_log, cli_run;

/* ---- messages (args.c) ---- */

/* "xensim CMD: message" on stderr; returns `status`. */
__attribute__((format(printf, 3, 4)))
int cli_error(const struct cli_ctx *ctx, int status, const char *fmt, ...);

/* `s` made safe to print: control bytes as '?', cut to 64 bytes with "...". */
const char *cli_safe(const char *s, char *buf, size_t len);
#define CLI_SAFE_MAX 72

/* Write daemon-supplied text, control bytes other than '\n' and '\t' as '?'. */
void cli_print_text(FILE *f, const char *s, size_t len);

/* ---- option parsing (args.c) ---- */

struct cli_option {
    const char *name;   /* "--vcpus" */
    bool has_arg;
    int id;             /* > 0 */
};

struct cli_args {
    int argc;
    char **argv;
    int i;
    bool positional_only;    /* after "--" */
    bool stop_at_positional; /* the first positional ends option parsing */
};

enum { CLI_ARG_END = 0, CLI_ARG_POSITIONAL = -1, CLI_ARG_HELP = -2, CLI_ARG_ERROR = -3 };

/*
 * The next argument: an option id with its value in *value (if it takes
 * one; "--opt VALUE" or "--opt=VALUE"), CLI_ARG_POSITIONAL, CLI_ARG_HELP
 * (-h/--help), CLI_ARG_END, or CLI_ARG_ERROR after printing why.
 */
int cli_next_arg(const struct cli_ctx *ctx, struct cli_args *a,
                 const struct cli_option *opts, const char **value);

/* Print the command's usage on stdout; returns CLI_OK. */
int cli_help(const struct cli_ctx *ctx);

/* ---- values (values.c); each prints its own error and returns -1 ---- */

/* Decimal or 0x hex in [min, max]. */
int cli_parse_uint(const struct cli_ctx *ctx, const char *what, const char *s,
                   uint64_t min, uint64_t max, uint64_t *out);
/* A size with a unit: 64K, 64M, 1G, 1T (binary); a multiple of 4 KiB. */
int cli_parse_memory(const struct cli_ctx *ctx, const char *what, const char *s,
                     uint64_t *bytes);
/* 1..63 characters of [A-Za-z0-9_.-], not starting with '-', not all digits. */
int cli_check_name(const struct cli_ctx *ctx, const char *what, const char *s);
/* "hvm" or "pvh" -> enum xensim_domain_type. */
int cli_parse_type(const struct cli_ctx *ctx, const char *what, const char *s,
                   uint32_t *type);
/* A domid for a new domain: 1..DOMID_FIRST_RESERVED-1. */
int cli_parse_domid(const struct cli_ctx *ctx, const char *what, const char *s,
                    uint32_t *domid);
/* "64M", "1G", or bytes when no unit divides exactly. */
void cli_format_memory(uint64_t bytes, char *buf, size_t len);
const char *cli_type_name(uint32_t type);

/* ---- domains (cmd_domain.c) ---- */

struct xensim_client;

struct cli_domain_spec {
    const char *name;
    uint32_t type, vcpus, domid;
    uint64_t memory_bytes;
    bool paused; /* created paused (the toolstack's pause count is 1) */
};

/* Create a domain; prints errors; returns the domid (> 0) or -1. */
long cli_create_domain(const struct cli_ctx *ctx, struct xensim_client *c,
                       const struct cli_domain_spec *spec);
/*
 * Check a DOMID or NAME argument without the daemon: CLI_OK with *domid
 * set (a number: digits or 0x hex) or 0 (a valid name), or CLI_USAGE.
 */
int cli_domain_ref(const struct cli_ctx *ctx, const char *ref, uint32_t *domid);
/*
 * DOMID or NAME to a domid, asking the daemon for names.  Prints errors;
 * returns CLI_OK, CLI_FAILED (no such domain) or CLI_USAGE.
 */
int cli_resolve_domain(const struct cli_ctx *ctx, struct xensim_client *c,
                       const char *ref, uint32_t *domid);

/* ---- talking to the daemon (session.c) ---- */

#define CLI_CALL_TIMEOUT_MS 30000u

/*
 * Arguments that are exactly one DOMID|NAME (and --help).  CLI_OK with
 * *ref set; CLI_OK with *ref NULL after printing help; or CLI_USAGE.
 */
int cli_one_domain_arg(struct cli_ctx *ctx, int argc, char **argv, const char **ref);

/* Connect to the daemon as a control client; CLI_OK or CLI_USAGE. */
int cli_connect(const struct cli_ctx *ctx, struct xensim_client *c);
/*
 * A request/reply round trip; prints transport errors (CLI_USAGE: the
 * connection is gone) and returns the reply length or -1.
 */
long cli_call(const struct cli_ctx *ctx, struct xensim_client *c, void *req,
              size_t req_len, void *reply, size_t reply_max, unsigned int timeout_ms);
/* The same, keeping the one file descriptor the reply may carry in *fd (else -1). */
long cli_call_fd(const struct cli_ctx *ctx, struct xensim_client *c, void *req,
                 size_t req_len, void *reply, size_t reply_max, unsigned int timeout_ms,
                 int *fd);
/* The daemon's positive errno as text. */
const char *cli_strerror(int32_t err);
/* A reply buffer of XENSIM_MSG_MAX bytes, or NULL after printing why. */
void *cli_reply_buffer(const struct cli_ctx *ctx);

#endif /* XENSIM_CLI_H */
