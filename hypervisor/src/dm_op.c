/*
 * HYPERVISOR_dm_op: decode the real `struct xen_dm_op`, check the caller's
 * rights and the padding, dispatch, and write the output fields back.
 */
#include <errno.h>
#include <string.h>

#include "hvio_internal.h"

/* Bytes of the union member each op uses; 0 = op unknown to Xen. */
static const size_t op_size[] = {
    [XEN_DMOP_create_ioreq_server] = sizeof(struct xen_dm_op_create_ioreq_server),
    [XEN_DMOP_get_ioreq_server_info] = sizeof(struct xen_dm_op_get_ioreq_server_info),
    [XEN_DMOP_map_io_range_to_ioreq_server] = sizeof(struct xen_dm_op_ioreq_server_range),
    [XEN_DMOP_unmap_io_range_from_ioreq_server] = sizeof(struct xen_dm_op_ioreq_server_range),
    [XEN_DMOP_set_ioreq_server_state] = sizeof(struct xen_dm_op_set_ioreq_server_state),
    [XEN_DMOP_destroy_ioreq_server] = sizeof(struct xen_dm_op_destroy_ioreq_server),
    [XEN_DMOP_track_dirty_vram] = sizeof(struct xen_dm_op_track_dirty_vram),
    [XEN_DMOP_set_pci_intx_level] = sizeof(struct xen_dm_op_set_pci_intx_level),
    [XEN_DMOP_set_isa_irq_level] = sizeof(struct xen_dm_op_set_isa_irq_level),
    [XEN_DMOP_set_pci_link_route] = sizeof(struct xen_dm_op_set_pci_link_route),
    [XEN_DMOP_modified_memory] = sizeof(struct xen_dm_op_modified_memory),
    [XEN_DMOP_set_mem_type] = sizeof(struct xen_dm_op_set_mem_type),
    [XEN_DMOP_inject_event] = sizeof(struct xen_dm_op_inject_event),
    [XEN_DMOP_inject_msi] = sizeof(struct xen_dm_op_inject_msi),
    [XEN_DMOP_map_mem_type_to_ioreq_server] = sizeof(struct xen_dm_op_map_mem_type_to_ioreq_server),
    [XEN_DMOP_remote_shutdown] = sizeof(struct xen_dm_op_remote_shutdown),
    [XEN_DMOP_relocate_memory] = sizeof(struct xen_dm_op_relocate_memory),
    [XEN_DMOP_pin_memory_cacheattr] = sizeof(struct xen_dm_op_pin_memory_cacheattr),
    [XEN_DMOP_set_irq_level] = sizeof(struct xen_dm_op_set_irq_level),
    [XEN_DMOP_nr_vcpus] = sizeof(struct xen_dm_op_nr_vcpus),
};

#define NR_OPS (sizeof(op_size) / sizeof(op_size[0]))

int dm_privilege_check(struct hvio_host *host, domid_t caller,
                       struct hvio_domain *target)
{
    if (target->cfg.domid == caller)
        return -EPERM; /* dm_op never acts on the caller's own domain */
    if (!target->cfg.hvm)
        return -EINVAL;

    struct hvio_domain *c = domain_get(host, caller);
    bool allowed = c && (c->cfg.privileged || c->cfg.dm_target == target->cfg.domid);
    if (c)
        domain_put(c);
    return allowed ? 0 : -EPERM;
}

static void raise_irq(struct hvio_domain *d, const struct hvio_irq_event *ev)
{
    if (d->host->ops.irq_event)
        d->host->ops.irq_event(d->host->ctx, d->cfg.domid, ev);
}

static int set_isa_irq_level(struct hvio_domain *d, domid_t caller,
                             const struct xen_dm_op_set_isa_irq_level *a)
{
    if (a->isa_irq > 15 || a->level > 1)
        return -EINVAL;
    /* Xen 4.17 crashes on this for a domain without a PIC: refuse it. */
    if (!d->cfg.emulated_pic)
        return -EOPNOTSUPP;
    raise_irq(d, &(struct hvio_irq_event){ .kind = HVIO_IRQ_ISA, .source = caller,
                                            .isa_irq = a->isa_irq, .level = a->level });
    return 0;
}

static int set_pci_intx_level(struct hvio_domain *d, domid_t caller,
                              const struct xen_dm_op_set_pci_intx_level *a)
{
    if (a->domain != 0 || a->bus != 0 || a->device > 0x1f || a->intx > 3 ||
        a->level > 1)
        return -EINVAL;
    if (!d->cfg.emulated_pic)
        return -EOPNOTSUPP; /* INTx routes through the IOAPIC PVH lacks */
    raise_irq(d, &(struct hvio_irq_event){ .kind = HVIO_IRQ_PCI_INTX, .source = caller,
                                            .device = a->device, .intx = a->intx,
                                            .level = a->level });
    return 0;
}

static int inject_msi(struct hvio_domain *d, domid_t caller,
                      const struct xen_dm_op_inject_msi *a)
{
    if (a->pad)
        return -EINVAL;
    raise_irq(d, &(struct hvio_irq_event){ .kind = HVIO_IRQ_MSI, .source = caller,
                                            .msi_addr = a->addr, .msi_data = a->data });
    return 0;
}

/* Returns 0 / -errno; sets *writes_back for ops with output fields. */
static int dispatch(struct hvio_domain *d, domid_t caller, struct xen_dm_op *op,
                    bool *writes_back)
{
    switch (op->op) {
    case XEN_DMOP_create_ioreq_server: {
        struct xen_dm_op_create_ioreq_server *a = &op->u.create_ioreq_server;

        *writes_back = true;
        if (a->pad[0] || a->pad[1] || a->pad[2])
            return -EINVAL;
        return server_create(d, caller, a->handle_bufioreq, &a->id);
    }
    case XEN_DMOP_get_ioreq_server_info: {
        struct xen_dm_op_get_ioreq_server_info *a = &op->u.get_ioreq_server_info;

        *writes_back = true;
        if (a->flags & ~XEN_DMOP_no_gfns)
            return -EINVAL;
        return server_get_info(d, caller, a->id, !(a->flags & XEN_DMOP_no_gfns), a);
    }
    case XEN_DMOP_map_io_range_to_ioreq_server:
    case XEN_DMOP_unmap_io_range_from_ioreq_server: {
        const struct xen_dm_op_ioreq_server_range *a = &op->u.map_io_range_to_ioreq_server;

        if (a->pad)
            return -EINVAL;
        return server_change_range(d, caller, a->id, a->type, a->start, a->end,
                                   op->op == XEN_DMOP_map_io_range_to_ioreq_server);
    }
    case XEN_DMOP_set_ioreq_server_state: {
        const struct xen_dm_op_set_ioreq_server_state *a = &op->u.set_ioreq_server_state;

        if (a->pad)
            return -EINVAL;
        return server_set_state(d, caller, a->id, a->enabled != 0);
    }
    case XEN_DMOP_destroy_ioreq_server: {
        const struct xen_dm_op_destroy_ioreq_server *a = &op->u.destroy_ioreq_server;

        if (a->pad)
            return -EINVAL;
        return server_destroy(d, caller, a->id);
    }
    case XEN_DMOP_set_isa_irq_level:
        return set_isa_irq_level(d, caller, &op->u.set_isa_irq_level);
    case XEN_DMOP_set_pci_intx_level:
        return set_pci_intx_level(d, caller, &op->u.set_pci_intx_level);
    case XEN_DMOP_inject_msi:
        return inject_msi(d, caller, &op->u.inject_msi);
    case XEN_DMOP_nr_vcpus:
        *writes_back = true;
        op->u.nr_vcpus.vcpus = d->cfg.max_vcpus;
        return 0;
    default:
        return -EOPNOTSUPP; /* a real dm_op this core does not model */
    }
}

int hvio_dm_op(struct hvio_host *host, domid_t caller, domid_t target,
               void *buf, size_t size)
{
    const size_t header = offsetof(struct xen_dm_op, u);
    struct hvio_domain *d = domain_get(host, target);

    if (!d)
        return -ESRCH;

    int rc = dm_privilege_check(host, caller, d);
    struct xen_dm_op op = { 0 };
    if (!rc && (!buf || size < header))
        rc = -EFAULT;
    if (!rc) {
        memcpy(&op, buf, header);
        if (op.op >= NR_OPS || op_size[op.op] == 0)
            rc = -EOPNOTSUPP;
    }
    if (!rc && size < header + op_size[op.op])
        rc = -EFAULT;
    if (!rc) {
        memcpy(&op.u, (const char *)buf + header, op_size[op.op]);
        rc = op.pad ? -EINVAL : 0;
    }

    bool writes_back = false;
    if (!rc)
        rc = dispatch(d, caller, &op, &writes_back);
    if (!rc && writes_back)
        memcpy((char *)buf + header, &op.u, op_size[op.op]);

    domain_put(d);
    return rc;
}

int hvio_acquire_ioreq_frame(struct hvio_host *host, domid_t caller,
                             domid_t target, ioservid_t id, unsigned long idx,
                             void **page)
{
    struct hvio_domain *d = domain_get(host, target);

    if (!d)
        return -ESRCH;
    int rc = dm_privilege_check(host, caller, d);
    if (!rc)
        rc = server_get_frame(d, caller, id, idx, page);
    domain_put(d);
    return rc;
}
