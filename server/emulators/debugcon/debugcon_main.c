/*
 * ioreq-debugcon: a Bochs/QEMU-style debug console port for a Xen guest, as
 * an ioreq server.  Bytes the guest writes to the port come out as lines on
 * stdout or in a file (appended, written line by line); reading the port
 * returns 0xe9.  The loop is libioreq's own (ioreq_run); on SIGTERM/SIGINT
 * the last partial line is written too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libioreq.h>

#include "debugcon.h"
#include "emu_args.h"
#include "emu_log.h"
#include "emu_serve.h"

#define PROG "ioreq-debugcon"

struct options {
    struct emu_opts common;
    uint16_t port;
    const char *output; /* NULL: stdout */
};

struct output {
    struct emu_log *log;
    const char *name;
    int fd; /* -1 after a failed write: output discarded */
};

static void usage(FILE *out)
{
    fprintf(out,
        EMU_USAGE_LINE(PROG)
        "A debug console port for guest D: bytes written to it become lines of\n"
        "output; reading it returns 0xe9.\n"
        "\n"
        EMU_USAGE_HEAD("the port")
        "  --port PORT        the port (default 0x402; 0xe9 is Xen's own console)\n"
        "  --output FILE      append the output to FILE (default: stdout)\n"
        EMU_USAGE_COMMON
        "\n"
        "Output is written a line at a time; at exit (SIGTERM, SIGINT) a last\n"
        "partial line is written as it is.\n"
        EMU_USAGE_EXIT_STATUS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_PORT = EMU_OPT_PROGRAM, OPT_OUTPUT };
    static const struct option longopts[] = {
        { "port", required_argument, NULL, OPT_PORT },
        { "output", required_argument, NULL, OPT_OUTPUT },
        EMU_COMMON_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct options){ .port = DEBUGCON_PORT };
    emu_opts_init(&o->common, PROG, usage);
    while ((c = emu_getopt(&o->common, argc, argv, longopts)) != -1) {
        switch (c) {
        case OPT_PORT:
            o->port = (uint16_t)emu_uint_arg(PROG, "--port", optarg, UINT16_MAX);
            break;
        case OPT_OUTPUT:
            if (!optarg[0])
                emu_usage_error(PROG, "--output: empty file name");
            o->output = optarg;
            break;
        }
    }
}

static void write_line(void *opaque, const char *buf, size_t len)
{
    struct output *out = opaque;

    while (out->fd >= 0 && len) {
        ssize_t n = write(out->fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            emu_logf(out->log, IOREQ_LOG_ERROR, "%s: %s; output discarded from now on",
                     out->name, strerror(errno));
            out->fd = -1;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static const struct ioreq_region_ops region_ops = {
    .read = debugcon_io_read,
    .write = debugcon_io_write,
};

int main(int argc, char **argv)
{
    struct options o;
    struct emu_log log = { .prog = PROG };
    struct output out = { .log = &log, .name = "stdout", .fd = STDOUT_FILENO };
    struct ioreq_ctx *ctx = NULL;
    struct debugcon con;
    int rc, status = 1;

    parse_args(argc, argv, &o);
    log.verbosity = o.common.verbosity;
    signal(SIGPIPE, SIG_IGN); /* a closed reader is a write error, not death */
    if (o.output) {
        out.name = o.output;
        out.fd = open(o.output, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (out.fd < 0) {
            fprintf(stderr, PROG ": --output %s: %s\n", o.output, strerror(errno));
            return 1;
        }
    }
    debugcon_init(&con, write_line, &out);

    if (emu_open(&o.common, false /* never raises an interrupt */, &log, &ctx) < 0)
        goto out_file;
    rc = ioreq_add_port_region(ctx, o.port, 1, &region_ops, &con, NULL);
    if (rc < 0) {
        fprintf(stderr, PROG ": port 0x%x: %s\n", o.port, strerror(-rc));
        goto out_ctx;
    }
    if (emu_start(&o.common, ctx, &log, "debug console at port 0x%x, ioreq server %u, output to %s",
                  o.port, ioreq_server_id(ctx), out.name) < 0)
        goto out_ctx;
    if (emu_run(PROG, ctx) >= 0)
        status = 0;

out_ctx:
    ioreq_close(ctx); /* finishes the request in flight */
out_file:
    debugcon_flush(&con);
    if (o.output && out.fd >= 0)
        close(out.fd);
    return status;
}
