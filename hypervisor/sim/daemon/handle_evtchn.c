/* libxenevtchn requests: bind, unbind, notify, restrict. */
#include <errno.h>

#include "conn.h"


static void bind_interdomain(struct request *rq, const struct xensim_evtchn *req)
{
    struct client *c = rq->client;
    struct xensim_evtchn_reply out = { .port = 0 };
    struct evtchn_binding b;

    int err = client_may_touch(c, (domid_t)req->domid);
    int rc = err ? -err : evtchn_bind_interdomain(c->sim->evtchn, (struct evtchn_client *)c,
                                                  c->domid, (domid_t)req->domid,
                                                  req->port, &b);
    if (rc < 0) {
        reply_error(rq, -rc);
        return;
    }
    /* A hypervisor peer wakes a vCPU: hand out its doorbell for fast notify. */
    struct sim_domain *peer = b.peer_is_hypervisor ? sim_domain_get(c->sim, b.peer_domid) : NULL;
    int doorbell = peer && b.peer_vcpu < peer->nr_vcpus ? peer->vcpu[b.peer_vcpu].doorbell : -1;

    out.port = b.local_port;
    out.has_doorbell = doorbell >= 0;
    reply(rq, &out, sizeof(out), 0, &doorbell, doorbell >= 0 ? 1 : 0);
}

void handle_evtchn(struct request *rq)
{
    const struct xensim_evtchn *req = rq->body;
    struct client *c = rq->client;
    struct evtchn_client *ec = (struct evtchn_client *)c;

    if (rq->hdr->type == XENSIM_EVTCHN_RESTRICT) {
        handle_restrict(rq);
        return;
    }
    if (rq->len != sizeof(*req) || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }

    struct xensim_evtchn_reply out = { .port = 0 };
    int rc;
    switch (rq->hdr->type) {
    case XENSIM_EVTCHN_BIND_INTERDOMAIN:
        bind_interdomain(rq, req);
        return;
    case XENSIM_EVTCHN_BIND_UNBOUND:
        rc = client_may_touch(c, (domid_t)req->domid);
        rc = rc ? -rc : evtchn_bind_unbound(c->sim->evtchn, ec, c->domid, (domid_t)req->domid);
        break;
    case XENSIM_EVTCHN_UNBIND:
        rc = evtchn_unbind(c->sim->evtchn, ec, c->domid, req->port);
        break;
    case XENSIM_EVTCHN_NOTIFY:
        rc = evtchn_notify(c->sim->evtchn, ec, c->domid, req->port);
        break;
    default:
        rc = -EOPNOTSUPP;
    }
    if (rc > 0)
        out.port = (uint32_t)rc;
    reply(rq, &out, sizeof(out), rc < 0 ? -rc : 0, NULL, 0);
}
