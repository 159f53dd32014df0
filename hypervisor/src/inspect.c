/* Read-only views of domains and servers, and legacy gfn look-up. */
#include <errno.h>
#include <string.h>

#include "hvio_internal.h"

/* Lock `domid` and find server `id`: 0 (locked), -ESRCH or -ENOENT. */
static int lock_server(struct hvio_host *host, domid_t domid, ioservid_t id,
                       struct hvio_domain **dp, struct hvio_server **sp)
{
    struct hvio_domain *d = domain_get(host, domid);

    if (!d)
        return -ESRCH;
    domain_lock(d);
    if (id < HVIO_MAX_SERVERS && d->servers[id]) {
        *dp = d;
        *sp = d->servers[id];
        return 0;
    }
    domain_unlock(d);
    domain_put(d);
    return -ENOENT;
}

static void unlock_server(struct hvio_domain *d)
{
    domain_unlock(d);
    domain_put(d);
}

int hvio_server_view(struct hvio_host *host, domid_t domid, ioservid_t id,
                     struct hvio_server_view *view)
{
    struct hvio_domain *d;
    struct hvio_server *s;
    int rc = lock_server(host, domid, id, &d, &s);

    if (rc)
        return rc;
    *view = (struct hvio_server_view){
        .emulator = s->emulator,
        .enabled = s->enabled,
        .bufioreq_handling = s->bufioreq_handling,
        .bufioreq_port = s->bufioreq_port,
    };
    memcpy(view->vcpu_port, s->vcpu_port, sizeof(view->vcpu_port));
    for (unsigned int t = 0; t < NR_RANGE_TYPES; t++)
        view->nr_ranges[t] = s->ranges[t].nr;
    unlock_server(d);
    return 0;
}

int hvio_server_ranges(struct hvio_host *host, domid_t domid, ioservid_t id,
                       uint32_t type, struct hvio_range *out, unsigned int max)
{
    struct hvio_domain *d;
    struct hvio_server *s;

    if (type >= NR_RANGE_TYPES)
        return -EINVAL;
    int rc = lock_server(host, domid, id, &d, &s);
    if (rc)
        return rc;
    const struct rangeset *set = &s->ranges[type];
    memcpy(out, set->r, (set->nr < max ? set->nr : max) * sizeof(*out));
    rc = (int)set->nr;
    unlock_server(d);
    return rc;
}

int hvio_domain_nr_servers(struct hvio_host *host, domid_t domid)
{
    struct hvio_domain *d = domain_get(host, domid);

    if (!d)
        return -ESRCH;
    int n = 0;
    domain_lock(d);
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++)
        n += d->servers[id] != NULL;
    domain_unlock(d);
    domain_put(d);
    return n;
}

int hvio_ioreq_gfn_page(struct hvio_host *host, domid_t domid, uint64_t gfn,
                        void **page)
{
    struct hvio_domain *d = domain_get(host, domid);

    if (!d)
        return -ESRCH;
    int rc = -ENOENT;
    domain_lock(d);
    for (unsigned int id = 0; rc && id < HVIO_MAX_SERVERS; id++) {
        struct hvio_server *s = d->servers[id];

        if (!s || s->page_access != PAGES_BY_GFN)
            continue;
        if (s->ioreq_gfn == gfn) {
            *page = s->ioreq_page;
            rc = 0;
        } else if (s->buf_page && s->bufioreq_gfn == gfn) {
            *page = s->buf_page;
            rc = 0;
        }
    }
    domain_unlock(d);
    domain_put(d);
    return rc;
}
