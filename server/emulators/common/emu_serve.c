#include "emu_serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "emu_ready.h"

_Static_assert(EMU_DOMID_MAX == DOMID_FIRST_RESERVED - 1, "EMU_DOMID_MAX is not Xen's");

int emu_block_stop_signals(sigset_t *mask)
{
    sigemptyset(mask);
    sigaddset(mask, SIGTERM);
    sigaddset(mask, SIGINT);
    return sigprocmask(SIG_BLOCK, mask, NULL);
}

int emu_open(const struct emu_opts *o, bool has_pic, struct emu_log *log,
             struct ioreq_ctx **ctx)
{
    const struct ioreq_options io = {
        .domid = o->domid,
        .ioservid = o->ioservid,
        .bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF,
        .has_pic = has_pic,
        .log = emu_log_fn,
        .log_opaque = log,
    };
    int rc = ioreq_open(&io, ctx);

    if (rc < 0) {
        if (o->ioservid >= 0)
            fprintf(stderr, "%s: attaching to ioreq server %d of domain %u: %s\n", o->prog,
                    o->ioservid, o->domid, strerror(-rc));
        else
            fprintf(stderr, "%s: creating an ioreq server for domain %u: %s\n", o->prog,
                    o->domid, strerror(-rc));
    }
    return rc;
}

int emu_start(const struct emu_opts *o, struct ioreq_ctx *ctx, const struct emu_log *log,
              const char *fmt, ...)
{
    va_list ap;
    int rc = ioreq_start(ctx);

    if (rc < 0) {
        fprintf(stderr, "%s: starting ioreq server: %s\n", o->prog, strerror(-rc));
        return rc;
    }
    va_start(ap, fmt);
    emu_vlogf(log, IOREQ_LOG_INFO, fmt, ap);
    va_end(ap);
    if (o->ready_file) {
        rc = emu_write_ready_file(o->ready_file, ioreq_server_id(ctx));
        if (rc < 0)
            fprintf(stderr, "%s: --ready-file %s: %s\n", o->prog, o->ready_file, strerror(-rc));
    }
    if (rc >= 0 && o->ready_fd >= 0) {
        rc = emu_write_ready_fd(o->ready_fd, ioreq_server_id(ctx));
        if (rc < 0)
            fprintf(stderr, "%s: --ready-fd %d: %s\n", o->prog, o->ready_fd, strerror(-rc));
    }
    return rc;
}

int emu_run(const char *prog, struct ioreq_ctx *ctx)
{
    int rc = ioreq_run(ctx);

    if (rc < 0)
        fprintf(stderr, "%s: %s\n", prog, strerror(-rc));
    return rc;
}
