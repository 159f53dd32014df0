/* Transactions: isolation, own writes, conflicts, commit-time events. */
#include <errno.h>

#include "xs_store_fixture.h"

static uint32_t start(struct fx *f, const struct xsim_caller *c)
{
    uint32_t id = 0;

    assert_int_equal(xsim_store_txn_start(&f->st, c, &id), 0);
    assert_true(id != 0);
    return id;
}

static void test_isolation_and_own_writes(void **state)
{
    struct fx *f = *state;
    uint32_t t;
    char *v;
    size_t len;

    assert_int_equal(fx_write(f, &f->dom0, 0, "/k", "old"), 0);
    t = start(f, &f->dom0);
    assert_int_equal(fx_write(f, &f->dom0, t, "/k", "new"), 0);
    assert_int_equal(fx_write(f, &f->dom0, t, "/made/here", "x"), 0);
    /* The transaction sees its own writes ... */
    assert_int_equal(xsim_store_read(&f->st, &f->dom0, t, "/k", &v, &len), 0);
    assert_string_equal(v, "new");
    free(v);
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/made/here"), 0);
    /* ... nobody else does until commit. */
    fx_expect_value(f, "/k", "old");
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/made"), -ENOENT);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), 0);
    fx_expect_value(f, "/k", "new");
    fx_expect_value(f, "/made/here", "x");
    /* Ended means gone. */
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/k"), -ENOENT);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -ENOENT);
}

static void test_outside_changes_invisible(void **state)
{
    struct fx *f = *state;
    uint32_t t = start(f, &f->dom0);
    char *v;
    size_t len;

    assert_int_equal(fx_write(f, &f->dom0b, 0, "/later", "x"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/later"), -ENOENT);
    assert_int_equal(xsim_store_read(&f->st, &f->dom0, t, "/local/domain/0/name",
                                     &v, &len), 0);
    free(v);
    /* It saw /later missing, which is no longer true: EAGAIN. */
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);
}

static void test_conflict_eagain(void **state)
{
    struct fx *f = *state;
    uint32_t t1, t2;

    assert_int_equal(fx_write(f, &f->dom0, 0, "/c", "0"), 0);
    t1 = start(f, &f->dom0);
    t2 = start(f, &f->dom0b);
    assert_true(t1 != t2);
    assert_int_equal(fx_read_rc(f, &f->dom0, t1, "/c"), 0);
    assert_int_equal(fx_write(f, &f->dom0, t1, "/c", "1"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom0b, t2, "/c"), 0);
    assert_int_equal(fx_write(f, &f->dom0b, t2, "/c", "2"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t1, true), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0b, t2, true), -EAGAIN);
    fx_expect_value(f, "/c", "1");
    /* The loser is gone too. */
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0b, t2, false), -ENOENT);
}

static void test_disjoint_commit_both(void **state)
{
    struct fx *f = *state;
    uint32_t t1, t2;

    assert_int_equal(fx_write(f, &f->dom0, 0, "/d/one", "0"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/d/two", "0"), 0);
    t1 = start(f, &f->dom0);
    t2 = start(f, &f->dom0b);
    assert_int_equal(fx_write(f, &f->dom0, t1, "/d/one", "1"), 0);
    assert_int_equal(fx_write(f, &f->dom0b, t2, "/d/two", "2"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t1, true), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0b, t2, true), 0);
    fx_expect_value(f, "/d/one", "1");
    fx_expect_value(f, "/d/two", "2");
}

static void test_conflict_cases(void **state)
{
    struct fx *f = *state;
    uint32_t t;

    /* Read of a missing node, created meanwhile. */
    t = start(f, &f->dom0);
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/n"), -ENOENT);
    assert_int_equal(fx_write(f, &f->dom0, t, "/other", "x"), 0);
    assert_int_equal(fx_write(f, &f->dom0b, 0, "/n", "x"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/other"), -ENOENT);

    /* Directory listing, child added meanwhile. */
    t = start(f, &f->dom0);
    {
        char *list;
        size_t len;

        assert_int_equal(xsim_store_directory(&f->st, &f->dom0, t, "/n", &list,
                                              &len, NULL), 0);
        free(list);
    }
    assert_int_equal(fx_write(f, &f->dom0b, 0, "/n/kid", "x"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);

    /* rm of a subtree, grandchild added meanwhile. */
    assert_int_equal(fx_write(f, &f->dom0, 0, "/s/a/b", "x"), 0);
    t = start(f, &f->dom0);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, t, "/s"), 0);
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/s/a/b"), -ENOENT);
    assert_int_equal(fx_write(f, &f->dom0b, 0, "/s/a/b/c", "x"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);
    fx_expect_value(f, "/s/a/b/c", "x");

    /* Deleted and recreated meanwhile: a new node, so a conflict. */
    t = start(f, &f->dom0);
    assert_int_equal(fx_read_rc(f, &f->dom0, t, "/s/a"), 0);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0b, 0, "/s/a"), 0);
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0b, 0, "/s/a"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);

    /* Permission change meanwhile. */
    t = start(f, &f->dom0);
    assert_int_equal(fx_write(f, &f->dom0, t, "/s/a", "v"), 0);
    {
        struct xsim_perm p = { 0, XSIM_PERM_READ };
        struct xsim_perms ps = { 1, &p };

        assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0b, 0, "/s/a", &ps), 0);
    }
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -EAGAIN);
}

static void test_abort_and_ownership(void **state)
{
    struct fx *f = *state;
    uint32_t t = start(f, &f->dom0);

    assert_int_equal(fx_write(f, &f->dom0, t, "/ab", "x"), 0);
    /* Another connection cannot use or end it. */
    assert_int_equal(fx_read_rc(f, &f->dom0b, t, "/ab"), -ENOENT);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0b, t, true), -ENOENT);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, false), 0);
    assert_int_equal(fx_read_rc(f, &f->dom0, 0, "/ab"), -ENOENT);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, 0, true), -ENOENT);

    /* Forgetting an owner drops its transactions. */
    t = start(f, &f->dom0);
    xsim_store_forget_owner(&f->st, &f->owner_a);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), -ENOENT);
}

static void test_limit(void **state)
{
    struct fx *f = *state;
    uint32_t id;

    for (int i = 0; i < XSIM_MAX_TXNS_PER_OWNER; i++)
        assert_int_equal(xsim_store_txn_start(&f->st, &f->dom0, &id), 0);
    assert_int_equal(xsim_store_txn_start(&f->st, &f->dom0, &id), -ENOSPC);
    assert_int_equal(xsim_store_txn_start(&f->st, &f->dom0b, &id), 0);
}

static void test_events_only_on_commit(void **state)
{
    struct fx *f = *state;
    uint32_t t;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/ev", "E"), 0);
    t = start(f, &f->dom0);
    assert_int_equal(fx_write(f, &f->dom0, t, "/ev/a", "1"), 0);
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, t, "/ev/b"), 0);
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, t, "/ev/b"), 0);
    assert_int_equal(f->nev, 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, true), 0);
    assert_int_equal(fx_count(f, &f->owner_b, "/ev/a", "E"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "/ev/b", "E"), 2); /* mkdir, rm */
    assert_int_equal(f->nev, 3);
    fx_clear_events(f);

    /* Aborted or conflicting: no events. */
    t = start(f, &f->dom0);
    assert_int_equal(fx_write(f, &f->dom0, t, "/ev/a", "2"), 0);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom0, t, false), 0);
    assert_int_equal(f->nev, 0);
}

static void test_domain_in_transaction(void **state)
{
    struct fx *f = *state;
    uint32_t t;

    assert_int_equal(xsim_store_introduce(&f->st, 5, "five", true), 0);
    t = start(f, &f->dom5);
    assert_int_equal(fx_write(f, &f->dom5, t, "data/k", "v"), 0);
    assert_int_equal(fx_write(f, &f->dom5, t, "/tool/k", "v"), -EACCES);
    assert_int_equal(xsim_store_txn_end(&f->st, &f->dom5, t, true), 0);
    {
        struct xsim_perms p = { 0, NULL };

        assert_int_equal(xsim_store_get_perms(&f->st, &f->dom0, 0,
                                              "/local/domain/5/data/k", &p), 0);
        assert_int_equal(p.p[0].domid, 5);
        xsim_perms_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_isolation_and_own_writes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_outside_changes_invisible, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_conflict_eagain, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disjoint_commit_both, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_conflict_cases, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_ownership, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_events_only_on_commit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_domain_in_transaction, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
