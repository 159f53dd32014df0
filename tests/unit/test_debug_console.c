/*
 * Xen's debug console at port 0xE9, which the core handles itself before
 * any ioreq server, as Xen 4.17's hvm_print_line does: one-byte writes
 * (single or rep outsb from guest memory) build a line per domain that goes
 * to the platform's debug_console on a newline or at 199 characters, with
 * Xen's printable filter; a server mapping 0xE9 never sees them.  Reads and
 * other sizes are routed as usual, and a string read comes back with its
 * count lowered to 1.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

#define GUEST2 2
#define ANSWER 0x5a

/* One emulator: the ioreq page of the server we created, per guest. */
static struct {
    shared_iopage_t *page[GUEST2 + 1];
    unsigned int served;
    ioreq_t last;
} emu;

static void play_emulator(struct fake_platform *fp, domid_t domid, unsigned int vcpu)
{
    (void)fp;
    ioreq_t *slot = &emu.page[domid]->vcpu_ioreq[vcpu];

    assert_int_equal(slot->state, STATE_IOREQ_READY);
    emu.last = *slot;
    emu.served++;
    if (slot->dir == IOREQ_READ && !slot->data_is_ptr)
        slot->data = ANSWER;
    slot->state = STATE_IORESP_READY;
}

static struct fixture f;
static struct hvio_vcpu *vcpu0;

static int setup(void **state)
{
    (void)state;
    fixture_setup(&f, 1);
    memset(&emu, 0, sizeof(emu));
    f.fp.on_block = play_emulator;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 0, &vcpu0), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hvio_vcpu_put(vcpu0);
    fixture_teardown(&f);
    return 0;
}

/* A server of GUEST mapping ports [first, last]. */
static void server_on_ports(uint64_t first, uint64_t last)
{
    ioservid_t id = server_with_range(&f, HVM_IOREQSRV_BUFIOREQ_OFF,
                                      XEN_DMOP_IO_RANGE_PORT, first, last);
    emu.page[GUEST] = ioreq_page_of(&f, id);
}

static int pio(struct hvio_vcpu *v, uint8_t dir, uint64_t port, uint32_t size,
               uint64_t *data)
{
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = port, .size = size, .count = 1,
                  .dir = dir, .data = *data };
    int rc = hvio_emulate(v, &p);

    *data = p.data;
    return rc;
}

static void putc_e9(struct hvio_vcpu *v, uint8_t c)
{
    uint64_t data = c;

    assert_int_equal(pio(v, IOREQ_WRITE, 0xe9, 1, &data), HVIO_EMULATED);
}

static void puts_e9(struct hvio_vcpu *v, const char *s)
{
    while (*s)
        putc_e9(v, (uint8_t)*s++);
}

static void test_line_on_newline_and_servers_never_see_it(void **state)
{
    (void)state;
    server_on_ports(0xe0, 0xef);
    puts_e9(vcpu0, "Hello, ");
    assert_int_equal(f.fp.nr_console, 0); /* nothing until the newline */
    puts_e9(vcpu0, "world\n");
    assert_int_equal(f.fp.nr_console, 1);
    assert_string_equal(f.fp.console[0], "Hello, world");
    assert_int_equal(f.fp.console_domid[0], GUEST);
    /* Called with the domain's lock held, as Xen holds its pbuf lock. */
    assert_int_equal(f.fp.console_locks_held[0], 1);
    assert_int_equal(emu.served, 0);
    /* An empty line is a line. */
    putc_e9(vcpu0, '\n');
    assert_int_equal(f.fp.nr_console, 2);
    assert_string_equal(f.fp.console[1], "");
    assert_int_equal(emu.served, 0);
}

static void test_printable_filter(void **state)
{
    (void)state;
    static const uint8_t in[] = { 'a', 0x00, 0x07, '\t', 0x1f, 0x7f, 0x80, 0x9f,
                                  0xa0, 0xe9, 0xff, '\r', 'z', '\n' };
    for (size_t i = 0; i < sizeof(in); i++)
        putc_e9(vcpu0, in[i]);
    assert_int_equal(f.fp.nr_console, 1);
    assert_string_equal(f.fp.console[0], "a\t\xa0\xe9\xffz");
    /* A write's data above the low byte is ignored, as Xen's char cast. */
    uint64_t data = 0x4142434a;
    assert_int_equal(pio(vcpu0, IOREQ_WRITE, 0xe9, 1, &data), HVIO_EMULATED);
    putc_e9(vcpu0, '\n');
    assert_string_equal(f.fp.console[1], "J");
}

static void test_full_line_is_flushed_at_199(void **state)
{
    (void)state;
    char want[HVIO_CONSOLE_LINE_MAX];

    for (int i = 0; i < 250; i++)
        putc_e9(vcpu0, 'a' + (i % 26));
    assert_int_equal(f.fp.nr_console, 1);
    assert_int_equal(strlen(f.fp.console[0]), HVIO_CONSOLE_LINE_MAX - 1);
    for (int i = 0; i < HVIO_CONSOLE_LINE_MAX - 1; i++)
        want[i] = (char)('a' + (i % 26));
    want[HVIO_CONSOLE_LINE_MAX - 1] = '\0';
    assert_string_equal(f.fp.console[0], want);
    putc_e9(vcpu0, '\n');
    assert_int_equal(f.fp.nr_console, 2);
    assert_int_equal(strlen(f.fp.console[1]), 250 - (HVIO_CONSOLE_LINE_MAX - 1));
    assert_int_equal(f.fp.console[1][0], 'a' + ((HVIO_CONSOLE_LINE_MAX - 1) % 26));
}

static void test_rep_outsb_from_guest_memory(void **state)
{
    (void)state;
    server_on_ports(0xe9, 0xe9);
    memcpy(&f.fp.guest_ram[0x100], "rep\nout\n", 8);
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 8,
                  .dir = IOREQ_WRITE, .data_is_ptr = 1, .data = 0x100 };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    assert_int_equal(p.count, 8);
    assert_int_equal(f.fp.guest_reads, 1); /* the string in one read, not byte by byte */
    assert_int_equal(f.fp.nr_console, 2);
    assert_string_equal(f.fp.console[0], "rep");
    assert_string_equal(f.fp.console[1], "out");
    assert_int_equal(emu.served, 0);

    /* Downwards with df: the element at data, then the ones below it. */
    memcpy(&f.fp.guest_ram[0x200], "\ncba", 4);
    p = (ioreq_t){ .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 4,
                   .dir = IOREQ_WRITE, .data_is_ptr = 1, .df = 1, .data = 0x203 };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    assert_int_equal(f.fp.nr_console, 3);
    assert_string_equal(f.fp.console[2], "abc");

    /* Past guest RAM the bytes read as all ones: 0xff, which Xen prints. */
    f.fp.guest_ram[FAKE_GUEST_RAM - 1] = 'x';
    p = (ioreq_t){ .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 3,
                   .dir = IOREQ_WRITE, .data_is_ptr = 1, .data = FAKE_GUEST_RAM - 1 };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    putc_e9(vcpu0, '\n');
    assert_string_equal(f.fp.console[3], "x\xff\xff");
    assert_int_equal(emu.served, 0);
}

/* The guest picks count (up to 2^32): a page of bytes per call, under the
 * domain's lock, and the caller is told how many were done. */
static void test_long_writes_are_done_a_page_at_a_time(void **state)
{
    (void)state;
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = UINT32_MAX,
                  .dir = IOREQ_WRITE, .data = 'z' };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    assert_int_equal(p.count, HVIO_DEBUG_MAX_REPS);
    assert_int_equal(f.fp.nr_console, HVIO_DEBUG_MAX_REPS / (HVIO_CONSOLE_LINE_MAX - 1));

    memset(f.fp.guest_ram, 'y', FAKE_GUEST_RAM);
    p = (ioreq_t){ .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 3 * 4096,
                   .dir = IOREQ_WRITE, .data_is_ptr = 1, .data = 0 };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    assert_int_equal(p.count, HVIO_DEBUG_MAX_REPS);
    assert_int_equal(f.fp.nr_console, 2 * HVIO_DEBUG_MAX_REPS / (HVIO_CONSOLE_LINE_MAX - 1));
    assert_int_equal(emu.served, 0);
}

static void test_reads_go_to_servers(void **state)
{
    (void)state;
    uint64_t data = 0;

    /* Nobody maps it: all ones, as Xen 4.17's handler declines reads. */
    assert_int_equal(pio(vcpu0, IOREQ_READ, 0xe9, 1, &data), HVIO_UNHANDLED);
    assert_int_equal(data, 0xff);

    server_on_ports(0xe9, 0xe9);
    data = 0;
    assert_int_equal(pio(vcpu0, IOREQ_READ, 0xe9, 1, &data), HVIO_EMULATED);
    assert_int_equal(data, ANSWER);
    assert_int_equal(emu.served, 1);
    assert_int_equal(emu.last.addr, 0xe9);

    /* A string read: one element per request. */
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 16,
                  .dir = IOREQ_READ, .data_is_ptr = 1, .data = 0x300 };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_EMULATED);
    assert_int_equal(p.count, 1);
    assert_int_equal(emu.served, 2);
    assert_int_equal(emu.last.count, 1);
    assert_int_equal(emu.last.data_is_ptr, 1);
    assert_int_equal(emu.last.data, 0x300);
    assert_int_equal(f.fp.nr_console, 0);
}

static void test_other_sizes_and_ports_go_to_servers(void **state)
{
    (void)state;
    uint64_t data;

    server_on_ports(0xe8, 0xeb);
    data = 0x0a0a;
    assert_int_equal(pio(vcpu0, IOREQ_WRITE, 0xe9, 2, &data), HVIO_EMULATED);
    assert_int_equal(emu.served, 1);
    assert_int_equal(emu.last.size, 2);
    data = 0x0a0a0a0a;
    assert_int_equal(pio(vcpu0, IOREQ_WRITE, 0xe8, 4, &data), HVIO_EMULATED);
    data = 0x0a;
    assert_int_equal(pio(vcpu0, IOREQ_WRITE, 0xe8, 1, &data), HVIO_EMULATED);
    assert_int_equal(pio(vcpu0, IOREQ_WRITE, 0xea, 1, &data), HVIO_EMULATED);
    assert_int_equal(emu.served, 4);
    /* MMIO at 0xe9 is memory, not the port. */
    ioreq_t p = { .type = IOREQ_TYPE_COPY, .addr = 0xe9, .size = 1, .count = 1,
                  .dir = IOREQ_WRITE, .data = '\n' };
    assert_int_equal(hvio_emulate(vcpu0, &p), HVIO_UNHANDLED);
    assert_int_equal(f.fp.nr_console, 0);
}

static void test_lines_are_per_domain(void **state)
{
    (void)state;
    struct hvio_vcpu *other;
    struct hvio_domain_config cfg = { .domid = GUEST2, .max_vcpus = 1, .hvm = true,
                                      .dm_target = DOMID_INVALID };

    assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST2, 0), 0);
    assert_int_equal(hvio_vcpu_get(f.host, GUEST2, 0, &other), 0);
    puts_e9(vcpu0, "one ");
    puts_e9(other, "two ");
    puts_e9(vcpu0, "1\n");
    puts_e9(other, "2\n");
    assert_int_equal(f.fp.nr_console, 2);
    assert_string_equal(f.fp.console[0], "one 1");
    assert_int_equal(f.fp.console_domid[0], GUEST);
    assert_string_equal(f.fp.console[1], "two 2");
    assert_int_equal(f.fp.console_domid[1], GUEST2);

    /* A crashed domain prints nothing more. */
    assert_int_equal(hvio_domain_crash(f.host, GUEST2, "test"), 0);
    uint64_t data = '\n';
    assert_int_equal(pio(other, IOREQ_WRITE, 0xe9, 1, &data), -EIO);
    assert_int_equal(f.fp.nr_console, 2);
    hvio_vcpu_put(other);
}

static void test_without_platform_callbacks(void **state)
{
    (void)state;
    struct fake_platform fp;
    struct hvio_host *host;
    struct hvio_vcpu *v;
    struct hvio_domain_config cfg = { .domid = GUEST, .max_vcpus = 1, .hvm = true,
                                      .dm_target = DOMID_INVALID };

    fake_platform_init(&fp);
    fp.ops.debug_console = NULL;
    fp.ops.copy_from_guest = NULL;
    assert_int_equal(hvio_host_new(&fp.ops, &fp, &host), 0);
    assert_int_equal(hvio_domain_create(host, &cfg), 0);
    assert_int_equal(hvio_vcpu_add(host, GUEST, 0), 0);
    assert_int_equal(hvio_vcpu_get(host, GUEST, 0, &v), 0);
    puts_e9(v, "dropped\n");
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0xe9, .size = 1, .count = 4,
                  .dir = IOREQ_WRITE, .data_is_ptr = 1, .data = 0 };
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(fp.nr_console, 0);
    assert_int_equal(fp.guest_reads, 0);
    hvio_vcpu_put(v);
    hvio_host_free(host);
    assert_int_equal(fake_live_total(&fp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_on_newline_and_servers_never_see_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_printable_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_line_is_flushed_at_199, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_outsb_from_guest_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_writes_are_done_a_page_at_a_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reads_go_to_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_sizes_and_ports_go_to_servers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lines_are_per_domain, setup, teardown),
        cmocka_unit_test(test_without_platform_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
