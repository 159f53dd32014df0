/*
 * PCI functions: config accesses to a function's pcicfg, BAR placement
 * turned into region moves, and the function's interrupt (MSI or INTx).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "internal.h"

static int bar_place(void *opaque, unsigned int bar, bool placed, uint64_t base)
{
    struct ioreq_pci_dev *d = opaque;
    struct ioreq_region *r = &d->bar[bar];

    region_unplace(r);
    if (!placed)
        return 0;
    int rc = region_place(r, base);
    if (rc)
        ctx_log(d->ctx, IOREQ_LOG_WARNING,
                "BAR%u of 00:%02x.%u at 0x%" PRIx64 " cannot be placed (errno %d): it decodes "
                "nowhere", bar, d->devfn >> 3, d->devfn & 7u, base, -rc);
    return rc;
}

static uint32_t dev_cfg_read(void *opaque, unsigned int offset, unsigned int size)
{
    struct ioreq_pci_dev *d = opaque;

    return d->ops.read ? d->ops.read(d->opaque, offset, size) : 0;
}

static void dev_cfg_write(void *opaque, unsigned int offset, unsigned int size, uint32_t value)
{
    struct ioreq_pci_dev *d = opaque;

    if (d->ops.write)
        d->ops.write(d->opaque, offset, size, value);
}

/* Function 0 of a device says whether it has siblings. */
static void update_multifunction(struct ioreq_ctx *ctx, unsigned int dev)
{
    struct ioreq_pci_dev *fn0 = ctx->pci[dev << 3];
    bool multi = false;

    for (unsigned int fn = 1; fn < 8; fn++)
        multi |= ctx->pci[dev << 3 | fn] != NULL;
    if (fn0)
        pcicfg_set_multifunction(&fn0->cfg, multi);
}

int ioreq_pci_add(struct ioreq_ctx *ctx, uint8_t dev, uint8_t fn,
                  const struct ioreq_pci_id *id, const struct ioreq_pci_config_ops *cfg,
                  void *opaque, struct ioreq_pci_dev **out)
{
    if (!ctx || !id || dev > 31 || fn > 7 || id->interrupt_pin > 4)
        return -EINVAL;
    uint8_t devfn = (uint8_t)(dev << 3 | fn);
    if (ctx->pci[devfn])
        return -EEXIST;
    struct ioreq_pci_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->ctx = ctx;
    d->devfn = devfn;
    if (cfg)
        d->ops = *cfg;
    d->opaque = opaque;
    const struct pcicfg_hooks hooks = { .opaque = d, .bar_place = bar_place,
                                        .dev_read = dev_cfg_read, .dev_write = dev_cfg_write };
    pcicfg_init(&d->cfg, id, &hooks);
    for (unsigned int i = 0; i < PCICFG_NR_BARS; i++)
        d->bar[i] = (struct ioreq_region){ .ctx = ctx, .is_bar = true };

    if (ctx->created &&
        xendevicemodel_map_pcidev_to_ioreq_server(ctx->dm, ctx->domid, ctx->id, 0, 0, dev, fn)) {
        int e = errno ? errno : EIO;
        ctx_log(ctx, IOREQ_LOG_ERROR, "cannot map PCI 00:%02x.%u on ioreq server %u: errno %d",
                dev, fn, ctx->id, e);
        free(d);
        return -e;
    }
    ctx->pci[devfn] = d;
    update_multifunction(ctx, dev);
    if (out)
        *out = d;
    return 0;
}

int ioreq_pci_add_bar(struct ioreq_pci_dev *d, unsigned int bar, enum ioreq_bar_type type,
                      uint64_t size, const struct ioreq_region_ops *ops, void *opaque)
{
    if (!d || !ops)
        return -EINVAL;
    int rc = pcicfg_add_bar(&d->cfg, bar, type, size);
    if (rc)
        return rc;
    struct ioreq_region *r = &d->bar[bar];
    r->space = type == IOREQ_BAR_IO ? SPACE_PORT : SPACE_MMIO;
    r->len = size;
    r->ops = *ops;
    r->opaque = opaque;
    return 0;
}

int ioreq_pci_add_capability(struct ioreq_pci_dev *d, uint8_t cap_id, unsigned int len)
{
    return d ? pcicfg_add_cap(&d->cfg, cap_id, len) : -EINVAL;
}

int ioreq_pci_add_msi(struct ioreq_pci_dev *d)
{
    return d ? pcicfg_add_msi(&d->cfg) : -EINVAL;
}

/* Tell Xen the INTx level if it changed. */
static int update_intx(struct ioreq_pci_dev *d)
{
    bool line = pcicfg_intx_line(&d->cfg);

    if (line == d->intx_level)
        return 0;
    int rc = irq_set_intx(d->ctx, d->devfn >> 3, (uint8_t)(d->cfg.cfg[PCI_INTERRUPT_PIN] - 1),
                          line);
    if (rc == 0)
        d->intx_level = line;
    return rc;
}

void pci_reset_intx(struct ioreq_ctx *ctx)
{
    if (!ctx->has_pic)
        return; /* no INTx at all without an IOAPIC */
    for (unsigned int devfn = 0; devfn < 256; devfn++) {
        struct ioreq_pci_dev *d = ctx->pci[devfn];

        if (d && d->cfg.cfg[PCI_INTERRUPT_PIN] && !d->intx_level)
            irq_set_intx(ctx, (uint8_t)(devfn >> 3),
                         (uint8_t)(d->cfg.cfg[PCI_INTERRUPT_PIN] - 1), false);
    }
}

int ioreq_pci_raise(struct ioreq_pci_dev *d)
{
    uint64_t addr;
    uint32_t data;

    if (!d)
        return -EINVAL;
    if (pcicfg_msi_enabled(&d->cfg)) {
        if (!pcicfg_msi_message(&d->cfg, &addr, &data)) {
            ctx_log(d->ctx, IOREQ_LOG_DEBUG, "00:%02x.%u: MSI not sent, bus mastering is off",
                    d->devfn >> 3, d->devfn & 7u);
            return 0;
        }
        return ioreq_inject_msi(d->ctx, addr, data);
    }
    if (!d->cfg.cfg[PCI_INTERRUPT_PIN])
        return -ENODEV;
    pcicfg_set_intx(&d->cfg, true);
    return update_intx(d);
}

int ioreq_pci_lower(struct ioreq_pci_dev *d)
{
    if (!d)
        return -EINVAL;
    pcicfg_set_intx(&d->cfg, false);
    return d->cfg.cfg[PCI_INTERRUPT_PIN] ? update_intx(d) : 0;
}

bool pci_config_access(struct ioreq_ctx *ctx, uint32_t sbdf, unsigned int reg,
                       unsigned int size, bool write, uint64_t *value)
{
    if (sbdf > 0xff) /* segment 0, bus 0 only */
        return false;
    struct ioreq_pci_dev *d = ctx->pci[sbdf];
    if (!d)
        return false;
    if (write) {
        pcicfg_write(&d->cfg, reg, size, (uint32_t)*value);
        update_intx(d); /* COMMAND's INTx-disable or MSI enable may have changed the line */
    } else {
        *value = pcicfg_read(&d->cfg, reg, size);
    }
    return true;
}

void pci_free_all(struct ioreq_ctx *ctx)
{
    for (unsigned int devfn = 0; devfn < 256; devfn++) {
        struct ioreq_pci_dev *d = ctx->pci[devfn];
        if (!d)
            continue;
        if (d->intx_level)
            irq_set_intx(ctx, (uint8_t)(devfn >> 3), (uint8_t)(d->cfg.cfg[PCI_INTERRUPT_PIN] - 1),
                         false);
        for (unsigned int i = 0; i < PCICFG_NR_BARS; i++) {
            if (ctx->created)
                d->bar[i].server_mapped = false; /* the server goes, and its ranges with it */
            region_unplace(&d->bar[i]);
        }
        ctx->pci[devfn] = NULL;
        free(d);
    }
}
