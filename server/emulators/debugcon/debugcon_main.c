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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libioreq.h>

#include "debugcon.h"
#include "emu_args.h"
#include "emu_log.h"
#include "emu_ready.h"

#define PROG "ioreq-debugcon"

struct options {
    domid_t domid;
    int ioservid; /* -1: standalone */
    uint16_t port;
    const char *output; /* NULL: stdout */
    const char *ready_file;
    int verbosity;
};

struct output {
    struct emu_log *log;
    const char *name;
    int fd; /* -1 after a failed write: output discarded */
};

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: " PROG " --domid D [--ioservid S] [OPTIONS]\n"
        "A debug console port for guest D: bytes written to it become lines of\n"
        "output; reading it returns 0xe9.\n"
        "\n"
        "  --domid D          the guest domain (required)\n"
        "  --ioservid S       attach to ioreq server S (the router created it and\n"
        "                     mapped the port); without it, create a server\n"
        "                     (standalone) and map the port to it\n"
        "  --port PORT        the port (default 0xe9)\n"
        "  --output FILE      append the output to FILE (default: stdout)\n"
        "  --ready-file PATH  once serving, write the ioreq server id to PATH\n"
        "  -v, --verbose      more log on stderr (twice: debug)\n"
        "  -h, --help         this help\n"
        "\n"
        "Output is written a line at a time; at exit (SIGTERM, SIGINT) a last\n"
        "partial line is written as it is.\n"
        "Exit status: 0 done, 1 runtime failure, 2 bad arguments.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_DOMID = 256, OPT_IOSERVID, OPT_PORT, OPT_OUTPUT, OPT_READY };
    static const struct option longopts[] = {
        { "domid", required_argument, NULL, OPT_DOMID },
        { "ioservid", required_argument, NULL, OPT_IOSERVID },
        { "port", required_argument, NULL, OPT_PORT },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "ready-file", required_argument, NULL, OPT_READY },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool have_domid = false;
    int c;

    *o = (struct options){ .ioservid = -1, .port = DEBUGCON_PORT };
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DOMID:
            o->domid = (domid_t)emu_uint_arg(PROG, "--domid", optarg, DOMID_FIRST_RESERVED - 1);
            have_domid = true;
            break;
        case OPT_IOSERVID:
            o->ioservid = (int)emu_uint_arg(PROG, "--ioservid", optarg, UINT16_MAX);
            break;
        case OPT_PORT:
            o->port = (uint16_t)emu_uint_arg(PROG, "--port", optarg, UINT16_MAX);
            break;
        case OPT_OUTPUT:
            if (!optarg[0])
                emu_usage_error(PROG, "--output: empty file name");
            o->output = optarg;
            break;
        case OPT_READY:
            o->ready_file = optarg;
            break;
        case 'v':
            o->verbosity++;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            emu_usage_error(PROG, "%s needs an argument", argv[optind - 1]);
        default:
            emu_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        emu_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (!have_domid)
        emu_usage_error(PROG, "--domid is required");
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
    struct ioreq_options io;
    struct ioreq_ctx *ctx = NULL;
    struct debugcon con;
    int rc, status = 1;

    parse_args(argc, argv, &o);
    log.verbosity = o.verbosity;
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

    io = (struct ioreq_options){
        .domid = o.domid,
        .ioservid = o.ioservid,
        .bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF,
        .has_pic = false, /* never raises an interrupt */
        .log = emu_log_fn,
        .log_opaque = &log,
    };
    rc = ioreq_open(&io, &ctx);
    if (rc < 0) {
        if (o.ioservid >= 0)
            fprintf(stderr, PROG ": attaching to ioreq server %d of domain %u: %s\n",
                    o.ioservid, o.domid, strerror(-rc));
        else
            fprintf(stderr, PROG ": creating an ioreq server for domain %u: %s\n",
                    o.domid, strerror(-rc));
        goto out_file;
    }
    rc = ioreq_add_port_region(ctx, o.port, 1, &region_ops, &con, NULL);
    if (rc < 0) {
        fprintf(stderr, PROG ": port 0x%x: %s\n", o.port, strerror(-rc));
        goto out_ctx;
    }
    rc = ioreq_start(ctx);
    if (rc < 0) {
        fprintf(stderr, PROG ": starting ioreq server: %s\n", strerror(-rc));
        goto out_ctx;
    }
    emu_logf(&log, IOREQ_LOG_INFO, "debug console at port 0x%x, ioreq server %u, output to %s",
             o.port, ioreq_server_id(ctx), out.name);
    if (o.ready_file) {
        rc = emu_write_ready_file(o.ready_file, ioreq_server_id(ctx));
        if (rc < 0) {
            fprintf(stderr, PROG ": --ready-file %s: %s\n", o.ready_file, strerror(-rc));
            goto out_ctx;
        }
    }
    rc = ioreq_run(ctx);
    if (rc < 0)
        fprintf(stderr, PROG ": %s\n", strerror(-rc));
    else
        status = 0;

out_ctx:
    ioreq_close(ctx); /* finishes the request in flight */
out_file:
    debugcon_flush(&con);
    if (o.output && out.fd >= 0)
        close(out.fd);
    return status;
}
