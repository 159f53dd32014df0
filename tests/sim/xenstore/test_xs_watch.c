/* Watches: the registry on its own, then firing through the store. */
#include <errno.h>

#include "xs_store_fixture.h"
#include "xs_watch.h"

struct hits {
    char buf[512];
};

static void note_hit(const struct xsim_watch *w, const char *path, void *ctx)
{
    struct hits *h = ctx;

    strcat(h->buf, w->token);
    strcat(h->buf, "=");
    strcat(h->buf, path);
    strcat(h->buf, ";");
}

static void test_registry(void **state)
{
    struct xsim_watches ws = { 0 };
    struct hits h = { "" };
    int a, b;

    (void)state;
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/x", "/x", 0, "t1", 8), 0);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/x", "/x", 0, "t1", 8), -EEXIST);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/x", "/x", 0, "t2", 8), 0);
    assert_int_equal(xsim_watch_add(&ws, &b, 0, true, "/x", "/x", 0, "t1", 8), 0);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/x/y/z", "/x/y/z", 0, "deep", 8), 0);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "y", "/local/domain/0/y",
                                    strlen("/local/domain/0/"), "rel", 8), 0);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "@releaseDomain",
                                    "@releaseDomain", 0, "rd", 8), 0);
    assert_int_equal(xsim_watch_count_owner(&ws, &a), 5);
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/q", "/q", 0, "q", 5), -ENOSPC);

    xsim_watch_match(&ws, "/x/y", false, note_hit, &h);
    assert_string_equal(h.buf, "t1=/x/y;t2=/x/y;t1=/x/y;");
    h.buf[0] = '\0';
    xsim_watch_match(&ws, "/x/y/z", true, note_hit, &h);
    assert_string_equal(h.buf, "deep=/x/y/z;");
    h.buf[0] = '\0';
    xsim_watch_match(&ws, "/xx", false, note_hit, &h);
    assert_string_equal(h.buf, "");
    xsim_watch_match(&ws, "/local/domain/0/y/k", false, note_hit, &h);
    assert_string_equal(h.buf, "rel=y/k;");
    h.buf[0] = '\0';
    xsim_watch_match(&ws, "@releaseDomain", true, note_hit, &h);
    assert_string_equal(h.buf, "rd=@releaseDomain;");
    h.buf[0] = '\0';
    xsim_watch_match(&ws, "/", false, note_hit, &h);
    assert_string_equal(h.buf, "");

    assert_int_equal(xsim_watch_remove(&ws, &a, "/x", "t9"), -ENOENT);
    assert_int_equal(xsim_watch_remove(&ws, &b, "/x", "t2"), -ENOENT);
    assert_int_equal(xsim_watch_remove(&ws, &a, "/x", "t2"), 0);
    xsim_watch_remove_owner(&ws, &a);
    assert_int_equal(ws.count, 1);
    xsim_watch_match(&ws, "/x", false, note_hit, &h);
    assert_string_equal(h.buf, "t1=/x;");
    /* The list still appends after removals emptied its tail. */
    assert_int_equal(xsim_watch_add(&ws, &a, 0, true, "/x", "/x", 0, "t3", 8), 0);
    h.buf[0] = '\0';
    xsim_watch_match(&ws, "/x", false, note_hit, &h);
    assert_string_equal(h.buf, "t1=/x;t3=/x;");
    xsim_watch_clear(&ws);
    assert_int_equal(ws.count, 0);
    assert_null(ws.head);
}

static void test_initial_event_and_token(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/not/there", "tok en"), 0);
    assert_int_equal(f->nev, 0); /* the dispatcher asks for it after the ack */
    xsim_store_watch_initial(&f->st, &f->dom0, "/not/there", "tok en");
    assert_int_equal(fx_count(f, &f->owner_a, "/not/there", "tok en"), 1);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/not/there", "tok en"),
                     -EEXIST);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/bad//path", "t"), -EINVAL);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "@", "t"), -EINVAL);
}

static void test_write_fires_node_and_ancestors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/a", "A"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/a/b", "AB"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/a/b/c/d", "ABCD"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/", "ROOT"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/a/bb", "SIB"), 0);

    assert_int_equal(fx_write(f, &f->dom0, 0, "/a/b/c", "v"), 0);
    assert_int_equal(f->nev, 3);
    assert_int_equal(fx_count(f, &f->owner_a, "/a/b/c", "A"), 1);
    assert_int_equal(fx_count(f, &f->owner_a, "/a/b/c", "AB"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "/a/b/c", "ROOT"), 1);
    fx_clear_events(f);

    /* mkdir of an existing node changes nothing and fires nothing. */
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/a/b"), 0);
    assert_int_equal(f->nev, 0);
    assert_int_equal(xsim_store_mkdir(&f->st, &f->dom0, 0, "/a/b/c/d"), 0);
    assert_int_equal(fx_count(f, &f->owner_a, "/a/b/c/d", "ABCD"), 1);
    assert_int_equal(f->nev, 4);
    fx_clear_events(f);

    /* A failed operation fires nothing. */
    assert_int_equal(fx_write(f, &f->dom5, 0, "/a/b/c", "no"), -EACCES);
    assert_int_equal(f->nev, 0);

    /* set_perms is a change too. */
    {
        struct xsim_perm p = { 0, XSIM_PERM_READ };
        struct xsim_perms ps = { 1, &p };

        assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/a", &ps), 0);
        assert_int_equal(fx_count(f, &f->owner_a, "/a", "A"), 1);
        assert_int_equal(fx_count(f, &f->owner_b, "/a", "ROOT"), 1);
        assert_int_equal(f->nev, 2);
    }
}

static void test_rm_fires_watched_descendants(void **state)
{
    struct fx *f = *state;

    assert_int_equal(fx_write(f, &f->dom0, 0, "/r/s/t/u", "1"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/r/s/v", "1"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/r", "R"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/r/s/t", "T"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/r/s/t/u", "U"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/r/s/t/u/none", "N"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/r/other", "O"), 0);

    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/r/s"), 0);
    assert_int_equal(fx_count(f, &f->owner_a, "/r/s", "R"), 1);
    assert_int_equal(fx_count(f, &f->owner_a, "/r/s/t", "T"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "/r/s/t/u", "U"), 1);
    assert_int_equal(f->nev, 3);
    fx_clear_events(f);

    /* Removing what is not there fires nothing. */
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/r/s"), 0);
    assert_int_equal(f->nev, 0);
}

static void test_relative_watch(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "device", "rel"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/local/domain/0/device/vif/0",
                              "x"), 0);
    assert_int_equal(fx_count(f, &f->owner_a, "device/vif/0", "rel"), 1);
    assert_int_equal(xsim_store_unwatch(&f->st, &f->dom0, "/local/domain/0/device",
                                        "rel"), 0); /* same watch, absolute */
    fx_clear_events(f);
    assert_int_equal(fx_write(f, &f->dom0, 0, "device/vif/1", "x"), 0);
    assert_int_equal(f->nev, 0);
}

static void test_unwatch_and_forget(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/u", "1"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/u", "2"), 0);
    assert_int_equal(xsim_store_unwatch(&f->st, &f->dom0, "/u", "3"), -ENOENT);
    assert_int_equal(xsim_store_unwatch(&f->st, &f->dom0b, "/u", "1"), -ENOENT);
    assert_int_equal(xsim_store_unwatch(&f->st, &f->dom0, "/u", "1"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/u", "x"), 0);
    assert_int_equal(f->nev, 1);
    assert_int_equal(fx_count(f, &f->owner_a, "/u", "2"), 1);
    fx_clear_events(f);
    xsim_store_forget_owner(&f->st, &f->owner_a);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/u", "y"), 0);
    assert_int_equal(f->nev, 0);
    /* Re-adding after forgetting works. */
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "/u", "2"), 0);
}

static void test_special_watches(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xsim_store_watch(&f->st, &f->dom0, "@introduceDomain", "in"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "@releaseDomain", "out"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/local/domain/4/name", "nm"), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom0b, "/", "all"), 0);

    assert_int_equal(xsim_store_introduce(&f->st, 4, "four", true), 0);
    assert_int_equal(fx_count(f, &f->owner_a, "@introduceDomain", "in"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "@releaseDomain", "out"), 0);
    assert_int_equal(fx_count(f, &f->owner_b, "/local/domain/4/name", "nm"), 1);
    /* A "/" watch hears nodes, never '@' events. */
    assert_int_equal(fx_count(f, &f->owner_b, "@introduceDomain", "all"), 0);
    fx_clear_events(f);

    assert_int_equal(xsim_store_release(&f->st, 4, true), 0);
    assert_int_equal(fx_count(f, &f->owner_b, "@releaseDomain", "out"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "/local/domain/4/name", "nm"), 1);
    assert_int_equal(fx_count(f, &f->owner_b, "/local/domain/4", "all"), 1);
    assert_int_equal(fx_count(f, &f->owner_a, "@introduceDomain", "in"), 0);
}

static void test_domain_watcher_sees_only_readable(void **state)
{
    struct fx *f = *state;
    struct xsim_perm p[2] = { { 0, XSIM_PERM_NONE }, { 5, XSIM_PERM_READ } };
    struct xsim_perms ps = { 2, p };

    assert_int_equal(fx_write(f, &f->dom0, 0, "/vis/open", "1"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/vis/closed", "1"), 0);
    assert_int_equal(xsim_store_set_perms(&f->st, &f->dom0, 0, "/vis/open", &ps), 0);
    assert_int_equal(xsim_store_watch(&f->st, &f->dom5, "/vis", "w5"), 0);
    fx_clear_events(f);

    assert_int_equal(fx_write(f, &f->dom0, 0, "/vis/open", "2"), 0);
    assert_int_equal(fx_write(f, &f->dom0, 0, "/vis/closed", "2"), 0);
    assert_int_equal(fx_count(f, &f->owner_c, "/vis/open", "w5"), 1);
    assert_int_equal(fx_count(f, &f->owner_c, "/vis/closed", "w5"), 0);
    /* Removal is judged by the removed node's permissions. */
    assert_int_equal(xsim_store_rm(&f->st, &f->dom0, 0, "/vis/open"), 0);
    assert_int_equal(fx_count(f, &f->owner_c, "/vis/open", "w5"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_initial_event_and_token, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_write_fires_node_and_ancestors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rm_fires_watched_descendants, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_relative_watch, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unwatch_and_forget, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_special_watches, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_domain_watcher_sees_only_readable, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
