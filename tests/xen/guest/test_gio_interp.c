/*
 * The guest image's interpreter (gio_interp.c, compiled for the host with
 * the fake primitives of gio_io_fake.c) against xensim's interpreter
 * (guest_exec.c) on the same script and the same device: both must print
 * the same trace, leave the same guest memory, and count the same failures.
 * This is the differential check's foundation: what differs on real Xen is
 * then Xen, not the two interpreters.
 *
 * The device answers every read with a hash of everything it has seen so
 * far, so a difference in the order, the addresses, the sizes or the values
 * of the accesses shows up in the values read afterwards.  Port 0xE9 is
 * Xen's debug console on both sides.
 *
 * Also: the op table's checks (every guest-incompatible line is refused with
 * its reason), a damaged table, the console line rules, and line waiting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gio_compile.h"
#include "gio_interp.h"
#include "gio_io_fake.h"
#include "gio_table.h"
#include "guest_script.h"
#include "guest_trace.h"

#define RAM_SIZE 0x40000u
#define MAX_LINES 256

/* ---- the device both sides talk to (one instance per side) ---- */

struct device {
    uint64_t state;
    unsigned int accesses;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t device_read(void *ctx, bool mmio, uint64_t addr, unsigned int size)
{
    struct device *d = ctx;

    d->accesses++;
    d->state = mix(mix(mix(d->state, mmio ? 0x11 : 0x22), addr), size);
    return d->state;
}

static void device_write(void *ctx, bool mmio, uint64_t addr, unsigned int size, uint64_t v)
{
    struct device *d = ctx;

    d->accesses++;
    d->state = mix(mix(mix(mix(d->state, mmio ? 0x33 : 0x44), addr), size), v);
}

/* ---- what each side printed: trace lines and console lines, in order ---- */

struct lines {
    char line[MAX_LINES][GUEST_TRACE_LINE_MAX + 8];
    unsigned int n;
};

static void add_line(struct lines *l, const char *s)
{
    assert_true(l->n < MAX_LINES);
    assert_true(strlen(s) < sizeof(l->line[0]));
    strcpy(l->line[l->n++], s);
}

static bool is_trace(const char *s)
{
    return (s[0] == 'L' && s[1] >= '0' && s[1] <= '9') || strncmp(s, "END ", 4) == 0;
}

/* ---- xensim's side: guest_exec.c on a fake vCPU ---- */

struct sim_side {
    struct device dev;
    uint8_t ram[RAM_SIZE];
    struct gio_fake console; /* only its console rules are used */
    struct lines out;
};

static uint64_t load(const uint8_t *p, unsigned int size)
{
    uint64_t v = 0;

    memcpy(&v, p, size);
    return v;
}

static int sim_emulate(void *ctx, ioreq_t *p)
{
    struct sim_side *s = ctx;
    bool mmio = p->type == IOREQ_TYPE_COPY;

    if (!mmio && p->addr == 0xe9 && p->size == 1 && p->dir == IOREQ_WRITE) {
        for (uint32_t i = 0; i < p->count; i++)
            gio_fake_console_byte(&s->console,
                                  p->data_is_ptr ? s->ram[p->data + i] : (uint8_t)p->data);
        return HVIO_EMULATED;
    }
    if (!p->data_is_ptr) {
        if (p->dir == IOREQ_READ)
            p->data = device_read(&s->dev, mmio, p->addr, p->size);
        else
            device_write(&s->dev, mmio, p->addr, p->size, p->data);
        return HVIO_EMULATED;
    }
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t addr = mmio ? p->addr + (uint64_t)i * p->size : p->addr;
        uint8_t *mem = &s->ram[p->data + (uint64_t)i * p->size];
        if (p->dir == IOREQ_READ) {
            uint64_t v = device_read(&s->dev, mmio, addr, p->size);
            memcpy(mem, &v, p->size);
        } else {
            device_write(&s->dev, mmio, addr, p->size, load(mem, p->size));
        }
    }
    return HVIO_EMULATED;
}

static int sim_mem(struct sim_side *s, uint64_t gpa, size_t len, void *buf, bool write)
{
    if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
        return -EFAULT;
    if (write)
        memcpy(s->ram + gpa, buf, len);
    else
        memcpy(buf, s->ram + gpa, len);
    return 0;
}

static int sim_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return sim_mem(ctx, gpa, len, buf, false);
}

static int sim_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    return sim_mem(ctx, gpa, len, (void *)buf, true);
}

static int sim_sleep(void *ctx, unsigned int ms)
{
    (void)ctx;
    (void)ms;
    return 0;
}

static void sim_trace(void *ctx, const char *line)
{
    struct sim_side *s = ctx;

    add_line(&s->out, line);
}

static void sim_console(void *ctx, const char *line)
{
    struct sim_side *s = ctx;

    add_line(&s->out, line);
}

/* ---- the two runs ---- */

static struct sim_side sim;
static struct device guest_dev;
static uint8_t guest_ram[RAM_SIZE];
static struct lines guest_out;

static void guest_console(void *ctx, const char *line)
{
    (void)ctx;
    add_line(&guest_out, line);
}

/* Both interpreters on `text`; returns the failure count (equal on both sides). */
static int run_both(const char *text)
{
    struct guest_script *s = NULL;
    char err[512], report[4096];
    uint8_t *table;
    size_t len;

    memset(&sim, 0, sizeof(sim));
    sim.console.console_line = sim_console;
    sim.console.console_ctx = &sim;
    memset(&guest_dev, 0, sizeof(guest_dev));
    memset(guest_ram, 0, sizeof(guest_ram));
    memset(&guest_out, 0, sizeof(guest_out));
    memset(&gio_fake, 0, sizeof(gio_fake));
    gio_fake = (struct gio_fake){
        .ram = guest_ram, .ram_size = RAM_SIZE, .dev_read = device_read,
        .dev_write = device_write, .dev_ctx = &guest_dev, .console_line = guest_console,
    };

    if (guest_script_parse("t.gio", text, &s, err, sizeof(err)))
        fail_msg("parse: %s", err);
    struct guest_ops ops = {
        .ctx = &sim, .emulate = sim_emulate, .mem_read = sim_mem_read,
        .mem_write = sim_mem_write, .sleep = sim_sleep, .trace = sim_trace,
    };
    int sim_failures = guest_script_run(s, &ops, report, sizeof(report));
    if (gio_compile(s, "t.gio", &table, &len, err, sizeof(err)))
        fail_msg("compile: %s", err);
    guest_script_free(s);
    unsigned int guest_failures = gio_run(table, len);
    free(table);

    assert_int_equal(sim_failures, guest_failures);
    assert_int_equal(sim.dev.accesses, guest_dev.accesses);
    assert_true(sim.dev.state == guest_dev.state);
    assert_memory_equal(sim.ram, guest_ram, RAM_SIZE);
    return sim_failures;
}

/* The trace lines (trace), or the console lines (!trace), of both sides are the same. */
static void assert_same_lines(bool trace)
{
    unsigned int i = 0, j = 0;

    for (;;) {
        while (i < sim.out.n && is_trace(sim.out.line[i]) != trace)
            i++;
        while (j < guest_out.n && is_trace(guest_out.line[j]) != trace)
            j++;
        if (i == sim.out.n || j == guest_out.n)
            break;
        assert_string_equal(sim.out.line[i], guest_out.line[j]);
        i++;
        j++;
    }
    assert_int_equal(i, sim.out.n);
    assert_int_equal(j, guest_out.n);
}

static void assert_same_trace(void)
{
    assert_same_lines(true);
}

static void assert_same_console(void)
{
    assert_same_lines(false);
}

static const char *find(const struct lines *l, const char *prefix)
{
    for (unsigned int i = 0; i < l->n; i++)
        if (strncmp(l->line[i], prefix, strlen(prefix)) == 0)
            return l->line[i];
    return NULL;
}

static void test_every_guest_verb(void **state)
{
    (void)state;
    int failures = run_both(
        "out 0x3f8 1 0x41\n"
        "out 0x60 2 0x1234\n"
        "out 0xcf8 4 0x80001000\n"
        "in 0x3fd 1 expect 0x60      # timing: a status register\n"
        "in 0x64 2\n"
        "in 0xcfc 4\n"
        "mmio-write 0xd0000000 1 0x7f\n"
        "mmio-write 0xd0000002 2 0xbeef\n"
        "mmio-write 0xd0000004 4 0xcafef00d\n"
        "mmio-write 0xd0000008 8 0x0123456789abcdef\n"
        "mmio-read 0xd0000000 1\n"
        "mmio-read 0xd0000002 2\n"
        "mmio-read 0xd0000004 4 expect 0\n"
        "mmio-read 0xd0000008 8\n"
        "pci-write 00:05.0 0x04 2 0x0007\n"
        "pci-write 01:1f.7 0x3d 1 0xa\n"
        "pci-read 00:05.0 0x00 4 expect 0x11e81234\n"
        "pci-read ff:00.1 0x0e 1\n"
        "mem-write 0x1000 \"0123456789abcdefXYZ\"\n"
        "rep-outsb 0x3f8 0x1000 19\n"
        "rep-outsw 0x1f0 0x1000 4\n"
        "rep-outsl 0x1f0 0x1000 2\n"
        "rep-insb 0x3f8 0x2000 3\n"
        "rep-insw 0x1f0 0x2100 8\n"
        "rep-insl 0x1f0 0x2200 16\n"
        "rep-mmio-write 0xd0001000 4 0x1000 4\n"
        "rep-mmio-read 0xd0001000 2 0x3000 3\n"
        "rep-mmio-read 0xd0001000 1 0x3100 40\n"
        "mem-read 0x1000 4 expect \"0123\"\n"
        "mem-read 0x1000 20 expect \"0123456789abcdefXYZ!\"\n"
        "sleep 5\n");
    assert_int_equal(failures, 4);
    assert_same_trace();
    assert_same_console();
    assert_non_null(find(&guest_out, "L4~ in 03fd 1 = "));
    assert_non_null(find(&guest_out, "L17 pci-read 00:05.0 00 4 = "));
    assert_non_null(find(&guest_out, "L26 rep-mmio-write d0001000 4 00001000 4 = ok"));
    assert_non_null(find(&guest_out, "L28 rep-mmio-read d0001000 1 00003100 40 = fnv1a:"));
    assert_non_null(find(&guest_out, "L29 mem-read 00001000 4 = hex:30313233"));
    assert_non_null(find(&guest_out, "L31 sleep 5 = ok"));
    assert_string_equal(guest_out.line[guest_out.n - 1], "END fail 4");
}

static void test_debug_console(void **state)
{
    (void)state;
    /* Lines ended within one access, and lines built over several. */
    run_both("mem-write 0x100 \"one\\ntwo\\n\"\n"
             "rep-outsb 0xe9 0x100 8\n"
             "out 0xe9 1 0x41\n"
             "in 0x80 1\n"
             "out 0xe9 1 0x42\n"
             "out 0xe9 1 0x0a\n"
             "out 0xe9 2 0x0a0a\n"      /* not Xen's console: a 2-byte write */
             "mem-write 0x200 \"no newline\"\n"
             "rep-outsb 0xe9 0x200 10\n"
             "out 0xe9 1 0x0a\n");
    assert_same_trace();
    assert_same_console();
    assert_non_null(find(&guest_out, "AB"));
    /* The guest held L4..L5 back until the script ended its line "AB". */
    unsigned int ab = 0, l4 = 0;
    for (unsigned int i = 0; i < guest_out.n; i++) {
        if (!strcmp(guest_out.line[i], "AB"))
            ab = i;
        if (!strncmp(guest_out.line[i], "L4 ", 3))
            l4 = i;
    }
    assert_true(ab < l4);
}

static void test_unfinished_console_line(void **state)
{
    (void)state;
    /* The script never ends its line: the guest does, before END. */
    run_both("out 0xe9 1 0x78\nout 0x80 1 0\n");
    assert_same_trace();
    assert_non_null(find(&guest_out, "x"));
    assert_null(find(&sim.out, "x")); /* xensim's (and Xen's) line stays unprinted */
    assert_string_equal(guest_out.line[guest_out.n - 1], "END pass");

    /* More trace lines than the guest holds back: it ends the line itself. */
    char text[4096] = "out 0xe9 1 0x79\n";
    for (int i = 0; i < 40; i++)
        strcat(text, "out 0x80 1 0\n");
    strcat(text, "out 0xe9 1 0x0a\n");
    run_both(text);
    assert_same_trace();
    assert_non_null(find(&guest_out, "y"));
    /* The guest ended "y" itself, so the script's own newline (line 42)
     * ends an empty console line, just before L42. */
    unsigned int l42 = 0;
    while (l42 < guest_out.n && strncmp(guest_out.line[l42], "L42 ", 4) != 0)
        l42++;
    assert_true(l42 > 0 && l42 < guest_out.n);
    assert_string_equal(guest_out.line[l42 - 1], "");
}

static void test_failures_match(void **state)
{
    (void)state;
    assert_int_equal(run_both("in 0x60 1 expect 0\nmem-read 0x0 2 expect hex:0001\n"
                              "mmio-read 0xd0000000 8 expect 1\n"),
                     3);
    assert_same_trace();
    assert_non_null(strstr(guest_out.line[1], "= hex:0000 (expected hex:0001)"));
    assert_string_equal(guest_out.line[3], "END fail 3");
}

/* A line a guest image cannot run: gio_compile() names it and says why. */
static void assert_refused(const char *text, const char *want)
{
    struct guest_script *s = NULL;
    char err[512];
    uint8_t *table = NULL;
    size_t len;

    if (guest_script_parse("bad.gio", text, &s, err, sizeof(err)))
        fail_msg("parse: %s", err);
    assert_int_equal(gio_compile(s, "bad.gio", &table, &len, err, sizeof(err)), -EINVAL);
    guest_script_free(s);
    assert_null(table);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got '%s', want '%s...'", err, want);
}

static void test_compiler_refuses(void **state)
{
    (void)state;
    assert_refused("out 0x80 1 0\nwait-irq 4\n",
                   "bad.gio:2: wait-irq: the guest image sets up no interrupts");
    assert_refused("invalidate\n", "bad.gio:1: invalidate: this is a broadcast");
    assert_refused("\ntimeoffset -5\n", "bad.gio:2: timeoffset: this is a broadcast");
    assert_refused("rep-mmio-read 0xd0000000 8 0x1000 2\n",
                   "bad.gio:1: rep-mmio-read: 8-byte string moves");
    assert_refused("mmio-read 0x100000000 4\n", "bad.gio:1: mmio-read: ADDR reaches above 4 GiB");
    assert_refused("mmio-read 0xfffffffc 8\n", "bad.gio:1: mmio-read: ADDR reaches above 4 GiB");
    assert_refused("mmio-write 0x1ffffc 4 0\n",
                   "bad.gio:1: mmio-write: ADDR overlaps the guest image");
    assert_refused("mem-write 0xfffff \"ab\"\n",
                   "bad.gio:1: mem-write: GPA overlaps the guest image");
    assert_refused("rep-insl 0x80 0xfffffff0 8\n", "bad.gio:1: rep-insl: GPA reaches above 4 GiB");
    assert_refused("rep-mmio-write 0xd0000000 4 0x100000 1\n",
                   "bad.gio:1: rep-mmio-write: GPA overlaps the guest image");
    assert_refused("rep-mmio-write 0x1fff00 4 0x1000 64\n",
                   "bad.gio:1: rep-mmio-write: ADDR overlaps the guest image");
}

static void test_table_checks(void **state)
{
    (void)state;
    struct guest_script *s = NULL;
    char err[512];
    uint8_t *table;
    size_t len;
    struct gio_table t;
    long bad;

    assert_int_equal(guest_script_parse("t.gio", "in 0x80 1\nmem-write 0x10 \"ab\"\n", &s, err,
                                        sizeof(err)),
                     0);
    assert_int_equal(gio_compile(s, "t.gio", &table, &len, err, sizeof(err)), 0);
    guest_script_free(s);
    assert_null(gio_table_check(table, len, &t, &bad));
    assert_int_equal(t.nr_ops, 2);
    assert_int_equal(t.pool_len, 2);
    assert_memory_equal(t.name, "t.gio", 5);

    /* Any damaged byte: the checksum; a wrong length: the header. */
    table[len - 1] ^= 1;
    assert_string_equal(gio_table_check(table, len, &t, &bad), "op table checksum mismatch");
    table[len - 1] ^= 1;
    assert_string_equal(gio_table_check(table, len - 1, &t, &bad),
                        "op table size does not match its header");
    assert_non_null(gio_table_check(table + 8, len - 8, &t, &bad));

    /* The guest reports a bad table and fails. */
    memset(&guest_out, 0, sizeof(guest_out));
    memset(&gio_fake, 0, sizeof(gio_fake));
    gio_fake.console_line = guest_console;
    table[0] ^= 0xff;
    assert_int_equal(gio_run(table, len), 1);
    assert_int_equal(guest_out.n, 2);
    assert_string_equal(guest_out.line[0], "gio: bad op table: not an op table (bad magic)");
    assert_string_equal(guest_out.line[1], "END fail 1");
    free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_guest_verb),
        cmocka_unit_test(test_debug_console),
        cmocka_unit_test(test_unfinished_console_line),
        cmocka_unit_test(test_failures_match),
        cmocka_unit_test(test_compiler_refuses),
        cmocka_unit_test(test_table_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
