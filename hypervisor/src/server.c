/*
 * ioreq server lifecycle: create (all or nothing), destroy, enable/disable,
 * info, pages, ranges and per-vCPU event channels.
 */
#include <errno.h>

#include "hvio_internal.h"
#include "shared_page.h"

static struct hvio_platform_ops *ops_of(struct hvio_domain *d)
{
    return &d->host->ops;
}

static void pause_domain(struct hvio_domain *d)
{
    ops_of(d)->domain_pause(d->host->ctx, d->cfg.domid);
}

static void unpause_domain(struct hvio_domain *d)
{
    ops_of(d)->domain_unpause(d->host->ctx, d->cfg.domid);
}

static void free_port(struct hvio_domain *d, evtchn_port_t port)
{
    if (port)
        ops_of(d)->evtchn_free(d->host->ctx, d->cfg.domid, port);
}

static void free_page(struct hvio_domain *d, void *page)
{
    if (page)
        ops_of(d)->page_free(d->host->ctx, page);
}

/* The server `id` if `caller` owns it: -ESRCH dying, -ENOENT, -EPERM. */
static int owned_server(struct hvio_domain *d, domid_t caller, ioservid_t id,
                        struct hvio_server **out)
{
    if (d->dying)
        return -ESRCH;
    if (id >= HVIO_MAX_SERVERS || !d->servers[id])
        return -ENOENT;
    if (d->servers[id]->emulator != caller)
        return -EPERM;
    *out = d->servers[id];
    return 0;
}

static void publish_port(struct hvio_server *s, unsigned int vcpu_id)
{
    slot_store_eport(&s->ioreq_page->vcpu_ioreq[vcpu_id], s->vcpu_port[vcpu_id]);
}

/* Release what a server holds; safe on a partly built one. */
static void server_free(struct hvio_domain *d, struct hvio_server *s)
{
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        free_port(d, s->vcpu_port[i]);
    free_port(d, s->bufioreq_port);
    free_page(d, s->buf_page);
    free_page(d, s->ioreq_page);
    core_free(d->host, s);
}

static int alloc_port(struct hvio_domain *d, unsigned int vcpu_id,
                      domid_t remote, evtchn_port_t *port)
{
    int rc = ops_of(d)->evtchn_alloc_unbound(d->host->ctx, d->cfg.domid,
                                              vcpu_id, remote);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return -EIO; /* port 0 is never valid */
    *port = (evtchn_port_t)rc;
    return 0;
}

/* Pages, the buffered port and a port per online vCPU. */
static int server_build(struct hvio_domain *d, struct hvio_server *s)
{
    void *ctx = d->host->ctx;

    s->ioreq_page = ops_of(d)->page_alloc(ctx);
    if (!s->ioreq_page)
        return -ENOMEM;
    if (s->bufioreq_handling != HVM_IOREQSRV_BUFIOREQ_OFF) {
        s->buf_page = ops_of(d)->page_alloc(ctx);
        if (!s->buf_page)
            return -ENOMEM;
        int rc = alloc_port(d, 0, s->emulator, &s->bufioreq_port);
        if (rc)
            return rc;
    }
    for (unsigned int i = 0; i < d->cfg.max_vcpus; i++) {
        if (!d->vcpus[i].online)
            continue;
        int rc = alloc_port(d, i, s->emulator, &s->vcpu_port[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int server_create(struct hvio_domain *d, domid_t caller, uint8_t handle_bufioreq,
                  ioservid_t *id)
{
    if (handle_bufioreq > HVM_IOREQSRV_BUFIOREQ_ATOMIC)
        return -EINVAL;

    struct hvio_server *s = core_alloc(d->host, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->emulator = caller;
    s->bufioreq_handling = handle_bufioreq;

    pause_domain(d);
    domain_lock(d);

    int rc = d->dying ? -ESRCH : -ENOSPC;
    for (unsigned int i = 0; !d->dying && i < HVIO_MAX_SERVERS; i++) {
        if (!d->servers[i]) {
            s->id = (ioservid_t)i;
            rc = 0;
            break;
        }
    }
    if (!rc)
        rc = server_build(d, s);
    if (!rc) {
        d->servers[s->id] = s;
        *id = s->id;
    }

    domain_unlock(d);
    unpause_domain(d);

    if (rc)
        server_free(d, s);
    return rc;
}

static void release_gfns(struct hvio_domain *d, struct hvio_server *s)
{
    if (s->page_access != PAGES_BY_GFN)
        return;
    d->gfns_in_use &= ~(1ull << (s->ioreq_gfn - d->cfg.ioreq_gfn_base));
    if (s->buf_page)
        d->gfns_in_use &= ~(1ull << (s->bufioreq_gfn - d->cfg.ioreq_gfn_base));
}

void server_teardown_locked(struct hvio_domain *d, struct hvio_server *s)
{
    unsigned int id = s->id;

    s->enabled = false;
    d->servers[id] = NULL;
    for (unsigned int t = 0; t < NR_RANGE_TYPES; t++)
        range_index_forget(&d->index[t], id);
    /* A vCPU waiting on this server completes as unhandled. */
    for (unsigned int i = 0; i < d->cfg.max_vcpus; i++) {
        if (d->vcpus[i].pending & (1u << id)) {
            d->vcpus[i].pending &= (uint8_t)~(1u << id);
            ops_of(d)->vcpu_kick(d->host->ctx, d->cfg.domid, i);
        }
    }
    release_gfns(d, s);
    server_free(d, s);
}

int server_destroy(struct hvio_domain *d, domid_t caller, ioservid_t id)
{
    struct hvio_server *s;

    pause_domain(d);
    domain_lock(d);
    int rc = owned_server(d, caller, id, &s);
    if (!rc)
        server_teardown_locked(d, s);
    domain_unlock(d);
    unpause_domain(d);
    return rc;
}

int server_set_state(struct hvio_domain *d, domid_t caller, ioservid_t id,
                     bool enabled)
{
    struct hvio_server *s;

    pause_domain(d);
    domain_lock(d);
    int rc = owned_server(d, caller, id, &s);
    if (!rc && enabled && !s->enabled) {
        /* Xen publishes each vCPU's port in the page on enable. */
        for (unsigned int i = 0; i < d->cfg.max_vcpus; i++)
            if (s->vcpu_port[i])
                publish_port(s, i);
    }
    if (!rc)
        s->enabled = enabled;
    domain_unlock(d);
    unpause_domain(d);
    return rc;
}

/* Take a free frame of the domain's legacy ioreq gfn pool. */
static int take_gfn(struct hvio_domain *d, uint64_t *gfn)
{
    for (unsigned int i = 0; i < d->cfg.nr_ioreq_gfns; i++) {
        if (!(d->gfns_in_use & (1ull << i))) {
            d->gfns_in_use |= 1ull << i;
            *gfn = d->cfg.ioreq_gfn_base + i;
            return 0;
        }
    }
    return -ENOMEM;
}

static int map_gfns(struct hvio_domain *d, struct hvio_server *s)
{
    if (s->page_access == PAGES_BY_GFN)
        return 0;
    if (s->page_access == PAGES_BY_RESOURCE)
        return -EPERM; /* pages already handed out by acquire_resource */

    uint64_t saved = d->gfns_in_use;
    int rc = take_gfn(d, &s->ioreq_gfn);
    if (!rc && s->buf_page)
        rc = take_gfn(d, &s->bufioreq_gfn);
    if (rc) {
        d->gfns_in_use = saved;
        return rc;
    }
    s->page_access = PAGES_BY_GFN;
    return 0;
}

int server_get_info(struct hvio_domain *d, domid_t caller, ioservid_t id,
                    bool want_gfns, struct xen_dm_op_get_ioreq_server_info *info)
{
    struct hvio_server *s;

    domain_lock(d);
    int rc = owned_server(d, caller, id, &s);
    if (!rc && want_gfns)
        rc = map_gfns(d, s);
    if (!rc) {
        if (want_gfns)
            info->ioreq_gfn = s->ioreq_gfn;
        if (s->buf_page) {
            if (want_gfns)
                info->bufioreq_gfn = s->bufioreq_gfn;
            info->bufioreq_port = s->bufioreq_port;
        }
    }
    domain_unlock(d);
    return rc;
}

int server_get_frame(struct hvio_domain *d, domid_t caller, ioservid_t id,
                     unsigned long idx, void **page)
{
    struct hvio_server *s;

    domain_lock(d);
    int rc = owned_server(d, caller, id, &s);
    if (!rc && s->page_access == PAGES_BY_GFN)
        rc = -EPERM; /* guest frames already in use for these pages */
    if (!rc) {
        s->page_access = PAGES_BY_RESOURCE;
        if (idx == XENMEM_resource_ioreq_server_frame_bufioreq)
            rc = s->buf_page ? 0 : -ENOENT;
        else if (idx != XENMEM_resource_ioreq_server_frame_ioreq(0))
            rc = -EINVAL;
    }
    if (!rc)
        *page = idx == XENMEM_resource_ioreq_server_frame_bufioreq
                    ? (void *)s->buf_page : (void *)s->ioreq_page;
    domain_unlock(d);
    return rc;
}

/* Re-index one range type after `s` changed; -ENOMEM leaves the old index. */
static int reindex(struct hvio_domain *d, uint32_t type)
{
    const struct rangeset *sets[HVIO_MAX_SERVERS] = { 0 };

    for (unsigned int i = 0; i < HVIO_MAX_SERVERS; i++)
        if (d->servers[i])
            sets[i] = &d->servers[i]->ranges[type];
    return range_index_rebuild(d->host, &d->index[type], sets);
}

int server_change_range(struct hvio_domain *d, domid_t caller, ioservid_t id,
                        uint32_t type, uint64_t start, uint64_t end, bool map)
{
    struct hvio_server *s;

    if (start > end)
        return -EINVAL;
    domain_lock(d);
    int rc = owned_server(d, caller, id, &s);
    if (!rc && type >= NR_RANGE_TYPES)
        rc = -EINVAL;
    if (!rc && map && rangeset_overlaps(&s->ranges[type], start, end))
        rc = -EEXIST;
    if (!rc)
        rc = map ? rangeset_add(&s->ranges[type], start, end)
                 : rangeset_remove(&s->ranges[type], start, end);
    if (!rc) {
        rc = reindex(d, type);
        if (rc && map) /* undo: the index still describes the old ranges */
            rangeset_remove(&s->ranges[type], start, end);
        else if (rc)
            rangeset_add(&s->ranges[type], start, end);
    }
    domain_unlock(d);
    return rc;
}

int servers_add_vcpu_locked(struct hvio_domain *d, unsigned int vcpu_id)
{
    evtchn_port_t ports[HVIO_MAX_SERVERS] = { 0 };
    int rc = 0;

    /* Allocate everything first, so that a failure leaves no trace. */
    for (unsigned int id = 0; !rc && id < HVIO_MAX_SERVERS; id++)
        if (d->servers[id])
            rc = alloc_port(d, vcpu_id, d->servers[id]->emulator, &ports[id]);
    if (rc) {
        for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++)
            free_port(d, ports[id]);
        return rc;
    }

    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        struct hvio_server *s = d->servers[id];

        if (!s)
            continue;
        s->vcpu_port[vcpu_id] = ports[id];
        /* The slot may hold what an emulator wrote while the vCPU was away. */
        slot_store_state(&s->ioreq_page->vcpu_ioreq[vcpu_id], STATE_IOREQ_NONE);
        if (s->enabled)
            publish_port(s, vcpu_id);
    }
    return 0;
}

void servers_remove_vcpu_locked(struct hvio_domain *d, unsigned int vcpu_id)
{
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        struct hvio_server *s = d->servers[id];

        if (!s)
            continue;
        free_port(d, s->vcpu_port[vcpu_id]);
        s->vcpu_port[vcpu_id] = 0;
        /* Nothing may bind a port that no longer exists, nor answer the slot. */
        slot_store_eport(&s->ioreq_page->vcpu_ioreq[vcpu_id], 0);
        slot_store_state(&s->ioreq_page->vcpu_ioreq[vcpu_id], STATE_IOREQ_NONE);
    }
}
