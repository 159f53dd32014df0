/* Host, domain table, domain and vCPU lifecycle. */
#include <errno.h>

#include "hvio_internal.h"

int hvio_host_new(const struct hvio_platform_ops *ops, void *ctx,
                  struct hvio_host **out)
{
    struct hvio_host *host = ops->alloc(ctx, sizeof(*host));

    if (!host)
        return -ENOMEM;
    host->ops = *ops;
    host->ctx = ctx;
    host->domains = core_alloc(host, DOMID_FIRST_RESERVED * sizeof(host->domains[0]));
    host->lock = host->domains ? ops->lock_new(ctx) : NULL;
    if (!host->lock) {
        core_free(host, host->domains);
        ops->free(ctx, host);
        return -ENOMEM;
    }
    *out = host;
    return 0;
}

void hvio_host_free(struct hvio_host *host)
{
    if (!host)
        return;
    for (domid_t domid = 0; domid < DOMID_FIRST_RESERVED; domid++)
        if (host->domains[domid])
            hvio_domain_destroy(host, domid);
    host->ops.lock_free(host->ctx, host->lock);
    core_free(host, host->domains);
    host->ops.free(host->ctx, host);
}

struct hvio_domain *domain_get(struct hvio_host *host, domid_t domid)
{
    struct hvio_domain *d = NULL;

    if (domid >= DOMID_FIRST_RESERVED)
        return NULL;
    host->ops.lock(host->ctx, host->lock);
    d = host->domains[domid];
    if (d)
        __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
    host->ops.unlock(host->ctx, host->lock);
    return d;
}

void domain_put(struct hvio_domain *d)
{
    if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;

    struct hvio_host *host = d->host;
    for (unsigned int t = 0; t < NR_RANGE_TYPES; t++)
        range_index_free(host, &d->index[t]);
    host->ops.lock_free(host->ctx, d->lock);
    core_free(host, d);
}

void domain_lock(struct hvio_domain *d)
{
    d->host->ops.lock(d->host->ctx, d->lock);
}

void domain_unlock(struct hvio_domain *d)
{
    d->host->ops.unlock(d->host->ctx, d->lock);
}

void domain_crash_locked(struct hvio_domain *d, const char *why)
{
    if (d->crashed)
        return;
    d->crashed = true;
    d->host->ops.domain_crash(d->host->ctx, d->cfg.domid, why);
    for (unsigned int i = 0; i < d->cfg.max_vcpus; i++)
        if (d->vcpus[i].pending)
            d->host->ops.vcpu_kick(d->host->ctx, d->cfg.domid, i);
}

static bool config_valid(const struct hvio_domain_config *cfg)
{
    return cfg->domid < DOMID_FIRST_RESERVED &&
           cfg->max_vcpus <= HVIO_MAX_VCPUS &&
           cfg->nr_ioreq_gfns <= MAX_IOREQ_GFNS &&
           cfg->ioreq_gfn_base + cfg->nr_ioreq_gfns >= cfg->ioreq_gfn_base &&
           (cfg->hvm || !cfg->emulated_pic);
}

int hvio_domain_create(struct hvio_host *host,
                       const struct hvio_domain_config *cfg)
{
    if (!config_valid(cfg))
        return -EINVAL;

    struct hvio_domain *d = core_alloc(host, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->lock = host->ops.lock_new(host->ctx);
    if (!d->lock) {
        core_free(host, d);
        return -ENOMEM;
    }
    d->host = host;
    d->cfg = *cfg;
    d->refs = 1;
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++) {
        d->vcpus[i].domain = d;
        d->vcpus[i].id = i;
    }

    int rc = 0;
    host->ops.lock(host->ctx, host->lock);
    if (host->domains[cfg->domid])
        rc = -EEXIST;
    else
        host->domains[cfg->domid] = d;
    host->ops.unlock(host->ctx, host->lock);

    if (rc) {
        host->ops.lock_free(host->ctx, d->lock);
        core_free(host, d);
    }
    return rc;
}

int hvio_domain_destroy(struct hvio_host *host, domid_t domid)
{
    struct hvio_domain *d = NULL;

    if (domid >= DOMID_FIRST_RESERVED)
        return -ESRCH;
    host->ops.lock(host->ctx, host->lock);
    d = host->domains[domid];
    host->domains[domid] = NULL;
    host->ops.unlock(host->ctx, host->lock);
    if (!d)
        return -ESRCH;

    /* The domain is going away: no pause needed, as in Xen. */
    domain_lock(d);
    d->dying = true;
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++)
        if (d->servers[id])
            server_teardown_locked(d, d->servers[id]);
    for (unsigned int i = 0; i < d->cfg.max_vcpus; i++) {
        d->vcpus[i].online = false;
        host->ops.vcpu_kick(host->ctx, domid, i);
    }
    domain_unlock(d);

    domain_put(d); /* the table's reference */
    return 0;
}

int hvio_domain_crash(struct hvio_host *host, domid_t domid, const char *why)
{
    struct hvio_domain *d = domain_get(host, domid);

    if (!d)
        return -ESRCH;
    domain_lock(d);
    domain_crash_locked(d, why);
    domain_unlock(d);
    domain_put(d);
    return 0;
}

/* Look up a domain and one of its vCPU ids; -ESRCH / -EINVAL. */
static int domain_vcpu_get(struct hvio_host *host, domid_t domid,
                           unsigned int vcpu_id, struct hvio_domain **out)
{
    struct hvio_domain *d = domain_get(host, domid);

    if (!d)
        return -ESRCH;
    if (vcpu_id >= d->cfg.max_vcpus) {
        domain_put(d);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

int hvio_vcpu_add(struct hvio_host *host, domid_t domid, unsigned int vcpu_id)
{
    struct hvio_domain *d;
    int rc = domain_vcpu_get(host, domid, vcpu_id, &d);

    if (rc)
        return rc;
    domain_lock(d);
    if (d->dying)
        rc = -ESRCH;
    else if (d->vcpus[vcpu_id].online)
        rc = -EEXIST;
    else
        rc = servers_add_vcpu_locked(d, vcpu_id);
    if (!rc)
        d->vcpus[vcpu_id].online = true;
    domain_unlock(d);
    domain_put(d);
    return rc;
}

int hvio_vcpu_remove(struct hvio_host *host, domid_t domid, unsigned int vcpu_id)
{
    struct hvio_domain *d;
    int rc = domain_vcpu_get(host, domid, vcpu_id, &d);

    if (rc)
        return rc;
    domain_lock(d);
    struct hvio_vcpu *v = &d->vcpus[vcpu_id];
    if (d->dying) {
        rc = -ESRCH;
    } else if (!v->online) {
        rc = -ENOENT;
    } else {
        servers_remove_vcpu_locked(d, vcpu_id);
        v->online = false;
        v->pending = 0;
        host->ops.vcpu_kick(host->ctx, domid, vcpu_id);
    }
    domain_unlock(d);
    domain_put(d);
    return rc;
}

int hvio_vcpu_get(struct hvio_host *host, domid_t domid, unsigned int vcpu_id,
                  struct hvio_vcpu **out)
{
    struct hvio_domain *d;
    int rc = domain_vcpu_get(host, domid, vcpu_id, &d);

    if (!rc)
        *out = &d->vcpus[vcpu_id]; /* keeps the reference */
    return rc;
}

void hvio_vcpu_put(struct hvio_vcpu *vcpu)
{
    if (vcpu)
        domain_put(vcpu->domain);
}
