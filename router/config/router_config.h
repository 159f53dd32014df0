/* router_config: the ioreq router's JSON configuration (docs/config.md).
 *
 * Parsing and validation only: nothing is started.  Every problem found is
 * appended to a struct config_errors as one line
 *     "FILE: JSON.PATH: plain sentence"
 * e.g. `demo.json: guests[0].emulators[1].ports[0]: overlaps "uart0" 0x3f8-0x3ff`.
 * The library never prints, never exits and keeps no global state.
 *
 * Emulators can also come one at a time from xenstore
 * (/tool/ioreq-router/guests/<guest-name>/emulators/<id>, each a JSON object
 * of one emulator): router_emulator_parse_string() validates one such entry
 * with the same rules as the file, and router_guest_check() runs the checks
 * between the emulators of one guest over a guest assembled from the file and
 * xenstore.  Their messages use a caller-given prefix WHERE instead of
 * "FILE: JSON.PATH"; see "Message prefixes" below.
 *
 * cpu_set_t comes from <sched.h>; the CPU_* macros need _GNU_SOURCE. */
#ifndef ROUTER_CONFIG_H
#define ROUTER_CONFIG_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTER_MAX_EMULATORS_PER_GUEST 8 /* Xen: ioreq servers per guest */
#define ROUTER_MAX_DOMID 0x7fef          /* DOMID_FIRST_RESERVED - 1 */
#define ROUTER_NAME_MAX 64               /* guest names and emulator ids */
#define ROUTER_MAX_RANGES 256 /* per list of an emulator: Xen's MAX_NR_IO_RANGES per server */
#define ROUTER_RESTART_BACKOFF_CAP_MS 30000 /* see struct router_restart */
/* max_restarts above this could not be counted: the daemon keeps this many
 * restart times per emulator for the window */
#define ROUTER_RESTART_MAX_RESTARTS 64
#define ROUTER_FORMAT_LEN 40 /* buffer for router_range_format/router_sbdf_format */

enum router_bufioreq {
    ROUTER_BUFIOREQ_OFF = 0,
    ROUTER_BUFIOREQ_LEGACY,
    ROUTER_BUFIOREQ_ATOMIC,
};

enum router_restart_policy {
    ROUTER_RESTART_ON_FAILURE = 0, /* default */
    ROUTER_RESTART_ALWAYS,
    ROUTER_RESTART_NEVER,
};

/* An inclusive range; in JSON the string "START-END" (decimal or 0x hex). */
struct router_range {
    uint64_t start;
    uint64_t end;
};

struct router_sbdf {
    uint16_t segment;
    uint8_t bus;
    uint8_t dev;  /* 0..0x1f */
    uint8_t func; /* 0..7 */
};

struct router_restart {
    enum router_restart_policy policy;
    unsigned max_restarts; /* default 5 */
    unsigned window_s;     /* default 60 */
    /* Delay before the first restart, 1..60000, default 500.  It doubles with
     * each consecutive restart and is capped at ROUTER_RESTART_BACKOFF_CAP_MS
     * (30000): the delay before the n-th consecutive restart (n >= 1) is
     *     min(backoff_ms * 2^(n-1), 30000),
     * so a backoff_ms above 30000 acts as 30000. */
    unsigned backoff_ms;
};

struct router_isolation {
    bool namespaces; /* own mount/IPC/PID namespaces; default true */
    bool seccomp;    /* default deny-list filter ("default"); false for "off"; default true */
    bool has_cpus;   /* CPU affinity given */
    cpu_set_t cpus;  /* from "cpus": [0, 2, "4-7"] - numbers or "A-B" strings, each
                        < CPU_SETSIZE; only meaningful when has_cpus */
};

struct router_emulator {
    char *id;
    char *exec;          /* as written in the file */
    char *exec_resolved; /* absolute path found by validation (a relative
                            search directory taken from the working
                            directory), or NULL when executables were not
                            checked */
    char **args;
    size_t nargs;
    enum router_bufioreq bufioreq;
    struct router_range *ports;
    size_t nports;
    struct router_range *mmio;
    size_t nmmio;
    struct router_sbdf *pci;
    size_t npci;
    char *user;  /* NULL if not given; a name or a decimal id */
    char *group; /* NULL if not given; a name or a decimal id */
    struct router_restart restart;
    unsigned ready_timeout_ms; /* 100..600000, default 10000 */
    struct router_isolation isolation;
};

struct router_guest {
    char *name; /* NULL if matched by domid only */
    bool has_domid;
    uint32_t domid;
    bool hold; /* keep paused until all emulators are ready; default false */
    struct router_emulator *emulators;
    size_t nemulators;
};

struct router_config {
    struct router_guest *guests;
    size_t nguests;
};

/* The list of problems.  Zero-initialise (or config_errors_init) before use,
 * config_errors_free after. */
struct config_errors {
    char **msg;
    size_t count;
    size_t cap;
    bool out_of_memory; /* some messages could not be recorded */
};

struct router_config_options {
    /* Check that every `exec` exists and is executable (access X_OK).
     * Absolute paths are checked as they are; bare names are looked up
     * first in exec_path, then in $PATH.  Names with a '/' that are not
     * absolute are rejected. */
    bool check_exec;
    /* Colon-separated directories searched before $PATH; may be NULL.
     * Relative ones (here or in $PATH) are relative to the working
     * directory at validation. */
    const char *exec_path;
    /* Check that every `user` and `group` given by name exists on this
     * system (getpwnam_r/getgrnam_r): "user \"x\" does not exist".  Decimal
     * ids are accepted without lookup.  On in the defaults (opts NULL, and
     * router_config_load); an initializer that leaves it out turns it off. */
    bool check_accounts;
};

void config_errors_init(struct config_errors *errs);
void config_errors_free(struct config_errors *errs);

/* Read and validate PATH.  Returns 0 and sets *out (free with
 * router_config_free) when valid; returns -1, sets *out to NULL and appends
 * every problem to errs otherwise.  Uses the default options: executables and
 * accounts are checked, exec_path is $IOREQ_ROUTER_EXEC_PATH if set. */
int router_config_load(const char *path, struct router_config **out,
                       struct config_errors *errs);

/* As router_config_load with explicit options (NULL: the defaults above). */
int router_config_load_opts(const char *path, const struct router_config_options *opts,
                            struct router_config **out, struct config_errors *errs);

/* Validate JSON text; FILENAME is only used in messages. */
int router_config_parse_string(const char *text, const char *filename,
                               const struct router_config_options *opts,
                               struct router_config **out, struct config_errors *errs);

void router_config_free(struct router_config *cfg);

/* ---------------- single emulators (xenstore) and guest checks ----------------
 *
 * Message prefixes.  `where` (and `guest_label`) take the place of
 * "FILE: JSON.PATH" and come in two forms:
 *   - a JSON path in a file, "FILE: PATH", recognised by containing ": ",
 *     e.g. "demo.json: guests[0].emulators[1]".  A key below it is appended
 *     with '.', exactly as in whole-file messages:
 *         demo.json: guests[0].emulators[1].ports[0]: overlaps "uart0" 0x3f8-0x3ff
 *   - anything else (no ": "), e.g. the xenstore entry
 *     "xenstore:/tool/ioreq-router/guests/demo/emulators/uart1".  A key below
 *     it follows after ": ", and the entry itself is "(top level)":
 *         xenstore:/tool/ioreq-router/guests/demo/emulators/uart1: ports[0]: overlaps "uart0" 0x3f8-0x3ff
 *         xenstore:/tool/ioreq-router/guests/demo/emulators/uart1: (top level): missing required key "exec"
 * Another emulator is named by its id in quotes; where a message names it by
 * position (duplicate ids, an emulator without id) it is named by its `where`,
 * shortened to the last component ("emulators[0]") when both emulators are in
 * the same file and guest (their `where`s differ only after the last '.'). */

/* Parse ONE emulator object given as JSON text (from xenstore).  `where`
 * prefixes messages instead of FILE: JSON.PATH (see above), so messages read
 * "WHERE: ports[0]: ...".  `id` is the entry's name: if the object has no "id"
 * key it is taken from here; if it has one it must equal id (else
 * "id \"a\" does not match the entry name \"b\"").  With id NULL the "id"
 * key is required as in a file.  All single-emulator checks of the file are
 * done (including overlaps between the emulator's own ranges); opts NULL means
 * the defaults of router_config_load.  Returns 0 and *out (free with
 * router_emulator_free), or -1, *out NULL, with errors appended. */
int router_emulator_parse_string(const char *text, const char *where, const char *id,
                                 const struct router_config_options *opts,
                                 struct router_emulator **out, struct config_errors *errs);

/* Frees the members and e itself.  NULL is allowed. */
void router_emulator_free(struct router_emulator *e);
/* Frees the members only and zeroes *e.  NULL is allowed. */
void router_emulator_clear(struct router_emulator *e);
/* Deep copy of src into dst.  dst's previous contents are overwritten, not
 * freed (clear it first if it owned anything).  Returns 0, or -ENOMEM with dst
 * untouched. */
int router_emulator_copy(struct router_emulator *dst, const struct router_emulator *src);
/* True when a and b would run the same process the same way: exec (the
 * resolved paths if both are resolved, else exec as written), args, bufioreq,
 * ports, mmio, pci (all in order), user, group, restart (all four fields),
 * ready_timeout_ms and isolation (cpus only when has_cpus).  The id is NOT
 * compared. */
bool router_emulator_equal(const struct router_emulator *a, const struct router_emulator *b);

/* A guest name or emulator id fit for file names and xenstore paths: 1 to
 * ROUTER_NAME_MAX of A-Z a-z 0-9 _ . + -, and not "." or "..". */
bool router_name_is_safe(const char *s);

/* The checks between the emulators of one guest: duplicate ids, overlapping
 * ports/mmio ranges (also within one emulator), the same PCI address in two
 * emulators, and more than ROUTER_MAX_EMULATORS_PER_GUEST emulators.  For a
 * guest assembled from a file and xenstore entries: `emus` is an array of n
 * emulator pointers, `where[i]` the message prefix of emus[i] (see "Message
 * prefixes"), e.g. "demo.json: guests[0].emulators[1]" or
 * "xenstore:/tool/ioreq-router/guests/demo/emulators/uart1".  The later of two
 * conflicting emulators gets the message.  `guest_label` prefixes the
 * guest-wide message in the same way, e.g. "demo.json: guests[0]" gives
 *     demo.json: guests[0].emulators: 9 emulators, but Xen allows 8 ioreq servers per guest
 * and "xenstore:/tool/ioreq-router/guests/demo" gives
 *     xenstore:/tool/ioreq-router/guests/demo: emulators: 9 emulators, but ...
 * Whole-file validation runs these same checks with where[i] =
 * "FILE: guests[G].emulators[i]" and guest_label "FILE: guests[G]".
 * Returns 0, or -1 with errors appended. */
int router_guest_check(const char *guest_label, struct router_emulator *const *emus,
                       const char *const *where, size_t n, struct config_errors *errs);

/* "0x3f8-0x3ff" and "0000:00:05.0"; len >= ROUTER_FORMAT_LEN (40) always fits. */
void router_range_format(const struct router_range *r, char *buf, size_t len);
void router_sbdf_format(const struct router_sbdf *s, char *buf, size_t len);

const char *router_bufioreq_name(enum router_bufioreq mode);
const char *router_restart_policy_name(enum router_restart_policy policy);

#endif
