/* The node tree: creation, inheritance, generations, removal, cloning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xs_tree.h"

static int setup(void **state)
{
    struct xsim_tree *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    assert_int_equal(xsim_tree_init(t), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    xsim_tree_destroy(*state);
    free(*state);
    return 0;
}

static void test_root(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_node *r = xsim_tree_lookup(t, "/");
    char *p;

    assert_ptr_equal(r, t->root);
    assert_int_equal(r->perms.num, 1);
    assert_int_equal(r->perms.p[0].domid, 0);
    assert_int_equal(r->perms.p[0].perm, XSIM_PERM_NONE);
    assert_true(r->gen > 0);
    assert_int_equal(t->nnodes, 1);
    p = xsim_node_path(r);
    assert_string_equal(p, "/");
    free(p);
    assert_null(xsim_tree_lookup(t, "/nope"));
    assert_ptr_equal(xsim_tree_nearest(t, "/nope/deeper"), r);
}

static void test_create_chain_and_inherit(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_node *a, *abc;
    struct xsim_perm p[2] = { { 0, XSIM_PERM_READ }, { 7, XSIM_PERM_WRITE } };
    struct xsim_perms perms = { 2, p };
    unsigned int made;
    uint64_t root_gen = t->root->gen;
    char *path;

    assert_int_equal(xsim_tree_create(t, "/a", -1, &a, &made), 0);
    assert_int_equal(made, 1);
    assert_true(t->root->gen > root_gen);
    assert_int_equal(xsim_tree_set_perms(t, a, &perms), 0);

    /* Missing ancestors appear with empty values and the parent's perms;
     * an owner argument makes that domain the owner of all of them. */
    assert_int_equal(xsim_tree_create(t, "/a/b/c", 5, &abc, &made), 0);
    assert_int_equal(made, 2);
    assert_int_equal(t->nnodes, 4);
    assert_ptr_equal(xsim_tree_lookup(t, "/a/b/c"), abc);
    assert_int_equal(abc->vlen, 0);
    assert_int_equal(abc->perms.num, 2);
    assert_int_equal(abc->perms.p[0].domid, 5);
    assert_int_equal(abc->perms.p[0].perm, XSIM_PERM_READ);
    assert_int_equal(abc->perms.p[1].domid, 7);
    assert_int_equal(xsim_tree_lookup(t, "/a/b")->perms.p[0].domid, 5);
    /* The explicit perms of /a are untouched. */
    assert_int_equal(a->perms.p[0].domid, 0);

    path = xsim_node_path(abc);
    assert_string_equal(path, "/a/b/c");
    free(path);

    /* Creating an existing node makes nothing. */
    assert_int_equal(xsim_tree_create(t, "/a/b", -1, &a, &made), 0);
    assert_int_equal(made, 0);
    assert_ptr_equal(xsim_tree_nearest(t, "/a/b/x/y"),
                     xsim_tree_lookup(t, "/a/b"));
}

static void test_values_and_generations(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_node *n, *parent;
    uint64_t g1, g2, pg;

    assert_int_equal(xsim_tree_create(t, "/v/x", -1, &n, NULL), 0);
    parent = xsim_tree_lookup(t, "/v");
    g1 = n->gen;
    pg = parent->gen;
    assert_int_equal(xsim_tree_set_value(t, n, "hello\0world", 11), 0);
    assert_int_equal(n->vlen, 11);
    assert_memory_equal(n->value, "hello\0world", 11);
    g2 = n->gen;
    assert_true(g2 > g1);
    /* The parent's generation moves only when its children change. */
    assert_int_equal(parent->gen, pg);
    assert_int_equal(xsim_tree_set_value(t, n, NULL, 0), 0);
    assert_int_equal(n->vlen, 0);
    assert_true(n->gen > g2);

    /* Delete and recreate: never the old generation back. */
    g2 = n->gen;
    xsim_tree_remove(t, n);
    assert_true(parent->gen > pg);
    assert_null(xsim_tree_lookup(t, "/v/x"));
    assert_int_equal(xsim_tree_create(t, "/v/x", -1, &n, NULL), 0);
    assert_true(n->gen > g2);
}

static void test_children_order_and_remove(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_node *n;
    char *list;
    size_t len;

    assert_int_equal(xsim_tree_create(t, "/d/zeta", -1, &n, NULL), 0);
    assert_int_equal(xsim_tree_create(t, "/d/alpha/deep/er", -1, &n, NULL), 0);
    assert_int_equal(xsim_tree_create(t, "/d/mid", -1, &n, NULL), 0);
    n = xsim_tree_lookup(t, "/d");
    assert_int_equal(xsim_tree_children(n, &list, &len), 0);
    assert_int_equal(len, sizeof("zeta\0alpha\0mid"));
    assert_memory_equal(list, "zeta\0alpha\0mid", len);
    free(list);

    xsim_tree_remove(t, xsim_tree_lookup(t, "/d/alpha"));
    assert_int_equal(xsim_tree_children(n, &list, &len), 0);
    assert_memory_equal(list, "zeta\0mid", len);
    free(list);
    assert_null(xsim_tree_lookup(t, "/d/alpha/deep"));
    assert_int_equal(t->nnodes, 4); /* /, /d, /d/zeta, /d/mid */

    /* No children: an empty list. */
    assert_int_equal(xsim_tree_children(xsim_tree_lookup(t, "/d/mid"), &list,
                                        &len), 0);
    assert_int_equal(len, 0);
    free(list);

    /* The root cannot be removed. */
    xsim_tree_remove(t, t->root);
    assert_non_null(xsim_tree_lookup(t, "/"));
}

static int collect(const struct xsim_node *n, const char *path, void *ctx)
{
    char *buf = ctx;

    (void)n;
    strcat(buf, path);
    strcat(buf, ";");
    return 0;
}

static int stop_at_b(const struct xsim_node *n, const char *path, void *ctx)
{
    (void)n;
    (*(int *)ctx)++;
    return strcmp(path, "/w/b") == 0 ? 42 : 0;
}

static void test_walk(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_node *n;
    char buf[256] = "";
    int visits = 0;

    assert_int_equal(xsim_tree_create(t, "/w/a/x", -1, &n, NULL), 0);
    assert_int_equal(xsim_tree_create(t, "/w/b", -1, &n, NULL), 0);
    assert_int_equal(xsim_tree_walk(xsim_tree_lookup(t, "/w"), collect, buf), 0);
    assert_string_equal(buf, "/w;/w/a;/w/a/x;/w/b;");
    buf[0] = '\0';
    assert_int_equal(xsim_tree_walk(t->root, collect, buf), 0);
    assert_string_equal(buf, "/;/w;/w/a;/w/a/x;/w/b;");
    assert_int_equal(xsim_tree_walk(xsim_tree_lookup(t, "/w"), stop_at_b,
                                    &visits), 42);
    assert_int_equal(visits, 4);
}

static void test_clone_is_deep(void **state)
{
    struct xsim_tree *t = *state;
    struct xsim_tree c;
    struct xsim_node *n, *cn;

    assert_int_equal(xsim_tree_create(t, "/c/one", -1, &n, NULL), 0);
    assert_int_equal(xsim_tree_set_value(t, n, "1", 1), 0);
    assert_int_equal(xsim_tree_clone(&c, t), 0);
    cn = xsim_tree_lookup(&c, "/c/one");
    assert_non_null(cn);
    assert_ptr_not_equal(cn, n);
    assert_int_equal(cn->gen, n->gen);
    assert_memory_equal(cn->value, "1", 1);
    assert_int_equal(c.nnodes, t->nnodes);

    assert_int_equal(xsim_tree_set_value(&c, cn, "2", 1), 0);
    assert_memory_equal(n->value, "1", 1);
    xsim_tree_remove(&c, xsim_tree_lookup(&c, "/c"));
    assert_non_null(xsim_tree_lookup(t, "/c/one"));
    xsim_tree_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_chain_and_inherit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_and_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_order_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clone_is_deep, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
