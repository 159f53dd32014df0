/*
 * libioreq's PCI config space state machine (server/libioreq/src/pci_cfg.c):
 * the type-0 header and its masks, BAR sizing, programming and placement,
 * the capability list, MSI and INTx.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pci_cfg.h"

/* What the hooks saw. */
struct fake {
    unsigned int calls;
    unsigned int bar;
    bool placed;
    uint64_t base;
    int fail_with; /* bar_place returns this */
    struct { bool placed; uint64_t base; } state[PCICFG_NR_BARS];
    uint8_t dev[PCICFG_EXT_SIZE]; /* device-specific registers */
    unsigned int dev_reads, dev_writes, last_dev_size;
};

static int fake_bar_place(void *opaque, unsigned int bar, bool placed, uint64_t base)
{
    struct fake *f = opaque;

    f->calls++;
    f->bar = bar;
    f->placed = placed;
    f->base = base;
    if (f->fail_with && placed)
        return f->fail_with;
    f->state[bar].placed = placed;
    f->state[bar].base = base;
    return 0;
}

static uint32_t fake_dev_read(void *opaque, unsigned int off, unsigned int size)
{
    struct fake *f = opaque;
    uint32_t v = 0;

    f->dev_reads++;
    f->last_dev_size = size;
    for (unsigned int i = 0; i < size; i++)
        v |= (uint32_t)f->dev[off + i] << (8 * i);
    return v;
}

static void fake_dev_write(void *opaque, unsigned int off, unsigned int size, uint32_t v)
{
    struct fake *f = opaque;

    f->dev_writes++;
    f->last_dev_size = size;
    for (unsigned int i = 0; i < size; i++)
        f->dev[off + i] = (uint8_t)(v >> (8 * i));
}

static const struct ioreq_pci_id test_id = {
    .vendor = 0x1234, .device = 0x11e9, .subsystem_vendor = 0x1af4, .subsystem = 0x1100,
    .revision = 2, .class_code = 0x08, .subclass = 0x80, .prog_if = 0x01, .interrupt_pin = 1,
};

struct fixture {
    struct pcicfg c;
    struct fake f;
};

static int setup(void **state)
{
    static struct fixture fx;

    memset(&fx, 0, sizeof(fx));
    const struct pcicfg_hooks hooks = { .opaque = &fx.f, .bar_place = fake_bar_place,
                                        .dev_read = fake_dev_read, .dev_write = fake_dev_write };
    pcicfg_init(&fx.c, &test_id, &hooks);
    *state = &fx;
    return 0;
}

#define FX ((struct fixture *)*state)

static void test_header_identity(void **state)
{
    struct pcicfg *c = &FX->c;

    assert_int_equal(pcicfg_read(c, 0x00, 4), 0x11e91234);
    assert_int_equal(pcicfg_read(c, 0x02, 2), 0x11e9);
    assert_int_equal(pcicfg_read(c, 0x01, 1), 0x12);
    assert_int_equal(pcicfg_read(c, 0x08, 4), 0x08800102);
    assert_int_equal(pcicfg_read(c, 0x0e, 1), 0);
    assert_int_equal(pcicfg_read(c, 0x2c, 4), 0x11001af4);
    assert_int_equal(pcicfg_read(c, 0x3d, 1), 1);
    assert_int_equal(pcicfg_read(c, 0x06, 2), 0);    /* no capabilities yet */
    assert_int_equal(pcicfg_read(c, 0x34, 1), 0);
    assert_int_equal(pcicfg_read(c, 0x30, 4), 0);    /* no ROM */
    assert_int_equal(FX->f.dev_reads, 0);
}

static void test_header_read_only(void **state)
{
    struct pcicfg *c = &FX->c;

    pcicfg_write(c, 0x00, 4, 0xffffffff);
    pcicfg_write(c, 0x08, 4, 0);
    pcicfg_write(c, 0x0e, 1, 0xff);
    pcicfg_write(c, 0x2c, 4, 0);
    pcicfg_write(c, 0x30, 4, 0xffffffff);
    pcicfg_write(c, 0x34, 1, 0x80);
    pcicfg_write(c, 0x3d, 1, 4);
    pcicfg_write(c, 0x3e, 2, 0xffff);
    assert_int_equal(pcicfg_read(c, 0x00, 4), 0x11e91234);
    assert_int_equal(pcicfg_read(c, 0x08, 4), 0x08800102);
    assert_int_equal(pcicfg_read(c, 0x0e, 1), 0);
    assert_int_equal(pcicfg_read(c, 0x2c, 4), 0x11001af4);
    assert_int_equal(pcicfg_read(c, 0x30, 4), 0);
    assert_int_equal(pcicfg_read(c, 0x34, 1), 0);
    assert_int_equal(pcicfg_read(c, 0x3c, 4), 0x00000100);
    assert_int_equal(FX->f.dev_writes, 0);
}

static void test_header_writable(void **state)
{
    struct pcicfg *c = &FX->c;

    pcicfg_write(c, 0x04, 2, 0xffff);
    assert_int_equal(pcicfg_read(c, 0x04, 2), 0x0547);
    pcicfg_write(c, 0x05, 1, 0x00); /* byte access to COMMAND's high half */
    assert_int_equal(pcicfg_command(c), 0x0047);
    pcicfg_write(c, 0x0c, 2, 0x4010);
    assert_int_equal(pcicfg_read(c, 0x0c, 2), 0x4010);
    pcicfg_write(c, 0x3c, 1, 0x0b);
    assert_int_equal(pcicfg_read(c, 0x3c, 1), 0x0b);
    /* a dword write over COMMAND/STATUS changes only COMMAND's writable bits */
    pcicfg_write(c, 0x04, 4, 0x00000002);
    assert_int_equal(pcicfg_read(c, 0x04, 4), 0x00000002);
}

static void test_status_w1c(void **state)
{
    struct pcicfg *c = &FX->c;

    assert_int_equal(pcicfg_add_msi(c), 0); /* sets the capability-list bit (RO) */
    pcicfg_set_status(c, 0x8000 | 0x2000 | 0x0100);
    assert_int_equal(pcicfg_read(c, 0x06, 2), 0xa110);
    pcicfg_write(c, 0x06, 2, 0x2000); /* one bit cleared, the rest stay */
    assert_int_equal(pcicfg_read(c, 0x06, 2), 0x8110);
    pcicfg_write(c, 0x06, 2, 0x0000); /* zeros clear nothing */
    assert_int_equal(pcicfg_read(c, 0x06, 2), 0x8110);
    pcicfg_write(c, 0x06, 2, 0xffff); /* ones clear W1C bits only */
    assert_int_equal(pcicfg_read(c, 0x06, 2), 0x0010);
    /* a dword write to COMMAND does not clear STATUS bits it writes as 0 */
    pcicfg_set_status(c, 0x4000);
    pcicfg_write(c, 0x04, 4, 0x00000006);
    assert_int_equal(pcicfg_read(c, 0x04, 4), 0x40100006);
}

static void test_multifunction(void **state)
{
    struct pcicfg *c = &FX->c;

    pcicfg_set_multifunction(c, true);
    assert_int_equal(pcicfg_read(c, 0x0e, 1), 0x80);
    pcicfg_write(c, 0x0e, 1, 0);
    assert_int_equal(pcicfg_read(c, 0x0e, 1), 0x80);
    pcicfg_set_multifunction(c, false);
    assert_int_equal(pcicfg_read(c, 0x0e, 1), 0);
}

static void test_bar_add_errors(void **state)
{
    struct pcicfg *c = &FX->c;

    assert_int_equal(pcicfg_add_bar(c, 6, IOREQ_BAR_MEM32, 4096), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 5, IOREQ_BAR_MEM64, 4096), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 3000), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 8), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 1ull << 32), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_IO, 2), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_IO, 512), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, (enum ioreq_bar_type)7, 4096), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 0), -EINVAL);
    assert_int_equal(pcicfg_add_bar(c, 2, IOREQ_BAR_MEM64, 1ull << 33), 0);
    assert_int_equal(pcicfg_add_bar(c, 2, IOREQ_BAR_IO, 16), -EEXIST);
    assert_int_equal(pcicfg_add_bar(c, 3, IOREQ_BAR_IO, 16), -EEXIST); /* the upper half */
    assert_int_equal(pcicfg_add_bar(c, 1, IOREQ_BAR_MEM64, 4096), -EEXIST);
    assert_int_equal(pcicfg_add_bar(c, 1, IOREQ_BAR_IO, 4), 0);
}

static void test_bar_sizing(void **state)
{
    struct pcicfg *c = &FX->c;

    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 0x1000), 0);
    assert_int_equal(pcicfg_add_bar(c, 1, IOREQ_BAR_IO, 0x20), 0);
    assert_int_equal(pcicfg_add_bar(c, 2, IOREQ_BAR_MEM64, 0x4000), 0);
    assert_int_equal(pcicfg_add_bar(c, 4, IOREQ_BAR_MEM64, 1ull << 34), 0);

    assert_int_equal(pcicfg_read(c, 0x10, 4), 0x0);
    assert_int_equal(pcicfg_read(c, 0x14, 4), 0x1);
    assert_int_equal(pcicfg_read(c, 0x18, 4), 0x4);
    for (unsigned int off = 0x10; off < 0x28; off += 4)
        pcicfg_write(c, off, 4, 0xffffffff);
    assert_int_equal(pcicfg_read(c, 0x10, 4), 0xfffff000);
    assert_int_equal(pcicfg_read(c, 0x14, 4), 0xffffffe1);
    assert_int_equal(pcicfg_read(c, 0x18, 4), 0xffffc004);
    assert_int_equal(pcicfg_read(c, 0x1c, 4), 0xffffffff);
    assert_int_equal(pcicfg_read(c, 0x20, 4), 0x00000004);
    assert_int_equal(pcicfg_read(c, 0x24, 4), 0xfffffffc);
    /* an unimplemented BAR sizes as 0 */
    setup(state);
    pcicfg_write(&FX->c, 0x10, 4, 0xffffffff);
    assert_int_equal(pcicfg_read(&FX->c, 0x10, 4), 0);
}

static void test_bar_placement(void **state)
{
    struct pcicfg *c = &FX->c;
    struct fake *f = &FX->f;

    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 0x1000), 0);
    assert_int_equal(pcicfg_add_bar(c, 1, IOREQ_BAR_IO, 0x10), 0);

    pcicfg_write(c, 0x10, 4, 0xfebf0123); /* low bits below the size are not writable */
    pcicfg_write(c, 0x14, 4, 0xc00f);
    assert_int_equal(pcicfg_read(c, 0x10, 4), 0xfebf0000);
    assert_int_equal(pcicfg_read(c, 0x14, 4), 0xc001);
    assert_int_equal(f->calls, 0); /* no decode yet */

    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(f->calls, 1);
    assert_true(f->state[0].placed);
    assert_int_equal(f->state[0].base, 0xfebf0000);
    assert_false(f->state[1].placed);

    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    assert_int_equal(f->calls, 2);
    assert_true(f->state[1].placed);
    assert_int_equal(f->state[1].base, 0xc000);

    /* rewriting the same address changes nothing */
    pcicfg_write(c, 0x10, 4, 0xfebf0000);
    assert_int_equal(f->calls, 2);

    /* moving */
    pcicfg_write(c, 0x10, 4, 0xfebe0000);
    assert_int_equal(f->calls, 3);
    assert_int_equal(f->state[0].base, 0xfebe0000);

    /* sizing while decoding: the pattern is not a placement */
    pcicfg_write(c, 0x10, 4, 0xffffffff);
    assert_false(f->state[0].placed);
    pcicfg_write(c, 0x10, 4, 0xfebe0000);
    assert_true(f->state[0].placed);

    /* address 0 decodes nowhere; I/O beyond 64 KiB neither */
    pcicfg_write(c, 0x10, 4, 0);
    assert_false(f->state[0].placed);
    pcicfg_write(c, 0x14, 4, 0x10000);
    assert_false(f->state[1].placed);
    pcicfg_write(c, 0x14, 4, 0xfff0); /* the last 16 ports: fine */
    assert_true(f->state[1].placed);
    assert_int_equal(f->state[1].base, 0xfff0);

    /* decode off takes it away, on brings it back */
    pcicfg_write(c, 0x10, 4, 0xfe000000);
    assert_true(f->state[0].placed);
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_IO);
    assert_false(f->state[0].placed);
    assert_true(f->state[1].placed);
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    assert_true(f->state[0].placed);
    assert_int_equal(f->state[0].base, 0xfe000000);
}

static void test_bar_placement_failure_retried(void **state)
{
    struct pcicfg *c = &FX->c;
    struct fake *f = &FX->f;

    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM32, 0x1000), 0);
    pcicfg_write(c, 0x10, 4, 0xfebf0000);
    f->fail_with = -EEXIST;
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(f->calls, 1);
    assert_false(c->bar[0].placed);
    f->fail_with = 0;
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY); /* a write that concerns it: retried */
    assert_int_equal(f->calls, 2);
    assert_true(c->bar[0].placed);
    assert_int_equal(c->bar[0].base, 0xfebf0000);
}

static void test_bar_64bit(void **state)
{
    struct pcicfg *c = &FX->c;
    struct fake *f = &FX->f;

    assert_int_equal(pcicfg_add_bar(c, 2, IOREQ_BAR_MEM64, 0x4000), 0);
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY);
    pcicfg_write(c, 0x18, 4, 0xe0000000);
    assert_true(f->state[2].placed);
    assert_int_equal(f->state[2].base, 0xe0000000);
    pcicfg_write(c, 0x1c, 4, 0x00000004);
    assert_int_equal(f->state[2].base, 0x4e0000000ull);
    assert_int_equal(pcicfg_read(c, 0x18, 4), 0xe0000004);
    assert_int_equal(pcicfg_read(c, 0x1c, 4), 4);
    /* all ones in both halves: not placed */
    pcicfg_write(c, 0x18, 4, 0xffffffff);
    pcicfg_write(c, 0x1c, 4, 0xffffffff);
    assert_false(f->state[2].placed);

    /* a BAR larger than 4 GiB: its low dword has no address bits */
    setup(state);
    c = &FX->c;
    f = &FX->f;
    assert_int_equal(pcicfg_add_bar(c, 0, IOREQ_BAR_MEM64, 1ull << 33), 0);
    pcicfg_write(c, 0x10, 4, 0xffffffff);
    pcicfg_write(c, 0x14, 4, 0xffffffff);
    assert_int_equal(pcicfg_read(c, 0x10, 4), 0x00000004);
    assert_int_equal(pcicfg_read(c, 0x14, 4), 0xfffffffe);
    pcicfg_write(c, 0x14, 4, 0x00000010);
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MEMORY);
    assert_true(f->state[0].placed);
    assert_int_equal(f->state[0].base, 0x1000000000ull);
}

static void test_capability_list(void **state)
{
    struct pcicfg *c = &FX->c;
    struct fake *f = &FX->f;

    assert_int_equal(pcicfg_add_cap(c, 0x09, 1), -EINVAL);
    assert_int_equal(pcicfg_add_cap(c, 0x09, 6), 0x40);
    assert_int_equal(pcicfg_read(c, 0x06, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
    assert_int_equal(pcicfg_read(c, 0x34, 1), 0x40);
    assert_int_equal(pcicfg_add_msi(c), 0);
    assert_int_equal(pcicfg_add_msi(c), -EEXIST);
    assert_int_equal(pcicfg_add_cap(c, 0x11, 12), 0x58);
    /* 0x40 -> 0x48 (MSI, dword aligned after 6 bytes) -> 0x58 -> end */
    assert_int_equal(pcicfg_read(c, 0x40, 2), 0x4809);
    assert_int_equal(pcicfg_read(c, 0x48, 2), 0x5805);
    assert_int_equal(pcicfg_read(c, 0x58, 2), 0x0011);
    /* the list pointers are read-only */
    pcicfg_write(c, 0x40, 2, 0);
    pcicfg_write(c, 0x34, 1, 0);
    assert_int_equal(pcicfg_read(c, 0x40, 2), 0x4809);
    assert_int_equal(pcicfg_read(c, 0x34, 1), 0x40);
    /* a capability's body is the device's */
    pcicfg_write(c, 0x42, 4, 0xa1b2c3d4);
    assert_int_equal(f->last_dev_size, 4);
    assert_int_equal(pcicfg_read(c, 0x42, 4), 0xa1b2c3d4);
    /* an access across the library's and the device's bytes is split per byte */
    f->dev[0x5a] = 0x77;
    f->dev[0x5b] = 0x66;
    assert_int_equal(pcicfg_read(c, 0x58, 4), 0x66770011);
    assert_int_equal(f->last_dev_size, 1);
    pcicfg_write(c, 0x58, 4, 0x12345678); /* header bytes stay, body bytes go one by one */
    assert_int_equal(pcicfg_read(c, 0x58, 4), 0x12340011);
    /* running out of room */
    assert_int_equal(pcicfg_add_cap(c, 0x12, 0xa0), -ENOSPC);
    assert_int_equal(pcicfg_add_cap(c, 0x12, 0x100 - 0x64), 0x64);
    assert_int_equal(pcicfg_add_cap(c, 0x13, 2), -ENOSPC);
}

static void test_device_registers(void **state)
{
    struct pcicfg *c = &FX->c;
    struct fake *f = &FX->f;

    pcicfg_write(c, 0x60, 4, 0x12345678);
    assert_int_equal(f->dev_writes, 1);
    assert_int_equal(pcicfg_read(c, 0x60, 4), 0x12345678);
    assert_int_equal(pcicfg_read(c, 0x62, 2), 0x1234);
    /* extended space (an ioreq can address up to 0xfff) is the device's too */
    pcicfg_write(c, 0xffc, 4, 0xcafe);
    assert_int_equal(pcicfg_read(c, 0xffc, 4), 0xcafe);

    /* without device hooks: reads 0, writes vanish */
    struct pcicfg bare;
    pcicfg_init(&bare, &test_id, NULL);
    pcicfg_write(&bare, 0x60, 4, 0xffffffff);
    assert_int_equal(pcicfg_read(&bare, 0x60, 4), 0);
    assert_int_equal(pcicfg_read(&bare, 0x100, 4), 0);
}

static void test_msi(void **state)
{
    struct pcicfg *c = &FX->c;
    uint64_t addr;
    uint32_t data;

    assert_int_equal(pcicfg_add_msi(c), 0);
    assert_int_equal(pcicfg_read(c, 0x40, 4), 0x00800005); /* 64-bit, one vector, disabled */
    pcicfg_write(c, 0x42, 2, 0xffff);
    assert_int_equal(pcicfg_read(c, 0x42, 2), 0x0081); /* only the enable bit is writable */
    pcicfg_write(c, 0x44, 4, 0xfee00003);
    assert_int_equal(pcicfg_read(c, 0x44, 4), 0xfee00000); /* dword aligned */
    pcicfg_write(c, 0x48, 4, 0x1);
    pcicfg_write(c, 0x4c, 4, 0xffff0041);
    assert_int_equal(pcicfg_read(c, 0x4c, 4), 0x00000041);
    assert_true(pcicfg_msi_enabled(c));
    assert_false(pcicfg_msi_message(c, &addr, &data)); /* no bus mastering */
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_MASTER);
    assert_true(pcicfg_msi_message(c, &addr, &data));
    assert_int_equal(addr, 0x1fee00000ull);
    assert_int_equal(data, 0x41);
    pcicfg_write(c, 0x42, 2, 0);
    assert_false(pcicfg_msi_enabled(c));
    assert_false(pcicfg_msi_message(c, &addr, &data));
}

static void test_intx(void **state)
{
    struct pcicfg *c = &FX->c;

    assert_false(pcicfg_intx_line(c));
    pcicfg_set_intx(c, true);
    assert_true(pcicfg_intx_line(c));
    assert_int_equal(pcicfg_read(c, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    pcicfg_write(c, 0x06, 2, 0xffff); /* the interrupt status bit is read-only */
    assert_int_equal(pcicfg_read(c, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    pcicfg_write(c, 0x04, 2, PCI_COMMAND_INTX_DISABLE);
    assert_false(pcicfg_intx_line(c));
    assert_int_equal(pcicfg_read(c, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    pcicfg_write(c, 0x04, 2, 0);
    assert_true(pcicfg_intx_line(c));
    /* MSI enabled: no INTx */
    assert_int_equal(pcicfg_add_msi(c), 0);
    pcicfg_write(c, 0x42, 2, 1);
    assert_false(pcicfg_intx_line(c));
    pcicfg_write(c, 0x42, 2, 0);
    assert_true(pcicfg_intx_line(c));
    pcicfg_set_intx(c, false);
    assert_false(pcicfg_intx_line(c));
    assert_int_equal(pcicfg_read(c, 0x06, 2) & PCI_STATUS_INTERRUPT, 0);

    /* no pin: never a line */
    struct ioreq_pci_id id = test_id;
    id.interrupt_pin = 0;
    pcicfg_init(c, &id, NULL);
    pcicfg_set_intx(c, true);
    assert_false(pcicfg_intx_line(c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_header_identity, setup),
        cmocka_unit_test_setup(test_header_read_only, setup),
        cmocka_unit_test_setup(test_header_writable, setup),
        cmocka_unit_test_setup(test_status_w1c, setup),
        cmocka_unit_test_setup(test_multifunction, setup),
        cmocka_unit_test_setup(test_bar_add_errors, setup),
        cmocka_unit_test_setup(test_bar_sizing, setup),
        cmocka_unit_test_setup(test_bar_placement, setup),
        cmocka_unit_test_setup(test_bar_placement_failure_retried, setup),
        cmocka_unit_test_setup(test_bar_64bit, setup),
        cmocka_unit_test_setup(test_capability_list, setup),
        cmocka_unit_test_setup(test_device_registers, setup),
        cmocka_unit_test_setup(test_msi, setup),
        cmocka_unit_test_setup(test_intx, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
