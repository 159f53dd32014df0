/*
 * The emulator programs' shared helpers: numbers, the usage-error
 * convention (exit status 2), the readiness file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu_args.h"
#include "emu_ready.h"

static void test_parse_uint(void **state)
{
    uint64_t v = 77;

    (void)state;
    assert_int_equal(emu_parse_uint("0", 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(emu_parse_uint("0x3f8", 0xffff, &v), 0);
    assert_int_equal(v, 0x3f8);
    assert_int_equal(emu_parse_uint("0X3F8", 0xffff, &v), 0);
    assert_int_equal(v, 0x3f8);
    assert_int_equal(emu_parse_uint("1016", 0xffff, &v), 0);
    assert_int_equal(v, 1016);
    assert_int_equal(emu_parse_uint("010", 0xffff, &v), 0);
    assert_int_equal(v, 8);
    assert_int_equal(emu_parse_uint("15", 15, &v), 0);
    assert_int_equal(emu_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);

    v = 77;
    assert_int_equal(emu_parse_uint("16", 15, &v), -ERANGE);
    assert_int_equal(emu_parse_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE);
    assert_int_equal(emu_parse_uint("", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint("-1", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint(" 1", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint("+1", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint("1x", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint("0x", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint("09", 15, &v), -EINVAL);
    assert_int_equal(emu_parse_uint(NULL, 15, &v), -EINVAL);
    assert_int_equal(v, 77); /* untouched on failure */
}

/* Run fn in a child with stderr to a pipe; return its exit status and stderr. */
static int in_child(void (*fn)(void), char *err, size_t errlen)
{
    int p[2], status;
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        fn();
        _exit(0);
    }
    close(p[1]);
    while (len < errlen - 1 && (n = read(p[0], err + len, errlen - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = 0;
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void bad_number(void)
{
    emu_uint_arg("prog", "--irq", "four", 15);
}

static void too_big(void)
{
    emu_uint_arg("prog", "--irq", "16", 15);
}

static void good_number(void)
{
    if (emu_uint_arg("prog", "--irq", "4", 15) != 4)
        _exit(1);
}

static void test_uint_arg(void **state)
{
    char err[512];

    (void)state;
    assert_int_equal(in_child(bad_number, err, sizeof(err)), EMU_EXIT_USAGE);
    assert_string_equal(err, "prog: --irq: 'four' is not a number\nTry 'prog --help'.\n");
    assert_int_equal(in_child(too_big, err, sizeof(err)), EMU_EXIT_USAGE);
    assert_non_null(strstr(err, "prog: --irq: '16' is out of range (at most 15"));
    assert_int_equal(in_child(good_number, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_ready_file(void **state)
{
    char dir[] = "/tmp/emu-ready-XXXXXX", path[64], buf[16] = { 0 };
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ready", dir);
    assert_int_equal(emu_write_ready_file(path, 3), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "3\n");
    /* Replaced whole by a later instance. */
    assert_int_equal(emu_write_ready_file(path, 12), 0);
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_null(fgets(buf + 3, sizeof(buf) - 3, f));
    fclose(f);
    assert_string_equal(buf, "12\n");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* no temporary left behind */

    assert_int_equal(emu_write_ready_file("/nonexistent-dir/ready", 1), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_uint_arg),
        cmocka_unit_test(test_ready_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
