/* Path rules and permission entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xs_path.h"
#include "xs_perms.h"
#include "xs_wire_inc.h"

static void test_valid_abs(void **state)
{
    char longp[XENSTORE_ABS_PATH_MAX + 2];

    (void)state;
    assert_true(xsim_path_valid_abs("/"));
    assert_true(xsim_path_valid_abs("/local/domain/0"));
    assert_true(xsim_path_valid_abs("/a-b_c@d/E9"));
    assert_false(xsim_path_valid_abs(""));
    assert_false(xsim_path_valid_abs("local"));
    assert_false(xsim_path_valid_abs("/a/"));
    assert_false(xsim_path_valid_abs("/a//b"));
    assert_false(xsim_path_valid_abs("//"));
    assert_false(xsim_path_valid_abs("/a b"));
    assert_false(xsim_path_valid_abs("/a.b"));
    assert_false(xsim_path_valid_abs("/a\nb"));
    assert_false(xsim_path_valid_abs("/\xc3\xa9"));

    memset(longp, 'x', sizeof(longp));
    longp[0] = '/';
    longp[XENSTORE_ABS_PATH_MAX] = '\0';
    assert_true(xsim_path_valid_abs(longp));
    longp[XENSTORE_ABS_PATH_MAX] = 'x';
    longp[XENSTORE_ABS_PATH_MAX + 1] = '\0';
    assert_false(xsim_path_valid_abs(longp));
}

static void test_special(void **state)
{
    (void)state;
    assert_true(xsim_path_is_special("@introduceDomain"));
    assert_true(xsim_path_is_special("@releaseDomain"));
    assert_false(xsim_path_is_special("@"));
    assert_false(xsim_path_is_special("@a/b"));
    assert_false(xsim_path_is_special("/@a"));
}

static void test_resolve(void **state)
{
    char *abs;
    size_t strip;
    char rel[XENSTORE_REL_PATH_MAX + 2];

    (void)state;
    assert_int_equal(xsim_path_resolve("/x/y", 3, false, &abs, &strip), 0);
    assert_string_equal(abs, "/x/y");
    assert_int_equal(strip, 0);
    free(abs);

    assert_int_equal(xsim_path_resolve("dev/vif", 3, false, &abs, &strip), 0);
    assert_string_equal(abs, "/local/domain/3/dev/vif");
    assert_int_equal(strip, strlen("/local/domain/3/"));
    free(abs);

    assert_int_equal(xsim_path_resolve("@releaseDomain", 0, false, &abs, NULL),
                     -EINVAL);
    assert_int_equal(xsim_path_resolve("@releaseDomain", 0, true, &abs, &strip), 0);
    assert_string_equal(abs, "@releaseDomain");
    assert_int_equal(strip, 0);
    free(abs);

    assert_int_equal(xsim_path_resolve("", 0, true, &abs, NULL), -EINVAL);
    assert_int_equal(xsim_path_resolve("a//b", 0, true, &abs, NULL), -EINVAL);
    assert_int_equal(xsim_path_resolve("a/", 0, true, &abs, NULL), -EINVAL);
    assert_int_equal(xsim_path_resolve("/a/", 0, true, &abs, NULL), -EINVAL);

    memset(rel, 'r', sizeof(rel));
    rel[XENSTORE_REL_PATH_MAX + 1] = '\0';
    assert_int_equal(xsim_path_resolve(rel, 0, false, &abs, NULL), -EINVAL);
    rel[XENSTORE_REL_PATH_MAX] = '\0';
    assert_int_equal(xsim_path_resolve(rel, 0, false, &abs, NULL), 0);
    free(abs);
}

static void test_under_and_parent(void **state)
{
    (void)state;
    assert_true(xsim_path_is_under("/a/b", "/a"));
    assert_true(xsim_path_is_under("/a", "/a"));
    assert_true(xsim_path_is_under("/a", "/"));
    assert_true(xsim_path_is_under("/", "/"));
    assert_false(xsim_path_is_under("/ab", "/a"));
    assert_false(xsim_path_is_under("/a", "/a/b"));
    assert_int_equal(xsim_path_parent_len("/a"), 1);
    assert_int_equal(xsim_path_parent_len("/a/bc"), 2);
    assert_int_equal(xsim_path_parent_len("/a/bc/d"), 5);
}

static void test_domid(void **state)
{
    unsigned int d;

    (void)state;
    assert_int_equal(xsim_parse_domid("0", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(xsim_parse_domid("32751", &d), 0);
    assert_int_equal(d, 32751);
    assert_int_equal(xsim_parse_domid("32752", &d), -EINVAL);
    assert_int_equal(xsim_parse_domid("", &d), -EINVAL);
    assert_int_equal(xsim_parse_domid("-1", &d), -EINVAL);
    assert_int_equal(xsim_parse_domid("1x", &d), -EINVAL);
    assert_int_equal(xsim_parse_domid("999999999999", &d), -EINVAL);
}

static void test_perm_strings(void **state)
{
    struct xsim_perm p;
    char buf[XSIM_PERM_STR_MAX];
    static const char *good[] = { "n0", "r1", "w22", "b32751" };
    static const char *bad[] = { "", "x1", "r", "r-1", "rr1", "b32752", "R1" };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(xsim_perm_parse(good[i], &p), 0);
        xsim_perm_format(&p, buf);
        assert_string_equal(buf, good[i]);
    }
    assert_int_equal(xsim_perm_parse("b4", &p), 0);
    assert_int_equal(p.perm, XSIM_PERM_BOTH);
    assert_int_equal(p.domid, 4);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(xsim_perm_parse(bad[i], &p), -EINVAL);
}

static void test_access(void **state)
{
    struct xsim_perm v[3] = {
        { 5, XSIM_PERM_READ },  /* owner 5, everyone else may read */
        { 7, XSIM_PERM_NONE },  /* except 7 */
        { 8, XSIM_PERM_WRITE }, /* and 8 may only write */
    };
    struct xsim_perms p = { 3, v }, q = { 0, NULL };
    const unsigned int all = XSIM_PERM_BOTH | XSIM_PERM_OWNER;

    (void)state;
    assert_int_equal(xsim_perms_access(&p, 5, false), all);
    assert_int_equal(xsim_perms_access(&p, 7, false), XSIM_PERM_NONE);
    assert_int_equal(xsim_perms_access(&p, 8, false), XSIM_PERM_WRITE);
    assert_int_equal(xsim_perms_access(&p, 9, false), XSIM_PERM_READ);
    assert_int_equal(xsim_perms_access(&p, 9, true), all);
    /* Dom0 is only special because it is privileged. */
    assert_int_equal(xsim_perms_access(&p, 0, false), XSIM_PERM_READ);

    assert_int_equal(xsim_perms_copy(&q, &p), 0);
    assert_true(xsim_perms_equal(&p, &q));
    q.p[2].perm = XSIM_PERM_BOTH;
    assert_false(xsim_perms_equal(&p, &q));
    assert_int_equal(xsim_perms_set(&q, v, 0), -EINVAL);
    xsim_perms_free(&q);
    assert_int_equal(xsim_perms_access(&q, 1, false), XSIM_PERM_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_abs),
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_under_and_parent),
        cmocka_unit_test(test_domid),
        cmocka_unit_test(test_perm_strings),
        cmocka_unit_test(test_access),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
