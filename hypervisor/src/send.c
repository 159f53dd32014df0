/*
 * The synchronous ioreq protocol, hypervisor side:
 *   NONE -> (core) READY -> (emulator) INPROCESS -> IORESP_READY -> (core) NONE
 * A slot that is not NONE when a request is posted, a vp_eport that is not
 * the one the core published, a state that moves backwards or an unknown
 * state are the emulator breaking the protocol: the guest domain is crashed.
 */
#include <errno.h>
#include <string.h>

#include "hvio_internal.h"
#include "shared_page.h"

static ioreq_t *vcpu_slot(struct hvio_server *s, const struct hvio_vcpu *v)
{
    return &s->ioreq_page->vcpu_ioreq[v->id];
}

int send_sync_locked(struct hvio_domain *d, struct hvio_server *s,
                     struct hvio_vcpu *v, const ioreq_t *p)
{
    ioreq_t *slot = vcpu_slot(s, v);
    evtchn_port_t port = s->vcpu_port[v->id];

    if (slot_load_state(slot) != STATE_IOREQ_NONE) {
        domain_crash_locked(d, "device model set bad IO state");
        return -EIO;
    }
    if (slot_load_eport(slot) != port) {
        domain_crash_locked(d, "device model set bad event channel");
        return -EIO;
    }

    ioreq_t req = *p;
    req.state = STATE_IOREQ_NONE;
    req.vp_eport = port;
    memcpy(slot, &req, sizeof(req));
    slot_store_state(slot, STATE_IOREQ_READY); /* release: body first */

    v->pending |= (uint8_t)(1u << s->id);
    v->seen_state[s->id] = STATE_IOREQ_READY;
    d->host->ops.evtchn_notify(d->host->ctx, d->cfg.domid, port);
    return 0;
}

enum slot_progress { SLOT_WAIT, SLOT_DONE, SLOT_BROKEN };

/* Advance one pending (vCPU, server) pair by what the slot says now. */
static enum slot_progress check_slot(struct hvio_server *s, struct hvio_vcpu *v,
                                     uint64_t *data, bool *answered)
{
    ioreq_t *slot = vcpu_slot(s, v);
    unsigned int state = slot_load_state(slot);
    unsigned int seen = v->seen_state[s->id];

    /* NONE: the emulator died racing this request; complete unanswered. */
    if (state == STATE_IOREQ_NONE)
        return SLOT_DONE;
    if (state < seen)
        return SLOT_BROKEN;
    v->seen_state[s->id] = (uint8_t)state;
    switch (state) {
    case STATE_IOREQ_READY:
    case STATE_IOREQ_INPROCESS:
        return SLOT_WAIT;
    case STATE_IORESP_READY:
        *data = slot_load_data(slot);
        *answered = true;
        slot_store_state(slot, STATE_IOREQ_NONE);
        return SLOT_DONE;
    default:
        return SLOT_BROKEN;
    }
}

int wait_for_io_unlock(struct hvio_domain *d, struct hvio_vcpu *v,
                       uint64_t *data)
{
    bool answered = false;
    int rc = 0;

    *data = ~0ull;
    for (;;) {
        if (d->crashed) {
            rc = -EIO;
            break;
        }
        if (d->dying || !v->online) {
            rc = -ESRCH;
            break;
        }
        for (uint8_t todo = v->pending; todo; todo &= todo - 1) {
            unsigned int id = (unsigned int)__builtin_ctz(todo);
            enum slot_progress progress = check_slot(d->servers[id], v, data, &answered);

            if (progress == SLOT_DONE)
                v->pending &= (uint8_t)~(1u << id);
            else if (progress == SLOT_BROKEN)
                domain_crash_locked(d, "weird ioreq state transition");
        }
        if (d->crashed) {
            rc = -EIO;
            break;
        }
        if (!v->pending)
            break;
        domain_unlock(d);
        d->host->ops.vcpu_block(d->host->ctx, d->cfg.domid, v->id);
        domain_lock(d);
    }
    v->pending = 0;
    domain_unlock(d);
    return rc ? rc : answered;
}
