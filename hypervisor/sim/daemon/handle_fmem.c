/* libxenforeignmemory requests: guest frames and ioreq server pages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"


/* Privilege to map another domain's memory: dom0, or the domain itself. */
static int may_map(const struct client *c, domid_t domid)
{
    if (client_may_touch(c, domid))
        return EPERM;
    return c->domid == 0 || c->domid == domid ? 0 : EPERM;
}

/* Index of `fd` in the reply's fd list, adding it; -1 when the list is full. */
static int fd_slot(int *fds, unsigned int *nr, int fd)
{
    for (unsigned int i = 0; i < *nr; i++)
        if (fds[i] == fd)
            return (int)i;
    if (*nr == XENSIM_MAX_FDS)
        return -1;
    fds[*nr] = fd;
    return (int)(*nr)++;
}

static void map_frames(struct request *rq)
{
    const struct xensim_fmem_map *req = rq->body;
    struct client *c = rq->client;

    if (rq->len < sizeof(*req) || req->nr == 0 || req->nr > XENSIM_FMEM_MAX_PAGES ||
        rq->len != sizeof(*req) + req->nr * sizeof(uint64_t) ||
        req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    int err = may_map(c, (domid_t)req->domid);
    struct sim_domain *d = err ? NULL : sim_domain_get(c->sim, (domid_t)req->domid);
    if (!err && !d)
        err = ESRCH;
    if (err) {
        reply_error(rq, err);
        return;
    }

    size_t size = sizeof(struct xensim_fmem_map_reply) + req->nr * sizeof(struct xensim_frame);
    struct xensim_fmem_map_reply *out = calloc(1, size);
    if (!out) {
        reply_error(rq, ENOMEM);
        return;
    }
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;
    uint64_t ram_frames = d->memory_bytes / HVIO_PAGE_SIZE;

    out->nr = req->nr;
    for (uint32_t i = 0; i < req->nr; i++) {
        struct xensim_frame *f = &out->frame[i];
        uint64_t gfn = req->gfn[i];
        void *page;
        int fd = -1;

        if (gfn < ram_frames) {
            fd = d->ram_fd;
            f->offset = gfn * HVIO_PAGE_SIZE;
        } else if (hvio_ioreq_gfn_page(c->sim->host, d->domid, gfn, &page) == 0) {
            fd = sim_page_fd(c->sim, page);
        }
        int slot = fd >= 0 ? fd_slot(fds, &nr_fds, fd) : -1;
        if (fd < 0)
            f->err = EINVAL;
        else if (slot < 0)
            f->err = E2BIG;
        else
            f->fd_index = (uint32_t)slot;
    }
    out->nr_fds = nr_fds;
    reply(rq, out, size, 0, fds, nr_fds);
    free(out);
}

static int resource_frames(const struct xensim_fmem_resource *req, uint64_t *max)
{
    if (req->type != XENMEM_resource_ioreq_server)
        return EOPNOTSUPP;
    /* The buffered page and one ioreq page (128 vCPU slots). */
    *max = 2;
    return 0;
}

static void map_resource(struct request *rq)
{
    const struct xensim_fmem_resource *req = rq->body;
    struct client *c = rq->client;
    struct xensim_fmem_resource_reply out = { .nr_frames = 0 };
    int fds[XENSIM_MAX_FDS];
    uint64_t max = 0;

    if (rq->len != sizeof(*req) || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    int err = may_map(c, (domid_t)req->domid);
    if (!err)
        err = resource_frames(req, &max);
    if (!err && (req->nr_frames == 0 || req->nr_frames > XENSIM_MAX_FDS ||
                 req->frame >= max || req->nr_frames > max - req->frame))
        err = EINVAL;
    if (!err && req->id > UINT16_MAX)
        err = ENOENT; /* ioservid_t is 16 bits: no such server */
    for (uint64_t i = 0; !err && i < req->nr_frames; i++) {
        void *page;
        int rc = hvio_acquire_ioreq_frame(c->sim->host, c->domid, (domid_t)req->domid,
                                          (ioservid_t)req->id, req->frame + i, &page);
        if (rc < 0) {
            err = -rc;
            break;
        }
        fds[i] = sim_page_fd(c->sim, page);
        out.frame[i].fd_index = (uint32_t)i;
        out.nr_frames++;
    }
    if (err)
        reply_error(rq, err);
    else
        reply(rq, &out, sizeof(out), 0, fds, out.nr_frames);
}

static void resource_size(struct request *rq)
{
    const struct xensim_fmem_resource *req = rq->body;
    struct xensim_fmem_resource_reply out = { .nr_frames = 0 };
    uint64_t max = 0;

    if (rq->len != sizeof(*req) || req->domid >= DOMID_FIRST_RESERVED) {
        reply_error(rq, EINVAL);
        return;
    }
    int err = may_map(rq->client, (domid_t)req->domid);
    if (!err && !sim_domain_get(rq->client->sim, (domid_t)req->domid))
        err = ESRCH;
    if (!err)
        err = resource_frames(req, &max);
    out.size = max * HVIO_PAGE_SIZE;
    reply(rq, &out, sizeof(out), err, NULL, 0);
}

void handle_fmem(struct request *rq)
{
    switch (rq->hdr->type) {
    case XENSIM_FMEM_MAP:
        map_frames(rq);
        break;
    case XENSIM_FMEM_MAP_RESOURCE:
        map_resource(rq);
        break;
    case XENSIM_FMEM_RESOURCE_SIZE:
        resource_size(rq);
        break;
    case XENSIM_FMEM_RESTRICT:
        handle_restrict(rq);
        break;
    default:
        reply_error(rq, EOPNOTSUPP);
    }
}
