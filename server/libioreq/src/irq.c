/*
 * Interrupts: ISA IRQ levels, PCI INTx levels, MSI.  Lines are never driven
 * for a guest without an emulated PIC/IOAPIC: Xen 4.17 crashes on the ISA
 * dm_op for a PVH guest (and INTx routes through the IOAPIC it lacks).
 */
#include <errno.h>

#include "internal.h"

static int refuse(struct ioreq_ctx *ctx, bool *logged, const char *what, unsigned int line)
{
    if (!*logged) {
        *logged = true;
        ctx_log(ctx, IOREQ_LOG_WARNING,
                "%s %u not driven: domain %u has no emulated PIC/IOAPIC (PVH); not logged again",
                what, line, ctx->domid);
    }
    return -EOPNOTSUPP;
}

int ioreq_set_isa_irq(struct ioreq_ctx *ctx, unsigned int irq, bool level)
{
    if (!ctx || irq > 15)
        return -EINVAL;
    if (!ctx->has_pic)
        return refuse(ctx, &ctx->isa_refusal_logged, "ISA IRQ", irq);
    if (xendevicemodel_set_isa_irq_level(ctx->dm, ctx->domid, (uint8_t)irq, level))
        return -(errno ? errno : EIO);
    return 0;
}

int ioreq_inject_msi(struct ioreq_ctx *ctx, uint64_t addr, uint32_t data)
{
    if (!ctx)
        return -EINVAL;
    if (xendevicemodel_inject_msi(ctx->dm, ctx->domid, addr, data))
        return -(errno ? errno : EIO);
    return 0;
}

int irq_set_intx(struct ioreq_ctx *ctx, uint8_t device, uint8_t intx, bool level)
{
    if (!ctx->has_pic)
        return refuse(ctx, &ctx->intx_refusal_logged, "INTx of PCI device", device);
    if (xendevicemodel_set_pci_intx_level(ctx->dm, ctx->domid, 0, 0, device, intx, level))
        return -(errno ? errno : EIO);
    return 0;
}
