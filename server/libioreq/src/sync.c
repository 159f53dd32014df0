/*
 * The synchronous protocol, emulator side, one vCPU slot at a time:
 * READY -> (copy the request) INPROCESS -> serve -> data, IORESP_READY ->
 * notify.  Resuming after a previous instance died, INPROCESS requests are
 * served again (at least once beats never: the vCPU is stuck until then)
 * and IORESP_READY ones get the notification that may have been lost.
 */
#include <errno.h>

#include "internal.h"
#include "slot.h"

int sync_serve(struct ioreq_ctx *ctx, bool resume)
{
    int served = 0;

    for (unsigned int v = 0; v < ctx->nr_vcpus; v++) {
        ioreq_t *slot = &ctx->iopage->vcpu_ioreq[v];
        unsigned int state = slot_load_state(slot);
        int rc;

        if (resume && state == STATE_IORESP_READY) {
            rc = evtchn_notify_vcpu(ctx, v);
            if (rc < 0 && rc != -ENOTCONN)
                return rc;
            continue;
        }
        if (state != STATE_IOREQ_READY && !(resume && state == STATE_IOREQ_INPROCESS))
            continue;

        ioreq_t req;
        slot_copy(slot, &req);
        if (state == STATE_IOREQ_READY)
            slot_store_state(slot, STATE_IOREQ_INPROCESS);
        serve_ring(ctx); /* posted writes come before any later access */
        serve_request(ctx, &req);
        slot_store_data(slot, req.data);
        slot_store_state(slot, STATE_IORESP_READY);
        if (resume)
            ctx->stats.resumed++;
        else
            ctx->stats.sync++;
        served++;
        rc = evtchn_notify_vcpu(ctx, v);
        if (rc == -ENOTCONN)
            ctx_log(ctx, IOREQ_LOG_WARNING, "vCPU %u has no bound event channel to notify", v);
        else if (rc < 0)
            return rc;
    }
    return served;
}
