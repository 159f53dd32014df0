/*
 * PCI test device: the register model through its own API and through the
 * BAR adapters, with guest memory and the interrupt faked (no libioreq).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pcitest.h"

/* Guest RAM is [0, RAM_SIZE); anything else faults. */
#define RAM_SIZE (4u << 20)

struct fixture {
    struct pcitest p;
    uint8_t *ram;
    unsigned int reads, writes;   /* memory calls */
    unsigned int raises, lowers;  /* interrupt calls */
    bool line;                    /* what an INTx line would be */
};

static bool in_ram(uint64_t gpa, size_t len)
{
    return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static int fx_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct fixture *f = opaque;

    f->reads++;
    if (!in_ram(gpa, len))
        return -EFAULT;
    memcpy(buf, f->ram + gpa, len);
    return 0;
}

static int fx_mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct fixture *f = opaque;

    f->writes++;
    if (!in_ram(gpa, len))
        return -EFAULT;
    memcpy(f->ram + gpa, buf, len);
    return 0;
}

static void fx_raise(void *opaque)
{
    struct fixture *f = opaque;

    f->raises++;
    f->line = true;
}

static void fx_lower(void *opaque)
{
    struct fixture *f = opaque;

    assert_true(f->line); /* only lowered after a raise */
    f->lowers++;
    f->line = false;
}

static const struct pcitest_ops fx_ops = {
    .mem_read = fx_mem_read,
    .mem_write = fx_mem_write,
    .irq_raise = fx_raise,
    .irq_lower = fx_lower,
};

static int fx_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->ram = calloc(1, RAM_SIZE);
    assert_non_null(f->ram);
    pcitest_init(&f->p, &fx_ops, f);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *f = *state;

    free(f->ram);
    free(f);
    return 0;
}

#define FX struct fixture *f = *state

static uint64_t rd(struct fixture *f, uint64_t off, unsigned int size)
{
    return pcitest_bar0_read(&f->p, off, size);
}

static void wr(struct fixture *f, uint64_t off, unsigned int size, uint64_t v)
{
    pcitest_bar0_write(&f->p, off, size, v);
}

/* Program a copy and start it with a 4-byte DMA_CMD write; returns DMA_STATUS. */
static uint32_t dma(struct fixture *f, uint64_t src, uint64_t dst, uint32_t len)
{
    wr(f, PCITEST_REG_DMA_SRC_LO, 8, src);
    wr(f, PCITEST_REG_DMA_DST_LO, 8, dst);
    wr(f, PCITEST_REG_DMA_LEN, 4, len);
    wr(f, PCITEST_REG_DMA_CMD, 4, PCITEST_DMA_START);
    return (uint32_t)rd(f, PCITEST_REG_DMA_STATUS, 4);
}

static uint32_t dma_err(enum pcitest_dma_err e)
{
    return PCITEST_DMA_DONE | PCITEST_DMA_ERROR | (uint32_t)e << PCITEST_DMA_ERR_SHIFT;
}

static void fill(struct fixture *f, uint64_t gpa, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        f->ram[gpa + i] = (uint8_t)(seed + i * 7);
}

/* ---- plain registers -------------------------------------------------------- */

static void test_power_on(void **state)
{
    FX;

    assert_int_equal(rd(f, PCITEST_REG_ID, 4), 0x7e570001);
    for (unsigned int off = 4; off < PCITEST_BAR0_SIZE; off += 4)
        assert_int_equal(rd(f, off, 4), 0);
    assert_int_equal(f->raises, 0);
    assert_int_equal(f->lowers, 0);
    assert_int_equal(f->reads + f->writes, 0);
}

static void test_id_is_read_only(void **state)
{
    FX;

    wr(f, PCITEST_REG_ID, 4, 0);
    wr(f, PCITEST_REG_ID + 1, 1, 0xaa);
    assert_int_equal(rd(f, PCITEST_REG_ID, 4), PCITEST_ID_VALUE);
    /* narrower reads see the bytes of the register */
    assert_int_equal(rd(f, 0, 1), 0x01);
    assert_int_equal(rd(f, 1, 1), 0x00);
    assert_int_equal(rd(f, 2, 2), 0x7e57);
    assert_int_equal(rd(f, 3, 1), 0x7e);
}

static void test_scratch(void **state)
{
    FX;

    wr(f, PCITEST_REG_SCRATCH, 4, 0xdeadbeef);
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH, 4), 0xdeadbeef);
    wr(f, PCITEST_REG_SCRATCH + 1, 1, 0x11);         /* one byte lane */
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH, 4), 0xdead11ef);
    wr(f, PCITEST_REG_SCRATCH + 2, 2, 0x2233);
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH, 4), 0x223311ef);
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH + 2, 2), 0x2233);
    /* an 8-byte write at 0: ID ignores its half, SCRATCH takes the other */
    wr(f, 0, 8, 0x0123456789abcdefull);
    assert_int_equal(rd(f, 0, 8), 0x01234567ull << 32 | PCITEST_ID_VALUE);
    /* the model's own API, with byte enables */
    pcitest_write(&f->p, PCITEST_REG_SCRATCH, 0xffffffff, 0x00ff0000);
    assert_int_equal(pcitest_read(&f->p, PCITEST_REG_SCRATCH), 0x01ff4567);
    pcitest_write(&f->p, PCITEST_REG_SCRATCH, 0, 0); /* no lanes: nothing */
    assert_int_equal(pcitest_read(&f->p, PCITEST_REG_SCRATCH + 3), 0x01ff4567);
}

static void test_unaligned_access_spans_registers(void **state)
{
    FX;

    wr(f, PCITEST_REG_SCRATCH, 4, 0x44332211);
    assert_int_equal(rd(f, 2, 4), 0x22117e57);       /* top of ID, bottom of SCRATCH */
    wr(f, 6, 4, 0xaabbccdd);                          /* SCRATCH's top half, IRQ_STATUS (RO) */
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH, 4), 0xccdd2211);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), 0);
    assert_int_equal(f->raises, 0);
}

static void test_write_only_and_reserved(void **state)
{
    FX;

    assert_int_equal(rd(f, PCITEST_REG_IRQ_RAISE, 4), 0);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_ACK, 4), 0);
    assert_int_equal(rd(f, PCITEST_REG_DMA_CMD, 4), 0);
    for (unsigned int off = 0x14; off < 0x20; off += 4) {
        wr(f, off, 4, 0xffffffff);
        assert_int_equal(rd(f, off, 4), 0);
    }
    wr(f, 0x3c, 4, 0xffffffff);
    wr(f, 0xffc, 4, 0xffffffff);
    assert_int_equal(rd(f, 0x3c, 4), 0);
    assert_int_equal(rd(f, 0xff8, 8), 0);
    assert_int_equal(f->raises + f->reads + f->writes, 0);
    /* past the end of the BAR: all ones, writes dropped */
    assert_int_equal(rd(f, 0xffe, 4), 0xffff0000);
    assert_int_equal(rd(f, PCITEST_BAR0_SIZE, 1), 0xff);
    wr(f, PCITEST_BAR0_SIZE, 4, 1);
}

static void test_dma_registers(void **state)
{
    FX;

    wr(f, PCITEST_REG_DMA_SRC_LO, 8, 0x1122334455667788ull);
    assert_int_equal(rd(f, PCITEST_REG_DMA_SRC_LO, 4), 0x55667788);
    assert_int_equal(rd(f, PCITEST_REG_DMA_SRC_HI, 4), 0x11223344);
    wr(f, PCITEST_REG_DMA_SRC_HI, 4, 0);
    assert_int_equal(rd(f, PCITEST_REG_DMA_SRC_LO, 8), 0x55667788);
    wr(f, PCITEST_REG_DMA_DST_HI + 3, 1, 0x80);
    wr(f, PCITEST_REG_DMA_DST_LO, 4, 0x1000);
    assert_int_equal(rd(f, PCITEST_REG_DMA_DST_LO, 8), 0x8000000000001000ull);
    wr(f, PCITEST_REG_DMA_LEN, 2, 0x1234);
    wr(f, PCITEST_REG_DMA_LEN + 2, 2, 0x0001);
    assert_int_equal(rd(f, PCITEST_REG_DMA_LEN, 4), 0x00011234);
    assert_int_equal(rd(f, PCITEST_REG_DMA_STATUS, 4), 0);
    assert_int_equal(f->reads + f->writes + f->raises, 0); /* nothing started */
}

/* ---- interrupts --------------------------------------------------------------- */

static void test_irq_raise_and_ack(void **state)
{
    FX;

    wr(f, PCITEST_REG_IRQ_RAISE, 4, 0);              /* any value raises */
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_SOFT);
    assert_int_equal(f->raises, 1);
    assert_true(f->line);
    wr(f, PCITEST_REG_IRQ_RAISE, 1, 0x55);           /* each event signals (an MSI each) */
    assert_int_equal(f->raises, 2);
    wr(f, PCITEST_REG_IRQ_ACK, 4, 0);                /* acks nothing */
    wr(f, PCITEST_REG_IRQ_ACK, 4, PCITEST_IRQ_DMA);  /* not pending */
    wr(f, PCITEST_REG_IRQ_ACK + 1, 1, 0xff);         /* lane 1: no status bits there */
    assert_int_equal(f->lowers, 0);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_SOFT);
    wr(f, PCITEST_REG_IRQ_ACK, 4, PCITEST_IRQ_SOFT);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), 0);
    assert_int_equal(f->lowers, 1);
    assert_false(f->line);
    wr(f, PCITEST_REG_IRQ_ACK, 4, 0xffffffff);       /* nothing pending: no second lower */
    assert_int_equal(f->lowers, 1);
}

static void test_irq_two_causes(void **state)
{
    FX;

    wr(f, PCITEST_REG_IRQ_RAISE, 4, 1);
    assert_int_equal(dma(f, 0x1000, 0x2000, 16), PCITEST_DMA_DONE);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_SOFT | PCITEST_IRQ_DMA);
    assert_int_equal(f->raises, 2);
    wr(f, PCITEST_REG_IRQ_ACK, 4, PCITEST_IRQ_SOFT);
    assert_int_equal(f->lowers, 0);                  /* DMA still pending: the line stays */
    assert_true(f->line);
    wr(f, PCITEST_REG_IRQ_ACK, 4, PCITEST_IRQ_ALL);
    assert_int_equal(f->lowers, 1);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), 0);
}

static void test_no_ops(void **state)
{
    struct pcitest p;

    (void)state;
    pcitest_init(&p, NULL, NULL);
    pcitest_bar0_write(&p, PCITEST_REG_IRQ_RAISE, 4, 1);
    assert_int_equal(pcitest_bar0_read(&p, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_SOFT);
    pcitest_bar0_write(&p, PCITEST_REG_IRQ_ACK, 4, 1);
    pcitest_bar0_write(&p, PCITEST_REG_DMA_LEN, 4, 4);
    pcitest_bar0_write(&p, PCITEST_REG_DMA_CMD, 4, 1);
    assert_int_equal(pcitest_bar0_read(&p, PCITEST_REG_DMA_STATUS, 4),
                     dma_err(PCITEST_DMA_ERR_SRC));
}

/* ---- DMA ------------------------------------------------------------------------ */

static void test_dma_copy(void **state)
{
    FX;

    fill(f, 0x3ffc, 10, 0x30);                       /* across a page boundary */
    assert_int_equal(dma(f, 0x3ffc, 0x9000, 10), PCITEST_DMA_DONE);
    assert_memory_equal(f->ram + 0x9000, f->ram + 0x3ffc, 10);
    assert_int_equal(f->ram[0x900a], 0);             /* not one byte more */
    assert_int_equal(f->reads, 1);
    assert_int_equal(f->writes, 1);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_DMA);
    assert_int_equal(f->raises, 1);
    assert_int_equal(f->p.dma_commands, 1);
    /* the registers keep their values: the same copy runs again */
    wr(f, PCITEST_REG_DMA_CMD, 4, PCITEST_DMA_START);
    assert_int_equal(f->reads, 2);
    assert_int_equal(f->raises, 2);
}

static void test_dma_cmd_bits(void **state)
{
    FX;

    fill(f, 0x100, 4, 1);
    wr(f, PCITEST_REG_DMA_SRC_LO, 4, 0x100);
    wr(f, PCITEST_REG_DMA_DST_LO, 4, 0x200);
    wr(f, PCITEST_REG_DMA_LEN, 4, 4);
    wr(f, PCITEST_REG_DMA_CMD, 4, 0xfffffffe);       /* START clear: nothing */
    wr(f, PCITEST_REG_DMA_CMD + 1, 1, 0x01);         /* bit 8, not START */
    assert_int_equal(f->reads + f->raises, 0);
    assert_int_equal(rd(f, PCITEST_REG_DMA_STATUS, 4), 0);
    wr(f, PCITEST_REG_DMA_CMD, 1, 0x01);             /* a byte write of START */
    assert_int_equal(rd(f, PCITEST_REG_DMA_STATUS, 4), PCITEST_DMA_DONE);
    assert_memory_equal(f->ram + 0x200, f->ram + 0x100, 4);
    /* one 8-byte write at DMA_LEN: the length first, then the start */
    fill(f, 0x100, 8, 9);
    wr(f, PCITEST_REG_DMA_LEN, 8, (uint64_t)PCITEST_DMA_START << 32 | 8);
    assert_int_equal(rd(f, PCITEST_REG_DMA_LEN, 4), 8);
    assert_memory_equal(f->ram + 0x200, f->ram + 0x100, 8);
    assert_int_equal(f->p.dma_commands, 2);
}

static void test_dma_zero_length(void **state)
{
    FX;

    assert_int_equal(dma(f, 0xffffffffffffffffull, 0x10000000000ull, 0), PCITEST_DMA_DONE);
    assert_int_equal(f->reads + f->writes, 0);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_DMA);
    assert_int_equal(f->raises, 1);
}

static void test_dma_length_bound(void **state)
{
    FX;

    fill(f, 0, PCITEST_DMA_MAX, 3);
    assert_int_equal(dma(f, 0, 2u << 20, PCITEST_DMA_MAX), PCITEST_DMA_DONE);
    assert_memory_equal(f->ram + (2u << 20), f->ram, PCITEST_DMA_MAX);
    memset(f->ram + (2u << 20), 0, PCITEST_DMA_MAX);
    f->reads = f->writes = 0;
    assert_int_equal(dma(f, 0, 2u << 20, PCITEST_DMA_MAX + 1), dma_err(PCITEST_DMA_ERR_LEN));
    assert_int_equal(f->reads + f->writes, 0);       /* nothing was touched */
    assert_int_equal(f->ram[2u << 20], 0);
    assert_int_equal(dma(f, 0, 0x1000, 0xffffffff), dma_err(PCITEST_DMA_ERR_LEN));
    /* errors interrupt too */
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_DMA);
    assert_int_equal(f->raises, 3);
}

static void test_dma_wrapping_range(void **state)
{
    FX;

    assert_int_equal(dma(f, UINT64_MAX - 2, 0x1000, 4), dma_err(PCITEST_DMA_ERR_RANGE));
    assert_int_equal(dma(f, 0x1000, UINT64_MAX, 2), dma_err(PCITEST_DMA_ERR_RANGE));
    assert_int_equal(f->reads + f->writes, 0);
    /* ending exactly at the top does not wrap: it is merely not RAM */
    assert_int_equal(dma(f, UINT64_MAX - 3, 0x1000, 4), dma_err(PCITEST_DMA_ERR_SRC));
    assert_int_equal(f->reads, 1);
}

static void test_dma_source_fault_writes_nothing(void **state)
{
    FX;

    memset(f->ram + 0x5000, 0xab, 64);
    assert_int_equal(dma(f, RAM_SIZE - 8, 0x5000, 16), dma_err(PCITEST_DMA_ERR_SRC));
    assert_int_equal(f->writes, 0);
    for (unsigned int i = 0; i < 64; i++)
        assert_int_equal(f->ram[0x5000 + i], 0xab);
    assert_int_equal(dma(f, 0x10000000, 0x5000, 1), dma_err(PCITEST_DMA_ERR_SRC));
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_DMA);
    assert_int_equal(f->raises, 2);
    /* a good command afterwards clears the error */
    assert_int_equal(dma(f, 0x5000, 0x6000, 64), PCITEST_DMA_DONE);
}

static void test_dma_destination_fault(void **state)
{
    FX;

    assert_int_equal(dma(f, 0x1000, RAM_SIZE, 1), dma_err(PCITEST_DMA_ERR_DST));
    assert_int_equal(dma(f, 0x1000, 0xfee00000, 4), dma_err(PCITEST_DMA_ERR_DST));
    assert_int_equal(f->reads, 2);
    assert_int_equal(f->writes, 2);
    assert_int_equal(rd(f, PCITEST_REG_DMA_STATUS, 1), PCITEST_DMA_DONE | PCITEST_DMA_ERROR);
    assert_int_equal(rd(f, PCITEST_REG_DMA_STATUS + 1, 1), PCITEST_DMA_ERR_DST);
}

static void test_dma_overlap_is_memmove(void **state)
{
    FX;
    uint8_t want[64];

    fill(f, 0x1000, 64, 0x40);
    memcpy(want, f->ram + 0x1000, 48);
    assert_int_equal(dma(f, 0x1000, 0x1010, 48), PCITEST_DMA_DONE); /* forwards */
    assert_memory_equal(f->ram + 0x1010, want, 48);
    fill(f, 0x2000, 64, 0x80);
    memcpy(want, f->ram + 0x2010, 48);
    assert_int_equal(dma(f, 0x2010, 0x2000, 48), PCITEST_DMA_DONE); /* backwards */
    assert_memory_equal(f->ram + 0x2000, want, 48);
    assert_int_equal(dma(f, 0x3000, 0x3000, 16), PCITEST_DMA_DONE); /* onto itself */
}

static void test_dma_error_names(void **state)
{
    (void)state;
    assert_string_equal(pcitest_dma_error_name(PCITEST_DMA_DONE), "none");
    assert_string_equal(pcitest_dma_error_name(dma_err(PCITEST_DMA_ERR_LEN)), "length too large");
    assert_string_equal(pcitest_dma_error_name(dma_err(PCITEST_DMA_ERR_SRC)), "source not readable");
    assert_string_equal(pcitest_dma_error_name(dma_err(PCITEST_DMA_ERR_DST)),
                        "destination not writable");
    assert_string_equal(pcitest_dma_error_name(0x7f03), "unknown");
}

/* ---- BAR1: the first 16 bytes again, as ports ------------------------------------ */

static void test_bar1_mirror(void **state)
{
    FX;

    assert_int_equal(pcitest_bar1_read(&f->p, 0, 4), PCITEST_ID_VALUE);
    assert_int_equal(pcitest_bar1_read(&f->p, 2, 2), 0x7e57);
    pcitest_bar1_write(&f->p, 4, 4, 0xcafef00d);
    assert_int_equal(rd(f, PCITEST_REG_SCRATCH, 4), 0xcafef00d); /* one register, two BARs */
    wr(f, PCITEST_REG_SCRATCH, 1, 0x5c);
    assert_int_equal(pcitest_bar1_read(&f->p, 4, 1), 0x5c);
    pcitest_bar1_write(&f->p, 0xc, 1, 0);                        /* IRQ_RAISE */
    assert_int_equal(pcitest_bar1_read(&f->p, 8, 4), PCITEST_IRQ_SOFT);
    assert_int_equal(f->raises, 1);
    pcitest_bar1_write(&f->p, 0xe, 2, 0);                        /* the top lanes raise too */
    assert_int_equal(f->raises, 2);
    /* nothing past port 15: IRQ_ACK and the DMA engine are BAR0's only */
    pcitest_bar1_write(&f->p, 0x10, 4, PCITEST_IRQ_ALL);
    assert_int_equal(rd(f, PCITEST_REG_IRQ_STATUS, 4), PCITEST_IRQ_SOFT);
    assert_int_equal(pcitest_bar1_read(&f->p, 0x10, 1), 0xff);
    assert_int_equal(pcitest_bar1_read(&f->p, 0xe, 4), 0xffff0000);
    pcitest_bar1_write(&f->p, 0xe, 4, 0);                        /* in part past the end */
    assert_int_equal(f->raises, 3);
    assert_int_equal(f->lowers, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(test_power_on),
        T(test_id_is_read_only),
        T(test_scratch),
        T(test_unaligned_access_spans_registers),
        T(test_write_only_and_reserved),
        T(test_dma_registers),
        T(test_irq_raise_and_ack),
        T(test_irq_two_causes),
        cmocka_unit_test(test_no_ops),
        T(test_dma_copy),
        T(test_dma_cmd_bits),
        T(test_dma_zero_length),
        T(test_dma_length_bound),
        T(test_dma_wrapping_range),
        T(test_dma_source_fault_writes_nothing),
        T(test_dma_destination_fault),
        T(test_dma_overlap_is_memmove),
        cmocka_unit_test(test_dma_error_names),
        T(test_bar1_mirror),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
