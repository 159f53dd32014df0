/*
 * Control requests from the xensim CLI and tests: domains, interrupts, stop;
 * and domain pause and information, which the libxenctrl drop-in sends too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

static void describe(struct sim *sim, const struct sim_domain *d,
                     struct xensim_domain_info *info)
{
    int servers = hvio_domain_nr_servers(sim->host, d->domid);

    memcpy(info->name, d->name, sizeof(info->name));
    info->domid = d->domid;
    info->type = d->type;
    info->vcpus = d->nr_vcpus;
    info->nr_servers = servers > 0 ? (uint32_t)servers : 0;
    info->memory_bytes = d->memory_bytes;
}

static void domain_create(struct request *rq)
{
    const struct xensim_domain_create *req = rq->body;
    struct sim *sim = rq->client->sim;

    if (rq->len != sizeof(*req) || memchr(req->name, 0, sizeof(req->name)) == NULL ||
        (req->type != XENSIM_DOMAIN_HVM && req->type != XENSIM_DOMAIN_PVH) ||
        req->vcpus == 0 || req->memory_bytes == 0 || req->domid >= DOMID_FIRST_RESERVED ||
        (req->flags & ~XENSIM_CREATE_PAUSED)) {
        reply_error(rq, EINVAL);
        return;
    }
    int domid = sim_domain_create(sim, req->name, req->type, req->vcpus,
                                  req->memory_bytes, (domid_t)req->domid,
                                  req->flags & XENSIM_CREATE_PAUSED);
    if (domid < 0) {
        reply_error(rq, -domid);
        return;
    }
    struct xensim_domain_info info = { .domid = 0 };
    describe(sim, sim_domain_get(sim, (domid_t)domid), &info);
    reply(rq, &info, sizeof(info), 0, NULL, 0);
}

static void domain_destroy(struct request *rq)
{
    const struct xensim_domain_ref *req = rq->body;

    if (rq->len != sizeof(*req) || req->domid == 0 || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    int rc = sim_domain_destroy(rq->client->sim, (domid_t)req->domid);
    reply_error(rq, rc < 0 ? -rc : 0);
}

static void domain_list(struct request *rq)
{
    struct sim *sim = rq->client->sim;
    const size_t body = sizeof(struct xensim_domain_info) - sizeof(struct xensim_hdr);
    const size_t max = (XENSIM_MSG_MAX - sizeof(struct xensim_hdr) - sizeof(uint32_t)) / body;
    char *out = calloc(1, XENSIM_MSG_MAX);
    uint32_t count = 0;

    if (!out) {
        reply_error(rq, ENOMEM);
        return;
    }
    for (unsigned int id = 0; id < DOMID_FIRST_RESERVED && count < max; id++) {
        struct sim_domain *d = sim_domain_get(sim, (domid_t)id);
        struct xensim_domain_info info;

        if (!d)
            continue;
        describe(sim, d, &info);
        memcpy(out + sizeof(struct xensim_hdr) + sizeof(count) + count * body,
               (char *)&info + sizeof(struct xensim_hdr), body);
        count++;
    }
    memcpy(out + sizeof(struct xensim_hdr), &count, sizeof(count));
    reply(rq, out, sizeof(struct xensim_hdr) + sizeof(count) + count * body, 0, NULL, 0);
    free(out);
}

static void irq_log(struct request *rq)
{
    const struct xensim_domain_ref *req = rq->body;
    struct sim_domain *d = rq->len == sizeof(*req) && req->domid < DOMID_FIRST_RESERVED
                               ? sim_domain_get(rq->client->sim, (domid_t)req->domid) : NULL;
    const size_t max = (XENSIM_MSG_MAX - sizeof(struct xensim_hdr) - sizeof(uint32_t)) /
                       sizeof(struct xensim_irq_record);
    char *out = d ? calloc(1, XENSIM_MSG_MAX) : NULL;

    if (!out) {
        reply_error(rq, d ? ENOMEM : ESRCH);
        return;
    }
    pthread_mutex_lock(&d->lock);
    uint32_t kept = d->nr_irqs < SIM_IRQ_LOG_SIZE ? d->nr_irqs : SIM_IRQ_LOG_SIZE;
    uint32_t count = kept < max ? kept : (uint32_t)max;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t seq = d->nr_irqs - count + i; /* the most recent `count`, oldest first */
        memcpy(out + sizeof(struct xensim_hdr) + sizeof(count) + i * sizeof(struct xensim_irq_record),
               &d->irq[seq % SIM_IRQ_LOG_SIZE], sizeof(struct xensim_irq_record));
    }
    pthread_mutex_unlock(&d->lock);
    memcpy(out + sizeof(struct xensim_hdr), &count, sizeof(count));
    reply(rq, out, sizeof(struct xensim_hdr) + sizeof(count) +
                   count * sizeof(struct xensim_irq_record), 0, NULL, 0);
    free(out);
}

static void domain_pause(struct request *rq, bool pause)
{
    const struct xensim_domain_ref *req = rq->body;

    if (rq->len != sizeof(*req)) {
        reply_error(rq, EINVAL);
        return;
    }
    /* Xen looks the domid up and finds nothing: ESRCH, reserved ids included. */
    int rc = req->domid >= DOMID_FIRST_RESERVED
                 ? -ESRCH
                 : sim_domain_ctl_pause(rq->client->sim, rq->client->domid,
                                        (domid_t)req->domid, pause);
    reply_error(rq, -rc);
}

static void domain_getinfo(struct request *rq)
{
    const struct xensim_domain_getinfo *req = rq->body;
    struct sim *sim = rq->client->sim;

    if (rq->len != sizeof(*req)) {
        reply_error(rq, EINVAL);
        return;
    }
    if (rq->client->domid != 0) { /* XSM: the control domain only */
        reply_error(rq, EPERM);
        return;
    }
    size_t max = req->max < XENSIM_GETINFO_MAX ? req->max : XENSIM_GETINFO_MAX;
    struct xensim_domain_getinfo_reply *out =
        calloc(1, sizeof(*out) + max * sizeof(struct xensim_dominfo));
    if (!out) {
        reply_error(rq, ENOMEM);
        return;
    }
    for (uint32_t id = req->first_domid; id < DOMID_FIRST_RESERVED && out->count < max; id++) {
        struct sim_domain *d = sim_domain_get(sim, (domid_t)id);

        if (d)
            sim_domain_describe(sim, d, &out->info[out->count++]);
    }
    reply(rq, out, sizeof(*out) + out->count * sizeof(struct xensim_dominfo), 0, NULL, 0);
    free(out);
}

void handle_control(struct request *rq)
{
    switch (rq->hdr->type) {
    case XENSIM_DOMAIN_CREATE:
        domain_create(rq);
        break;
    case XENSIM_DOMAIN_DESTROY:
        domain_destroy(rq);
        break;
    case XENSIM_DOMAIN_LIST:
        domain_list(rq);
        break;
    case XENSIM_GUEST_RUN:
        guest_run_start(rq);
        break;
    case XENSIM_IRQ_LOG:
        irq_log(rq);
        break;
    case XENSIM_SHUTDOWN:
        rq->client->sim->stopping = true;
        reply_error(rq, 0);
        break;
    case XENSIM_DOMAIN_PAUSE:
    case XENSIM_DOMAIN_UNPAUSE:
        domain_pause(rq, rq->hdr->type == XENSIM_DOMAIN_PAUSE);
        break;
    case XENSIM_DOMAIN_GETINFO:
        domain_getinfo(rq);
        break;
    default:
        reply_error(rq, EOPNOTSUPP);
    }
}
