/* Unit tests of router/config: exact validation messages, several at once,
 * and a valid config parsed into the expected structure; single emulators
 * (xenstore entries), copy/equal, the guest checks over file + xenstore
 * emulators, and the format helpers. */
#define _GNU_SOURCE /* CPU_ISSET */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "router_config.h"

static const struct router_config_options opts = {true, NULL, false};
static const struct router_config_options acc_opts = {true, NULL, true};

/* ERRS holds exactly the NULL-terminated list of messages AP, in order, and
 * nothing was lost to a lack of memory.  Returns the number of messages. */
static size_t expect_messages(const struct config_errors *errs, va_list ap)
{
    size_t i = 0;
    for (const char *m; (m = va_arg(ap, const char *)); i++) {
        if (i >= errs->count)
            fail_msg("missing message %zu: %s", i, m);
        if (strcmp(errs->msg[i], m) != 0)
            fail_msg("message %zu:\n  got:      %s\n  expected: %s", i, errs->msg[i], m);
    }
    if (errs->count != i)
        fail_msg("%zu extra message(s), first: %s", errs->count - i, errs->msg[i]);
    assert_false(errs->out_of_memory);
    return i;
}

/* Parse TEXT (as file "t.json") and expect exactly the NULL-terminated list
 * of messages, in order. */
static void expect_errors_v(const char *text, const struct router_config_options *o, ...)
{
    struct config_errors errs;
    struct router_config *cfg = (void *)1;
    config_errors_init(&errs);
    int r = router_config_parse_string(text, "t.json", o, &cfg, &errs);
    va_list ap;
    va_start(ap, o);
    expect_messages(&errs, ap);
    va_end(ap);
    assert_int_equal(r, -1);
    assert_null(cfg);
    config_errors_free(&errs);
}

/* Parse TEXT (as file FILENAME) and expect it valid; free with
 * router_config_free. */
static struct router_config *parse_ok(const char *text, const char *filename,
                                      const struct router_config_options *o)
{
    struct config_errors errs = {0};
    struct router_config *cfg = NULL;
    int r = router_config_parse_string(text, filename, o, &cfg, &errs);
    if (r != 0)
        fail_msg("%s", errs.count ? errs.msg[0] : "failed without message");
    assert_non_null(cfg);
    assert_int_equal(errs.count, 0);
    config_errors_free(&errs);
    return cfg;
}
#define EXPECT(text, ...) expect_errors_v(text, &opts, __VA_ARGS__, (const char *)NULL)

/* One guest "g" with the given emulators JSON. */
#define G(emus) "{\"guests\":[{\"name\":\"g\",\"emulators\":[" emus "]}]}"
#define EMU(id, rest) "{\"id\":\"" id "\",\"exec\":\"/bin/sh\"" rest "}"

static void test_unknown_key(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"prots\":[]")), "t.json: guests[0].emulators[0].prots: unknown key");
    EXPECT("{\"guests\":[],\"x\":1}", "t.json: x: unknown key");
    EXPECT(G(EMU("a", ",\"restart\":{\"tries\":3}")),
           "t.json: guests[0].emulators[0].restart.tries: unknown key");
}

static void test_wrong_type(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"ports\":\"0x3f8-0x3ff\"")),
           "t.json: guests[0].emulators[0].ports: must be an array");
    EXPECT(G(EMU("a", ",\"ports\":[1016]")),
           "t.json: guests[0].emulators[0].ports[0]: must be a string \"START-END\", "
           "e.g. \"0x3f8-0x3ff\"");
    EXPECT("{\"guests\":[{\"name\":7,\"hold\":1,\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[0].name: must be a string",
           "t.json: guests[0].hold: must be true or false");
    EXPECT(G(EMU("a", ",\"args\":[\"-v\",3]")),
           "t.json: guests[0].emulators[0].args[1]: must be a string");
    EXPECT(G(EMU("a", ",\"bufioreq\":\"fast\"")),
           "t.json: guests[0].emulators[0].bufioreq: must be \"off\", \"legacy\" or \"atomic\"");
    EXPECT(G(EMU("a", ",\"restart\":{\"policy\":\"sometimes\"}")),
           "t.json: guests[0].emulators[0].restart.policy: must be \"on-failure\", \"always\" "
           "or \"never\"");
    EXPECT("[]", "t.json: (top level): must be an object");
    EXPECT("{\"guests\":{}}", "t.json: guests: must be an array");
}

static void test_bad_number(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"ports\":[\"0x3g8-0x3ff\"]")),
           "t.json: guests[0].emulators[0].ports[0]: bad number \"0x3g8\" (expected decimal "
           "or 0x-prefixed hex)");
    EXPECT(G(EMU("a", ",\"mmio\":[\"0xfee00000\"]")),
           "t.json: guests[0].emulators[0].mmio[0]: \"0xfee00000\" is not a range (expected "
           "\"START-END\", e.g. \"0x3f8-0x3ff\")");
    EXPECT(G(EMU("a", ",\"mmio\":[\"0x1-0x10000000000000000\"]")),
           "t.json: guests[0].emulators[0].mmio[0]: bad number \"0x10000000000000000\" "
           "(expected decimal or 0x-prefixed hex)");
    EXPECT("{\"guests\":[{\"domid\":1.5,\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[0].domid: must be an integer");
    EXPECT("{\"guests\":[{\"domid\":40000,\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[0].domid: must be between 1 and 32751");
    EXPECT(G(EMU("a", ",\"restart\":{\"max_restarts\":-1,\"window_s\":0}")),
           "t.json: guests[0].emulators[0].restart.max_restarts: must be between 0 and 64",
           "t.json: guests[0].emulators[0].restart.window_s: must be between 1 and 86400");
    /* the daemon keeps 64 restart times: more could never be counted */
    EXPECT(G(EMU("a", ",\"restart\":{\"max_restarts\":65}")),
           "t.json: guests[0].emulators[0].restart.max_restarts: must be between 0 and 64");
}

static void test_bad_sbdf(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"pci\":[\"00:5.0\"]")),
           "t.json: guests[0].emulators[0].pci[0]: \"00:5.0\" is not a PCI address (expected "
           "\"SSSS:BB:DD.F\" or \"BB:DD.F\", e.g. \"0000:00:05.0\")");
    EXPECT(G(EMU("a", ",\"pci\":[\"00:20.0\", \"0000:00:05.8\"]")),
           "t.json: guests[0].emulators[0].pci[0]: \"00:20.0\": device number 0x20 is above 0x1f",
           "t.json: guests[0].emulators[0].pci[1]: \"0000:00:05.8\": function number 8 is "
           "above 7");
    EXPECT(G(EMU("a", ",\"pci\":[\"00:05.0\"]") "," EMU("b", ",\"pci\":[\"0000:00:05.0\"]")),
           "t.json: guests[0].emulators[1].pci[0]: 0000:00:05.0 is also used by \"a\"");
    /* 0000:00:00.0 is an address like any other; an entry that does not
     * parse conflicts with nothing */
    EXPECT(G(EMU("a", ",\"pci\":[\"00:00.0\",\"xx\",\"0000:00:00.0\"]") ","
             EMU("b", ",\"pci\":[\"yy\",\"00:00.0\"]")),
           "t.json: guests[0].emulators[0].pci[1]: \"xx\" is not a PCI address (expected "
           "\"SSSS:BB:DD.F\" or \"BB:DD.F\", e.g. \"0000:00:05.0\")",
           "t.json: guests[0].emulators[0].pci[2]: duplicate of pci[0]",
           "t.json: guests[0].emulators[1].pci[0]: \"yy\" is not a PCI address (expected "
           "\"SSSS:BB:DD.F\" or \"BB:DD.F\", e.g. \"0000:00:05.0\")",
           "t.json: guests[0].emulators[1].pci[1]: 0000:00:00.0 is also used by \"a\"",
           "t.json: guests[0].emulators[1].pci[1]: 0000:00:00.0 is also used by \"a\"");
}

static void test_start_above_end(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"ports\":[\"0x3ff-0x3f8\"]")),
           "t.json: guests[0].emulators[0].ports[0]: start 0x3ff is above end 0x3f8");
}

static void test_port_above_ffff(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"ports\":[\"0xfff8-0x10007\"]")),
           "t.json: guests[0].emulators[0].ports[0]: port 0x10007 is above 0xffff");
    /* MMIO may be anywhere in 64 bits. */
    router_config_free(parse_ok(
        G(EMU("a", ",\"mmio\":[\"0xfffffffffffff000-0xffffffffffffffff\"]")), "t.json", &opts));
}

static void test_overlap(void **s)
{
    (void)s;
    EXPECT(G(EMU("uart0", ",\"ports\":[\"0x3f8-0x3ff\"]") ","
             EMU("uart1", ",\"ports\":[\"0x2f8-0x2ff\",\"0x3fc-0x3fc\"]")),
           "t.json: guests[0].emulators[1].ports[1]: overlaps \"uart0\" 0x3f8-0x3ff");
    EXPECT(G(EMU("a", ",\"mmio\":[\"0x1000-0x1fff\"]") ","
             EMU("b", ",\"mmio\":[\"0x0-0x1000\"]")),
           "t.json: guests[0].emulators[1].mmio[0]: overlaps \"a\" 0x1000-0x1fff");
    /* within one emulator */
    EXPECT(G(EMU("a", ",\"ports\":[\"0x60-0x64\",\"0x64-0x64\"]")),
           "t.json: guests[0].emulators[0].ports[1]: overlaps ports[0] 0x60-0x64 of the same "
           "emulator");
    /* ports and MMIO are separate spaces; different guests don't conflict */
    router_config_free(parse_ok("{\"guests\":[{\"name\":\"x\",\"emulators\":["
                                EMU("a", ",\"ports\":[\"0x3f8-0x3ff\"]") "]},"
                                "{\"name\":\"y\",\"emulators\":["
                                EMU("a", ",\"ports\":[\"0x3f8-0x3ff\"],\"mmio\":[\"0x3f8-0x3ff\"]")
                                "]}]}", "t.json", &opts));
}

static void test_duplicates(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", "") "," EMU("b", "") "," EMU("a", "")),
           "t.json: guests[0].emulators[2].id: duplicate emulator id \"a\" (already used by "
           "emulators[0])");
    EXPECT("{\"guests\":[{\"name\":\"g\",\"domid\":3,\"emulators\":[" EMU("a", "") "]},"
           "{\"name\":\"g\",\"emulators\":[" EMU("a", "") "]},"
           "{\"domid\":3,\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[1].name: duplicate guest name \"g\" (already used by guests[0])",
           "t.json: guests[2].domid: duplicate guest domid 3 (already used by guests[0])");
}

static void test_too_many(void **s)
{
    (void)s;
    EXPECT(G(EMU("e1", "") "," EMU("e2", "") "," EMU("e3", "") "," EMU("e4", "") ","
             EMU("e5", "") "," EMU("e6", "") "," EMU("e7", "") "," EMU("e8", "") ","
             EMU("e9", "")),
           "t.json: guests[0].emulators: 9 emulators, but Xen allows 8 ioreq servers per guest");
}

/* A config of one emulator "a" whose KEY list holds N copies of ITEM. */
static char *repeated_list(const char *key, const char *item, size_t n)
{
    size_t len = 128 + strlen(key) + n * (strlen(item) + 3);
    char *text = malloc(len);
    assert_non_null(text);
    size_t at = (size_t)snprintf(text, len, "{\"guests\":[{\"name\":\"g\",\"emulators\":"
                                 "[{\"id\":\"a\",\"exec\":\"/bin/sh\",\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(text + at, len - at, "%s\"%s\"", i ? "," : "", item);
    snprintf(text + at, len - at, "]}]}]}");
    return text;
}

/* Lists longer than one ioreq server can hold are refused as a whole, and
 * each range that overlaps is reported once (a list of identical ranges
 * once gave a message per pair: quadratic time and output). */
static void test_range_limits(void **s)
{
    (void)s;
    char *text = repeated_list("ports", "0x10-0x10", ROUTER_MAX_RANGES + 1);
    EXPECT(text, "t.json: guests[0].emulators[0].ports: has 257 ranges, at most 256 (Xen's "
                 "limit for one ioreq server)");
    free(text);
    text = repeated_list("pci", "00:01.0", ROUTER_MAX_RANGES + 1);
    EXPECT(text, "t.json: guests[0].emulators[0].pci: has 257 functions, at most 256 (Xen's "
                 "limit for one ioreq server)");
    free(text);

    text = repeated_list("mmio", "0x1000-0x1fff", ROUTER_MAX_RANGES);
    struct config_errors errs;
    struct router_config *cfg = NULL;
    config_errors_init(&errs);
    assert_int_equal(router_config_parse_string(text, "t.json", &opts, &cfg, &errs), -1);
    assert_int_equal(errs.count, ROUTER_MAX_RANGES - 1); /* each after the first, once */
    assert_string_equal(errs.msg[ROUTER_MAX_RANGES - 2],
                        "t.json: guests[0].emulators[0].mmio[255]: overlaps mmio[0] "
                        "0x1000-0x1fff of the same emulator");
    config_errors_free(&errs);
    free(text);
    text = repeated_list("pci", "00:01.0", 3);
    EXPECT(text, "t.json: guests[0].emulators[0].pci[1]: duplicate of pci[0]",
           "t.json: guests[0].emulators[0].pci[2]: duplicate of pci[0]");
    free(text);
}

/* A NUL byte (\u0000) would cut a string short unseen: every such string
 * is reported, wherever it is, and nothing else is looked at. */
static void test_nul_bytes(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"args\":[\"--a\\u0000b\"],\"ports\":[\"1-2\\u0000-junk\"]")),
           "t.json: guests[0].emulators[0].args[0]: contains a NUL byte (\\u0000)",
           "t.json: guests[0].emulators[0].ports[0]: contains a NUL byte (\\u0000)");
    EXPECT("{\"guests\":[{\"name\":\"g\\u0000evil\",\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[0].name: contains a NUL byte (\\u0000)");
}

static void test_exec(void **s)
{
    (void)s;
    EXPECT(G("{\"id\":\"a\",\"exec\":\"/nonexistent/ioreq-x\"}"),
           "t.json: guests[0].emulators[0].exec: \"/nonexistent/ioreq-x\" not found");
    EXPECT(G("{\"id\":\"a\",\"exec\":\"/etc/passwd\"}"),
           "t.json: guests[0].emulators[0].exec: \"/etc/passwd\" is not executable");
    EXPECT(G("{\"id\":\"a\",\"exec\":\"no-such-ioreq-program\"}"),
           "t.json: guests[0].emulators[0].exec: \"no-such-ioreq-program\" not found "
           "(searched $PATH)");
    EXPECT(G("{\"id\":\"a\",\"exec\":\"bin/x\"}"),
           "t.json: guests[0].emulators[0].exec: \"bin/x\" must be an absolute path or a bare "
           "program name");
    /* found through exec_path (before $PATH) */
    struct router_config_options xo = {true, "/nonexistent:/bin", false};
    struct router_config *cfg = parse_ok(G("{\"id\":\"a\",\"exec\":\"sh\"}"), "t.json", &xo);
    assert_string_equal(cfg->guests[0].emulators[0].exec_resolved, "/bin/sh");
    router_config_free(cfg);
    expect_errors_v(G("{\"id\":\"a\",\"exec\":\"no-such-ioreq-program\"}"), &xo,
                    "t.json: guests[0].emulators[0].exec: \"no-such-ioreq-program\" not found "
                    "(searched the exec path and $PATH)", (const char *)NULL);
    /* a relative search directory is taken from the working directory, so
     * that the resolved path is absolute */
    char dir[] = "/tmp/router-config-test.XXXXXX", here[PATH_MAX], prog[PATH_MAX + 32];
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(here, sizeof(here)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(mkdir("relbin", 0700), 0);
    snprintf(prog, sizeof(prog), "%s/relbin/ioreq-rel", dir);
    FILE *f = fopen(prog, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(prog, 0700), 0);
    struct router_config_options ro = {true, "/nonexistent:relbin", false};
    cfg = parse_ok(G("{\"id\":\"a\",\"exec\":\"ioreq-rel\"}"), "t.json", &ro);
    assert_int_equal(chdir(here), 0);
    assert_string_equal(cfg->guests[0].emulators[0].exec_resolved, prog);
    router_config_free(cfg);
    assert_int_equal(unlink(prog), 0);
    snprintf(prog, sizeof(prog), "%s/relbin", dir);
    assert_int_equal(rmdir(prog), 0);
    assert_int_equal(rmdir(dir), 0);
    /* not checked when check_exec is false */
    struct router_config_options nx = {false, NULL, false};
    cfg = parse_ok(G("{\"id\":\"a\",\"exec\":\"nope-nope\"}"), "t.json", &nx);
    assert_null(cfg->guests[0].emulators[0].exec_resolved);
    router_config_free(cfg);
}

static void test_missing_and_empty(void **s)
{
    (void)s;
    EXPECT(G("{\"exec\":\"/bin/sh\"}"),
           "t.json: guests[0].emulators[0]: missing required key \"id\"");
    EXPECT(G("{\"id\":\"a\"}"), "t.json: guests[0].emulators[0]: missing required key \"exec\"");
    EXPECT("{}", "t.json: (top level): missing required key \"guests\"");
    EXPECT("{\"guests\":[{\"name\":\"g\"}]}",
           "t.json: guests[0]: missing required key \"emulators\"");
    EXPECT("{\"guests\":[{\"name\":\"g\",\"emulators\":[]}]}",
           "t.json: guests[0].emulators: must list at least one emulator");
    EXPECT("{\"guests\":[{\"name\":\"\",\"emulators\":[" EMU("", ",\"user\":\"\"") "]}]}",
           "t.json: guests[0].name: must not be empty",
           "t.json: guests[0].emulators[0].id: must not be empty",
           "t.json: guests[0].emulators[0].user: must not be empty");
    EXPECT("{\"guests\":[{\"hold\":true,\"emulators\":[" EMU("a", "") "]}]}",
           "t.json: guests[0]: missing required key \"name\" or \"domid\"");
}

static void test_bad_json(void **s)
{
    (void)s;
    EXPECT("{\n  \"guests\": [,]\n}",
           "t.json: line 2, column 14: not valid JSON: unexpected character");
    EXPECT("{\"guests\":[]} x", "t.json: line 1, column 15: not valid JSON: unexpected text "
                                "after the end");
}

static void test_many_errors_together(void **s)
{
    (void)s;
    EXPECT("{\"guests\":[{\"name\":\"demo\",\"hold\":true,\"emulators\":["
           "{\"id\":\"uart0\",\"exec\":\"/bin/sh\",\"ports\":[\"0x3f8-0x3ff\"]},"
           "{\"id\":\"uart0\",\"exec\":\"/nonexistent\",\"ports\":[\"0x3fa-0x3fa\"],"
           "\"pci\":[\"zz\"],\"bufioreq\":\"x\",\"speed\":9},"
           "{\"exec\":\"/bin/sh\",\"mmio\":[\"0x10-0x1\"]}]}]}",
           "t.json: guests[0].emulators[1].speed: unknown key",
           "t.json: guests[0].emulators[1].bufioreq: must be \"off\", \"legacy\" or \"atomic\"",
           "t.json: guests[0].emulators[1].pci[0]: \"zz\" is not a PCI address (expected "
           "\"SSSS:BB:DD.F\" or \"BB:DD.F\", e.g. \"0000:00:05.0\")",
           "t.json: guests[0].emulators[1].exec: \"/nonexistent\" not found",
           "t.json: guests[0].emulators[1].id: duplicate emulator id \"uart0\" (already used "
           "by emulators[0])",
           "t.json: guests[0].emulators[2]: missing required key \"id\"",
           "t.json: guests[0].emulators[2].mmio[0]: start 0x10 is above end 0x1",
           "t.json: guests[0].emulators[1].ports[0]: overlaps \"uart0\" 0x3f8-0x3ff");
}

static void test_valid(void **s)
{
    (void)s;
    const char *text =
        "{\"guests\":[{\"name\":\"demo\",\"hold\":true,\"emulators\":["
        "{\"id\":\"uart0\",\"exec\":\"/bin/sh\",\"args\":[\"--baud\",\"115200\"],"
        " \"bufioreq\":\"atomic\",\"ports\":[\"0x3f8-0x3ff\",\"760-767\"],"
        " \"user\":\"emu\",\"group\":\"emu\","
        " \"restart\":{\"policy\":\"always\",\"max_restarts\":3,\"window_s\":10}},"
        "{\"id\":\"pci0\",\"exec\":\"sh\",\"pci\":[\"00:05.0\",\"0001:02:1f.7\"],"
        " \"mmio\":[\"0xfebf0000-0xfebfffff\"]}]},"
        "{\"domid\":7,\"emulators\":[{\"id\":\"x\",\"exec\":\"/bin/sh\",\"bufioreq\":\"legacy\"}]}]}";
    struct router_config *cfg = parse_ok(text, "t.json", &opts);
    assert_int_equal(cfg->nguests, 2);
    const struct router_guest *g = &cfg->guests[0];
    assert_string_equal(g->name, "demo");
    assert_false(g->has_domid);
    assert_true(g->hold);
    assert_int_equal(g->nemulators, 2);
    const struct router_emulator *e = &g->emulators[0];
    assert_string_equal(e->id, "uart0");
    assert_string_equal(e->exec, "/bin/sh");
    assert_string_equal(e->exec_resolved, "/bin/sh");
    assert_int_equal(e->nargs, 2);
    assert_string_equal(e->args[0], "--baud");
    assert_string_equal(e->args[1], "115200");
    assert_null(e->args[2]);
    assert_int_equal(e->bufioreq, ROUTER_BUFIOREQ_ATOMIC);
    assert_int_equal(e->nports, 2);
    assert_int_equal(e->ports[0].start, 0x3f8);
    assert_int_equal(e->ports[0].end, 0x3ff);
    assert_int_equal(e->ports[1].start, 0x2f8);
    assert_int_equal(e->ports[1].end, 0x2ff);
    assert_string_equal(e->user, "emu");
    assert_string_equal(e->group, "emu");
    assert_int_equal(e->restart.policy, ROUTER_RESTART_ALWAYS);
    assert_int_equal(e->restart.max_restarts, 3);
    assert_int_equal(e->restart.window_s, 10);
    assert_int_equal(e->restart.backoff_ms, 500);
    assert_int_equal(e->ready_timeout_ms, 10000);
    assert_true(e->isolation.namespaces);
    assert_true(e->isolation.seccomp);
    assert_false(e->isolation.has_cpus);
    e = &g->emulators[1];
    assert_string_equal(e->id, "pci0");
    assert_non_null(e->exec_resolved);
    assert_int_equal(e->nargs, 0);
    assert_int_equal(e->bufioreq, ROUTER_BUFIOREQ_OFF);
    assert_null(e->user);
    assert_int_equal(e->npci, 2);
    assert_int_equal(e->pci[0].segment, 0);
    assert_int_equal(e->pci[0].bus, 0);
    assert_int_equal(e->pci[0].dev, 5);
    assert_int_equal(e->pci[0].func, 0);
    assert_int_equal(e->pci[1].segment, 1);
    assert_int_equal(e->pci[1].bus, 2);
    assert_int_equal(e->pci[1].dev, 0x1f);
    assert_int_equal(e->pci[1].func, 7);
    assert_int_equal(e->nmmio, 1);
    assert_int_equal(e->mmio[0].start, 0xfebf0000);
    assert_int_equal(e->mmio[0].end, 0xfebfffff);
    assert_int_equal(e->restart.policy, ROUTER_RESTART_ON_FAILURE);
    assert_int_equal(e->restart.max_restarts, 5);
    assert_int_equal(e->restart.window_s, 60);
    g = &cfg->guests[1];
    assert_null(g->name);
    assert_true(g->has_domid);
    assert_int_equal(g->domid, 7);
    assert_false(g->hold);
    assert_int_equal(g->emulators[0].bufioreq, ROUTER_BUFIOREQ_LEGACY);
    assert_string_equal(router_bufioreq_name(ROUTER_BUFIOREQ_LEGACY), "legacy");
    assert_string_equal(router_restart_policy_name(ROUTER_RESTART_NEVER), "never");
    router_config_free(cfg);
}

static void test_load_file(void **s)
{
    (void)s;
    struct config_errors errs = {0};
    struct router_config *cfg = NULL;
    assert_int_equal(router_config_load("/nonexistent/r.json", &cfg, &errs), -1);
    assert_null(cfg);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.msg[0],
                        "/nonexistent/r.json: (file): cannot read: No such file or directory");
    config_errors_free(&errs);
}

static void test_overlap_no_id(void **s)
{
    (void)s;
    EXPECT(G("{\"exec\":\"/bin/sh\",\"ports\":[\"1-2\"]}," EMU("b", ",\"ports\":[\"2-3\"]")),
           "t.json: guests[0].emulators[0]: missing required key \"id\"",
           "t.json: guests[0].emulators[1].ports[0]: overlaps emulators[0] 0x1-0x2");
}

/* ---------------- new keys ---------------- */

static void test_backoff_and_ready_timeout(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"restart\":{\"backoff_ms\":0}")),
           "t.json: guests[0].emulators[0].restart.backoff_ms: must be between 1 and 60000");
    EXPECT(G(EMU("a", ",\"restart\":{\"backoff_ms\":60001},\"ready_timeout_ms\":99")),
           "t.json: guests[0].emulators[0].restart.backoff_ms: must be between 1 and 60000",
           "t.json: guests[0].emulators[0].ready_timeout_ms: must be between 100 and 600000");
    EXPECT(G(EMU("a", ",\"restart\":{\"backoff_ms\":\"1s\"},\"ready_timeout_ms\":600001")),
           "t.json: guests[0].emulators[0].restart.backoff_ms: must be an integer",
           "t.json: guests[0].emulators[0].ready_timeout_ms: must be between 100 and 600000");
    EXPECT(G(EMU("a", ",\"ready_timeout_ms\":1.5")),
           "t.json: guests[0].emulators[0].ready_timeout_ms: must be an integer");
    EXPECT(G(EMU("a", ",\"restart\":{\"backoff\":5}")),
           "t.json: guests[0].emulators[0].restart.backoff: unknown key");

    struct router_config *cfg = parse_ok(
        G(EMU("a", ",\"restart\":{\"backoff_ms\":60000},\"ready_timeout_ms\":100")
          "," EMU("b", ",\"restart\":{\"backoff_ms\":1},\"ready_timeout_ms\":600000")),
        "t.json", &opts);
    assert_int_equal(cfg->guests[0].emulators[0].restart.backoff_ms, 60000);
    assert_int_equal(cfg->guests[0].emulators[0].ready_timeout_ms, 100);
    assert_int_equal(cfg->guests[0].emulators[1].restart.backoff_ms, 1);
    assert_int_equal(cfg->guests[0].emulators[1].ready_timeout_ms, 600000);
    /* unrelated restart keys keep their defaults */
    assert_int_equal(cfg->guests[0].emulators[1].restart.max_restarts, 5);
    assert_int_equal(cfg->guests[0].emulators[1].restart.window_s, 60);
    router_config_free(cfg);
}

static void test_isolation_valid(void **s)
{
    (void)s;
    struct router_config *cfg = parse_ok(
        G(EMU("a", ",\"isolation\":{\"namespaces\":false,\"seccomp\":\"off\","
                   "\"cpus\":[0,2,\"4-7\",\"1023-1023\"]}")
          "," EMU("b", ",\"isolation\":{\"seccomp\":\"default\"}")
          "," EMU("c", ",\"isolation\":{}")),
        "t.json", &opts);
    const struct router_isolation *iso = &cfg->guests[0].emulators[0].isolation;
    assert_false(iso->namespaces);
    assert_false(iso->seccomp);
    assert_true(iso->has_cpus);
    assert_int_equal(CPU_COUNT(&iso->cpus), 7);
    for (int cpu = 0; cpu < 9; cpu++)
        assert_int_equal(CPU_ISSET(cpu, &iso->cpus) != 0,
                         cpu == 0 || cpu == 2 || (cpu >= 4 && cpu <= 7));
    assert_true(CPU_ISSET(1023, &iso->cpus));
    iso = &cfg->guests[0].emulators[1].isolation;
    assert_true(iso->namespaces);
    assert_true(iso->seccomp);
    assert_false(iso->has_cpus);
    iso = &cfg->guests[0].emulators[2].isolation;
    assert_true(iso->namespaces);
    assert_true(iso->seccomp);
    assert_false(iso->has_cpus);
    router_config_free(cfg);
}

static void test_isolation_errors(void **s)
{
    (void)s;
    EXPECT(G(EMU("a", ",\"isolation\":true")),
           "t.json: guests[0].emulators[0].isolation: must be an object");
    EXPECT(G(EMU("a", ",\"isolation\":{\"netns\":true,\"namespaces\":\"yes\","
                      "\"seccomp\":\"strict\",\"cpus\":\"0-3\"}")),
           "t.json: guests[0].emulators[0].isolation.netns: unknown key",
           "t.json: guests[0].emulators[0].isolation.namespaces: must be true or false",
           "t.json: guests[0].emulators[0].isolation.seccomp: must be \"default\" or \"off\"",
           "t.json: guests[0].emulators[0].isolation.cpus: must be an array");
    EXPECT(G(EMU("a", ",\"isolation\":{\"seccomp\":true,\"cpus\":[]}")),
           "t.json: guests[0].emulators[0].isolation.seccomp: must be \"default\" or \"off\"",
           "t.json: guests[0].emulators[0].isolation.cpus: must list at least one CPU");
    EXPECT(G(EMU("a", ",\"isolation\":{\"cpus\":[-1,1024,true,1.5,\"3\",\"x-2\",\"0x1-2\","
                      "\"7-4\",\"0-1024\",\"-3\",\"2-\",9223372036854775807]}")),
           "t.json: guests[0].emulators[0].isolation.cpus[0]: must be between 0 and 1023",
           "t.json: guests[0].emulators[0].isolation.cpus[1]: must be between 0 and 1023",
           "t.json: guests[0].emulators[0].isolation.cpus[2]: must be a CPU number or a string "
           "\"A-B\", e.g. \"4-7\"",
           "t.json: guests[0].emulators[0].isolation.cpus[3]: must be a CPU number or a string "
           "\"A-B\", e.g. \"4-7\"",
           "t.json: guests[0].emulators[0].isolation.cpus[4]: \"3\" is not a CPU range "
           "(expected \"A-B\", e.g. \"4-7\")",
           "t.json: guests[0].emulators[0].isolation.cpus[5]: bad CPU number \"x\" (expected "
           "decimal)",
           "t.json: guests[0].emulators[0].isolation.cpus[6]: bad CPU number \"0x1\" (expected "
           "decimal)",
           "t.json: guests[0].emulators[0].isolation.cpus[7]: start 7 is above end 4",
           "t.json: guests[0].emulators[0].isolation.cpus[8]: CPU 1024 is above 1023",
           "t.json: guests[0].emulators[0].isolation.cpus[9]: bad CPU number \"\" (expected "
           "decimal)",
           "t.json: guests[0].emulators[0].isolation.cpus[10]: bad CPU number \"\" (expected "
           "decimal)",
           "t.json: guests[0].emulators[0].isolation.cpus[11]: must be between 0 and 1023");
}

/* ---------------- accounts ---------------- */

static void test_accounts(void **s)
{
    (void)s;
    /* "nobody" and group "root" exist; decimal ids are not looked up */
    router_config_free(parse_ok(G(EMU("a", ",\"user\":\"nobody\",\"group\":\"root\"") ","
                                  EMU("b", ",\"user\":\"4242424\",\"group\":\"0\"")),
                                "t.json", &acc_opts));
    expect_errors_v(G(EMU("a", ",\"user\":\"no-such-user-xyz\",\"group\":\"no-such-group-xyz\"")
                      "," EMU("b", ",\"user\":\"nobody\",\"group\":\"no-such-group-xyz\"")),
                    &acc_opts,
                    "t.json: guests[0].emulators[0].user: user \"no-such-user-xyz\" does not exist",
                    "t.json: guests[0].emulators[0].group: group \"no-such-group-xyz\" does not "
                    "exist",
                    "t.json: guests[0].emulators[1].group: group \"no-such-group-xyz\" does not "
                    "exist",
                    (const char *)NULL);
    /* not looked up when check_accounts is off ... */
    router_config_free(parse_ok(G(EMU("a", ",\"user\":\"no-such-user-xyz\"")), "t.json", &opts));
    /* ... but on in the defaults (opts NULL, as router_config_load) */
    expect_errors_v(G(EMU("a", ",\"user\":\"no-such-user-xyz\"")), NULL,
                    "t.json: guests[0].emulators[0].user: user \"no-such-user-xyz\" does not exist",
                    (const char *)NULL);
    /* ids out of range are reported even without lookups */
    EXPECT(G(EMU("a", ",\"user\":\"4294967295\",\"group\":\"99999999999999999999999\"")),
           "t.json: guests[0].emulators[0].user: user id 4294967295 is out of range (at most "
           "4294967294)",
           "t.json: guests[0].emulators[0].group: group id 99999999999999999999999 is out of "
           "range (at most 4294967294)");
}

/* ---------------- single emulators (xenstore) ---------------- */

#define XS "xenstore:/tool/ioreq-router/guests/demo/emulators/uart1"

static void expect_frag_v(const char *text, const char *where, const char *id,
                          const struct router_config_options *o, ...)
{
    struct config_errors errs;
    struct router_emulator *e = (void *)1;
    config_errors_init(&errs);
    int r = router_emulator_parse_string(text, where, id, o, &e, &errs);
    va_list ap;
    va_start(ap, o);
    expect_messages(&errs, ap);
    va_end(ap);
    assert_int_equal(r, -1);
    assert_null(e);
    config_errors_free(&errs);
}
#define EXPECT_FRAG(text, id, ...) \
    expect_frag_v(text, XS, id, &acc_opts, __VA_ARGS__, (const char *)NULL)

static struct router_emulator *frag(const char *text, const char *where, const char *id)
{
    struct config_errors errs = {0};
    struct router_emulator *e = NULL;
    int r = router_emulator_parse_string(text, where, id, &acc_opts, &e, &errs);
    if (r != 0)
        fail_msg("%s", errs.count ? errs.msg[0] : "failed without message");
    assert_non_null(e);
    assert_int_equal(errs.count, 0);
    config_errors_free(&errs);
    return e;
}

static void test_fragment_valid(void **s)
{
    (void)s;
    /* no "id": taken from the entry name */
    struct router_emulator *e =
        frag("{\"exec\":\"sh\",\"args\":[\"-c\",\"x\"],\"ports\":[\"0x2f8-0x2ff\"],"
             "\"bufioreq\":\"atomic\",\"pci\":[\"00:06.0\"],\"mmio\":[\"0x1000-0x1fff\"],"
             "\"user\":\"nobody\",\"restart\":{\"backoff_ms\":250},\"ready_timeout_ms\":2000,"
             "\"isolation\":{\"cpus\":[\"1-2\"]}}\n",
             XS, "uart1");
    assert_string_equal(e->id, "uart1");
    assert_string_equal(e->exec, "sh");
    assert_non_null(e->exec_resolved);
    assert_int_equal(e->nargs, 2);
    assert_string_equal(e->args[1], "x");
    assert_null(e->args[2]);
    assert_int_equal(e->bufioreq, ROUTER_BUFIOREQ_ATOMIC);
    assert_int_equal(e->nports, 1);
    assert_int_equal(e->ports[0].start, 0x2f8);
    assert_int_equal(e->nmmio, 1);
    assert_int_equal(e->npci, 1);
    assert_int_equal(e->pci[0].dev, 6);
    assert_string_equal(e->user, "nobody");
    assert_null(e->group);
    assert_int_equal(e->restart.policy, ROUTER_RESTART_ON_FAILURE);
    assert_int_equal(e->restart.max_restarts, 5);
    assert_int_equal(e->restart.backoff_ms, 250);
    assert_int_equal(e->ready_timeout_ms, 2000);
    assert_true(e->isolation.namespaces);
    assert_true(e->isolation.seccomp);
    assert_true(e->isolation.has_cpus);
    assert_int_equal(CPU_COUNT(&e->isolation.cpus), 2);
    router_emulator_free(e);
    /* an "id" equal to the entry name; defaults */
    e = frag("{\"id\":\"uart1\",\"exec\":\"/bin/sh\"}", XS, "uart1");
    assert_string_equal(e->id, "uart1");
    assert_int_equal(e->restart.backoff_ms, 500);
    assert_int_equal(e->ready_timeout_ms, 10000);
    assert_false(e->isolation.has_cpus);
    router_emulator_free(e);
    /* id NULL: the "id" key is used */
    e = frag("{\"id\":\"x\",\"exec\":\"/bin/sh\"}", XS, NULL);
    assert_string_equal(e->id, "x");
    router_emulator_free(e);
    router_emulator_free(NULL);
    router_emulator_clear(NULL);
}

static void test_fragment_errors(void **s)
{
    (void)s;
    EXPECT_FRAG("{\"id\":\"uart2\",\"exec\":\"/bin/sh\"}", "uart1",
                XS ": id: id \"uart2\" does not match the entry name \"uart1\"");
    EXPECT_FRAG("{\"exec\":\"/bin/sh\"}", NULL, XS ": (top level): missing required key \"id\"");
    EXPECT_FRAG("{\"id\":\"uart1\"}", "uart1", XS ": (top level): missing required key \"exec\"");
    EXPECT_FRAG("[]", "uart1", XS ": (top level): must be an object");
    EXPECT_FRAG("{\"exec\":", "uart1", XS ": line 1, column 9: not valid JSON: unexpected end of data");
    EXPECT_FRAG("{\"exec\":\"/bin/sh\"} {}", "uart1",
                XS ": line 1, column 20: not valid JSON: unexpected text after the end");
    EXPECT_FRAG("{\"id\":7,\"exec\":\"/bin/sh\",\"hold\":true,\"ports\":[\"0x3f8\"],"
                "\"restart\":{\"backoff_ms\":0},\"ready_timeout_ms\":0,"
                "\"isolation\":{\"cpus\":[\"2-1\"],\"seccomp\":\"on\"},"
                "\"user\":\"no-such-user-xyz\",\"group\":\"no-such-group-xyz\"}",
                "uart1",
                XS ": hold: unknown key",
                XS ": id: must be a string",
                XS ": ports[0]: \"0x3f8\" is not a range (expected \"START-END\", e.g. "
                   "\"0x3f8-0x3ff\")",
                XS ": restart.backoff_ms: must be between 1 and 60000",
                XS ": ready_timeout_ms: must be between 100 and 600000",
                XS ": isolation.seccomp: must be \"default\" or \"off\"",
                XS ": isolation.cpus[0]: start 2 is above end 1",
                XS ": user: user \"no-such-user-xyz\" does not exist",
                XS ": group: group \"no-such-group-xyz\" does not exist");
    EXPECT_FRAG("{\"exec\":\"no-such-ioreq-program\"}", "uart1",
                XS ": exec: \"no-such-ioreq-program\" not found (searched $PATH)");
    /* checks within the one emulator */
    EXPECT_FRAG("{\"exec\":\"/bin/sh\",\"ports\":[\"0x60-0x64\",\"0x64-0x64\"],"
                "\"pci\":[\"00:05.0\",\"0000:00:05.0\"]}", "uart1",
                XS ": pci[1]: duplicate of pci[0]",
                XS ": ports[1]: overlaps ports[0] 0x60-0x64 of the same emulator");
    /* a `where` that is a JSON path: keys are appended with '.' */
    expect_frag_v("{\"ports\":[\"0x64-0x60\"]}", "demo.json: guests[0].emulators[1]", "e",
                  &acc_opts,
                  "demo.json: guests[0].emulators[1]: missing required key \"exec\"",
                  "demo.json: guests[0].emulators[1].ports[0]: start 0x64 is above end 0x60",
                  (const char *)NULL);
    /* opts NULL: the defaults (executables and accounts checked) */
    expect_frag_v("{\"exec\":\"/nonexistent/x\",\"user\":\"no-such-user-xyz\"}", XS, "uart1",
                  NULL, XS ": exec: \"/nonexistent/x\" not found",
                  XS ": user: user \"no-such-user-xyz\" does not exist", (const char *)NULL);
}

/* ---------------- copy and equal ---------------- */

static const char full_emu[] =
    "{\"exec\":\"sh\",\"args\":[\"-c\",\"x\"],\"bufioreq\":\"legacy\","
    "\"ports\":[\"0x3f8-0x3ff\",\"0x2f8-0x2ff\"],\"mmio\":[\"0xfe000000-0xfe000fff\"],"
    "\"pci\":[\"0001:02:03.4\"],\"user\":\"nobody\",\"group\":\"root\","
    "\"restart\":{\"policy\":\"always\",\"max_restarts\":3,\"window_s\":30,\"backoff_ms\":100},"
    "\"ready_timeout_ms\":5000,"
    "\"isolation\":{\"namespaces\":true,\"seccomp\":\"default\",\"cpus\":[1,\"3-4\"]}}";

static void test_copy_equal(void **s)
{
    (void)s;
    struct router_emulator *a = frag(full_emu, XS, "e");
    struct router_emulator b;
    memset(&b, 0xa5, sizeof(b));
    assert_int_equal(router_emulator_copy(&b, a), 0);
    assert_true(router_emulator_equal(a, &b));
    assert_true(router_emulator_equal(&b, a));
    /* a deep copy */
    assert_ptr_not_equal(a->id, b.id);
    assert_string_equal(b.id, "e");
    assert_ptr_not_equal(a->exec, b.exec);
    assert_ptr_not_equal(a->exec_resolved, b.exec_resolved);
    assert_string_equal(b.exec_resolved, a->exec_resolved);
    assert_ptr_not_equal(a->args, b.args);
    assert_ptr_not_equal(a->args[0], b.args[0]);
    assert_int_equal(b.nargs, 2);
    assert_null(b.args[2]);
    assert_ptr_not_equal(a->ports, b.ports);
    assert_ptr_not_equal(a->mmio, b.mmio);
    assert_ptr_not_equal(a->pci, b.pci);
    assert_ptr_not_equal(a->user, b.user);
    assert_ptr_not_equal(a->group, b.group);
    assert_int_equal(b.ports[1].end, 0x2ff);
    assert_int_equal(b.pci[0].func, 4);
    assert_int_equal(b.restart.backoff_ms, 100);
    assert_int_equal(b.ready_timeout_ms, 5000);
    assert_true(CPU_EQUAL(&a->isolation.cpus, &b.isolation.cpus));

    /* every field difference makes them unequal */
    char *t;
#define DIFFER(stmt, undo)                              \
    do {                                                \
        stmt;                                           \
        assert_false(router_emulator_equal(a, &b));     \
        assert_false(router_emulator_equal(&b, a));     \
        undo;                                           \
        assert_true(router_emulator_equal(a, &b));      \
    } while (0)
    /* exec: with both resolved, the resolved paths are compared */
    t = b.exec_resolved;
    DIFFER(b.exec_resolved = "/usr/bin/other", b.exec_resolved = t);
    t = b.exec;
    b.exec = "/bin/sh"; /* ...not exec as written */
    assert_true(router_emulator_equal(a, &b));
    b.exec = t;
    free(b.exec_resolved);
    b.exec_resolved = NULL; /* one unresolved: exec as written is compared */
    assert_true(router_emulator_equal(a, &b));
    DIFFER(b.exec = "/bin/sh", b.exec = t);
    t = b.args[1];
    DIFFER(b.args[1] = "y", b.args[1] = t);
    DIFFER(b.nargs = 1, b.nargs = 2);
    DIFFER(b.bufioreq = ROUTER_BUFIOREQ_ATOMIC, b.bufioreq = ROUTER_BUFIOREQ_LEGACY);
    DIFFER(b.ports[1].start = 0x2f0, b.ports[1].start = 0x2f8);
    DIFFER(b.ports[0].end = 0x3fe, b.ports[0].end = 0x3ff);
    DIFFER(b.nports = 1, b.nports = 2);
    DIFFER(b.mmio[0].end++, b.mmio[0].end--);
    DIFFER(b.nmmio = 0, b.nmmio = 1);
    DIFFER(b.pci[0].segment = 0, b.pci[0].segment = 1);
    DIFFER(b.pci[0].bus = 0, b.pci[0].bus = 2);
    DIFFER(b.pci[0].dev = 0, b.pci[0].dev = 3);
    DIFFER(b.pci[0].func = 0, b.pci[0].func = 4);
    DIFFER(b.npci = 0, b.npci = 1);
    t = b.user;
    DIFFER(b.user = "root", b.user = t);
    DIFFER(b.user = NULL, b.user = t);
    t = b.group;
    DIFFER(b.group = "nogroup", b.group = t);
    DIFFER(b.group = NULL, b.group = t);
    DIFFER(b.restart.policy = ROUTER_RESTART_NEVER, b.restart.policy = ROUTER_RESTART_ALWAYS);
    DIFFER(b.restart.max_restarts = 4, b.restart.max_restarts = 3);
    DIFFER(b.restart.window_s = 31, b.restart.window_s = 30);
    DIFFER(b.restart.backoff_ms = 101, b.restart.backoff_ms = 100);
    DIFFER(b.ready_timeout_ms = 5001, b.ready_timeout_ms = 5000);
    DIFFER(b.isolation.namespaces = false, b.isolation.namespaces = true);
    DIFFER(b.isolation.seccomp = false, b.isolation.seccomp = true);
    DIFFER(b.isolation.has_cpus = false, b.isolation.has_cpus = true);
    DIFFER(CPU_SET(5, &b.isolation.cpus), CPU_CLR(5, &b.isolation.cpus));
    DIFFER(CPU_CLR(1, &b.isolation.cpus), CPU_SET(1, &b.isolation.cpus));
#undef DIFFER
    /* the id is not compared; the cpu set only with has_cpus */
    t = b.id;
    b.id = "other";
    assert_true(router_emulator_equal(a, &b));
    b.id = t;
    a->isolation.has_cpus = b.isolation.has_cpus = false;
    CPU_SET(9, &b.isolation.cpus);
    assert_true(router_emulator_equal(a, &b));
    assert_true(router_emulator_equal(a, a));
    assert_false(router_emulator_equal(a, NULL));

    router_emulator_clear(&b);
    assert_null(b.id);
    assert_null(b.args);
    assert_int_equal(b.nargs, 0);
    assert_int_equal(b.nports, 0);

    /* "sh" and "/bin/sh" both resolved to /bin/sh run the same program */
    struct router_emulator *c1 = frag("{\"exec\":\"/bin/sh\"}", XS, "e");
    struct config_errors errs = {0};
    struct router_emulator *c2 = NULL;
    struct router_config_options bin = {true, "/bin", false};
    assert_int_equal(router_emulator_parse_string("{\"exec\":\"sh\"}", XS, "e", &bin, &c2, &errs),
                     0);
    assert_string_equal(c2->exec_resolved, "/bin/sh");
    assert_true(router_emulator_equal(c1, c2));
    router_emulator_free(c2);

    /* copy of an emulator with nothing allocated */
    struct router_emulator z, zc;
    memset(&z, 0, sizeof(z));
    assert_int_equal(router_emulator_copy(&zc, &z), 0);
    assert_null(zc.id);
    assert_null(zc.args);
    assert_null(zc.ports);
    assert_true(router_emulator_equal(&z, &zc));
    router_emulator_clear(&zc);
    router_emulator_free(c1);
    router_emulator_free(a);
    config_errors_free(&errs);
}

/* ---------------- guest checks over file + xenstore emulators ---------------- */

#define XSG "xenstore:/tool/ioreq-router/guests/demo/emulators/"

static void expect_guest_v(const char *label, struct router_emulator *const *emus,
                           const char *const *where, size_t n, ...)
{
    struct config_errors errs = {0};
    int r = router_guest_check(label, emus, where, n, &errs);
    va_list ap;
    va_start(ap, n);
    size_t nmsg = expect_messages(&errs, ap);
    va_end(ap);
    assert_int_equal(r, nmsg ? -1 : 0);
    config_errors_free(&errs);
}

static void test_guest_check(void **s)
{
    (void)s;
    struct config_errors errs = {0};
    struct router_config *cfg =
        parse_ok("{\"guests\":[{\"name\":\"demo\",\"emulators\":["
                 EMU("uart0", ",\"ports\":[\"0x3f8-0x3ff\"]") ","
                 EMU("pci0", ",\"pci\":[\"00:05.0\"],\"mmio\":[\"0x1000-0x1fff\"]")
                 "]}]}", "demo.json", &opts);
    struct router_guest *g = &cfg->guests[0];
    struct router_emulator *ok1 = frag("{\"exec\":\"/bin/sh\",\"ports\":[\"0x2f8-0x2ff\"]}",
                                       XSG "uart1", "uart1");
    struct router_emulator *bad = frag("{\"exec\":\"/bin/sh\",\"ports\":[\"0x3fc-0x400\"],"
                                       "\"mmio\":[\"0x1800-0x2000\"],\"pci\":[\"0000:00:05.0\"]}",
                                       XSG "uart2", "uart2");
    struct router_emulator *dup = frag("{\"exec\":\"/bin/sh\"}", XSG "uart0", "uart0");

    /* no conflicts */
    struct router_emulator *emus[10] = {&g->emulators[0], &g->emulators[1], ok1};
    const char *where[10] = {"demo.json: guests[0].emulators[0]",
                             "demo.json: guests[0].emulators[1]", XSG "uart1"};
    expect_guest_v("demo.json: guests[0]", emus, where, 3, (const char *)NULL);
    assert_int_equal(router_guest_check("demo.json: guests[0]", emus, where, 0, &errs), 0);

    /* a xenstore entry overlapping the file's emulators, and a duplicate id */
    emus[3] = bad, where[3] = XSG "uart2";
    emus[4] = dup, where[4] = XSG "uart0";
    expect_guest_v("demo.json: guests[0]", emus, where, 5,
                   XSG "uart0: id: duplicate emulator id \"uart0\" (already used by demo.json: "
                   "guests[0].emulators[0])",
                   XSG "uart2: ports[0]: overlaps \"uart0\" 0x3f8-0x3ff",
                   XSG "uart2: mmio[0]: overlaps \"pci0\" 0x1000-0x1fff",
                   XSG "uart2: pci[0]: 0000:00:05.0 is also used by \"pci0\"",
                   (const char *)NULL);

    /* the other way round: the file's emulator comes later and gets the message,
     * named in the file's style */
    struct router_emulator *rev[2] = {bad, &g->emulators[0]};
    const char *rwhere[2] = {XSG "uart2", "demo.json: guests[0].emulators[0]"};
    expect_guest_v("demo.json: guests[0]", rev, rwhere, 2,
                   "demo.json: guests[0].emulators[0].ports[0]: overlaps \"uart2\" 0x3fc-0x400",
                   (const char *)NULL);

    /* file-only: the same messages as whole-file validation */
    struct router_emulator *dup2 = frag("{\"exec\":\"/bin/sh\",\"ports\":[\"0x3f8-0x3f8\"]}",
                                        XSG "uart0", "uart0");
    struct router_emulator *fe[3] = {&g->emulators[0], &g->emulators[1], dup2};
    const char *fw[3] = {"demo.json: guests[0].emulators[0]", "demo.json: guests[0].emulators[1]",
                         "demo.json: guests[0].emulators[2]"};
    expect_guest_v("demo.json: guests[0]", fe, fw, 3,
                   "demo.json: guests[0].emulators[2].id: duplicate emulator id \"uart0\" "
                   "(already used by emulators[0])",
                   "demo.json: guests[0].emulators[2].ports[0]: overlaps \"uart0\" 0x3f8-0x3ff",
                   (const char *)NULL);

    /* more than 8 emulators */
    struct router_emulator *many[9];
    const char *mw[9];
    char names[9][80];
    for (int i = 0; i < 9; i++) {
        snprintf(names[i], sizeof(names[i]), XSG "e%d", i);
        char id[8];
        snprintf(id, sizeof(id), "e%d", i);
        many[i] = frag("{\"exec\":\"/bin/sh\"}", names[i], id);
        mw[i] = names[i];
    }
    expect_guest_v("xenstore:/tool/ioreq-router/guests/demo", many, mw, 9,
                   "xenstore:/tool/ioreq-router/guests/demo: emulators: 9 emulators, but Xen "
                   "allows 8 ioreq servers per guest",
                   (const char *)NULL);
    expect_guest_v("demo.json: guests[0]", many, mw, 9,
                   "demo.json: guests[0].emulators: 9 emulators, but Xen allows 8 ioreq servers "
                   "per guest",
                   (const char *)NULL);
    expect_guest_v("demo.json: guests[0]", many, mw, 8, (const char *)NULL);
    for (int i = 0; i < 9; i++)
        router_emulator_free(many[i]);

    router_emulator_free(ok1);
    router_emulator_free(bad);
    router_emulator_free(dup);
    router_emulator_free(dup2);
    router_config_free(cfg);
    config_errors_free(&errs);
}

/* ---------------- formatting ---------------- */

static void test_format(void **s)
{
    (void)s;
    char buf[ROUTER_FORMAT_LEN];
    struct router_range r = {0x3f8, 0x3ff};
    router_range_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0x3f8-0x3ff");
    r = (struct router_range){0, UINT64_MAX};
    router_range_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0x0-0xffffffffffffffff");
    router_range_format(&r, buf, 6);
    assert_string_equal(buf, "0x0-0");
    struct router_sbdf sb = {0, 0, 5, 0};
    router_sbdf_format(&sb, buf, sizeof(buf));
    assert_string_equal(buf, "0000:00:05.0");
    sb = (struct router_sbdf){0xffff, 0xab, 0x1f, 7};
    router_sbdf_format(&sb, buf, sizeof(buf));
    assert_string_equal(buf, "ffff:ab:1f.7");
    router_sbdf_format(&sb, buf, 0); /* writes nothing */
    assert_string_equal(buf, "ffff:ab:1f.7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_key),     cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_bad_number),      cmocka_unit_test(test_bad_sbdf),
        cmocka_unit_test(test_start_above_end), cmocka_unit_test(test_port_above_ffff),
        cmocka_unit_test(test_overlap),         cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_too_many),        cmocka_unit_test(test_range_limits),
        cmocka_unit_test(test_exec),            cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_missing_and_empty), cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_many_errors_together), cmocka_unit_test(test_valid),
        cmocka_unit_test(test_load_file),       cmocka_unit_test(test_overlap_no_id),
        cmocka_unit_test(test_backoff_and_ready_timeout),
        cmocka_unit_test(test_isolation_valid), cmocka_unit_test(test_isolation_errors),
        cmocka_unit_test(test_accounts),        cmocka_unit_test(test_fragment_valid),
        cmocka_unit_test(test_fragment_errors), cmocka_unit_test(test_copy_equal),
        cmocka_unit_test(test_guest_check),     cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
