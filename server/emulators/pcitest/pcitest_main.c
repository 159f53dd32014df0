/*
 * ioreq-pcitest: a PCI test device for a Xen guest, as an ioreq server.
 *
 * The register model is pcitest.c; this file puts it on a libioreq PCI
 * function (type-0 header, BAR0 4 KiB of memory, BAR1 16 I/O ports, an MSI
 * capability), lends it guest memory (ioreq_guest_read/write) and the
 * function's interrupt (ioreq_pci_raise/lower: an MSI when the guest
 * enabled it, else INTA), and runs libioreq's own loop (ioreq_run).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <libioreq.h>

#include "emu_args.h"
#include "emu_log.h"
#include "emu_serve.h"
#include "pcitest.h"

#define PROG "ioreq-pcitest"

struct options {
    struct emu_opts common;
    uint8_t dev, fn;
};

struct pcitest_prog {
    struct emu_log log;
    struct ioreq_ctx *ctx;
    struct ioreq_pci_dev *pci;
    struct pcitest dev;
    uint8_t slot_dev, slot_fn;
    bool no_pic;
    bool irq_failed;    /* reported once */
};

static void usage(FILE *out)
{
    fprintf(out,
        EMU_USAGE_LINE(PROG)
        "A PCI test device (1234:11e8, class ff0000) for guest D, served through an\n"
        "ioreq server: BAR0 4 KiB of registers (ID, scratch, a DMA engine that\n"
        "copies guest memory, interrupt raise/ack), BAR1 16 I/O ports mirroring\n"
        "the first registers, MSI and INTA.\n"
        "\n"
        EMU_USAGE_HEAD("the function")
        "  --slot DD.F        the function's device and function on bus 00, hex\n"
        "                     as lspci prints them (default 05.0; \"00:05.0\" too)\n"
        "  --pvh, --no-pic    the guest has no emulated PIC/IOAPIC: INTx is never\n"
        "                     driven (MSI still works)\n"
        EMU_USAGE_COMMON
        "\n"
        "The BARs decode where the guest programs them (the emulator maps them on\n"
        "the server itself).  Register state, config space included, is not kept\n"
        "across a restart: the guest has to program the function again.\n"
        "SIGTERM or SIGINT: finish the request in flight and exit 0.\n"
        EMU_USAGE_EXIT_STATUS);
}

/* "DD.F" or "00:DD.F", hex device 0-1f, function 0-7. */
static void parse_slot(const char *arg, struct options *o)
{
    const char *s = arg;
    unsigned int dev = 0, fn;
    int digits = 0;

    if (strncmp(s, "00:", 3) == 0)
        s += 3;
    for (; isxdigit((unsigned char)*s) && digits < 3; s++, digits++)
        dev = dev * 16 + (unsigned int)(isdigit((unsigned char)*s) ? *s - '0'
                                                                   : (*s | 0x20) - 'a' + 10);
    if (digits == 0 || digits > 2 || *s != '.' || s[1] < '0' || s[1] > '7' || s[2] != '\0')
        emu_usage_error(PROG, "--slot: '%s' is not DD.F (device 00-1f, function 0-7, hex)", arg);
    fn = (unsigned int)(s[1] - '0');
    if (dev > 0x1f)
        emu_usage_error(PROG, "--slot: '%s': device %x is above 1f", arg, dev);
    o->dev = (uint8_t)dev;
    o->fn = (uint8_t)fn;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_SLOT = EMU_OPT_PROGRAM };
    static const struct option longopts[] = {
        { "slot", required_argument, NULL, OPT_SLOT },
        EMU_NO_PIC_LONG_OPTS,
        EMU_COMMON_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct options){ .dev = PCITEST_DEFAULT_DEV, .fn = PCITEST_DEFAULT_FN };
    emu_opts_init(&o->common, PROG, usage);
    while ((c = emu_getopt(&o->common, argc, argv, longopts)) != -1) {
        switch (c) {
        case OPT_SLOT:
            parse_slot(optarg, o);
            break;
        }
    }
}

/* ---- the model's callbacks ------------------------------------------------ */

static int on_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct pcitest_prog *p = opaque;
    int rc = ioreq_guest_read(p->ctx, gpa, buf, len);

    if (rc < 0)
        emu_logf(&p->log, IOREQ_LOG_INFO, "DMA: reading %zu bytes at 0x%" PRIx64 ": %s", len,
                 gpa, strerror(-rc));
    return rc;
}

static int on_mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct pcitest_prog *p = opaque;
    int rc = ioreq_guest_write(p->ctx, gpa, buf, len);

    if (rc < 0)
        emu_logf(&p->log, IOREQ_LOG_INFO, "DMA: writing %zu bytes at 0x%" PRIx64 ": %s", len,
                 gpa, strerror(-rc));
    return rc;
}

static void irq_result(struct pcitest_prog *p, const char *what, int rc)
{
    if (rc == -EOPNOTSUPP && p->no_pic)
        return; /* INTx without a PIC: expected, and libioreq said so once */
    if (rc < 0 && !p->irq_failed) {
        p->irq_failed = true;
        emu_logf(&p->log, IOREQ_LOG_WARNING, "%s the interrupt of 00:%02x.%u: %s; not logged again",
                 what, p->slot_dev, p->slot_fn, strerror(-rc));
    }
}

static void on_irq_raise(void *opaque)
{
    struct pcitest_prog *p = opaque;

    irq_result(p, "raising", ioreq_pci_raise(p->pci));
}

static void on_irq_lower(void *opaque)
{
    struct pcitest_prog *p = opaque;

    irq_result(p, "lowering", ioreq_pci_lower(p->pci));
}

static const struct pcitest_ops model_ops = {
    .mem_read = on_mem_read,
    .mem_write = on_mem_write,
    .irq_raise = on_irq_raise,
    .irq_lower = on_irq_lower,
};

static const struct ioreq_region_ops bar0_ops = {
    .read = pcitest_bar0_read,
    .write = pcitest_bar0_write,
};

static const struct ioreq_region_ops bar1_ops = {
    .read = pcitest_bar1_read,
    .write = pcitest_bar1_write,
};

/* The PCI function, its BARs and its MSI capability. */
static int add_function(struct pcitest_prog *p, const struct options *o)
{
    const struct ioreq_pci_id id = {
        .vendor = PCITEST_VENDOR_ID,
        .device = PCITEST_DEVICE_ID,
        .subsystem_vendor = PCITEST_VENDOR_ID,
        .subsystem = PCITEST_DEVICE_ID,
        .revision = PCITEST_REVISION,
        .class_code = PCITEST_CLASS,
        .subclass = PCITEST_SUBCLASS,
        .prog_if = PCITEST_PROG_IF,
        .interrupt_pin = 1, /* INTA */
    };
    const char *what = "adding the function";
    int rc;

    rc = ioreq_pci_add(p->ctx, o->dev, o->fn, &id, NULL, NULL, &p->pci);
    if (!rc) {
        what = "BAR0";
        rc = ioreq_pci_add_bar(p->pci, 0, IOREQ_BAR_MEM32, PCITEST_BAR0_SIZE, &bar0_ops, &p->dev);
    }
    if (!rc) {
        what = "BAR1";
        rc = ioreq_pci_add_bar(p->pci, 1, IOREQ_BAR_IO, PCITEST_BAR1_SIZE, &bar1_ops, &p->dev);
    }
    if (!rc) {
        what = "the MSI capability";
        rc = ioreq_pci_add_msi(p->pci);
    }
    if (rc < 0)
        fprintf(stderr, PROG ": PCI 00:%02x.%u: %s: %s\n", o->dev, o->fn, what, strerror(-rc));
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct pcitest_prog p = { .log = { .prog = PROG } };
    sigset_t sigs;
    int rc, status = 1;

    parse_args(argc, argv, &o);
    p.log.verbosity = o.common.verbosity;
    p.slot_dev = o.dev;
    p.slot_fn = o.fn;
    p.no_pic = o.common.no_pic;
    pcitest_init(&p.dev, &model_ops, &p);

    /* ioreq_run() watches these; blocked now, one arriving early is not lost. */
    emu_block_stop_signals(&sigs);

    if (emu_open(&o.common, !o.common.no_pic, &p.log, &p.ctx) < 0)
        return 1;
    if (add_function(&p, &o) < 0)
        goto out_ctx;
    if (emu_start(&o.common, p.ctx, &p.log,
                  "PCI %04x:%04x at 00:%02x.%u, BAR0 %u bytes of memory, BAR1 %u ports, "
                  "MSI and %s, ioreq server %u",
                  PCITEST_VENDOR_ID, PCITEST_DEVICE_ID, o.dev, o.fn, PCITEST_BAR0_SIZE,
                  PCITEST_BAR1_SIZE, o.common.no_pic ? "no INTx (no PIC)" : "INTA",
                  ioreq_server_id(p.ctx)) < 0)
        goto out_ctx;
    rc = emu_run(PROG, p.ctx);
    if (rc >= 0) {
        emu_logf(&p.log, IOREQ_LOG_INFO, "stopped after %" PRIu64 " DMA command(s)",
                 p.dev.dma_commands);
        status = 0;
    }

out_ctx:
    ioreq_close(p.ctx); /* finishes the request in flight, deasserts INTA */
    return status;
}
