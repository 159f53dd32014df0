/*
 * Debian's libxenstore against xenstored-sim.  Linked with -lxenstore and
 * nothing of ours: the daemon is a separate process found on argv[1],
 * reached through XENSTORED_PATH as any Xen tool would.
 *
 * Usage: xs_libxenstore_test PATH/TO/xenstored-sim
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "xs_daemon_spawn.h"

static int passed, failed;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n",     \
                    __FILE__, __LINE__, #cond, errno, strerror(errno));     \
        }                                                                   \
    } while (0)

/* Read path and compare with want (NULL: expect failure with errno err). */
static void check_read(struct xs_handle *h, xs_transaction_t t,
                       const char *path, const char *want, int err, int line)
{
    unsigned int len = 0;
    char *v;

    errno = 0;
    v = xs_read(h, t, path, &len);
    if (want) {
        if (!v || len != strlen(want) || strcmp(v, want) != 0) {
            failed++;
            fprintf(stderr, "line %d: read %s: got %s, want %s (errno %d)\n",
                    line, path, v ? v : "(null)", want, errno);
        } else {
            passed++;
        }
    } else if (v || errno != err) {
        failed++;
        fprintf(stderr, "line %d: read %s: got %s errno %d, want errno %d\n",
                line, path, v ? v : "(null)", errno, err);
    } else {
        passed++;
    }
    free(v);
}
#define READ_IS(h, t, p, want) check_read(h, t, p, want, 0, __LINE__)
#define READ_FAILS(h, t, p, err) check_read(h, t, p, NULL, err, __LINE__)

static bool wr(struct xs_handle *h, xs_transaction_t t, const char *path,
               const char *val)
{
    return xs_write(h, t, path, val, (unsigned int)strlen(val));
}

/* Wait up to ms for a watch event; true with path and token copied out. */
static bool next_event(struct xs_handle *h, int ms, char *path, char *token)
{
    struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
    char **ev;

    ev = xs_check_watch(h);
    if (!ev) {
        if (poll(&p, 1, ms) <= 0)
            return false;
        ev = xs_check_watch(h);
        if (!ev)
            return false;
    }
    snprintf(path, 256, "%s", ev[XS_WATCH_PATH]);
    snprintf(token, 256, "%s", ev[XS_WATCH_TOKEN]);
    free(ev);
    return true;
}

static bool expect_event(struct xs_handle *h, const char *path,
                         const char *token)
{
    char p[256], t[256];

    if (!next_event(h, 5000, p, t)) {
        fprintf(stderr, "no event (wanted %s %s)\n", path, token);
        return false;
    }
    if (strcmp(p, path) || strcmp(t, token)) {
        fprintf(stderr, "event %s %s, wanted %s %s\n", p, t, path, token);
        return false;
    }
    return true;
}

static void test_basics(struct xs_handle *h)
{
    unsigned int num = 0;
    char **dir, *s;

    READ_IS(h, XBT_NULL, "/local/domain/0/name", "Domain-0");
    READ_IS(h, XBT_NULL, "/local/domain/0/domid", "0");
    s = xs_get_domain_path(h, 0);
    CHECK(s && strcmp(s, "/local/domain/0") == 0);
    free(s);
    s = xs_get_domain_path(h, 7);
    CHECK(s && strcmp(s, "/local/domain/7") == 0);
    free(s);
    CHECK(xs_is_domain_introduced(h, 0));
    CHECK(!xs_is_domain_introduced(h, 5));

    CHECK(wr(h, XBT_NULL, "/test/a", "hello"));
    READ_IS(h, XBT_NULL, "/test/a", "hello");
    CHECK(xs_write(h, XBT_NULL, "/test/bin", "x\0y", 3));
    {
        unsigned int len;
        char *v = xs_read(h, XBT_NULL, "/test/bin", &len);

        CHECK(v && len == 3 && memcmp(v, "x\0y", 3) == 0);
        free(v);
    }
    CHECK(xs_mkdir(h, XBT_NULL, "/test/dir"));
    CHECK(xs_mkdir(h, XBT_NULL, "/test/dir")); /* exists: fine */
    READ_IS(h, XBT_NULL, "/test/dir", "");
    dir = xs_directory(h, XBT_NULL, "/test", &num);
    CHECK(dir && num == 3);
    if (dir && num == 3)
        CHECK(!strcmp(dir[0], "a") && !strcmp(dir[1], "bin") &&
              !strcmp(dir[2], "dir"));
    free(dir);
    dir = xs_directory(h, XBT_NULL, "/test/dir", &num);
    CHECK(dir && num == 0);
    free(dir);
    errno = 0;
    CHECK(!xs_directory(h, XBT_NULL, "/nope", &num) && errno == ENOENT);

    CHECK(xs_rm(h, XBT_NULL, "/test/a"));
    READ_FAILS(h, XBT_NULL, "/test/a", ENOENT);
    CHECK(xs_rm(h, XBT_NULL, "/test/a")); /* already gone: fine */
    errno = 0;
    CHECK(!xs_rm(h, XBT_NULL, "/nope/a") && errno == ENOENT);
    CHECK(wr(h, XBT_NULL, "/test/deep/er/still", "x"));
    CHECK(xs_rm(h, XBT_NULL, "/test/deep"));
    READ_FAILS(h, XBT_NULL, "/test/deep/er/still", ENOENT);

    /* Relative paths are under /local/domain/0 for a dom0 socket. */
    CHECK(wr(h, XBT_NULL, "relative/key", "r"));
    READ_IS(h, XBT_NULL, "/local/domain/0/relative/key", "r");

    READ_FAILS(h, XBT_NULL, "/bad path", EINVAL);
    READ_FAILS(h, XBT_NULL, "/trailing/", EINVAL);
    errno = 0;
    CHECK(!wr(h, XBT_NULL, "/a//b", "x") && errno == EINVAL);
}

static void test_big_directory(struct xs_handle *h)
{
    char path[80];
    unsigned int num = 0;
    char **dir;
    bool order = true;

    for (int i = 0; i < 400; i++) {
        snprintf(path, sizeof(path), "/bigdir/a-rather-long-child-name-%04d", i);
        CHECK(wr(h, XBT_NULL, path, ""));
    }
    /* About 13 KiB of names: libxenstore falls back to DIRECTORY_PART. */
    dir = xs_directory(h, XBT_NULL, "/bigdir", &num);
    CHECK(dir && num == 400);
    for (unsigned int i = 0; dir && i < num; i++) {
        snprintf(path, sizeof(path), "a-rather-long-child-name-%04u", i);
        if (strcmp(dir[i], path))
            order = false;
    }
    CHECK(order);
    free(dir);
    CHECK(xs_rm(h, XBT_NULL, "/bigdir"));
}

static void test_watches(struct xs_handle *h, struct xs_handle *other)
{
    char p[256], t[256];

    CHECK(xs_watch(h, "/w", "tok"));
    CHECK(expect_event(h, "/w", "tok")); /* fired once on registration */
    CHECK(wr(other, XBT_NULL, "/w/x", "1"));
    CHECK(expect_event(h, "/w/x", "tok"));
    CHECK(wr(other, XBT_NULL, "/w", "2"));
    CHECK(expect_event(h, "/w", "tok"));
    CHECK(wr(other, XBT_NULL, "/wx", "sibling, not below"));
    CHECK(xs_watch(h, "/w/x/y", "deep"));
    CHECK(expect_event(h, "/w/x/y", "deep"));
    CHECK(wr(other, XBT_NULL, "/w/x/y", "3"));
    /* Both watches fire, in some order. */
    {
        bool got_tok = false, got_deep = false;

        for (int i = 0; i < 2 && next_event(h, 5000, p, t); i++) {
            if (!strcmp(p, "/w/x/y") && !strcmp(t, "tok"))
                got_tok = true;
            if (!strcmp(p, "/w/x/y") && !strcmp(t, "deep"))
                got_deep = true;
        }
        CHECK(got_tok && got_deep);
    }
    CHECK(xs_unwatch(h, "/w", "tok"));
    errno = 0;
    CHECK(!xs_unwatch(h, "/w", "tok") && errno == ENOENT);
    /* rm of an ancestor fires the watch on the removed descendant. */
    CHECK(xs_rm(other, XBT_NULL, "/w"));
    CHECK(expect_event(h, "/w/x/y", "deep"));
    CHECK(xs_unwatch(h, "/w/x/y", "deep"));
    CHECK(wr(other, XBT_NULL, "/w/x/y", "4"));
    CHECK(!next_event(h, 300, p, t));

    /* Relative watch, relative event path. */
    CHECK(xs_watch(h, "relw", "r"));
    CHECK(expect_event(h, "relw", "r"));
    CHECK(wr(other, XBT_NULL, "/local/domain/0/relw/k", "1"));
    CHECK(expect_event(h, "relw/k", "r"));
    CHECK(xs_unwatch(h, "relw", "r"));

    /* Special watches. */
    CHECK(xs_watch(h, "@introduceDomain", "in"));
    CHECK(expect_event(h, "@introduceDomain", "in"));
    CHECK(xs_watch(h, "@releaseDomain", "out"));
    CHECK(expect_event(h, "@releaseDomain", "out"));
    CHECK(xs_introduce_domain(other, 7, 0x1234, 3));
    CHECK(expect_event(h, "@introduceDomain", "in"));
    CHECK(xs_is_domain_introduced(other, 7));
    CHECK(xs_release_domain(other, 7));
    CHECK(expect_event(h, "@releaseDomain", "out"));
    CHECK(!xs_is_domain_introduced(other, 7));
    CHECK(xs_unwatch(h, "@introduceDomain", "in"));
    CHECK(xs_unwatch(h, "@releaseDomain", "out"));
    CHECK(!next_event(h, 200, p, t));
}

/* xs_transaction_end's last argument is "abort": false commits. */
static void test_transactions(struct xs_handle *h1, struct xs_handle *h2)
{
    xs_transaction_t t1;

    CHECK(wr(h1, XBT_NULL, "/tx/v", "0"));

    /* Own writes visible inside, invisible outside; abort drops them. */
    t1 = xs_transaction_start(h1);
    CHECK(t1 != XBT_NULL);
    CHECK(wr(h1, t1, "/tx/v", "inside"));
    CHECK(wr(h1, t1, "/tx/new", "n"));
    READ_IS(h1, t1, "/tx/v", "inside");
    READ_IS(h1, t1, "/tx/new", "n");
    READ_IS(h2, XBT_NULL, "/tx/v", "0");
    READ_FAILS(h2, XBT_NULL, "/tx/new", ENOENT);
    CHECK(xs_transaction_end(h1, t1, true));
    READ_IS(h1, XBT_NULL, "/tx/v", "0");
    READ_FAILS(h1, XBT_NULL, "/tx/new", ENOENT);

    /* Commit applies them; mkdir, rm and a relative path in one go. */
    t1 = xs_transaction_start(h1);
    CHECK(t1 != XBT_NULL);
    CHECK(wr(h1, t1, "/tx/v", "committed"));
    CHECK(xs_mkdir(h1, t1, "/tx/dir"));
    CHECK(wr(h1, t1, "/tx/gone", "g"));
    CHECK(xs_rm(h1, t1, "/tx/gone"));
    CHECK(wr(h1, t1, "txrel", "r"));
    CHECK(xs_transaction_end(h1, t1, false));
    READ_IS(h2, XBT_NULL, "/tx/v", "committed");
    READ_IS(h2, XBT_NULL, "/tx/dir", "");
    READ_FAILS(h2, XBT_NULL, "/tx/gone", ENOENT);
    READ_IS(h2, XBT_NULL, "/local/domain/0/txrel", "r");

    /* Ended: the id is no longer valid. */
    errno = 0;
    CHECK(!xs_transaction_end(h1, t1, false) && errno == ENOENT);
}

static void test_transaction_conflict(struct xs_handle *h1,
                                      struct xs_handle *h2)
{
    xs_transaction_t t1, t2;

    CHECK(wr(h1, XBT_NULL, "/conf/v", "0"));
    t1 = xs_transaction_start(h1);
    t2 = xs_transaction_start(h2);
    CHECK(t1 != XBT_NULL && t2 != XBT_NULL);
    READ_IS(h1, t1, "/conf/v", "0");
    READ_IS(h2, t2, "/conf/v", "0");
    CHECK(wr(h1, t1, "/conf/v", "one"));
    CHECK(wr(h2, t2, "/conf/v", "two"));
    CHECK(xs_transaction_end(h1, t1, false)); /* commit */
    errno = 0;
    CHECK(!xs_transaction_end(h2, t2, false) && errno == EAGAIN);
    READ_IS(h1, XBT_NULL, "/conf/v", "one");

    /* The usual retry loop then succeeds. */
    for (int tries = 0;; tries++) {
        xs_transaction_t t = xs_transaction_start(h2);

        CHECK(t != XBT_NULL);
        CHECK(wr(h2, t, "/conf/v", "two"));
        if (xs_transaction_end(h2, t, false))
            break;
        CHECK(errno == EAGAIN && tries < 3);
        if (tries >= 3)
            break;
    }
    READ_IS(h1, XBT_NULL, "/conf/v", "two");

    /* Non-overlapping transactions both commit. */
    t1 = xs_transaction_start(h1);
    t2 = xs_transaction_start(h2);
    CHECK(wr(h1, t1, "/conf/a", "1"));
    CHECK(wr(h2, t2, "/other/b", "2"));
    CHECK(xs_transaction_end(h1, t1, false));
    CHECK(xs_transaction_end(h2, t2, false));
    READ_IS(h1, XBT_NULL, "/conf/a", "1");
    READ_IS(h1, XBT_NULL, "/other/b", "2");

    /* An unknown transaction id. */
    READ_FAILS(h1, 999999, "/conf/a", ENOENT);
}

static void test_permissions(struct xs_handle *h)
{
    struct xs_permissions set[2] = {
        { .id = 0, .perms = XS_PERM_READ },
        { .id = 5, .perms = XS_PERM_READ | XS_PERM_WRITE },
    };
    struct xs_permissions *got;
    unsigned int num = 0;

    got = xs_get_permissions(h, XBT_NULL, "/local/domain/0", &num);
    CHECK(got && num == 1 && got[0].id == 0 && got[0].perms == XS_PERM_NONE);
    free(got);

    CHECK(xs_mkdir(h, XBT_NULL, "/perm"));
    CHECK(xs_set_permissions(h, XBT_NULL, "/perm", set, 2));
    got = xs_get_permissions(h, XBT_NULL, "/perm", &num);
    CHECK(got && num == 2);
    if (got && num == 2)
        CHECK(got[0].id == 0 && got[0].perms == XS_PERM_READ &&
              got[1].id == 5 && got[1].perms == (XS_PERM_READ | XS_PERM_WRITE));
    free(got);

    /* Children inherit. */
    CHECK(wr(h, XBT_NULL, "/perm/child", "c"));
    got = xs_get_permissions(h, XBT_NULL, "/perm/child", &num);
    CHECK(got && num == 2 && got[1].id == 5);
    free(got);

    /* Inside a transaction too. */
    {
        xs_transaction_t t = xs_transaction_start(h);
        struct xs_permissions one = { .id = 9, .perms = XS_PERM_NONE };

        CHECK(xs_set_permissions(h, t, "/perm/child", &one, 1));
        got = xs_get_permissions(h, t, "/perm/child", &num);
        CHECK(got && num == 1 && got[0].id == 9);
        free(got);
        CHECK(xs_transaction_end(h, t, false));
        got = xs_get_permissions(h, XBT_NULL, "/perm/child", &num);
        CHECK(got && num == 1 && got[0].id == 9);
        free(got);
    }

    errno = 0;
    CHECK(!xs_set_permissions(h, XBT_NULL, "/perm/none", set, 2) &&
          errno == ENOENT);
    errno = 0;
    CHECK(!xs_get_permissions(h, XBT_NULL, "/perm/none", &num) &&
          errno == ENOENT);
}

/* A client that goes away holding a transaction and watches. */
static void test_client_dies(struct xs_handle *h)
{
    struct xs_handle *dying = xs_open(0);
    xs_transaction_t t;

    CHECK(dying != NULL);
    if (!dying)
        return;
    CHECK(xs_watch(dying, "/dying", "d"));
    t = xs_transaction_start(dying);
    CHECK(t != XBT_NULL);
    CHECK(wr(dying, t, "/dying/uncommitted", "x"));
    xs_close(dying);
    CHECK(wr(h, XBT_NULL, "/dying/after", "y"));
    READ_FAILS(h, XBT_NULL, "/dying/uncommitted", ENOENT);
    READ_IS(h, XBT_NULL, "/dying/after", "y");
}

static void test_limits(struct xs_handle *h)
{
    static char big[XENSTORE_PAYLOAD_MAX + 1];

    memset(big, 'v', sizeof(big));
    errno = 0;
    /* libxenstore refuses oversized requests itself. */
    CHECK(!xs_write(h, XBT_NULL, "/big", big, sizeof(big)) && errno == E2BIG);
    /* The largest value that fits one request. */
    CHECK(xs_write(h, XBT_NULL, "/big", big,
                   XENSTORE_PAYLOAD_MAX - (unsigned int)sizeof("/big")));
    {
        unsigned int len = 0;
        char *v = xs_read(h, XBT_NULL, "/big", &len);

        CHECK(v && len == XENSTORE_PAYLOAD_MAX - sizeof("/big"));
        free(v);
    }
}

int main(int argc, char **argv)
{
    struct xs_daemon d;
    struct xs_handle *h1, *h2;
    int stop_rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s XENSTORED_SIM\n", argv[0]);
        return 2;
    }
    alarm(120); /* a hang is a failure */
    if (xs_daemon_start(&d, argv[1]) < 0) {
        fprintf(stderr, "could not start %s\n", argv[1]);
        return 1;
    }
    setenv("XENSTORED_PATH", d.sock, 1);

    h1 = xs_open(0);
    h2 = xs_open(0);
    CHECK(h1 && h2);
    if (h1 && h2) {
        test_basics(h1);
        test_big_directory(h1);
        test_watches(h1, h2);
        test_transactions(h1, h2);
        test_transaction_conflict(h1, h2);
        test_permissions(h1);
        test_client_dies(h2);
        test_limits(h1);
    }
    if (h1)
        xs_close(h1);
    if (h2)
        xs_close(h2);
    stop_rc = xs_daemon_stop(&d);
    CHECK(stop_rc == 0);

    printf("xs_libxenstore_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
