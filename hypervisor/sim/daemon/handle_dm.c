/* libxendevicemodel requests: HYPERVISOR_dm_op and restriction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

/*
 * The core refuses the ISA IRQ and INTx dm_ops with EOPNOTSUPP for a domain
 * without an emulated PIC/IOAPIC (and for nothing else): count those, so
 * that a test can tell that an emulator never even tried.
 */
static void count_refused_irq(struct sim *sim, const struct xensim_dm_op *req)
{
    uint32_t op;

    if (req->buf_size[0] < sizeof(op))
        return;
    memcpy(&op, req + 1, sizeof(op));
    if (op == XEN_DMOP_set_isa_irq_level || op == XEN_DMOP_set_pci_intx_level)
        sim_domain_irq_refused(sim, (domid_t)req->domid);
}

static void dm_op(struct request *rq)
{
    const struct xensim_dm_op *req = rq->body;
    struct client *c = rq->client;

    if (rq->len < sizeof(*req) || req->nr_bufs < 1 || req->nr_bufs > XENSIM_DM_MAX_BUFS) {
        reply_error(rq, EINVAL);
        return;
    }
    size_t payload = 0;
    for (uint32_t i = 0; i < req->nr_bufs; i++)
        payload += req->buf_size[i];
    if (payload != rq->len - sizeof(*req) || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    int err = client_may_touch(c, (domid_t)req->domid);
    if (err) {
        reply_error(rq, err);
        return;
    }

    /* Work on a copy: the reply carries the buffers as the core left them. */
    struct xensim_dm_op *out = malloc(rq->len);
    if (!out) {
        reply_error(rq, ENOMEM);
        return;
    }
    memcpy(out, req, rq->len);
    int rc = hvio_dm_op(c->sim->host, c->domid, (domid_t)req->domid, out + 1,
                        out->buf_size[0]);
    if (rc == -EOPNOTSUPP)
        count_refused_irq(c->sim, req);
    reply(rq, out, rq->len, rc < 0 ? -rc : 0, NULL, 0);
    free(out);
}

static void restrict_handle(struct request *rq)
{
    const struct xensim_restrict *req = rq->body;

    if (rq->len != sizeof(*req) || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    /* As with the real drivers, a handle is restricted once, for good. */
    int err = client_may_touch(rq->client, (domid_t)req->domid);
    if (!err)
        rq->client->restricted_to = (int)req->domid;
    reply_error(rq, err);
}

void handle_dm(struct request *rq)
{
    switch (rq->hdr->type) {
    case XENSIM_DM_OP:
        dm_op(rq);
        break;
    case XENSIM_DM_RESTRICT:
        restrict_handle(rq);
        break;
    default:
        reply_error(rq, EOPNOTSUPP);
    }
}

/* Shared with the other handle kinds. */
void handle_restrict(struct request *rq)
{
    restrict_handle(rq);
}
