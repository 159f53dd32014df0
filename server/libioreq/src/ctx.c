/*
 * Opening and closing a context: Xen handles (restricted to the guest, with
 * a logger that forwards to the caller's), attach or create, pages; start
 * (enable, bind, resume what a previous instance left); close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "slot.h"

/* How long ioreq_close() waits for the vCPUs to take their last answers. */
#define QUIESCE_TRIES 200
#define QUIESCE_WAIT_US 5000

/* The Xen libraries log through ctx->xtl, never to stderr on their own. */
static void xtl_message(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
                        const char *context, const char *format, va_list al)
{
    const struct ioreq_ctx *ctx =
        (const struct ioreq_ctx *)((const char *)logger - offsetof(struct ioreq_ctx, xtl));

    if (level < XTL_DETAIL)
        return;
    enum ioreq_log_level l = level >= XTL_ERROR  ? IOREQ_LOG_ERROR
                             : level >= XTL_WARN ? IOREQ_LOG_WARNING
                             : level >= XTL_INFO ? IOREQ_LOG_INFO
                                                 : IOREQ_LOG_DEBUG;
    ctx_vlog_xen(ctx, l, errnoval, context ? context : "xen", format, al);
}

static int errno_or_eio(void)
{
    return errno ? -errno : -EIO;
}

static bool restrict_unsupported(int e)
{
    return e == ENOTTY || e == EOPNOTSUPP || e == ENOSYS;
}

static int restrict_handles(struct ioreq_ctx *ctx)
{
    static const char *const what[] = { "devicemodel", "foreignmemory", "evtchn" };
    int err[3] = { 0 };

    if (xendevicemodel_restrict(ctx->dm, ctx->domid))
        err[0] = errno ? errno : EIO;
    if (xenforeignmemory_restrict(ctx->fmem, ctx->domid))
        err[1] = errno ? errno : EIO;
    if (xenevtchn_restrict(ctx->xce, ctx->domid))
        err[2] = errno ? errno : EIO;
    for (unsigned int i = 0; i < 3; i++) {
        if (!err[i])
            continue;
        if (!restrict_unsupported(err[i])) {
            ctx_log(ctx, IOREQ_LOG_ERROR, "cannot restrict the %s handle to domain %u: errno %d",
                    what[i], ctx->domid, err[i]);
            return -err[i];
        }
        ctx_log(ctx, IOREQ_LOG_WARNING, "the %s handle cannot be restricted here (errno %d)",
                what[i], err[i]);
    }
    return 0;
}

/* Attach to opts->ioservid or create a server; learn whether it has a ring. */
static int attach_or_create(struct ioreq_ctx *ctx, const struct ioreq_options *opts,
                            bool *has_ring)
{
    if (opts->ioservid < 0) {
        if (xendevicemodel_create_ioreq_server(ctx->dm, ctx->domid, opts->bufioreq, &ctx->id)) {
            int rc = errno_or_eio();
            ctx_log(ctx, IOREQ_LOG_ERROR, "cannot create an ioreq server for domain %u: errno %d",
                    ctx->domid, -rc);
            return rc;
        }
        ctx->created = true;
        *has_ring = opts->bufioreq != HVM_IOREQSRV_BUFIOREQ_OFF;
        return 0;
    }
    evtchn_port_t buf_port = 0;
    ctx->id = (ioservid_t)opts->ioservid;
    if (xendevicemodel_get_ioreq_server_info(ctx->dm, ctx->domid, ctx->id, NULL, NULL,
                                             &buf_port)) {
        int rc = errno_or_eio();
        ctx_log(ctx, IOREQ_LOG_ERROR, "cannot attach to ioreq server %u of domain %u: errno %d",
                ctx->id, ctx->domid, -rc);
        return rc;
    }
    *has_ring = buf_port != 0;
    return 0;
}

static void release(struct ioreq_ctx *ctx)
{
    pci_free_all(ctx);
    region_free_all(ctx);
    if (ctx->fmem)
        gmem_invalidate(ctx);
    pages_unmap(ctx);
    if (ctx->created && xendevicemodel_destroy_ioreq_server(ctx->dm, ctx->domid, ctx->id))
        ctx_log(ctx, IOREQ_LOG_WARNING, "cannot destroy ioreq server %u: errno %d", ctx->id,
                errno);
    if (ctx->xce)
        xenevtchn_close(ctx->xce);
    if (ctx->fmem)
        xenforeignmemory_close(ctx->fmem);
    if (ctx->dm)
        xendevicemodel_close(ctx->dm);
    for (unsigned int s = 0; s < NR_SPACES; s++)
        rt_free(&ctx->rt[s]);
    if (ctx->stop_fd >= 0)
        close(ctx->stop_fd);
    free(ctx);
}

int ioreq_open(const struct ioreq_options *opts, struct ioreq_ctx **out)
{
    if (!opts || !out)
        return -EINVAL;
    *out = NULL;
    if (opts->domid == 0 || opts->domid >= DOMID_FIRST_RESERVED || opts->ioservid < -1 ||
        opts->ioservid > 0xffff ||
        (opts->ioservid < 0 && (opts->bufioreq < HVM_IOREQSRV_BUFIOREQ_OFF ||
                                opts->bufioreq > HVM_IOREQSRV_BUFIOREQ_ATOMIC)))
        return -EINVAL;

    struct ioreq_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->xtl.vmessage = xtl_message;
    ctx->domid = opts->domid;
    ctx->has_pic = opts->has_pic;
    ctx->log = opts->log;
    ctx->log_opaque = opts->log_opaque;
    ctx->timeoffset = opts->timeoffset;
    ctx->timeoffset_opaque = opts->timeoffset_opaque;
    ctx->buf_port = NO_PORT;
    for (unsigned int v = 0; v < IOREQ_MAX_VCPUS; v++)
        ctx->vcpu_port[v] = NO_PORT;

    int rc = 0;
    ctx->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctx->stop_fd < 0)
        rc = -errno;
    if (!rc) {
        ctx->dm = xendevicemodel_open(&ctx->xtl, 0);
        ctx->fmem = ctx->dm ? xenforeignmemory_open(&ctx->xtl, 0) : NULL;
        ctx->xce = ctx->fmem ? xenevtchn_open(&ctx->xtl, 0) : NULL;
        if (!ctx->xce) {
            rc = errno_or_eio();
            ctx_log(ctx, IOREQ_LOG_ERROR, "cannot open the Xen interfaces: errno %d", -rc);
        }
    }
    if (!rc)
        rc = restrict_handles(ctx);
    bool has_ring = false;
    if (!rc)
        rc = attach_or_create(ctx, opts, &has_ring);
    if (!rc)
        rc = pages_map(ctx, has_ring);
    if (!rc) {
        unsigned int vcpus = 0;
        if (xendevicemodel_nr_vcpus(ctx->dm, ctx->domid, &vcpus)) {
            rc = errno_or_eio();
            ctx_log(ctx, IOREQ_LOG_ERROR, "cannot get the vCPU count of domain %u: errno %d",
                    ctx->domid, -rc);
        } else if (vcpus > IOREQ_MAX_VCPUS) {
            ctx_log(ctx, IOREQ_LOG_WARNING, "domain %u has %u vCPUs; the ioreq page serves %zu",
                    ctx->domid, vcpus, (size_t)IOREQ_MAX_VCPUS);
            vcpus = IOREQ_MAX_VCPUS;
        }
        ctx->nr_vcpus = vcpus;
    }
    if (rc) {
        release(ctx);
        return rc;
    }
    irq_check_pic(ctx);
    *out = ctx;
    return 0;
}

int ioreq_start(struct ioreq_ctx *ctx)
{
    if (!ctx)
        return -EINVAL;
    if (ctx->started)
        return 0;
    if (xendevicemodel_set_ioreq_server_state(ctx->dm, ctx->domid, ctx->id, 1)) {
        int rc = errno_or_eio();
        ctx_log(ctx, IOREQ_LOG_ERROR, "cannot enable ioreq server %u: errno %d", ctx->id, -rc);
        return rc;
    }
    /* Xen publishes each vCPU's vp_eport on enable: bind them now. */
    int rc = evtchn_bind_all(ctx);
    if (rc) {
        if (ctx->created)
            xendevicemodel_set_ioreq_server_state(ctx->dm, ctx->domid, ctx->id, 0);
        return rc;
    }
    ctx->started = true;
    if (!ctx->created)
        pci_reset_intx(ctx);
    /* A previous instance may have died holding requests (or posted writes). */
    serve_ring(ctx);
    rc = sync_serve(ctx, true);
    if (rc < 0)
        return rc;
    if (rc > 0)
        ctx_log(ctx, IOREQ_LOG_INFO, "finished %d request(s) a previous instance left", rc);
    ctx_log(ctx, IOREQ_LOG_INFO, "serving ioreq server %u of domain %u (%u vCPUs, %s)", ctx->id,
            ctx->domid, ctx->nr_vcpus, ctx->bufpage ? "buffered ring" : "no buffered ring");
    return 0;
}

/* Is any vCPU's request still with us, or our answer not yet taken? */
static bool slots_busy(struct ioreq_ctx *ctx)
{
    for (unsigned int v = 0; v < ctx->nr_vcpus; v++)
        if (slot_load_state(&ctx->iopage->vcpu_ioreq[v]) != STATE_IOREQ_NONE)
            return true;
    return false;
}

/*
 * Finish in-flight work.  A server we are about to destroy is disabled
 * first (no new requests), and destroyed only once the vCPUs have taken
 * our answers: an answer still in its slot when the server goes is lost
 * (the vCPU completes the access as unhandled).  Bounded: a paused vCPU
 * does not hold us for long.
 */
static void quiesce(struct ioreq_ctx *ctx)
{
    if (ctx->created)
        xendevicemodel_set_ioreq_server_state(ctx->dm, ctx->domid, ctx->id, 0);
    for (unsigned int tries = 0; tries < QUIESCE_TRIES; tries++) {
        evtchn_collect(ctx);
        serve_ring(ctx);
        if (sync_serve(ctx, false) < 0 || !ctx->created || !slots_busy(ctx))
            return;
        usleep(QUIESCE_WAIT_US);
    }
    ctx_log(ctx, IOREQ_LOG_WARNING, "closing with a request or answer still in a slot");
}

void ioreq_close(struct ioreq_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->started) {
        quiesce(ctx);
        evtchn_unbind_all(ctx);
        ctx->started = false;
    }
    release(ctx);
}

ioservid_t ioreq_server_id(const struct ioreq_ctx *ctx)
{
    return ctx ? ctx->id : 0;
}

unsigned int ioreq_nr_vcpus(const struct ioreq_ctx *ctx)
{
    return ctx ? ctx->nr_vcpus : 0;
}

void ioreq_get_stats(const struct ioreq_ctx *ctx, struct ioreq_stats *stats)
{
    if (ctx && stats)
        *stats = ctx->stats;
}
