/*
 * Unit tests of the guest script parser (hypervisor/sim/daemon/guest_script.c):
 * what it accepts (comments, blank lines, CRLF, every verb and number form)
 * and the exact one-line message, naming file and line, for what it rejects.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "guest_op.h"
#include "guest_script.h"

static size_t parsed_length(const char *text)
{
    struct guest_script *s = NULL;
    char err[256];
    int rc = guest_script_parse("t.gio", text, &s, err, sizeof(err));

    if (rc)
        fail_msg("unexpected parse error: %s", err);
    size_t n = guest_script_length(s);
    assert_string_equal(guest_script_name(s), "t.gio");
    guest_script_free(s);
    return n;
}

static void test_accepts_every_verb(void **state)
{
    (void)state;
    static const char text[] =
        "# a comment\n"
        "\n"
        "out 0x3f8 1 0x41\n"
        "in 0x3fd 1 expect 0x60\n"
        "in 0x3fd 1\n"
        "out 0xfffc 4 0xffffffff\n"
        "mmio-write 0xfed00000 8 0xffffffffffffffff\n"
        "mmio-read 0xfed00000 4 expect 0\n"
        "mmio-read 0xfffffffffffffff8 8\n"
        "pci-write 00:05.0 0x04 2 0x0007\n"
        "pci-read 00:05.0 0x00 4 expect 0x11e81234\n"
        "pci-read ff:1f.7 0xff 1\n"
        "rep-outsb 0x3f8 0x1000 16\n"
        "rep-outsw 0x3f8 0x1000 16\n"
        "rep-outsl 0x3f8 0x1000 65536\n"
        "rep-insb 0x3f8 0x1000 1\n"
        "rep-insw 0x3f8 0x1000 1\n"
        "rep-insl 0x3f8 0x1000 1\n"
        "rep-mmio-write 0xfed00000 4 0x2000 4\n"
        "rep-mmio-read 0xfed00000 8 0x2000 4\n"
        "mem-write 0x1000 \"hello\\n\\x00\\t\\r\\0\\\\\\\"\"\n"
        "mem-write 0x1000 hex:0011AAbb\n"
        "mem-read 0x1000 2 expect hex:0011\n"
        "mem-read 0x1000 3 expect \"a#b\" # the '#' in the string is data\n"
        "wait-irq 4\n"
        "wait-irq isa 15 timeout 0\n"
        "wait-irq msi\n"
        "wait-irq intx 00:05.0 A timeout 600000\n"
        "wait-irq intx 00:1f.7 INTD\n"
        "invalidate\n"
        "timeoffset -9223372036854775808\n"
        "timeoffset 0x7fffffffffffffff\n"
        "sleep 0\n"
        "  \tsleep 600000   # trailing comment\r\n"
        "   # indented comment\n"
        "out 0 1 0";  /* no final newline */

    assert_int_equal(parsed_length(text), 33);
}

static void test_empty_scripts(void **state)
{
    (void)state;
    assert_int_equal(parsed_length(""), 0);
    assert_int_equal(parsed_length("\n\n# nothing\n\r\n"), 0);
}

/* The message for a one-line script `text`. */
static void expect_error(const char *text, const char *msg)
{
    struct guest_script *s = (struct guest_script *)&s; /* must stay untouched */
    struct guest_script *before = s;
    char err[256];

    int rc = guest_script_parse("t.gio", text, &s, err, sizeof(err));
    if (rc != -EINVAL)
        fail_msg("'%s' parsed (rc %d), expected error '%s'", text, rc, msg);
    assert_ptr_equal(s, before);
    if (strcmp(err, msg) != 0)
        fail_msg("'%s'\n  got:  %s\n  want: %s", text, err, msg);
}

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error("foo 1", "t.gio:1: unknown verb 'foo'");
    expect_error("OUT 0x3f8 1 0", "t.gio:1: unknown verb 'OUT'");
    expect_error("\n# c\nout 0x3f8 1",
                 "t.gio:3: wrong operands for 'out' (usage: out PORT SIZE VALUE)");
    expect_error("out 0x3f8 1 0x41 5",
                 "t.gio:1: wrong operands for 'out' (usage: out PORT SIZE VALUE)");
    expect_error("in 0x60 1 0x5",
                 "t.gio:1: wrong operands for 'in' (usage: in PORT SIZE [expect V])");
    expect_error("in 0x60 1 expect",
                 "t.gio:1: wrong operands for 'in' (usage: in PORT SIZE [expect V])");
    expect_error("in 0x60 1 expectx 5",
                 "t.gio:1: wrong operands for 'in' (usage: in PORT SIZE [expect V])");
    expect_error("in 0x60 1 expect 5 6",
                 "t.gio:1: wrong operands for 'in' (usage: in PORT SIZE [expect V])");
    expect_error("invalidate now",
                 "t.gio:1: wrong operands for 'invalidate' (usage: invalidate)");
    expect_error("a b c d e f g h i", "t.gio:1: too many operands");
    expect_error("sleep 1\nsleep 2 # ok\nsleep", "t.gio:3: wrong operands for 'sleep' (usage: sleep MS)");
}

static void test_number_errors(void **state)
{
    (void)state;
    expect_error("out 0x3f8 1 12abc",
                 "t.gio:1: VALUE '12abc' is not a number (decimal, or hex with 0x)");
    expect_error("out 0x3f8 1 010",
                 "t.gio:1: VALUE '010' is not a number (decimal, or hex with 0x)");
    expect_error("out 0x3f8 1 0x",
                 "t.gio:1: VALUE '0x' is not a number (decimal, or hex with 0x)");
    expect_error("out 0x3f8 1 -1",
                 "t.gio:1: VALUE '-1' is not a number (decimal, or hex with 0x)");
    expect_error("mmio-write 0 8 18446744073709551616",
                 "t.gio:1: VALUE '18446744073709551616' is not a number (decimal, or hex with 0x)");
    expect_error("mmio-write 0 8 0x10000000000000000",
                 "t.gio:1: VALUE '0x10000000000000000' is not a number (decimal, or hex with 0x)");
    expect_error("out 0x3f8 1 0x100", "t.gio:1: VALUE 0x100 does not fit in 1 byte");
    expect_error("out 0x3f8 2 65536", "t.gio:1: VALUE 0x10000 does not fit in 2 bytes");
    expect_error("mmio-write 0 4 0x100000000", "t.gio:1: VALUE 0x100000000 does not fit in 4 bytes");
    expect_error("in 0x60 1 expect 0x100",
                 "t.gio:1: expected value 0x100 does not fit in 1 byte");
    expect_error("out 0x10000 1 0",
                 "t.gio:1: PORT '0x10000' is not a number from 0 to 0xffff");
    expect_error("out 0xffff 2 0",
                 "t.gio:1: a 2-byte access at port 0xffff runs past port 0xffff");
    expect_error("out 0x3f8 8 0", "t.gio:1: SIZE '8' must be 1, 2 or 4");
    expect_error("in 0x3f8 0", "t.gio:1: SIZE '0' must be 1, 2 or 4");
    expect_error("mmio-write 0x1000 3 0", "t.gio:1: SIZE '3' must be 1, 2, 4 or 8");
    expect_error("mmio-read 0x1000 16", "t.gio:1: SIZE '16' must be 1, 2, 4 or 8");
    expect_error("mmio-read 0xfffffffffffffffc 8",
                 "t.gio:1: ADDR 0xfffffffffffffffc plus 8 bytes runs past the end of the address space");
    expect_error("timeoffset 9223372036854775808",
                 "t.gio:1: DELTA '9223372036854775808' is not a signed 64-bit number");
    expect_error("timeoffset --1", "t.gio:1: DELTA '--1' is not a signed 64-bit number");
    expect_error("sleep -1", "t.gio:1: MS '-1' is not a number from 0 to 0x927c0");
    expect_error("sleep 600001", "t.gio:1: MS '600001' is not a number from 0 to 0x927c0");
    /* Long tokens are cut in messages. */
    expect_error("out 0x3f8 1 0123456789012345678901234567890123456789xyz",
                 "t.gio:1: VALUE '0123456789012345678901234567890123456789' is not a number (decimal, or hex with 0x)");
}

static void test_pci_errors(void **state)
{
    (void)state;
    const char *bad_addr =
        "is not BB:DD.F (hex, device up to 1f, function up to 7)";
    char want[160];

    static const char *const addrs[] = { "0:05.0", "00:20.0", "00:05.8", "00-05.0",
                                         "00:05:0", "0g:05.0", "00:05.00" };
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "pci-read %s 0 4", addrs[i]);
        snprintf(want, sizeof(want), "t.gio:1: PCI address '%s' %s", addrs[i], bad_addr);
        expect_error(text, want);
    }
    expect_error("pci-read 00:05.0 0x100 1",
                 "t.gio:1: REG '0x100' is not a number from 0 to 0xff");
    expect_error("pci-read 00:05.0 0x3 2",
                 "t.gio:1: a 2-byte access at register 0x3 crosses a dword boundary");
    expect_error("pci-write 00:05.0 0x2 4 0",
                 "t.gio:1: a 4-byte access at register 0x2 crosses a dword boundary");
    expect_error("pci-read 00:05.0 0 8", "t.gio:1: SIZE '8' must be 1, 2 or 4");
    expect_error("pci-write 00:05.0 0 2 0x10000",
                 "t.gio:1: VALUE 0x10000 does not fit in 2 bytes");
    expect_error("pci-write 00:05.0 0 2",
                 "t.gio:1: wrong operands for 'pci-write' (usage: pci-write BB:DD.F REG SIZE VALUE)");
}

static void test_rep_errors(void **state)
{
    (void)state;
    expect_error("rep-outsb 0x3f8 0x1000 0",
                 "t.gio:1: COUNT '0' is not a number from 1 to 65536");
    expect_error("rep-outsb 0x3f8 0x1000 65537",
                 "t.gio:1: COUNT '65537' is not a number from 1 to 65536");
    expect_error("rep-outsw 0xffff 0x1000 1",
                 "t.gio:1: a 2-byte access at port 0xffff runs past port 0xffff");
    expect_error("rep-insl 0x60 0xfffffffffffffffe 1",
                 "t.gio:1: GPA 0xfffffffffffffffe plus 4 bytes runs past the end of the address space");
    expect_error("rep-insb 0x60 0x1000",
                 "t.gio:1: wrong operands for 'rep-insb' (usage: rep-insb PORT GPA COUNT)");
    expect_error("rep-mmio-read 0xfffffffffffff000 8 0 513",
                 "t.gio:1: ADDR 0xfffffffffffff000 plus 4104 bytes runs past the end of the address space");
    expect_error("rep-mmio-write 0x1000 3 0 1", "t.gio:1: SIZE '3' must be 1, 2, 4 or 8");
}

static void test_data_errors(void **state)
{
    (void)state;
    expect_error("mem-write 0x1000 \"abc", "t.gio:1: unterminated string");
    expect_error("mem-write 0x1000 \"abc\\\"", "t.gio:1: unterminated string");
    expect_error("mem-write 0x1000 \"a\"b", "t.gio:1: text right after a closing quote");
    expect_error("mem-write 0x1000 \"\\q\"",
                 "t.gio:1: bad data '\"\\q\"': bad escape in string (use \\n \\r \\t \\0 \\\\ \\\" or \\xNN)");
    expect_error("mem-write 0x1000 \"\\x4\"",
                 "t.gio:1: bad data '\"\\x4\"': bad escape in string (use \\n \\r \\t \\0 \\\\ \\\" or \\xNN)");
    expect_error("mem-write 0x1000 \"\\xg0\"",
                 "t.gio:1: bad data '\"\\xg0\"': bad escape in string (use \\n \\r \\t \\0 \\\\ \\\" or \\xNN)");
    expect_error("mem-write 0x1000 hex:abc", "t.gio:1: bad data 'hex:abc': odd number of hex digits");
    expect_error("mem-write 0x1000 hex:zz", "t.gio:1: bad data 'hex:zz': bad hex digit");
    expect_error("mem-write 0x1000 hex:", "t.gio:1: bad data 'hex:': no bytes given");
    expect_error("mem-write 0x1000 \"\"", "t.gio:1: bad data '\"\"': no bytes given");
    expect_error("mem-write 0x1000 abc",
                 "t.gio:1: bad data 'abc': data must be a \"string\" or hex:0011aa");
    expect_error("mem-write 0xffffffffffffffff \"ab\"",
                 "t.gio:1: GPA 0xffffffffffffffff plus 2 bytes runs past the end of the address space");
    expect_error("mem-read 0x1000 2 expect \"abc\"", "t.gio:1: LEN is 2 but 3 bytes are expected");
    expect_error("mem-read 0x1000 0 expect \"abc\"",
                 "t.gio:1: LEN '0' is not a number from 1 to 65536");
    expect_error("mem-read 0x1000 3 \"abc\"",
                 "t.gio:1: wrong operands for 'mem-read' (usage: mem-read GPA LEN expect \"bytes\"|hex:..)");
    expect_error("mem-read 0x1000 3",
                 "t.gio:1: wrong operands for 'mem-read' (usage: mem-read GPA LEN expect \"bytes\"|hex:..)");
}

static void test_data_limit(void **state)
{
    (void)state;
    /* GUEST_SCRIPT_MAX_DATA bytes are fine, one more is not. */
    size_t digits = 2 * (GUEST_SCRIPT_MAX_DATA + 1);
    char *text = test_malloc(digits + 32);
    int n = snprintf(text, 32, "mem-write 0 hex:");
    memset(text + n, 'a', digits);
    text[n + digits] = '\0';
    expect_error(text, "t.gio:1: bad data 'hex:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': too many bytes");
    text[n + digits - 2] = '\0';
    assert_int_equal(parsed_length(text), 1);
    test_free(text);
}

static void test_wait_irq_errors(void **state)
{
    (void)state;
    const char *usage =
        "wrong operands for 'wait-irq' (usage: wait-irq N|isa N|msi|intx 00:DD.F PIN [timeout MS])";
    char want[160];

    snprintf(want, sizeof(want), "t.gio:1: %s", usage);
    expect_error("wait-irq", want);
    expect_error("wait-irq isa", want);
    expect_error("wait-irq msi after 5", want);
    expect_error("wait-irq msi timeout", want);
    expect_error("wait-irq 4 5", want);
    expect_error("wait-irq 16", "t.gio:1: ISA IRQ '16' is not a number from 0 to 0xf");
    expect_error("wait-irq isa x", "t.gio:1: ISA IRQ 'x' is not a number from 0 to 0xf");
    expect_error("wait-irq intx 01:05.0 A", "t.gio:1: INTx is only delivered for bus 00, not 01");
    expect_error("wait-irq intx 00:05.0 E", "t.gio:1: INTx pin 'E' is not A, B, C or D");
    expect_error("wait-irq intx 00:05.0",
                 "t.gio:1: intx needs a PCI address and a pin: intx 00:DD.F A|B|C|D");
    expect_error("wait-irq msi timeout 600001",
                 "t.gio:1: timeout '600001' is not a number from 0 to 0x927c0");
}

static void test_error_buffer_handling(void **state)
{
    (void)state;
    struct guest_script *s = NULL;
    char err[12];

    /* A short buffer gets a truncated, terminated message. */
    assert_int_equal(guest_script_parse("t.gio", "bogus", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.gio:1: un");
    /* No buffer at all. */
    assert_int_equal(guest_script_parse("t.gio", "bogus", &s, NULL, 0), -EINVAL);
    assert_null(s);
    /* Bad arguments. */
    assert_int_equal(guest_script_parse("t.gio", NULL, &s, err, sizeof(err)), -EINVAL);
    assert_int_equal(guest_script_parse("t.gio", "", NULL, err, sizeof(err)), -EINVAL);
    /* A nameless script gets a placeholder name. */
    assert_int_equal(guest_script_parse(NULL, "x", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "(script):1:");
    guest_script_free(NULL);
}

/* The "# timing" comment marks its line; nothing else does. */
static void test_timing_marker(void **state)
{
    (void)state;
    static const char text[] =
        "in 0x80 1 # timing\n"
        "in 0x80 1 #timing: the LSR races the emulator\n"
        "in 0x80 1\t#\t timing\tbecause\n"
        "in 0x80 1 # timings\n"
        "in 0x80 1 # not timing\n"
        "mem-read 0 8 expect \"# timing\"\n"
        "in 0x80 1 # Timing\n"
        "# timing\n"
        "in 0x80 1 ## timing\n"
        "in 0x80 1 #timing#\n";
    static const uint8_t want[] = { 1, 1, 1, 0, 0, 0, 0, 0, 0 };
    struct guest_script *s = NULL;
    char err[256];

    if (guest_script_parse("t.gio", text, &s, err, sizeof(err)))
        fail_msg("unexpected parse error: %s", err);
    assert_int_equal(guest_script_length(s), 9);
    const struct guest_op *ops = guest_script_ops(s);
    for (unsigned int i = 0; i < 9; i++) {
        assert_int_equal(ops[i].flags & GOP_F_TIMING, want[i]);
        assert_int_equal(ops[i].line, i < 7 ? i + 1 : i + 2);
    }
    size_t pool_len;
    assert_non_null(guest_script_pool(s, &pool_len));
    assert_int_equal(pool_len, 8);
    guest_script_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_every_verb),
        cmocka_unit_test(test_empty_scripts),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_pci_errors),
        cmocka_unit_test(test_rep_errors),
        cmocka_unit_test(test_data_errors),
        cmocka_unit_test(test_data_limit),
        cmocka_unit_test(test_wait_irq_errors),
        cmocka_unit_test(test_error_buffer_handling),
        cmocka_unit_test(test_timing_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
