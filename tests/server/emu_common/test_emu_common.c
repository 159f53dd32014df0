/*
 * The emulator programs' shared helpers: numbers, the usage-error
 * convention (exit status 2), the shared options, the readiness file.
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

/* ---- emu_getopt ------------------------------------------------------ */

enum { OPT_PORT = EMU_OPT_PROGRAM, OPT_FLAG };

static const struct option with_no_pic[] = {
    { "port", required_argument, NULL, OPT_PORT },
    { "flag", no_argument, NULL, OPT_FLAG },
    EMU_NO_PIC_LONG_OPTS,
    EMU_COMMON_LONG_OPTS,
    { NULL, 0, NULL, 0 },
};

static const struct option without_no_pic[] = {
    { "port", required_argument, NULL, OPT_PORT },
    EMU_COMMON_LONG_OPTS,
    { NULL, 0, NULL, 0 },
};

static const struct option *child_longopts = with_no_pic;

/* Says on stderr where the usage was asked for (the child's stdout is not read). */
static void test_usage(FILE *out)
{
    fprintf(stderr, out == stdout ? "usage on stdout\n" : "usage elsewhere\n");
}

/* The command line the child parses, and what the program's options got. */
static char *child_argv[16];
static int child_argc;

static void set_args(const char *args[])
{
    child_argc = 0;
    child_argv[child_argc++] = (char *)"prog";
    for (; *args; args++)
        child_argv[child_argc++] = (char *)*args;
    child_argv[child_argc] = NULL;
}

/* Parse child_argv; the program's own options are echoed on stderr. */
static void parse_child(void)
{
    struct emu_opts o;
    int c;

    optind = 0; /* a fresh scan */
    emu_opts_init(&o, "prog", test_usage);
    while ((c = emu_getopt(&o, child_argc, child_argv, child_longopts)) != -1) {
        if (c == OPT_PORT)
            fprintf(stderr, "port=%s\n", optarg);
        else if (c == OPT_FLAG)
            fprintf(stderr, "flag\n");
        else
            fprintf(stderr, "unexpected %d\n", c);
    }
    fprintf(stderr, "domid=%u ioservid=%d ready=%s v=%d%s\n", o.domid, o.ioservid,
            o.ready_file ? o.ready_file : "(none)", o.verbosity, o.no_pic ? " no-pic" : "");
}

static int parse(const char *args[], char *err, size_t errlen)
{
    set_args(args);
    return in_child(parse_child, err, errlen);
}

static void test_getopt_ok(void **state)
{
    char err[512];

    (void)state;
    assert_int_equal(parse((const char *[]){ "--domid", "3", NULL }, err, sizeof(err)), 0);
    assert_string_equal(err, "domid=3 ioservid=-1 ready=(none) v=0\n");

    assert_int_equal(parse((const char *[]){ "-v", "--port", "0x10", "--domid=0x7fef",
                                             "--ioservid", "65535", "--flag", "--ready-file",
                                             "/r", "-vv", "--verbose", NULL },
                           err, sizeof(err)),
                     0);
    assert_string_equal(err, "port=0x10\nflag\ndomid=32751 ioservid=65535 ready=/r v=4\n");

    /* Unambiguous prefixes, as getopt_long takes them. */
    assert_int_equal(parse((const char *[]){ "--dom", "1", "--po", "9", "--fl", NULL }, err,
                           sizeof(err)),
                     0);
    assert_string_equal(err, "port=9\nflag\ndomid=1 ioservid=-1 ready=(none) v=0\n");

    /* --pvh and --no-pic, where the program lists them. */
    assert_int_equal(parse((const char *[]){ "--pvh", "--domid", "2", NULL }, err, sizeof(err)), 0);
    assert_string_equal(err, "domid=2 ioservid=-1 ready=(none) v=0 no-pic\n");
    assert_int_equal(parse((const char *[]){ "--domid", "2", "--no-pic", NULL }, err, sizeof(err)),
                     0);
    assert_string_equal(err, "domid=2 ioservid=-1 ready=(none) v=0 no-pic\n");
}

static void test_getopt_help(void **state)
{
    char err[512];

    (void)state;
    /* The usage on stdout and exit 0, whatever follows, --domid or not. */
    assert_int_equal(parse((const char *[]){ "--domid", "1", "--help", "--bogus", NULL }, err,
                           sizeof(err)),
                     0);
    assert_string_equal(err, "usage on stdout\n");
    assert_int_equal(parse((const char *[]){ "-h", NULL }, err, sizeof(err)), 0);
    assert_string_equal(err, "usage on stdout\n");
    assert_int_equal(parse((const char *[]){ "-vh", NULL }, err, sizeof(err)), 0);
    assert_string_equal(err, "usage on stdout\n");
}

static void expect_usage_error(const char *args[], const char *msg)
{
    char err[512], want[512];

    snprintf(want, sizeof(want), "prog: %s\nTry 'prog --help'.\n", msg);
    assert_int_equal(parse(args, err, sizeof(err)), EMU_EXIT_USAGE);
    assert_string_equal(err, want);
}

static void test_getopt_errors(void **state)
{
    char err[512];

    (void)state;
    expect_usage_error((const char *[]){ "-v", "--ioservid", "1", NULL }, "--domid is required");
    expect_usage_error((const char *[]){ NULL }, "--domid is required");
    expect_usage_error((const char *[]){ "--domid", "1", "--bogus", NULL },
                       "unknown option '--bogus'");
    expect_usage_error((const char *[]){ "--domid", "1", "-x", NULL }, "unknown option '-x'");
    expect_usage_error((const char *[]){ "--domid", "1", "--port", NULL },
                       "--port needs an argument");
    expect_usage_error((const char *[]){ "--domid", NULL }, "--domid needs an argument");
    expect_usage_error((const char *[]){ "--domid", "1", "--ready-file", NULL },
                       "--ready-file needs an argument");
    expect_usage_error((const char *[]){ "--domid", "1", "extra", NULL },
                       "unexpected argument 'extra'");
    expect_usage_error((const char *[]){ "--domid", "1", "--", "--port", NULL },
                       "unexpected argument '--port'");
    expect_usage_error((const char *[]){ "--domid", "one", NULL },
                       "--domid: 'one' is not a number");
    expect_usage_error((const char *[]){ "--domid", "1", "--ioservid", "-1", NULL },
                       "--ioservid: '-1' is not a number");

    /* Out of range: the bound is the highest guest domid / a 16-bit id. */
    set_args((const char *[]){ "--domid", "0x7ff0", NULL });
    assert_int_equal(in_child(parse_child, err, sizeof(err)), EMU_EXIT_USAGE);
    assert_non_null(strstr(err, "prog: --domid: '0x7ff0' is out of range (at most 32751"));
    set_args((const char *[]){ "--domid", "1", "--ioservid", "65536", NULL });
    assert_int_equal(in_child(parse_child, err, sizeof(err)), EMU_EXIT_USAGE);
    assert_non_null(strstr(err, "prog: --ioservid: '65536' is out of range (at most 65535"));

    /* The first problem on the line is the one reported. */
    expect_usage_error((const char *[]){ "--bogus", "extra", NULL }, "unknown option '--bogus'");

    /* --pvh is not an option of a program that does not list it. */
    child_longopts = without_no_pic;
    expect_usage_error((const char *[]){ "--domid", "1", "--pvh", NULL }, "unknown option '--pvh'");
    child_longopts = with_no_pic;
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
        cmocka_unit_test(test_getopt_ok),
        cmocka_unit_test(test_getopt_help),
        cmocka_unit_test(test_getopt_errors),
        cmocka_unit_test(test_ready_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
