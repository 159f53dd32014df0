/*
 * Debug console port: bytes become lines, reads return 0xe9.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "debugcon.h"

struct sink {
    char out[8192];
    size_t len;
    unsigned int calls;
    size_t last_len;
};

static void sink_fn(void *opaque, const char *buf, size_t len)
{
    struct sink *s = opaque;

    assert_true(len > 0);
    assert_true(s->len + len <= sizeof(s->out));
    memcpy(s->out + s->len, buf, len);
    s->len += len;
    s->last_len = len;
    s->calls++;
}

static void puts_(struct debugcon *d, const char *s)
{
    while (*s)
        debugcon_io_write(d, 0, 1, (uint8_t)*s++);
}

static void test_lines(void **state)
{
    struct debugcon d;
    struct sink s = { 0 };

    (void)state;
    debugcon_init(&d, sink_fn, &s);
    puts_(&d, "hel");
    assert_int_equal(s.calls, 0); /* nothing before the newline */
    puts_(&d, "lo\n");
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.out, "hello\n", 6);
    puts_(&d, "a\nb\n\n");
    assert_int_equal(s.calls, 4);
    assert_memory_equal(s.out, "hello\na\nb\n\n", 11);
}

static void test_partial_line_at_flush(void **state)
{
    struct debugcon d;
    struct sink s = { 0 };

    (void)state;
    debugcon_init(&d, sink_fn, &s);
    debugcon_flush(&d);
    assert_int_equal(s.calls, 0); /* nothing to flush */
    puts_(&d, "done\nno newline");
    debugcon_flush(&d);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.len, 15);
    assert_memory_equal(s.out, "done\nno newline", 15); /* bytes unchanged */
    debugcon_flush(&d);
    assert_int_equal(s.calls, 2);
}

static void test_long_line_in_chunks(void **state)
{
    struct debugcon d;
    struct sink s = { 0 };

    (void)state;
    debugcon_init(&d, sink_fn, &s);
    for (int i = 0; i < DEBUGCON_LINE_MAX * 2 + 10; i++)
        debugcon_putc(&d, 'x');
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.last_len, DEBUGCON_LINE_MAX);
    debugcon_putc(&d, '\n');
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.last_len, 11);
    assert_int_equal(s.len, DEBUGCON_LINE_MAX * 2 + 11);
}

static void test_binary_bytes_pass_through(void **state)
{
    struct debugcon d;
    struct sink s = { 0 };

    (void)state;
    debugcon_init(&d, sink_fn, &s);
    debugcon_putc(&d, 0x00);
    debugcon_putc(&d, 0xff);
    debugcon_putc(&d, '\r');
    debugcon_putc(&d, '\n');
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.out, "\x00\xff\r\n", 4);
}

static void test_readback(void **state)
{
    struct debugcon d;

    (void)state;
    debugcon_init(&d, NULL, NULL);
    assert_int_equal(debugcon_io_read(&d, 0, 1), 0xe9);
    assert_int_equal(debugcon_io_read(&d, 0, 2), 0xffe9);
    assert_int_equal(debugcon_io_read(&d, 0, 4), 0xffffffe9);
    assert_true(debugcon_io_read(&d, 0, 8) == UINT64_C(0xffffffffffffffe9));
    /* No sink: writes go nowhere, harmlessly. */
    puts_(&d, "x\n");
}

static void test_wide_write_outputs_low_byte(void **state)
{
    struct debugcon d;
    struct sink s = { 0 };

    (void)state;
    debugcon_init(&d, sink_fn, &s);
    debugcon_io_write(&d, 0, 2, 0x0a41);
    debugcon_io_write(&d, 0, 4, 0x1234560a);
    assert_int_equal(s.len, 2);
    assert_memory_equal(s.out, "A\n", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_partial_line_at_flush),
        cmocka_unit_test(test_long_line_in_chunks),
        cmocka_unit_test(test_binary_bytes_pass_through),
        cmocka_unit_test(test_readback),
        cmocka_unit_test(test_wide_write_outputs_low_byte),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
