/* Unit tests of router/config: exact validation messages, several at once,
 * and a valid config parsed into the expected structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router_config.h"

static const struct router_config_options opts = {true, NULL};

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
    size_t i = 0;
    for (const char *m; (m = va_arg(ap, const char *)); i++) {
        if (i >= errs.count)
            fail_msg("missing message %zu: %s", i, m);
        if (strcmp(errs.msg[i], m) != 0)
            fail_msg("message %zu:\n  got:      %s\n  expected: %s", i, errs.msg[i], m);
    }
    va_end(ap);
    if (errs.count != i)
        fail_msg("%zu extra message(s), first: %s", errs.count - i, errs.msg[i]);
    assert_int_equal(r, -1);
    assert_null(cfg);
    assert_false(errs.out_of_memory);
    config_errors_free(&errs);
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
           "t.json: guests[0].emulators[0].restart.max_restarts: must be between 0 and 1000000",
           "t.json: guests[0].emulators[0].restart.window_s: must be between 1 and 86400");
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
    struct config_errors errs = {0};
    struct router_config *cfg;
    assert_int_equal(router_config_parse_string(
                         G(EMU("a", ",\"mmio\":[\"0xfffffffffffff000-0xffffffffffffffff\"]")),
                         "t.json", &opts, &cfg, &errs), 0);
    router_config_free(cfg);
    config_errors_free(&errs);
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
    struct config_errors errs = {0};
    struct router_config *cfg;
    assert_int_equal(router_config_parse_string(
                         "{\"guests\":[{\"name\":\"x\",\"emulators\":["
                         EMU("a", ",\"ports\":[\"0x3f8-0x3ff\"]") "]},"
                         "{\"name\":\"y\",\"emulators\":["
                         EMU("a", ",\"ports\":[\"0x3f8-0x3ff\"],\"mmio\":[\"0x3f8-0x3ff\"]")
                         "]}]}", "t.json", &opts, &cfg, &errs), 0);
    router_config_free(cfg);
    config_errors_free(&errs);
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
    struct router_config_options xo = {true, "/nonexistent:/bin"};
    struct config_errors errs = {0};
    struct router_config *cfg;
    assert_int_equal(router_config_parse_string(G("{\"id\":\"a\",\"exec\":\"sh\"}"), "t.json",
                                                &xo, &cfg, &errs), 0);
    assert_string_equal(cfg->guests[0].emulators[0].exec_resolved, "/bin/sh");
    router_config_free(cfg);
    expect_errors_v(G("{\"id\":\"a\",\"exec\":\"no-such-ioreq-program\"}"), &xo,
                    "t.json: guests[0].emulators[0].exec: \"no-such-ioreq-program\" not found "
                    "(searched the exec path and $PATH)", (const char *)NULL);
    /* not checked when check_exec is false */
    struct router_config_options nx = {false, NULL};
    assert_int_equal(router_config_parse_string(G("{\"id\":\"a\",\"exec\":\"nope-nope\"}"),
                                                "t.json", &nx, &cfg, &errs), 0);
    assert_null(cfg->guests[0].emulators[0].exec_resolved);
    router_config_free(cfg);
    config_errors_free(&errs);
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
    struct config_errors errs = {0};
    struct router_config *cfg = NULL;
    assert_int_equal(router_config_parse_string(text, "t.json", &opts, &cfg, &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_non_null(cfg);
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
    config_errors_free(&errs);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_key),     cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_bad_number),      cmocka_unit_test(test_bad_sbdf),
        cmocka_unit_test(test_start_above_end), cmocka_unit_test(test_port_above_ffff),
        cmocka_unit_test(test_overlap),         cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_too_many),        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_missing_and_empty), cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_many_errors_together), cmocka_unit_test(test_valid),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
