/* Store operations, permissions and domains, at the store API. */
#include <errno.h>

#include "xs_store_fixture.h"

static void test_initial_tree(void **state)
{
    struct fx *f = *state;
    char *list;
    size_t len;
    struct xsim_perms p = { 0, NULL };

    fx_expect_value(f, "/local/domain/0/name", "Domain-0");
    fx_expect_value(f, "/local/domain/0/domid", "0");
    fx_expect_value(f, "/tool", "");
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/", &list, &len,
                                          NULL), 0);
    assert_int_equal(len, sizeof("local\0tool"));
    assert_memory_equal(list, "local\0tool", len);
    free(list);
    assert_true(xsim_store_is_introduced(&f->st, 0));
    assert_false(xsim_store_is_introduced(&f->st, 1));
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/", &p), 0);
    assert_int_equal(p.num, 1);
    assert_int_equal(p.p[0].domid, 0);
    assert_int_equal(p.p[0].perm, XSIM_PERM_NONE);
    xsim_perms_free(&p);
    assert_int_equal(f->nev, 0);
}

static void test_read_write(void **state)
{
    struct fx *f = *state;
    char *v;
    size_t len;

    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/x"), -ENOENT);
    /* Values are bytes: embedded NULs survive. */
    assert_int_equal(xsim_store_write(&f->st, &f->dom0, 0, "/x/y/z", "a\0b", 3), 0);
    assert_int_equal(xsim_store_read(&f->st, &f->dom0, 0, "/x/y/z", &v, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "a\0b\0", 4);
    free(v);
    fx_expect_value(f, "/x/y", "");   /* created on the way */
    assert_int_equal(fx_write(f, &f->dom0, 0, "/x/y/z", ""), 0);
    fx_expect_value(f, "/x/y/z", "");

    /* Relative paths are under the caller's domain path. */
    assert_int_equal(fx_write(f, &f->dom0, 0, "rel/key", "r"), 0);
    fx_expect_value(f, "/local/domain/0/rel/key", "r");

    assert_int_equal(fx_write(f, &f->dom0, 0, "/bad/", "v"), -EINVAL);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/bad path", "v"), -EINVAL);
    assert_int_equal(fx_write(f, &f->dom0, 0, "@introduceDomain", "v"), -EINVAL);
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, ""), -EINVAL);
    assert_int_equal(xsim_store_write(&f->st, &f->dom0, 0, "/big", "",
                                      XENSTORE_PAYLOAD_MAX + 1), -E2BIG);
    assert_int_equal(fx_read_rc(f, &f->dom0, 77, "/x"), -ENOENT); /* no such tx */
}

static void test_mkdir_rm(void **state)
{
    struct fx *f = *state;
    char *list;
    size_t len;

    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/m/n"), 0);
    fx_expect_value(f, "/m/n", "");
    assert_int_equal(fx_write(f, &f->dom0, 0, "/m/n", "keep"), 0);
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/m/n"), 0);
    fx_expect_value(f, "/m/n", "keep"); /* mkdir of an existing node: no-op */

    assert_int_equal(fx_write(f, &f->dom0, 0, "/m/n/deep/er", "1"), 0);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/m/n"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/m/n/deep/er"), -ENOENT);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/m", &list,
                                          &len, NULL), 0);
    assert_int_equal(len, 0);
    free(list);
    /* Removing a missing node is fine if its parent is there. */
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/m/n"), 0);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/nope/n"), -ENOENT);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/"), -EINVAL);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/nope", &list,
                                          &len, NULL), -ENOENT);
}

static void test_directory_generation(void **state)
{
    struct fx *f = *state;
    char *list;
    size_t len;
    uint64_t g1, g2, g3;

    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/g"), 0);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/g", &list,
                                          &len, &g1), 0);
    free(list);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/g/a", "1"), 0);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/g", &list,
                                          &len, &g2), 0);
    free(list);
    assert_true(g2 != g1);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/g/a", "2"), 0);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom0, 0, "/g", &list,
                                          &len, &g3), 0);
    free(list);
    assert_true(g3 == g2); /* a child's value is not the directory */
}

static void test_perms_inherit_and_get_set(void **state)
{
    struct fx *f = *state;
    struct xsim_perm v[2] = { { 0, XSIM_PERM_READ }, { 5, XSIM_PERM_BOTH } };
    struct xsim_perms set = { 2, v }, got = { 0, NULL };

    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/p"), 0);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/p", &set), 0);
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/p", &got), 0);
    assert_true(xsim_perms_equal(&got, &set));
    xsim_perms_free(&got);

    /* A child made by dom0 inherits the parent's perms as they are. */
    assert_int_equal(fx_write(f, &f->dom0, 0, "/p/child", "c"), 0);
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/p/child", &got), 0);
    assert_true(xsim_perms_equal(&got, &set));
    xsim_perms_free(&got);

    /* A child made by a domain is owned by that domain. */
    assert_int_equal(fx_write(f, &f->dom5, 0, "/p/mine/leaf", "m"), 0);
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom5, 0, "/p/mine/leaf",
                                          &got), 0);
    assert_int_equal(got.num, 2);
    assert_int_equal(got.p[0].domid, 5);
    assert_int_equal(got.p[0].perm, XSIM_PERM_READ);
    xsim_perms_free(&got);
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/p/mine", &got), 0);
    assert_int_equal(got.p[0].domid, 5);
    xsim_perms_free(&got);

    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/p/none", &got),
                     -ENOENT);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/p/none", &set),
                     -ENOENT);
    set.num = 0;
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/p", &set),
                     -EINVAL);
}

static void test_perms_enforced_for_domains(void **state)
{
    struct fx *f = *state;
    struct xsim_perm ro[2] = { { 0, XSIM_PERM_NONE }, { 5, XSIM_PERM_READ } };
    struct xsim_perm own5[1] = { { 5, XSIM_PERM_NONE } };
    struct xsim_perm give[1] = { { 6, XSIM_PERM_NONE } };
    struct xsim_perm share[2] = { { 5, XSIM_PERM_NONE }, { 6, XSIM_PERM_READ } };
    struct xsim_perms p_ro = { 2, ro }, p_own5 = { 1, own5 };
    struct xsim_perms p_give = { 1, give }, p_share = { 2, share };
    char *list;
    size_t len;

    /* Everything is dom0's "n0" by default: a domain sees nothing. */
    assert_int_equal(fx_read_rc(f, &f->dom5, 0, "/tool"), -EACCES);
    assert_int_equal(fx_read_rc(f, &f->dom5, 0, "/tool/missing"), -EACCES);
    assert_int_equal(fx_write(f, &f->dom5, 0, "/tool/x", "v"), -EACCES);
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom5, 0, "/tool/x"), -EACCES);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom5, 0, "/tool"), -EACCES);
    assert_int_equal(xsim_store_directory(&f->st, &f->dom5, 0, "/", &list, &len,
                                          NULL), -EACCES);

    /* Read-only for dom5. */
    assert_int_equal(fx_write(f, &f->dom0, 0, "/ro/k", "v"), 0);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/ro", &p_ro), 0);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/ro/k", &p_ro), 0);
    assert_int_equal(fx_read_rc(f, &f->dom5, 0, "/ro/k"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom6, 0, "/ro/k"), -EACCES);
    assert_int_equal(fx_read_rc(f, &f->dom5, 0, "/ro/missing"), -ENOENT);
    assert_int_equal(fx_write(f, &f->dom5, 0, "/ro/k", "w"), -EACCES);
    assert_int_equal(fx_write(f, &f->dom5, 0, "/ro/new", "w"), -EACCES);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom5, 0, "/ro/k"), -EACCES);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom5, 0, "/ro/k", &p_ro),
                     -EACCES);
    fx_expect_value(f, "/ro/k", "v");

    /* Owned by dom5: full control, but it cannot give the node away. */
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/own"), 0);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/own", &p_own5), 0);
    assert_int_equal(fx_write(f, &f->dom5, 0, "/own/a", "1"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom5, 0, "/own/a"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom6, 0, "/own/a"), -EACCES);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom5, 0, "/own/a",
                                          &p_give), -EPERM);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom5, 0, "/own/a",
                                          &p_share), 0);
    assert_int_equal(fx_read_rc(f, &f->dom6, 0, "/own/a"), 0);
    assert_int_equal(fx_write(f, &f->dom6, 0, "/own/a", "x"), -EACCES);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom5, 0, "/own/a"), 0);
    /* dom0 may always give nodes away. */
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/own", &p_give), 0);
    assert_int_equal(fx_write(f, &f->dom5, 0, "/own/b", "1"), -EACCES);
}

static void test_domains(void **state)
{
    struct fx *f = *state;
    struct xsim_perms p = { 0, NULL };
    char *v;
    size_t len;

    assert_int_equal(xsim_store_introduce(&f->st, 3, "guest3", true), 0);
    assert_true(xsim_store_is_introduced(&f->st, 3));
    fx_expect_value(f, "/local/domain/3/name", "guest3");
    fx_expect_value(f, "/local/domain/3/domid", "3");
    assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0, "/local/domain/3",
                                          &p), 0);
    assert_int_equal(p.num, 1);
    assert_int_equal(p.p[0].domid, 3);
    assert_int_equal(p.p[0].perm, XSIM_PERM_NONE);
    xsim_perms_free(&p);

    /* The domain owns its directory: relative paths work for it. */
    {
        struct xsim_caller d3 = { 3, false, &f->owner_c };

        assert_int_equal(fx_write(f, &d3, 0, "data/x", "1"), 0);
        assert_int_equal(xsim_store_read(&f->st, &d3, 0, "name", &v, &len), 0);
        assert_string_equal(v, "guest3");
        free(v);
        assert_int_equal(fx_read_rc(f, &d3, 0, "/local/domain/0/name"), -EACCES);
    }

    assert_int_equal(xsim_store_introduce(&f->st, 3, "again", true), -EEXIST);
    assert_int_equal(xsim_store_introduce(&f->st, 0x7ff0, "x", true), -EINVAL);
    assert_int_equal(xsim_store_release(&f->st, 3, true), 0);
    assert_false(xsim_store_is_introduced(&f->st, 3));
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/local/domain/3"), -ENOENT);
    assert_int_equal(xsim_store_release(&f->st, 3, true), -ENOENT);
    assert_int_equal(xsim_store_release(&f->st, 0, true), -EINVAL);

    /* Without nodes (the wire's INTRODUCE/RELEASE). */
    assert_int_equal(xsim_store_introduce(&f->st, 9, NULL, false), 0);
    assert_true(xsim_store_is_introduced(&f->st, 9));
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/local/domain/9"), -ENOENT);
    assert_int_equal(xsim_store_release(&f->st, 9, false), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initial_tree, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_write, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_rm, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_directory_generation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_perms_inherit_and_get_set, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_perms_enforced_for_domains, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_domains, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
