/*
 * Event channels: one per vCPU (read from its slot: Xen publishes vp_eport
 * once the server is enabled) and one for the buffered ring, all bound on
 * one xenevtchn handle whose fd is the context's fd.
 */
#include <errno.h>
#include <poll.h>

#include "internal.h"
#include "slot.h"

/* At most this many events are taken per call, so that a flood cannot hold the loop. */
#define COLLECT_MAX 1024

static int bind_one(struct ioreq_ctx *ctx, evtchn_port_t remote, int *local, const char *what,
                    unsigned int vcpu)
{
    xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(ctx->xce, ctx->domid, remote);

    if (port < 0) {
        int e = errno ? errno : EIO;
        ctx_log(ctx, IOREQ_LOG_ERROR, "cannot bind %s %u (remote port %u): errno %d", what, vcpu,
                remote, e);
        return -e;
    }
    *local = port;
    return 0;
}

int evtchn_bind_all(struct ioreq_ctx *ctx)
{
    for (unsigned int v = 0; v < ctx->nr_vcpus; v++) {
        evtchn_port_t remote = slot_load_eport(&ctx->iopage->vcpu_ioreq[v]);

        if (remote == 0) {
            ctx_log(ctx, IOREQ_LOG_DEBUG, "vCPU %u has no event channel in the page", v);
            continue;
        }
        int rc = bind_one(ctx, remote, &ctx->vcpu_port[v], "the event channel of vCPU", v);
        if (rc) {
            evtchn_unbind_all(ctx);
            return rc;
        }
    }
    if (ctx->bufpage) {
        evtchn_port_t remote = 0;
        int rc = 0;

        if (xendevicemodel_get_ioreq_server_info(ctx->dm, ctx->domid, ctx->id, NULL, NULL,
                                                 &remote))
            rc = -(errno ? errno : EIO);
        else if (remote == 0)
            rc = -ENOENT;
        if (!rc)
            rc = bind_one(ctx, remote, &ctx->buf_port, "the buffered ring's event channel", 0);
        if (rc) {
            evtchn_unbind_all(ctx);
            return rc;
        }
    }
    return 0;
}

void evtchn_unbind_all(struct ioreq_ctx *ctx)
{
    for (unsigned int v = 0; v < IOREQ_MAX_VCPUS; v++) {
        if (ctx->vcpu_port[v] != NO_PORT)
            xenevtchn_unbind(ctx->xce, (evtchn_port_t)ctx->vcpu_port[v]);
        ctx->vcpu_port[v] = NO_PORT;
    }
    if (ctx->buf_port != NO_PORT)
        xenevtchn_unbind(ctx->xce, (evtchn_port_t)ctx->buf_port);
    ctx->buf_port = NO_PORT;
}

int evtchn_collect(struct ioreq_ctx *ctx)
{
    struct pollfd p = { .fd = xenevtchn_fd(ctx->xce), .events = POLLIN };
    int n = 0;

    while (n < COLLECT_MAX) {
        int r = poll(&p, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        if (!(p.revents & POLLIN))
            return -EIO; /* hung up or broken, nothing to read */
        xenevtchn_port_or_error_t port = xenevtchn_pending(ctx->xce);
        if (port < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return -(errno ? errno : EIO);
        }
        if (xenevtchn_unmask(ctx->xce, (evtchn_port_t)port) < 0)
            return -(errno ? errno : EIO);
        n++;
    }
    return n;
}

int evtchn_notify_vcpu(struct ioreq_ctx *ctx, unsigned int vcpu)
{
    if (ctx->vcpu_port[vcpu] == NO_PORT)
        return -ENOTCONN;
    if (xenevtchn_notify(ctx->xce, (evtchn_port_t)ctx->vcpu_port[vcpu]) < 0)
        return -(errno ? errno : EIO);
    return 0;
}
