/*
 * Drop-in libxendevicemodel.so.1: each call builds the real struct
 * xen_dm_op, as HYPERVISOR_dm_op would receive it, and sends it to the
 * xensim daemon (XENSIM_DM_OP); outputs come back in the same buffer.
 * Operations the simulator does not model fail with EOPNOTSUPP without
 * touching their handle.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xendevicemodel.h>

#include "xsc_client.h"
#include "xsc_toolcore.h"

struct xendevicemodel_handle {
    Xentoolcore__Active_Handle tc_ah;
    struct xsc_conn conn;
};

struct dm_buf {
    void *ptr;
    size_t size;
};

/* HYPERVISOR_dm_op(domid, nr, bufs) through the daemon. */
static int dm_op(xendevicemodel_handle *dmod, domid_t domid, const struct dm_buf *bufs,
                 unsigned int nr)
{
    union {
        struct xensim_dm_op msg;
        unsigned char bytes[sizeof(struct xensim_dm_op) + 2 * sizeof(struct xen_dm_op)];
    } small;
    size_t len = sizeof(struct xensim_dm_op);

    if (!dmod) {
        errno = EBADF;
        return -1;
    }
    if (nr == 0 || nr > XENSIM_DM_MAX_BUFS) {
        errno = EINVAL;
        return -1;
    }
    for (unsigned int i = 0; i < nr; i++) {
        if (bufs[i].size > XENSIM_MSG_MAX) {
            errno = E2BIG;
            return -1;
        }
        len += bufs[i].size;
    }
    if (len > XENSIM_MSG_MAX) {
        errno = E2BIG;
        return -1;
    }

    struct xensim_dm_op *msg = len <= sizeof(small) ? &small.msg : malloc(len);
    if (!msg)
        return -1;
    memset(msg, 0, sizeof(*msg));
    msg->hdr.type = XENSIM_DM_OP;
    msg->domid = domid;
    msg->nr_bufs = nr;
    unsigned char *p = (unsigned char *)(msg + 1);
    for (unsigned int i = 0; i < nr; i++) {
        msg->buf_size[i] = (uint32_t)bufs[i].size;
        memcpy(p, bufs[i].ptr, bufs[i].size);
        p += bufs[i].size;
    }

    int rc = -1, err = 0;
    long n = xsc_call(&dmod->conn, msg, len, msg, len, len, NULL, NULL);
    if (n < 0) {
        err = errno;
    } else if (msg->nr_bufs != nr) {
        err = EIO;
    } else {
        for (unsigned int i = 0; i < nr; i++)
            if (msg->buf_size[i] != bufs[i].size)
                err = EIO;
    }
    if (!err) {
        p = (unsigned char *)(msg + 1);
        for (unsigned int i = 0; i < nr; i++) {
            memcpy(bufs[i].ptr, p, bufs[i].size);
            p += bufs[i].size;
        }
        rc = 0;
    }
    if (msg != &small.msg)
        free(msg);
    if (rc < 0)
        errno = err;
    return rc;
}

/* All bytes zero, padding included, as the hypervisor expects. */
static void op_init(struct xen_dm_op *op, uint32_t code)
{
    memset(op, 0, sizeof(*op));
    op->op = code;
}

/* The usual case: one buffer, the struct xen_dm_op itself. */
static int dm_op1(xendevicemodel_handle *dmod, domid_t domid, struct xen_dm_op *op)
{
    struct dm_buf buf = { .ptr = op, .size = sizeof(*op) };

    return dm_op(dmod, domid, &buf, 1);
}

static int restrict_cb(Xentoolcore__Active_Handle *ah, domid_t domid)
{
    return xendevicemodel_restrict(XSC_CONTAINER_OF(ah, xendevicemodel_handle, tc_ah), domid);
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                           unsigned int open_flags)
{
    xendevicemodel_handle *dmod = calloc(1, sizeof(*dmod));
    const char *what = "cannot allocate a handle";

    (void)open_flags; /* no flags are defined */
    if (!dmod || xsc_open(&dmod->conn, XENSIM_CLIENT_DEVICEMODEL, true, NULL, NULL,
                          &what) < 0) {
        int err = errno;
        free(dmod);
        xsc_log_open_failure(logger, "xendevicemodel", err, what);
        errno = err;
        return NULL;
    }
    dmod->tc_ah.restrict_callback = restrict_cb;
    xentoolcore__register_active_handle(&dmod->tc_ah);
    return dmod;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    if (!dmod)
        return 0;
    xentoolcore__deregister_active_handle(&dmod->tc_ah);
    xsc_close(&dmod->conn);
    free(dmod);
    return 0;
}

int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
    if (!dmod) {
        errno = EBADF;
        return -1;
    }
    return xsc_restrict(&dmod->conn, XENSIM_DM_RESTRICT, domid);
}

int xendevicemodel_create_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                       int handle_bufioreq, ioservid_t *id)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_create_ioreq_server);
    op.u.create_ioreq_server.handle_bufioreq = (uint8_t)handle_bufioreq;
    if (dm_op1(dmod, domid, &op) < 0)
        return -1;
    *id = op.u.create_ioreq_server.id;
    return 0;
}

int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *dmod, domid_t domid,
                                         ioservid_t id, xen_pfn_t *ioreq_gfn,
                                         xen_pfn_t *bufioreq_gfn, evtchn_port_t *bufioreq_port)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_get_ioreq_server_info);
    struct xen_dm_op_get_ioreq_server_info *info = &op.u.get_ioreq_server_info;

    info->id = id;
    /* Asking for the gfns may make the hypervisor map the pages into the guest. */
    if (!ioreq_gfn && !bufioreq_gfn)
        info->flags |= XEN_DMOP_no_gfns;
    if (dm_op1(dmod, domid, &op) < 0)
        return -1;
    if (ioreq_gfn)
        *ioreq_gfn = info->ioreq_gfn;
    if (bufioreq_gfn)
        *bufioreq_gfn = info->bufioreq_gfn;
    if (bufioreq_port)
        *bufioreq_port = info->bufioreq_port;
    return 0;
}

static int io_range(xendevicemodel_handle *dmod, domid_t domid, uint32_t dmop, ioservid_t id,
                    uint32_t type, uint64_t start, uint64_t end)
{
    struct xen_dm_op op;

    op_init(&op, dmop);
    /* map_io_range_to_ioreq_server and unmap_... share the union member's layout. */
    struct xen_dm_op_ioreq_server_range *r = dmop == XEN_DMOP_map_io_range_to_ioreq_server
                                                 ? &op.u.map_io_range_to_ioreq_server
                                                 : &op.u.unmap_io_range_from_ioreq_server;

    r->id = id;
    r->type = type;
    r->start = start;
    r->end = end;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                                ioservid_t id, int is_mmio, uint64_t start,
                                                uint64_t end)
{
    return io_range(dmod, domid, XEN_DMOP_map_io_range_to_ioreq_server, id,
                    is_mmio ? XEN_DMOP_IO_RANGE_MEMORY : XEN_DMOP_IO_RANGE_PORT, start, end);
}

int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *dmod,
                                                    domid_t domid, ioservid_t id, int is_mmio,
                                                    uint64_t start, uint64_t end)
{
    return io_range(dmod, domid, XEN_DMOP_unmap_io_range_from_ioreq_server, id,
                    is_mmio ? XEN_DMOP_IO_RANGE_MEMORY : XEN_DMOP_IO_RANGE_PORT, start, end);
}

int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                              ioservid_t id, uint16_t segment, uint8_t bus,
                                              uint8_t device, uint8_t function)
{
    uint64_t sbdf = XEN_DMOP_PCI_SBDF((uint64_t)segment, bus, device, function);

    return io_range(dmod, domid, XEN_DMOP_map_io_range_to_ioreq_server, id,
                    XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);
}

int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                                  ioservid_t id, uint16_t segment,
                                                  uint8_t bus, uint8_t device,
                                                  uint8_t function)
{
    uint64_t sbdf = XEN_DMOP_PCI_SBDF((uint64_t)segment, bus, device, function);

    return io_range(dmod, domid, XEN_DMOP_unmap_io_range_from_ioreq_server, id,
                    XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);
}

int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                        ioservid_t id)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_destroy_ioreq_server);
    op.u.destroy_ioreq_server.id = id;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *dmod, domid_t domid,
                                          ioservid_t id, int enabled)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_set_ioreq_server_state);
    op.u.set_ioreq_server_state.id = id;
    op.u.set_ioreq_server_state.enabled = !!enabled;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *dmod, domid_t domid,
                                      uint16_t segment, uint8_t bus, uint8_t device,
                                      uint8_t intx, unsigned int level)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_set_pci_intx_level);
    struct xen_dm_op_set_pci_intx_level *l = &op.u.set_pci_intx_level;

    l->domain = segment;
    l->bus = bus;
    l->device = device;
    l->intx = intx;
    l->level = (uint8_t)level;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *dmod, domid_t domid, uint8_t irq,
                                     unsigned int level)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_set_isa_irq_level);
    op.u.set_isa_irq_level.isa_irq = irq;
    op.u.set_isa_irq_level.level = (uint8_t)level;
    return dm_op1(dmod, domid, &op);
}

/* Forwarded: the daemon decides whether it models PCI link routing. */
int xendevicemodel_set_pci_link_route(xendevicemodel_handle *dmod, domid_t domid, uint8_t link,
                                      uint8_t irq)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_set_pci_link_route);
    op.u.set_pci_link_route.link = link;
    op.u.set_pci_link_route.isa_irq = irq;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid, uint64_t msi_addr,
                              uint32_t msi_data)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_inject_msi);
    op.u.inject_msi.addr = msi_addr;
    op.u.inject_msi.data = msi_data;
    return dm_op1(dmod, domid, &op);
}

int xendevicemodel_nr_vcpus(xendevicemodel_handle *dmod, domid_t domid, unsigned int *vcpus)
{
    struct xen_dm_op op;

    op_init(&op, XEN_DMOP_nr_vcpus);
    if (dm_op1(dmod, domid, &op) < 0)
        return -1;
    *vcpus = op.u.nr_vcpus.vcpus;
    return 0;
}

/* ---- not modelled by the simulator ---- */

int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *dmod, domid_t domid,
                                                ioservid_t id, uint16_t type, uint32_t flags)
{
    (void)dmod, (void)domid, (void)id, (void)type, (void)flags;
    return xsc_unsupported();
}

int xendevicemodel_set_irq_level(xendevicemodel_handle *dmod, domid_t domid, unsigned int irq,
                                 unsigned int level)
{
    (void)dmod, (void)domid, (void)irq, (void)level;
    return xsc_unsupported();
}

int xendevicemodel_track_dirty_vram(xendevicemodel_handle *dmod, domid_t domid,
                                    uint64_t first_pfn, uint32_t nr,
                                    unsigned long *dirty_bitmap)
{
    (void)dmod, (void)domid, (void)first_pfn, (void)nr, (void)dirty_bitmap;
    return xsc_unsupported();
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid,
                                   uint64_t first_pfn, uint32_t nr)
{
    (void)dmod, (void)domid, (void)first_pfn, (void)nr;
    return xsc_unsupported();
}

int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
                                        struct xen_dm_op_modified_memory_extent extents[],
                                        uint32_t nr)
{
    (void)dmod, (void)domid, (void)extents, (void)nr;
    return xsc_unsupported();
}

int xendevicemodel_set_mem_type(xendevicemodel_handle *dmod, domid_t domid,
                                hvmmem_type_t mem_type, uint64_t first_pfn, uint32_t nr)
{
    (void)dmod, (void)domid, (void)mem_type, (void)first_pfn, (void)nr;
    return xsc_unsupported();
}

int xendevicemodel_inject_event(xendevicemodel_handle *dmod, domid_t domid, int vcpu,
                                uint8_t vector, uint8_t type, uint32_t error_code,
                                uint8_t insn_len, uint64_t extra)
{
    (void)dmod, (void)domid, (void)vcpu, (void)vector, (void)type, (void)error_code;
    (void)insn_len, (void)extra;
    return xsc_unsupported();
}

int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid, unsigned int reason)
{
    (void)dmod, (void)domid, (void)reason;
    return xsc_unsupported();
}

int xendevicemodel_relocate_memory(xendevicemodel_handle *dmod, domid_t domid, uint32_t size,
                                   uint64_t src_gfn, uint64_t dst_gfn)
{
    (void)dmod, (void)domid, (void)size, (void)src_gfn, (void)dst_gfn;
    return xsc_unsupported();
}

int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *dmod, domid_t domid,
                                        uint64_t start, uint64_t end, uint32_t type)
{
    (void)dmod, (void)domid, (void)start, (void)end, (void)type;
    return xsc_unsupported();
}
