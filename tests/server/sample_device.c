/*
 * sample_device: a small emulator on libioreq for the integration tests.
 *
 *   sample_device --domid D --create [--bufioreq off|legacy|atomic] [options]
 *   sample_device --domid D --attach ID [options]
 *   options: --no-pic (a PVH guest), --ready-file PATH (gets the server id
 *            once serving), --hang PATH (see HANG below), --own-loop (poll
 *            ioreq_fd() and call ioreq_dispatch() instead of ioreq_run()),
 *            --verbose
 *
 * Devices:
 *   ports 0x100-0x10f   +0 scratch byte      +1 ID (0x5a)     +2 16-bit reg
 *                       +4 32-bit reg        +8 byte FIFO (write pushes, read pops,
 *                       empty reads 0xee)    +9 counter (each read: next byte 0,1,..)
 *                       +0xa write N: pulse ISA IRQ N    +0xb result (errno, 0 ok)
 *                       +0xc HANG: reads 0xc3; with --hang PATH the first read
 *                            creates PATH and never returns (to be SIGKILLed)
 *                       +0xe write N: move the MMIO window to 0xfed00000 + N * 0x1000
 *   MMIO 0xa0000-0xaffff  64 KiB of RAM (the VGA window: posted writes go there)
 *   MMIO 0xfed00000       the window, 4 KiB: +0 reads 0xfeedface, +4 scratch
 *   PCI 00:05.0           1234:11e9, class 08/80, INTA, MSI, a vendor capability,
 *                         config 0x60: a device-specific 32-bit register
 *     BAR0 MEM32 4 KiB    +0 ID 0x5a5a1234  +4 scratch  +8 write: raise (result at +0xc)
 *                         +0x10 write: lower  +0x20/+0x28 DMA source/destination GPA
 *                         +0x30 DMA length  +0x34 write: copy  +0x38 DMA result (errno)
 *     BAR1 I/O 16 bytes   +0 reads 0xb1  +4 scratch byte
 * A TIMEOFFSET request prints "sample_device: timeoffset DELTA"; on exit it
 * prints its counters ("stopped (...); sync N buffered N resumed N ...").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "libioreq.h"

#define PORT_BASE 0x100
#define RAM_BASE 0xa0000
#define RAM_SIZE 0x10000
#define WINDOW_BASE 0xfed00000u
#define FIFO_SIZE 4096

struct sample {
    struct ioreq_ctx *ctx;
    const char *hang_file;
    /* ports */
    uint8_t scratch;
    uint16_t reg16;
    uint32_t reg32;
    uint8_t fifo[FIFO_SIZE];
    unsigned int fifo_head, fifo_len;
    uint8_t counter;
    uint8_t irq_result;
    /* MMIO */
    uint8_t ram[RAM_SIZE];
    struct ioreq_region *window;
    uint32_t window_scratch;
    /* PCI */
    struct ioreq_pci_dev *pci;
    uint32_t bar0_scratch, cfg60, raise_result, dma_len, dma_result;
    uint64_t dma_src, dma_dst;
    uint8_t bar1_scratch;
};

static bool verbose;

static void log_msg(void *opaque, enum ioreq_log_level level, const char *msg)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };

    (void)opaque;
    if (level <= IOREQ_LOG_INFO || verbose)
        fprintf(stderr, "sample_device: %s: %s\n", names[level], msg);
}

static void on_timeoffset(void *opaque, int64_t delta)
{
    (void)opaque;
    fprintf(stderr, "sample_device: timeoffset %" PRId64 "\n", delta);
}

/* ---- ports ---- */

static uint64_t port_read(void *opaque, uint64_t off, unsigned int size)
{
    struct sample *s = opaque;
    (void)size;

    switch (off) {
    case 0x0: return s->scratch;
    case 0x1: return 0x5a;
    case 0x2: return s->reg16;
    case 0x4: return s->reg32;
    case 0x8: {
        if (!s->fifo_len)
            return 0xee;
        uint8_t v = s->fifo[s->fifo_head];
        s->fifo_head = (s->fifo_head + 1) % FIFO_SIZE;
        s->fifo_len--;
        return v;
    }
    case 0x9: return s->counter++;
    case 0xb: return s->irq_result;
    case 0xc:
        if (s->hang_file) {
            FILE *f = fopen(s->hang_file, "w");
            if (f)
                fclose(f);
            for (;;)
                pause(); /* the test SIGKILLs us here, the vCPU waiting */
        }
        return 0xc3;
    default: return 0;
    }
}

static void port_write(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
    struct sample *s = opaque;
    (void)size;

    switch (off) {
    case 0x0: s->scratch = (uint8_t)v; break;
    case 0x2: s->reg16 = (uint16_t)v; break;
    case 0x4: s->reg32 = (uint32_t)v; break;
    case 0x8:
        if (s->fifo_len < FIFO_SIZE) {
            s->fifo[(s->fifo_head + s->fifo_len) % FIFO_SIZE] = (uint8_t)v;
            s->fifo_len++;
        }
        break;
    case 0xa: {
        int rc = ioreq_set_isa_irq(s->ctx, (unsigned int)v, true);
        if (!rc)
            rc = ioreq_set_isa_irq(s->ctx, (unsigned int)v, false);
        s->irq_result = (uint8_t)-rc;
        break;
    }
    case 0xe: {
        int rc = ioreq_region_move(s->window, WINDOW_BASE + (v & 0xff) * 0x1000);
        if (rc)
            fprintf(stderr, "sample_device: moving the window: %s\n", strerror(-rc));
        break;
    }
    default: break;
    }
}

/* ---- MMIO ---- */

static uint64_t ram_read(void *opaque, uint64_t off, unsigned int size)
{
    struct sample *s = opaque;
    uint64_t v = 0;

    memcpy(&v, s->ram + off, size); /* the library checked off + size <= RAM_SIZE */
    return v;
}

static void ram_write(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
    struct sample *s = opaque;

    memcpy(s->ram + off, &v, size);
}

static uint64_t window_read(void *opaque, uint64_t off, unsigned int size)
{
    struct sample *s = opaque;
    (void)size;

    return off == 0 ? 0xfeedface : off == 4 ? s->window_scratch : 0;
}

static void window_write(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
    struct sample *s = opaque;
    (void)size;

    if (off == 4)
        s->window_scratch = (uint32_t)v;
}

/* ---- PCI ---- */

static void dma(struct sample *s)
{
    uint8_t *buf = s->dma_len <= 65536 ? malloc(s->dma_len ? s->dma_len : 1) : NULL;
    int rc = buf ? 0 : -EINVAL;

    if (!rc)
        rc = ioreq_guest_read(s->ctx, s->dma_src, buf, s->dma_len);
    if (!rc)
        rc = ioreq_guest_write(s->ctx, s->dma_dst, buf, s->dma_len);
    s->dma_result = (uint32_t)-rc;
    free(buf);
}

static uint64_t bar0_read(void *opaque, uint64_t off, unsigned int size)
{
    struct sample *s = opaque;
    (void)size;

    switch (off) {
    case 0x00: return 0x5a5a1234;
    case 0x04: return s->bar0_scratch;
    case 0x0c: return s->raise_result;
    case 0x20: return s->dma_src;
    case 0x28: return s->dma_dst;
    case 0x30: return s->dma_len;
    case 0x38: return s->dma_result;
    default: return 0;
    }
}

static void bar0_write(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
    struct sample *s = opaque;
    (void)size;

    switch (off) {
    case 0x04: s->bar0_scratch = (uint32_t)v; break;
    case 0x08: s->raise_result = (uint32_t)-ioreq_pci_raise(s->pci); break;
    case 0x10: ioreq_pci_lower(s->pci); break;
    case 0x20: s->dma_src = v; break;
    case 0x28: s->dma_dst = v; break;
    case 0x30: s->dma_len = (uint32_t)v; break;
    case 0x34: dma(s); break;
    default: break;
    }
}

static uint64_t bar1_read(void *opaque, uint64_t off, unsigned int size)
{
    struct sample *s = opaque;
    (void)size;

    return off == 0 ? 0xb1 : off == 4 ? s->bar1_scratch : 0;
}

static void bar1_write(void *opaque, uint64_t off, unsigned int size, uint64_t v)
{
    struct sample *s = opaque;
    (void)size;

    if (off == 4)
        s->bar1_scratch = (uint8_t)v;
}

static uint32_t cfg_read(void *opaque, unsigned int off, unsigned int size)
{
    struct sample *s = opaque;

    return off >= 0x60 && off + size <= 0x64 ? s->cfg60 >> (8 * (off - 0x60)) : 0;
}

static void cfg_write(void *opaque, unsigned int off, unsigned int size, uint32_t v)
{
    struct sample *s = opaque;

    if (off >= 0x60 && off + size <= 0x64)
        for (unsigned int i = 0; i < size; i++) {
            unsigned int shift = 8 * (off - 0x60 + i);
            s->cfg60 = (s->cfg60 & ~(0xffu << shift)) | ((v >> (8 * i)) & 0xff) << shift;
        }
}

static int add_devices(struct sample *s)
{
    static const struct ioreq_region_ops port_ops = { port_read, port_write };
    static const struct ioreq_region_ops ram_ops = { ram_read, ram_write };
    static const struct ioreq_region_ops window_ops = { window_read, window_write };
    static const struct ioreq_region_ops bar0_ops = { bar0_read, bar0_write };
    static const struct ioreq_region_ops bar1_ops = { bar1_read, bar1_write };
    static const struct ioreq_pci_config_ops cfg_ops = { cfg_read, cfg_write };
    const struct ioreq_pci_id id = {
        .vendor = 0x1234, .device = 0x11e9, .subsystem_vendor = 0x1af4, .subsystem = 0x1100,
        .revision = 1, .class_code = 0x08, .subclass = 0x80, .interrupt_pin = 1,
    };
    int rc;

    if ((rc = ioreq_add_port_region(s->ctx, PORT_BASE, 16, &port_ops, s, NULL)) ||
        (rc = ioreq_add_mmio_region(s->ctx, RAM_BASE, RAM_SIZE, &ram_ops, s, NULL)) ||
        (rc = ioreq_add_mmio_region(s->ctx, WINDOW_BASE, 0x1000, &window_ops, s, &s->window)) ||
        (rc = ioreq_pci_add(s->ctx, 5, 0, &id, &cfg_ops, s, &s->pci)) ||
        (rc = ioreq_pci_add_bar(s->pci, 0, IOREQ_BAR_MEM32, 0x1000, &bar0_ops, s)) ||
        (rc = ioreq_pci_add_bar(s->pci, 1, IOREQ_BAR_IO, 16, &bar1_ops, s)) ||
        (rc = ioreq_pci_add_msi(s->pci)))
        return rc;
    rc = ioreq_pci_add_capability(s->pci, 0x09, 8); /* vendor-specific */
    return rc < 0 ? rc : 0;
}

/* What a program with its own poll loop does: ioreq_fd() + ioreq_dispatch(). */
static int own_loop(struct ioreq_ctx *ctx, const sigset_t *sigs)
{
    int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
    struct pollfd p[2] = { { .fd = ioreq_fd(ctx), .events = POLLIN },
                           { .fd = sfd, .events = POLLIN } };

    if (sfd < 0)
        return -errno;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            close(sfd);
            return -errno;
        }
        if (p[0].revents) {
            int rc = ioreq_dispatch(ctx);
            if (rc < 0) {
                close(sfd);
                return rc;
            }
        }
        struct signalfd_siginfo si;
        if ((p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            close(sfd);
            return (int)si.ssi_signo;
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: sample_device --domid D (--create [--bufioreq off|legacy|atomic] | "
                    "--attach ID)\n"
                    "                     [--no-pic] [--ready-file PATH] [--hang PATH] "
                    "[--own-loop] [--verbose]\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "domid", required_argument, NULL, 'd' },  { "create", no_argument, NULL, 'c' },
        { "attach", required_argument, NULL, 'a' }, { "bufioreq", required_argument, NULL, 'b' },
        { "no-pic", no_argument, NULL, 'n' },       { "ready-file", required_argument, NULL, 'r' },
        { "hang", required_argument, NULL, 'H' },   { "verbose", no_argument, NULL, 'v' },
        { "own-loop", no_argument, NULL, 'o' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ioreq_options o = { .ioservid = -2, .has_pic = true, .log = log_msg,
                               .timeoffset = on_timeoffset };
    static struct sample s;
    const char *ready = NULL;
    bool have_domid = false, use_own_loop = false;
    int opt;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd': o.domid = (domid_t)strtoul(optarg, NULL, 0); have_domid = true; break;
        case 'c': o.ioservid = -1; break;
        case 'a': o.ioservid = (int)strtol(optarg, NULL, 0); break;
        case 'b':
            o.bufioreq = !strcmp(optarg, "legacy")   ? HVM_IOREQSRV_BUFIOREQ_LEGACY
                         : !strcmp(optarg, "atomic") ? HVM_IOREQSRV_BUFIOREQ_ATOMIC
                                                     : HVM_IOREQSRV_BUFIOREQ_OFF;
            break;
        case 'n': o.has_pic = false; break;
        case 'r': ready = optarg; break;
        case 'H': s.hang_file = optarg; break;
        case 'v': verbose = true; break;
        case 'o': use_own_loop = true; break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (!have_domid || o.ioservid < -1) {
        usage();
        return 2;
    }

    /* ioreq_run() watches these; block them now so none arrives before it does. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    int rc = ioreq_open(&o, &s.ctx);
    if (rc) {
        fprintf(stderr, "sample_device: open: %s\n", strerror(-rc));
        return 1;
    }
    rc = add_devices(&s);
    if (!rc)
        rc = ioreq_start(s.ctx);
    if (rc) {
        fprintf(stderr, "sample_device: set-up: %s\n", strerror(-rc));
        ioreq_close(s.ctx);
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (!f || fprintf(f, "%u\n", ioreq_server_id(s.ctx)) < 0 || fclose(f)) {
            fprintf(stderr, "sample_device: %s: %s\n", ready, strerror(errno));
            ioreq_close(s.ctx);
            return 1;
        }
    }
    rc = use_own_loop ? own_loop(s.ctx, &sigs) : ioreq_run(s.ctx);

    struct ioreq_stats st;
    ioreq_get_stats(s.ctx, &st);
    fprintf(stderr,
            "sample_device: stopped (%s); sync %" PRIu64 " buffered %" PRIu64 " resumed %" PRIu64
            " invalid %" PRIu64 " unhandled %" PRIu64 "\n",
            rc > 0 ? strsignal(rc) : rc == 0 ? "ioreq_stop" : strerror(-rc), st.sync, st.buffered,
            st.resumed, st.invalid, st.unhandled);
    ioreq_close(s.ctx);
    return rc < 0 ? 1 : 0;
}
