/* xensim guest run: run guest I/O scripts on a domain's vCPUs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "guest_script.h"

#define TIMEOUT_MAX_MS 3600000u          /* --timeout */
#define REPLY_MARGIN_MS 10000u           /* beyond the run's timeout */
#define DEFAULT_WAIT_MS (15u * 60 * 1000) /* no --timeout: the daemon's default */

struct script {
    const char *name;
    char *text;
    size_t len;
};

/* Read a whole script file ("-": stdin) of at most XENSIM_MSG_MAX bytes. */
static int read_script(const struct cli_ctx *ctx, struct script *s)
{
    char safe[CLI_SAFE_MAX];
    bool is_stdin = strcmp(s->name, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(s->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    ssize_t n = 0;

    if (is_stdin)
        s->name = "<stdin>";
    cli_safe(s->name, safe, sizeof(safe));
    if (fd < 0)
        return cli_error(ctx, CLI_USAGE, "cannot open '%s': %s", safe, strerror(errno));
    if (!is_stdin && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return cli_error(ctx, CLI_USAGE, "'%s' is not a regular file", safe);
    }
    s->text = malloc(XENSIM_MSG_MAX + 1);
    if (!s->text) {
        if (!is_stdin)
            close(fd);
        return cli_error(ctx, CLI_FAILED, "out of memory");
    }
    s->len = 0;
    while (s->len <= XENSIM_MSG_MAX &&
           ((n = read(fd, s->text + s->len, XENSIM_MSG_MAX + 1 - s->len)) > 0 ||
            (n < 0 && errno == EINTR)))
        s->len += n > 0 ? (size_t)n : 0;
    int err = errno;
    if (!is_stdin)
        close(fd);
    if (n < 0)
        return cli_error(ctx, CLI_USAGE, "cannot read '%s': %s", safe, strerror(err));
    if (s->len > XENSIM_MSG_MAX)
        return cli_error(ctx, CLI_USAGE, "'%s' is larger than %u bytes", safe, XENSIM_MSG_MAX);
    if (memchr(s->text, '\0', s->len))
        return cli_error(ctx, CLI_USAGE, "'%s' contains a NUL byte", safe);
    s->text[s->len] = '\0';
    return CLI_OK;
}

/* Parse locally, so that syntax errors are usage errors with file:line. */
static int check_script(const struct cli_ctx *ctx, const struct script *s)
{
    struct guest_script *gs;
    char err[256];
    int rc = guest_script_parse(s->name, s->text, &gs, err, sizeof(err));

    if (rc == -ENOMEM)
        return cli_error(ctx, CLI_FAILED, "out of memory");
    if (rc) {
        char line[sizeof(err) + 4]; /* room for all of err */
        return cli_error(ctx, CLI_USAGE, "%s", cli_safe(err, line, sizeof(line)));
    }
    guest_script_free(gs);
    return CLI_OK;
}

/* The XENSIM_GUEST_RUN request; NULL after printing why. */
static struct xensim_guest_run *build_request(const struct cli_ctx *ctx,
                                              const struct script *s, unsigned int nr,
                                              uint32_t timeout_ms, bool trace,
                                              uint32_t first_vcpu, size_t *len)
{
    size_t total = sizeof(struct xensim_guest_run);

    for (unsigned int i = 0; i < nr; i++)
        total += 2 * sizeof(uint32_t) + strlen(s[i].name) + s[i].len;
    if (total > XENSIM_MSG_MAX) {
        cli_error(ctx, CLI_USAGE, "the scripts are too large for one request "
                  "(%zu bytes with names, at most %u)", total, XENSIM_MSG_MAX);
        return NULL;
    }
    struct xensim_guest_run *req = calloc(1, total);
    if (!req) {
        cli_error(ctx, CLI_FAILED, "out of memory");
        return NULL;
    }
    req->hdr.type = XENSIM_GUEST_RUN;
    req->nr_scripts = nr;
    req->timeout_ms = timeout_ms;
    req->flags = trace ? XENSIM_GUEST_RUN_TRACE : 0;
    req->first_vcpu = first_vcpu;
    uint8_t *p = (uint8_t *)(req + 1);
    for (unsigned int i = 0; i < nr; i++) {
        uint32_t lens[2] = { (uint32_t)strlen(s[i].name), (uint32_t)s[i].len };
        memcpy(p, lens, sizeof(lens));
        p += sizeof(lens);
        memcpy(p, s[i].name, lens[0]);
        p += lens[0];
        memcpy(p, s[i].text, lens[1]);
        p += lens[1];
    }
    *len = total;
    return req;
}

/* Print the report; 0 iff every line held. */
static int show_report(const struct cli_ctx *ctx, const uint8_t *buf, size_t n,
                       uint32_t domid)
{
    const struct xensim_hdr *hdr = (const struct xensim_hdr *)buf;
    const char *report = (const char *)buf + sizeof(*hdr);
    size_t len = strnlen(report, n - sizeof(*hdr));

    if (hdr->err && hdr->err != EIO && len) {
        /* Refused before it ran (EIO: it ran and failed): why, on one line. */
        char why[256], safe[sizeof(why) + 4];
        snprintf(why, sizeof(why), "%.*s", (int)len, report);
        return cli_error(ctx, CLI_FAILED, "domain %u: %s: %s", domid,
                         cli_safe(why, safe, sizeof(safe)), cli_strerror(hdr->err));
    }
    cli_print_text(stdout, report, len);
    if (len && report[len - 1] != '\n')
        putchar('\n');
    if (!hdr->err)
        return CLI_OK;
    if (!len)
        cli_error(ctx, CLI_FAILED, "domain %u: %s", domid, cli_strerror(hdr->err));
    return CLI_FAILED;
}

/* Print the trace the daemon handed over (a memfd), then close it. */
static int show_trace(const struct cli_ctx *ctx, int fd)
{
    char buf[4096];
    ssize_t n;
    off_t off = 0;

    while ((n = pread(fd, buf, sizeof(buf) - 1, off)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0)
            continue;
        buf[n] = '\0';
        cli_print_text(stdout, buf, (size_t)n);
        off += n;
    }
    int err = errno;
    close(fd);
    if (n < 0)
        return cli_error(ctx, CLI_FAILED, "cannot read the trace: %s", strerror(err));
    return CLI_OK;
}

static int send_run(const struct cli_ctx *ctx, const struct script *s, unsigned int nr,
                    const char *ref, uint32_t timeout_ms, bool trace, uint32_t first_vcpu)
{
    struct xensim_client c;
    size_t len;
    uint8_t *reply = NULL;
    struct xensim_guest_run *req = build_request(ctx, s, nr, timeout_ms, trace, first_vcpu, &len);
    int rc;

    if (!req)
        return CLI_USAGE;
    if ((rc = cli_connect(ctx, &c))) {
        free(req);
        return rc;
    }
    rc = cli_resolve_domain(ctx, &c, ref, &req->domid);
    if (rc == CLI_OK && !(reply = cli_reply_buffer(ctx)))
        rc = CLI_FAILED;
    if (rc == CLI_OK) {
        unsigned int wait = timeout_ms ? timeout_ms + REPLY_MARGIN_MS : DEFAULT_WAIT_MS;
        int fd = -1;
        long n = cli_call_fd(ctx, &c, req, len, reply, XENSIM_MSG_MAX, wait, trace ? &fd : NULL);
        int err = n >= 0 ? ((struct xensim_hdr *)reply)->err : 0;
        /* A run that happened (passed, or failed: EIO) comes with its trace. */
        if (n >= 0 && trace && fd < 0 && (err == 0 || err == EIO))
            rc = cli_error(ctx, CLI_USAGE, "the daemon sent no trace");
        else if (n >= 0 && fd >= 0 && show_trace(ctx, fd) != CLI_OK)
            rc = CLI_FAILED;
        if (rc == CLI_OK)
            rc = n < 0 ? CLI_USAGE : show_report(ctx, reply, (size_t)n, req->domid);
    }
    xensim_client_close(&c);
    free(reply);
    free(req);
    return rc;
}

static const struct cli_option run_options[] = {
    { "--timeout", true, 1 },
    { "--trace", false, 2 },
    { "--vcpu", true, 3 },
    { NULL, false, 0 },
};

static int guest_run(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args a = { .argc = argc, .argv = argv };
    struct script *s = calloc((size_t)argc + 1, sizeof(*s));
    const char *v, *ref = NULL;
    unsigned int nr = 0, nr_stdin = 0;
    uint64_t timeout = 0, first_vcpu = 0;
    bool have_timeout = false, trace = false, have_vcpu = false;
    int id, rc = CLI_OK;

    if (!s)
        return cli_error(ctx, CLI_FAILED, "out of memory");
    while (rc == CLI_OK && (id = cli_next_arg(ctx, &a, run_options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            free(s);
            return cli_help(ctx);
        } else if (id == CLI_ARG_ERROR) {
            rc = CLI_USAGE;
        } else if (id == CLI_ARG_POSITIONAL) {
            if (!ref)
                ref = v;
            else
                s[nr++].name = v;
            nr_stdin += strcmp(v, "-") == 0;
        } else if (id == 2) {
            if (trace)
                rc = cli_error(ctx, CLI_USAGE, "--trace given twice");
            trace = true;
        } else if (id == 3) {
            if (have_vcpu)
                rc = cli_error(ctx, CLI_USAGE, "--vcpu given twice");
            else if (cli_parse_uint(ctx, "--vcpu", v, 0, HVIO_MAX_VCPUS - 1, &first_vcpu))
                rc = CLI_USAGE;
            have_vcpu = true;
        } else if (have_timeout) {
            rc = cli_error(ctx, CLI_USAGE, "--timeout given twice");
        } else {
            have_timeout = true;
            if (cli_parse_uint(ctx, "--timeout", v, 1, TIMEOUT_MAX_MS, &timeout))
                rc = CLI_USAGE;
        }
    }
    if (rc == CLI_OK && !nr)
        rc = cli_error(ctx, CLI_USAGE, ref ? "at least one SCRIPT is required"
                                           : "a DOMID or NAME and at least one SCRIPT are required");
    uint32_t domid;
    if (rc == CLI_OK)
        rc = cli_domain_ref(ctx, ref, &domid);
    if (rc == CLI_OK && nr > HVIO_MAX_VCPUS - first_vcpu)
        rc = cli_error(ctx, CLI_USAGE, "at most %u scripts (one per vCPU from vCPU %u)",
                       HVIO_MAX_VCPUS - (unsigned int)first_vcpu, (unsigned int)first_vcpu);
    if (rc == CLI_OK && nr_stdin > 1)
        rc = cli_error(ctx, CLI_USAGE, "'-' (standard input) can be given once");
    for (unsigned int i = 0; rc == CLI_OK && i < nr; i++)
        if (!(rc = read_script(ctx, &s[i])))
            rc = check_script(ctx, &s[i]);
    if (rc == CLI_OK)
        rc = send_run(ctx, s, nr, ref, (uint32_t)timeout, trace, (uint32_t)first_vcpu);
    for (unsigned int i = 0; i < nr; i++)
        free(s[i].text);
    free(s);
    return rc;
}

const struct cli_command cli_guest_run = {
    "guest run",
    "guest run [--timeout MS] [--trace] [--vcpu N] DOMID|NAME SCRIPT...\n"
    "\n"
    "Run guest I/O scripts, one per vCPU (the first on vCPU 0, or N with --vcpu),\n"
    "concurrently.  A vCPU runs one script at a time: a run wanting a vCPU another\n"
    "run has is refused.  A run that times out crashes the domain, as a hung vCPU\n"
    "would, and so ends the domain's other runs too.\n"
    "Prints one line per failed expectation, FILE:LINE: expected X, got Y.\n"
    "Exit status: 0 every expectation held, 1 otherwise or refused (busy vCPU or\n"
    "trace, vCPUs the domain lacks: why on stderr), 2 usage or connection error.\n"
    "  --timeout MS    limit for the whole run, 1 to 3600000 (default: the daemon's)\n"
    "  --trace         first print the trace: \"vN L<line> <verb> <operands> = <result>\"\n"
    "                  per line run on vCPU N, \"vN END pass|fail K\" per script, and\n"
    "                  \"(dD) text\" per line the guest wrote to Xen's debug console\n"
    "                  (port 0xe9), in the order they happened\n"
    "  --vcpu N        the first script runs on vCPU N, the next on N+1, ...\n"
    "  SCRIPT          a file, or - for standard input (named <stdin>)\n"
    "\n"
    "Script lines:\n"
    "  out PORT SIZE VALUE             in PORT SIZE [expect V]\n"
    "  mmio-write ADDR SIZE VALUE      mmio-read ADDR SIZE [expect V]\n"
    "  pci-write BB:DD.F REG SIZE V    pci-read BB:DD.F REG SIZE [expect V]\n"
    "  rep-outs{b,w,l} PORT GPA COUNT  rep-ins{b,w,l} PORT GPA COUNT\n"
    "  rep-mmio-write ADDR SIZE GPA COUNT    rep-mmio-read ADDR SIZE GPA COUNT\n"
    "  mem-write GPA \"bytes\"|hex:..    mem-read GPA LEN expect \"bytes\"|hex:..\n"
    "  wait-irq N|isa N|msi|intx 00:DD.F PIN [timeout MS]\n"
    "  invalidate    timeoffset DELTA    sleep MS    # comment\n"
    "  A comment starting with \"timing\" marks a result that may differ on real Xen.\n",
    guest_run,
};
