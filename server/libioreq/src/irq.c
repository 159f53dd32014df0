/*
 * Interrupts: ISA IRQ levels, PCI INTx levels, MSI.  Lines are never driven
 * for a guest without an emulated PIC/IOAPIC: Xen 4.17 crashes on the ISA
 * dm_op for a PVH guest (and INTx routes through the IOAPIC it lacks).
 * Whether the guest has one: the caller says (has_pic), and unless it said
 * "no", Xen's domain information (emulation flags) may say "no" too.
 */
#include <errno.h>
#include <stddef.h>

#include <xenctrl.h>

#include "internal.h"

/*
 * What libxenctrl logs while we ask: debug level only.  Off dom0 (or with
 * no privcmd, or no libxenctrl support in a simulator) asking fails, and
 * that is no error of the emulator's.
 */
static void xc_message(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
                       const char *context, const char *format, va_list al)
{
    const struct ioreq_ctx *ctx =
        (const struct ioreq_ctx *)((const char *)logger - offsetof(struct ioreq_ctx, xc_xtl));

    (void)level;
    ctx_vlog_xen(ctx, IOREQ_LOG_DEBUG, errnoval, context ? context : "xenctrl", format, al);
}

void irq_check_pic(struct ioreq_ctx *ctx)
{
#ifdef XEN_X86_EMU_PIC
    xc_domaininfo_t info;

    if (!ctx->has_pic)
        return; /* the caller said so: nothing to ask */
    ctx->xc_xtl.vmessage = xc_message;
    xc_interface *xch = xc_interface_open(&ctx->xc_xtl, &ctx->xc_xtl, 0);
    int n = xch ? xc_domain_getinfolist(xch, ctx->domid, 1, &info) : -1;
    int err = errno;
    if (xch)
        xc_interface_close(xch);
    if (n < 0) {
        ctx_log(ctx, IOREQ_LOG_DEBUG,
                "cannot ask Xen whether domain %u has an emulated PIC (errno %d): "
                "taking the caller's word that it has",
                ctx->domid, err);
        return;
    }
    if (n == 0 || info.domain != ctx->domid) {
        ctx_log(ctx, IOREQ_LOG_DEBUG,
                "Xen does not list domain %u: taking the caller's word that it has a PIC",
                ctx->domid);
        return;
    }
    if (info.arch_config.emulation_flags & XEN_X86_EMU_PIC) {
        ctx_log(ctx, IOREQ_LOG_DEBUG, "domain %u has an emulated PIC (emulation flags 0x%x)",
                ctx->domid, info.arch_config.emulation_flags);
        return;
    }
    ctx->has_pic = false;
    ctx_log(ctx, IOREQ_LOG_INFO,
            "domain %u has no emulated PIC/IOAPIC: ISA IRQs will not be raised", ctx->domid);
#else
    (void)ctx; /* no PIC to ask about outside x86 */
#endif
}

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
    if (!ctx->has_pic) /* lowering a line never raised is nothing to refuse */
        return level ? refuse(ctx, &ctx->isa_refusal_logged, "ISA IRQ", irq) : 0;
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
        return level ? refuse(ctx, &ctx->intx_refusal_logged, "INTx of PCI device", device) : 0;
    if (xendevicemodel_set_pci_intx_level(ctx->dm, ctx->domid, 0, 0, device, intx, level))
        return -(errno ? errno : EIO);
    return 0;
}
