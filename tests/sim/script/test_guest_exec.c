/*
 * Unit tests of the guest script interpreter (hypervisor/sim/daemon/guest_exec.c)
 * on a fake vCPU: the exact ioreq_t each verb produces (CF8 value, ports,
 * addresses, data_is_ptr, count, df), all-ones for unhandled reads, guest
 * memory, interrupts, broadcasts, the report's lines for failed
 * expectations, and stopping on a negative errno.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"

struct fixture {
    struct fake_guest g;
    struct guest_ops ops;
    char report[1024];
};

static int setup(void **state)
{
    static struct fixture f;

    fake_guest_init(&f.g, &f.ops);
    memset(f.report, 'X', sizeof(f.report));
    *state = &f;
    return 0;
}

/* Parse `text` as t.gio and run it; returns the failure count. */
static int run(struct fixture *f, const char *text)
{
    struct guest_script *s = NULL;
    char err[256];

    if (guest_script_parse("t.gio", text, &s, err, sizeof(err)))
        fail_msg("parse error: %s", err);
    int rc = guest_script_run(s, &f->ops, f->report, sizeof(f->report));
    guest_script_free(s);
    return rc;
}

/* An ioreq the fake vCPU must have seen; data only for writes and data_is_ptr. */
struct want_ioreq {
    uint8_t type;
    uint64_t addr;
    uint32_t size, count;
    uint8_t dir, data_is_ptr;
    uint64_t data;
};

/* The fake saw exactly these ioreqs, in this order. */
static void assert_ioreqs(const struct fake_guest *g, const struct want_ioreq *w, size_t n)
{
    assert_int_equal(g->nr_req, n);
    for (size_t i = 0; i < n; i++) {
        const ioreq_t *p = &g->req[i];

        assert_int_equal(p->type, w[i].type);
        assert_int_equal(p->addr, w[i].addr);
        assert_int_equal(p->size, w[i].size);
        assert_int_equal(p->count, w[i].count);
        assert_int_equal(p->dir, w[i].dir);
        assert_int_equal(p->data_is_ptr, w[i].data_is_ptr);
        assert_int_equal(p->df, 0);
        assert_int_equal(p->state, STATE_IOREQ_NONE);
        if (w[i].dir == IOREQ_WRITE || w[i].data_is_ptr)
            assert_int_equal(p->data, w[i].data);
    }
}
#define ASSERT_IOREQS(g, ...)                                                       \
    do {                                                                            \
        static const struct want_ioreq want_[] = { __VA_ARGS__ };                   \
        assert_ioreqs((g), want_, sizeof(want_) / sizeof(want_[0]));                \
    } while (0)

static void test_port_io(void **state)
{
    struct fixture *f = *state;

    f->g.reply[1].data = 0x60;
    f->g.reply[2].data = 0x1234;
    assert_int_equal(run(f, "out 0x3f8 1 0x41\n"
                            "in 0x3fd 1 expect 0x60\n"
                            "in 0x60 2\n"
                            "out 0xcf8 4 0x80000000\n"),
                     0);
    assert_string_equal(f->report, "");
    ASSERT_IOREQS(&f->g,
                  { IOREQ_TYPE_PIO, 0x3f8, 1, 1, IOREQ_WRITE, 0, 0x41 },
                  { IOREQ_TYPE_PIO, 0x3fd, 1, 1, IOREQ_READ, 0, 0 },
                  { IOREQ_TYPE_PIO, 0x60, 2, 1, IOREQ_READ, 0, 0 },
                  { IOREQ_TYPE_PIO, 0xcf8, 4, 1, IOREQ_WRITE, 0, 0x80000000 });
}

static void test_expect_failure_names_line(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].data = 0x61;
    f->g.reply[2].data = 0xabcd;
    assert_int_equal(run(f, "in 0x3fd 1 expect 0x60\n"
                            "# comment\n"
                            "in 0x3fd 1 expect 0\n"
                            "mmio-read 0x1000 2 expect 0xabce\n"),
                     2);
    assert_string_equal(f->report, "t.gio:1: expected 0x60, got 0x61\n"
                                   "t.gio:4: expected 0xabce, got 0xabcd\n");
    assert_int_equal(f->g.nr_req, 3); /* failures do not stop the run */
}

static void test_unhandled_reads_all_ones(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].rc = HVIO_UNHANDLED;
    f->g.reply[1].rc = HVIO_UNHANDLED;
    f->g.reply[2].rc = HVIO_UNHANDLED;
    f->g.reply[3].rc = HVIO_UNHANDLED;
    f->g.reply[3].data = 0x55; /* ignored: unhandled */
    f->g.reply[4].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "in 0x80 1 expect 0xff\n"
                            "in 0x80 2 expect 0xffff\n"
                            "in 0x80 4 expect 0xffffffff\n"
                            "mmio-read 0x1000 8 expect 0xffffffffffffffff\n"
                            "out 0x80 1 0\n"),
                     0);
    assert_string_equal(f->report, "");
}

static void test_emulated_read_is_masked_to_size(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].data = 0xffff1234;
    assert_int_equal(run(f, "in 0x60 1 expect 0x34\n"), 0);
}

static void test_mmio(void **state)
{
    struct fixture *f = *state;

    f->g.reply[1].data = 0x1122334455667788;
    assert_int_equal(run(f, "mmio-write 0xfed00010 8 0xdeadbeefcafef00d\n"
                            "mmio-read 0xfed00018 8 expect 0x1122334455667788\n"
                            "mmio-write 0xfffffffffffffffc 4 7\n"),
                     0);
    ASSERT_IOREQS(&f->g,
                  { IOREQ_TYPE_COPY, 0xfed00010, 8, 1, IOREQ_WRITE, 0, 0xdeadbeefcafef00d },
                  { IOREQ_TYPE_COPY, 0xfed00018, 8, 1, IOREQ_READ, 0, 0 },
                  { IOREQ_TYPE_COPY, 0xfffffffffffffffc, 4, 1, IOREQ_WRITE, 0, 7 });
}

static void test_pci_config_is_cf8_cfc(void **state)
{
    struct fixture *f = *state;

    f->g.reply[1].data = 0x11e81234;
    f->g.reply[5].data = 0xbeef;
    assert_int_equal(run(f, "pci-read 00:05.0 0x00 4 expect 0x11e81234\n"
                            "pci-write 01:1f.7 0x3d 1 0x02\n"
                            "pci-read ab:05.3 0x0e 2 expect 0xbeef\n"),
                     0);
    ASSERT_IOREQS(&f->g,
                  /* 00:05.0 reg 0: CF8 = 0x80000000 | 5 << 11 */
                  { IOREQ_TYPE_PIO, 0xcf8, 4, 1, IOREQ_WRITE, 0, 0x80002800 },
                  { IOREQ_TYPE_PIO, 0xcfc, 4, 1, IOREQ_READ, 0, 0 },
                  /* 01:1f.7 reg 0x3d: dword 0x3c, byte 1 of CFC */
                  { IOREQ_TYPE_PIO, 0xcf8, 4, 1, IOREQ_WRITE, 0,
                    0x80000000 | 1 << 16 | 0x1f << 11 | 7 << 8 | 0x3c },
                  { IOREQ_TYPE_PIO, 0xcfd, 1, 1, IOREQ_WRITE, 0, 0x02 },
                  { IOREQ_TYPE_PIO, 0xcf8, 4, 1, IOREQ_WRITE, 0, 0x80ab2b0c },
                  { IOREQ_TYPE_PIO, 0xcfe, 2, 1, IOREQ_READ, 0, 0 });
}

static void test_pci_unhandled_and_failed(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].rc = HVIO_UNHANDLED;
    f->g.reply[1].rc = HVIO_UNHANDLED;
    f->g.reply[3].data = 0x1234;
    assert_int_equal(run(f, "pci-read 00:06.0 0 4 expect 0xffffffff\n"
                            "pci-read 00:05.0 0 2 expect 0x1235\n"),
                     1);
    assert_string_equal(f->report, "t.gio:2: expected 0x1235, got 0x1234\n");
}

static void test_rep_string_io(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "rep-outsb 0x3f8 0x1000 16\n"
                            "rep-outsw 0x1f0 0x2000 256\n"
                            "rep-outsl 0x1f0 0x3000 65536\n"
                            "rep-insb 0x3f8 0x4000 3\n"
                            "rep-insw 0x1f0 0x5000 2\n"
                            "rep-insl 0x1f0 0x6000 1\n"),
                     0);
    ASSERT_IOREQS(&f->g,
                  { IOREQ_TYPE_PIO, 0x3f8, 1, 16, IOREQ_WRITE, 1, 0x1000 },
                  { IOREQ_TYPE_PIO, 0x1f0, 2, 256, IOREQ_WRITE, 1, 0x2000 },
                  { IOREQ_TYPE_PIO, 0x1f0, 4, 65536, IOREQ_WRITE, 1, 0x3000 },
                  { IOREQ_TYPE_PIO, 0x3f8, 1, 3, IOREQ_READ, 1, 0x4000 },
                  { IOREQ_TYPE_PIO, 0x1f0, 2, 2, IOREQ_READ, 1, 0x5000 },
                  { IOREQ_TYPE_PIO, 0x1f0, 4, 1, IOREQ_READ, 1, 0x6000 });
    /* Handled: the emulator wrote guest memory, the interpreter did not. */
    assert_int_equal(f->g.nr_mem_write, 0);
}

static void test_rep_ins_unhandled_fills_ones(void **state)
{
    struct fixture *f = *state;
    static const uint8_t ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    f->g.reply[0].rc = HVIO_UNHANDLED;
    f->g.reply[1].rc = HVIO_UNHANDLED;
    f->g.reply[2].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "rep-insw 0x80 0x101 3\n"
                            "rep-outsb 0x80 0x200 4\n"
                            "rep-insl 0x80 0x1000 1024\n"),
                     0);
    assert_int_equal(f->g.mem[0x100], 0);
    assert_memory_equal(&f->g.mem[0x101], ones, 6);
    assert_int_equal(f->g.mem[0x107], 0);
    assert_int_equal(f->g.mem[0x200], 0); /* outs: nothing written */
    for (unsigned int i = 0; i < 4096; i++)
        assert_int_equal(f->g.mem[0x1000 + i], 0xff);
    assert_int_equal(f->g.mem[0x2000], 0);
}

static void test_rep_ins_unhandled_outside_ram(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "rep-insb 0x80 0xfffe 4\nout 0x80 1 0\n"), 1);
    assert_string_equal(f->report,
                        "t.gio:1: guest memory 0xfffe..0x10001 is outside guest RAM\n");
    assert_int_equal(f->g.nr_req, 2);
}

static void test_rep_mmio(void **state)
{
    struct fixture *f = *state;

    f->g.reply[1].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "rep-mmio-write 0xfed00000 4 0x2000 8\n"
                            "rep-mmio-read 0xfed00000 8 0x3000 2\n"),
                     0);
    ASSERT_IOREQS(&f->g,
                  { IOREQ_TYPE_COPY, 0xfed00000, 4, 8, IOREQ_WRITE, 1, 0x2000 },
                  { IOREQ_TYPE_COPY, 0xfed00000, 8, 2, IOREQ_READ, 1, 0x3000 });
    for (unsigned int i = 0; i < 16; i++)
        assert_int_equal(f->g.mem[0x3000 + i], 0xff);
    assert_int_equal(f->g.mem[0x3010], 0);
}

static void test_guest_memory_round_trip(void **state)
{
    struct fixture *f = *state;
    static const uint8_t want[] = { 'A', 'B', '\n', 0, '\t', '\r', 0, '\\', '"', '#' };

    assert_int_equal(run(f, "mem-write 0x100 \"AB\\n\\x00\\t\\r\\0\\\\\\\"#\"\n"
                            "mem-write 0x200 hex:00ff10Ab\n"
                            "mem-read 0x100 10 expect hex:41420a00090d005c2223\n"
                            "mem-read 0x200 4 expect hex:00FF10ab\n"
                            "mem-read 0x201 1 expect \"\\xff\"\n"),
                     0);
    assert_string_equal(f->report, "");
    assert_memory_equal(&f->g.mem[0x100], want, sizeof(want));
    assert_int_equal(f->g.mem[0x100 + sizeof(want)], 0);
    assert_int_equal(f->g.mem[0x203], 0xab);
    assert_int_equal(f->g.nr_req, 0);
}

static void test_mem_read_mismatch(void **state)
{
    struct fixture *f = *state;
    char text[512];

    memset(&f->g.mem[0x1000], 'a', 100);
    f->g.mem[0x1000 + 50] = 'b';
    f->g.mem[0x10] = 'x';
    snprintf(text, sizeof(text),
             "mem-read 0x10 2 expect \"yz\"\n"
             "mem-read 0x1000 100 expect hex:%s\n",
             "61616161616161616161616161616161616161616161616161616161616161616161616161616161"
             "61616161616161616161616161616161616161616161616161616161616161616161616161616161"
             "6161616161616161616161616161616161616161");
    assert_int_equal(run(f, text), 2);
    assert_string_equal(f->report,
                        "t.gio:1: expected hex:797a, got hex:7800\n"
                        "t.gio:2: expected hex:61616161616161616161616161616161, "
                        "got hex:62616161616161616161616161616161 (bytes 50..65 of 100)\n");
}

static void test_mem_outside_ram_is_a_failure(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "mem-write 0xffff \"ab\"\n"
                            "mem-read 0x20000 1 expect \"a\"\n"
                            "out 0x80 1 0\n"),
                     2);
    assert_string_equal(f->report,
                        "t.gio:1: guest memory 0xffff..0x10000 is outside guest RAM\n"
                        "t.gio:2: guest memory 0x20000..0x20000 is outside guest RAM\n");
    assert_int_equal(f->g.nr_req, 1);
}

static void test_wait_irq(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "wait-irq 4\n"
                            "wait-irq isa 15 timeout 0\n"
                            "wait-irq msi timeout 250\n"
                            "wait-irq intx 00:05.0 A\n"
                            "wait-irq intx 00:1f.7 INTD timeout 7\n"),
                     0);
    assert_int_equal(f->g.nr_irq, 5);
    assert_string_equal(f->g.irq_what[0], "isa 4");
    assert_int_equal(f->g.irq_timeout[0], GUEST_SCRIPT_IRQ_TIMEOUT_MS);
    assert_string_equal(f->g.irq_what[1], "isa 15");
    assert_int_equal(f->g.irq_timeout[1], 0);
    assert_string_equal(f->g.irq_what[2], "msi");
    assert_int_equal(f->g.irq_timeout[2], 250);
    assert_string_equal(f->g.irq_what[3], "intx 00:05.0 A");
    assert_string_equal(f->g.irq_what[4], "intx 00:1f.7 D");
    assert_int_equal(f->g.irq_timeout[4], 7);
}

static void test_wait_irq_timeout_and_error(void **state)
{
    struct fixture *f = *state;

    f->g.irq_rc = -ETIMEDOUT;
    assert_int_equal(run(f, "wait-irq 4 timeout 100\nwait-irq msi\n"), 2);
    assert_string_equal(f->report,
                        "t.gio:1: expected interrupt isa 4 within 100 ms, got none\n"
                        "t.gio:2: expected interrupt msi within 5000 ms, got none\n");

    f->g.irq_rc = -ESRCH;
    f->g.nr_irq = 0;
    assert_int_equal(run(f, "wait-irq 4\nwait-irq 5\n"), 1);
    assert_string_equal(f->report,
                        "t.gio:1: run stopped: wait-irq failed: the vCPU or its domain is gone\n");
    assert_int_equal(f->g.nr_irq, 1);
}

static void test_broadcasts_and_sleep(void **state)
{
    struct fixture *f = *state;

    f->g.invalidate_rc = 2; /* servers not reached: not a failure */
    assert_int_equal(run(f, "invalidate\n"
                            "timeoffset -5\n"
                            "sleep 20\n"
                            "timeoffset -9223372036854775808\n"
                            "sleep 0x10\n"),
                     0);
    assert_int_equal(f->g.nr_invalidate, 1);
    assert_int_equal(f->g.nr_timeoffset, 2);
    assert_true(f->g.delta == INT64_MIN);
    assert_int_equal(f->g.nr_sleep, 2);
    assert_int_equal(f->g.slept_ms, 36);

    f->g.timeoffset_rc = -EIO;
    assert_int_equal(run(f, "timeoffset 0x10\ninvalidate\n"), 1);
    assert_true(f->g.delta == 16);
    assert_string_equal(f->report, "t.gio:1: run stopped: timeoffset failed: the domain crashed\n");
    assert_int_equal(f->g.nr_invalidate, 1);
}

static void test_sleep_without_host_op(void **state)
{
    struct fixture *f = *state;

    f->ops.sleep = NULL;
    assert_int_equal(run(f, "sleep 1\n"), 0);
}

static void test_emulate_error_stops_the_run(void **state)
{
    struct fixture *f = *state;

    f->g.reply[1].rc = -EIO;
    assert_int_equal(run(f, "out 0x80 1 0\n"
                            "\n"
                            "in 0x3fd 1 expect 0x60\n"
                            "out 0x80 1 1\n"),
                     1);
    assert_string_equal(f->report, "t.gio:3: run stopped: in failed: the domain crashed\n");
    assert_int_equal(f->g.nr_req, 2);
}

static void test_emulate_errors_described(void **state)
{
    struct fixture *f = *state;

    f->g.reply[0].rc = -ESRCH;
    assert_int_equal(run(f, "pci-read 00:05.0 0 4 expect 0\nout 0x80 1 1\n"), 1);
    assert_string_equal(f->report,
                        "t.gio:1: run stopped: pci-read failed: the vCPU or its domain is gone\n");
    assert_int_equal(f->g.nr_req, 1);

    fake_guest_init(&f->g, &f->ops);
    f->g.reply[0].rc = -ECANCELED;
    assert_int_equal(run(f, "rep-outsb 0x80 0 1\n"), 1);
    assert_string_equal(f->report, "t.gio:1: run stopped: rep-outsb failed: the run was cancelled\n");

    fake_guest_init(&f->g, &f->ops);
    f->g.reply[0].rc = -EINVAL;
    assert_int_equal(run(f, "mmio-write 0 1 1\n"), 1);
    assert_string_equal(f->report, "t.gio:1: run stopped: mmio-write failed: Invalid argument\n");
}

static void test_missing_host_ops(void **state)
{
    struct fixture *f = *state;

    f->ops.wait_irq = NULL;
    assert_int_equal(run(f, "out 0x80 1 0\nwait-irq 4\nout 0x80 1 0\n"), 1);
    assert_string_equal(f->report,
                        "t.gio:2: run stopped: wait-irq is not supported by this host\n");
    assert_int_equal(f->g.nr_req, 1);
}

static void test_report_truncation(void **state)
{
    struct fixture *f = *state;
    struct guest_script *s = NULL;
    char small[64];

    assert_int_equal(guest_script_parse("t.gio", "in 0x80 1 expect 1\n"
                                                 "in 0x80 1 expect 2\n"
                                                 "in 0x80 1 expect 3\n",
                                        &s, NULL, 0),
                     0);
    /* Room for one line and the mark, not two lines. */
    assert_int_equal(guest_script_run(s, &f->ops, small, sizeof(small)), 3);
    assert_string_equal(small, "t.gio:1: expected 0x1, got 0x0\n(report truncated)\n");
    /* No room at all for a report: still counted. */
    assert_int_equal(guest_script_run(s, &f->ops, NULL, 0), 3);
    assert_int_equal(guest_script_run(s, &f->ops, small, 1), 3);
    assert_string_equal(small, "");
    assert_int_equal(guest_script_run(s, NULL, small, sizeof(small)), -EINVAL);
    assert_int_equal(guest_script_run(NULL, &f->ops, small, sizeof(small)), -EINVAL);
    guest_script_free(s);
}

static void assert_trace(const struct fake_guest *g, const char *const *want, unsigned int n)
{
    for (unsigned int i = 0; i < n && i < g->nr_trace; i++)
        assert_string_equal(g->trace[i], want[i]);
    assert_int_equal(g->nr_trace, n);
}

static void test_trace_every_verb(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = {
        "L1 out 03f8 1 41 = ok",
        "L2~ in 03fd 1 = 60",
        "L3 in 0060 2 = 1235 (expected 1234)",
        "L4 mmio-write fed00010 8 deadbeefcafef00d = ok",
        "L5 mmio-read 123456789 4 = 0000abcd",
        "L6 pci-write 01:1f.7 3d 1 0a = ok",
        "L7 pci-read 00:05.0 00 4 = 11e81234",
        "L8 rep-outsw 01f0 00002000 256 = ok",
        "L9 rep-insb 0080 00003000 3 = hex:ffffff",
        "L10 rep-insl 0080 00003100 5 = fnv1a:b9fee455",
        "L11 rep-mmio-read fed00000 2 00003200 2 = hex:ffffffff",
        "L12 rep-mmio-write fed00000 4 00003200 1 = ok",
        "L13 mem-write 00000100 2 = ok",
        "L14 mem-read 00000100 2 = hex:4142 (expected hex:4143)",
        "L15 mem-read 0000ffff 2 = fault",
        "L16 wait-irq isa 4 10 = irq",
        "L17 invalidate = ok",
        "L18 timeoffset -5 = ok",
        "L19 sleep 3 = ok",
        "L20 timeoffset -9223372036854775808 = ok",
        "L21 wait-irq intx 00:03.0 B 5000 = irq",
        "END fail 3",
    };

    fake_guest_trace(&f->g, &f->ops);
    f->g.reply[1].data = 0x60;
    f->g.reply[2].data = 0x1235;
    f->g.reply[4].data = 0xabcd;
    f->g.reply[8].data = 0x11e81234;
    f->g.reply[10].rc = HVIO_UNHANDLED;
    f->g.reply[12].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "out 0x3f8 1 0x41\n"
                            "in 0x3fd 1 expect 0x60   # timing: LSR\n"
                            "in 0x60 2 expect 0x1234\n"
                            "mmio-write 0xfed00010 8 0xdeadbeefcafef00d\n"
                            "mmio-read 0x123456789 4\n"
                            "pci-write 01:1f.7 0x3d 1 0xa\n"
                            "pci-read 00:05.0 0x00 4\n"
                            "rep-outsw 0x1f0 0x2000 256\n"
                            "rep-insb 0x80 0x3000 3\n"
                            "rep-insl 0x80 0x3100 5\n"
                            "rep-mmio-read 0xfed00000 2 0x3200 2\n"
                            "rep-mmio-write 0xfed00000 4 0x3200 1\n"
                            "mem-write 0x100 \"AB\"\n"
                            "mem-read 0x100 2 expect \"AC\"\n"
                            "mem-read 0xffff 2 expect \"ab\"\n"
                            "wait-irq isa 4 timeout 10\n"
                            "invalidate\n"
                            "timeoffset -5\n"
                            "sleep 3\n"
                            "timeoffset -9223372036854775808\n"
                            "wait-irq intx 00:03.0 INTB\n"),
                     3);
    assert_trace(&f->g, want, sizeof(want) / sizeof(want[0]));
}

static void test_trace_timeout_and_stop(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = {
        "L1 wait-irq msi 7 = timeout",
        "L3~ in 0080 1 = stopped: the domain crashed",
        "END fail 2",
    };

    fake_guest_trace(&f->g, &f->ops);
    f->g.irq_rc = -ETIMEDOUT;
    f->g.reply[0].rc = -EIO;
    assert_int_equal(run(f, "wait-irq msi timeout 7\n\nin 0x80 1 #timing\nout 0x80 1 0\n"), 2);
    assert_trace(&f->g, want, sizeof(want) / sizeof(want[0]));

    /* Without a trace callback nothing is traced, and nothing changes. */
    fake_guest_init(&f->g, &f->ops);
    assert_int_equal(run(f, "in 0x80 1\n"), 0);
    assert_int_equal(f->g.nr_trace, 0);
}

/* A host that does fewer elements than asked: the interpreter issues the rest. */
static void test_rep_partial_completion(void **state)
{
    struct fixture *f = *state;

    fake_guest_trace(&f->g, &f->ops);
    f->g.max_count = 2;
    for (int i = 0; i < 3; i++)
        f->g.reply[i].rc = HVIO_UNHANDLED;
    assert_int_equal(run(f, "rep-insb 0x80 0x200 5\n"
                            "rep-mmio-write 0xfed00000 4 0x300 3\n"
                            "rep-outsb 0x80 0x400 2\n"),
                     0);
    ASSERT_IOREQS(&f->g,
                  { IOREQ_TYPE_PIO, 0x80, 1, 2, IOREQ_READ, 1, 0x200 },
                  { IOREQ_TYPE_PIO, 0x80, 1, 2, IOREQ_READ, 1, 0x202 },
                  { IOREQ_TYPE_PIO, 0x80, 1, 1, IOREQ_READ, 1, 0x204 },
                  { IOREQ_TYPE_COPY, 0xfed00000, 4, 2, IOREQ_WRITE, 1, 0x300 },
                  { IOREQ_TYPE_COPY, 0xfed00008, 4, 1, IOREQ_WRITE, 1, 0x308 },
                  { IOREQ_TYPE_PIO, 0x80, 1, 2, IOREQ_WRITE, 1, 0x400 });
    for (unsigned int i = 0; i < 5; i++)
        assert_int_equal(f->g.mem[0x200 + i], 0xff);
    assert_int_equal(f->g.mem[0x205], 0);
    assert_string_equal(f->g.trace[0], "L1 rep-insb 0080 00000200 5 = hex:ffffffffff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_port_io, setup),
        cmocka_unit_test_setup(test_expect_failure_names_line, setup),
        cmocka_unit_test_setup(test_unhandled_reads_all_ones, setup),
        cmocka_unit_test_setup(test_emulated_read_is_masked_to_size, setup),
        cmocka_unit_test_setup(test_mmio, setup),
        cmocka_unit_test_setup(test_pci_config_is_cf8_cfc, setup),
        cmocka_unit_test_setup(test_pci_unhandled_and_failed, setup),
        cmocka_unit_test_setup(test_rep_string_io, setup),
        cmocka_unit_test_setup(test_rep_ins_unhandled_fills_ones, setup),
        cmocka_unit_test_setup(test_rep_ins_unhandled_outside_ram, setup),
        cmocka_unit_test_setup(test_rep_mmio, setup),
        cmocka_unit_test_setup(test_guest_memory_round_trip, setup),
        cmocka_unit_test_setup(test_mem_read_mismatch, setup),
        cmocka_unit_test_setup(test_mem_outside_ram_is_a_failure, setup),
        cmocka_unit_test_setup(test_wait_irq, setup),
        cmocka_unit_test_setup(test_wait_irq_timeout_and_error, setup),
        cmocka_unit_test_setup(test_broadcasts_and_sleep, setup),
        cmocka_unit_test_setup(test_sleep_without_host_op, setup),
        cmocka_unit_test_setup(test_emulate_error_stops_the_run, setup),
        cmocka_unit_test_setup(test_emulate_errors_described, setup),
        cmocka_unit_test_setup(test_missing_host_ops, setup),
        cmocka_unit_test_setup(test_report_truncation, setup),
        cmocka_unit_test_setup(test_trace_every_verb, setup),
        cmocka_unit_test_setup(test_trace_timeout_and_stop, setup),
        cmocka_unit_test_setup(test_rep_partial_completion, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
