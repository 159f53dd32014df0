/* The public API and the socket thread, with raw protocol clients. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xenstore_sim.h"
#include "xs_daemon_spawn.h"
#include "xs_wire_inc.h"

struct srv {
    char dir[64];
    char sock[128];
    struct xs_sim *xs;
};

static int srv_setup(void **state)
{
    struct srv *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    snprintf(s->dir, sizeof(s->dir), "/tmp/xs-srv-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->sock, sizeof(s->sock), "%s/socket", s->dir);
    assert_int_equal(xs_sim_start(s->sock, &s->xs), 0);
    *state = s;
    return 0;
}

static int srv_teardown(void **state)
{
    struct srv *s = *state;
    struct stat st;

    xs_sim_stop(s->xs);
    assert_int_not_equal(stat(s->sock, &st), 0); /* socket unlinked */
    rmdir(s->dir);
    free(s);
    return 0;
}

static void send_msg(int fd, uint32_t type, uint32_t req, const void *p,
                     size_t len)
{
    struct xsd_sockmsg h = { type, req, 0, (uint32_t)len };

    assert_int_equal(send(fd, &h, sizeof(h), MSG_NOSIGNAL), (ssize_t)sizeof(h));
    if (len)
        assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void recv_exact(int fd, void *p, size_t len)
{
    uint8_t *b = p;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        assert_true(poll(&pfd, 1, 5000) == 1);
        n = recv(fd, b, len, 0);
        assert_true(n > 0);
        b += n;
        len -= (size_t)n;
    }
}

/* Next message; payload copied with a NUL appended (caller frees). */
static char *recv_msg(int fd, struct xsd_sockmsg *h)
{
    char *p;

    recv_exact(fd, h, sizeof(*h));
    assert_true(h->len <= XENSTORE_PAYLOAD_MAX);
    p = malloc(h->len + 1);
    assert_non_null(p);
    recv_exact(fd, p, h->len);
    p[h->len] = '\0';
    return p;
}

static void expect_msg(int fd, uint32_t type, const void *payload, size_t len)
{
    struct xsd_sockmsg h;
    char *p = recv_msg(fd, &h);

    assert_int_equal(h.type, type);
    assert_int_equal(h.len, len);
    assert_memory_equal(p, payload, len);
    free(p);
}

static void test_api_and_events(void **state)
{
    struct srv *s = *state;
    int fd = xs_daemon_connect(s->sock);
    char *v;
    size_t len;

    assert_true(fd >= 0);
    assert_string_equal(xs_sim_socket_path(s->xs), s->sock);
    send_msg(fd, XS_WATCH, 1, "@introduceDomain\0i\0", 19);
    expect_msg(fd, XS_WATCH, "OK", 3);
    expect_msg(fd, XS_WATCH_EVENT, "@introduceDomain\0i\0", 19);
    send_msg(fd, XS_WATCH, 2, "@releaseDomain\0r\0", 17);
    expect_msg(fd, XS_WATCH, "OK", 3);
    expect_msg(fd, XS_WATCH_EVENT, "@releaseDomain\0r\0", 17);
    send_msg(fd, XS_WATCH, 3, "/local/domain/12\0d\0", 19);
    expect_msg(fd, XS_WATCH, "OK", 3);
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12\0d\0", 19);

    /* Events queued from another thread reach the client. */
    assert_int_equal(xs_sim_introduce_domain(s->xs, 12, "twelve"), 0);
    assert_int_equal(xs_sim_introduce_domain(s->xs, 12, "twelve"), -EEXIST);
    assert_int_equal(xs_sim_is_domain_introduced(s->xs, 12), 1);
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12\0d\0", 19);        /* mkdir */
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12\0d\0", 19);        /* perms */
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12/name\0d\0", 24);
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12/domid\0d\0", 25);
    expect_msg(fd, XS_WATCH_EVENT, "@introduceDomain\0i\0", 19);
    assert_int_equal(xs_sim_read(s->xs, "/local/domain/12/name", &v, &len), 0);
    assert_string_equal(v, "twelve");
    assert_int_equal(len, 6);
    free(v);

    send_msg(fd, XS_IS_DOMAIN_INTRODUCED, 4, "12\0", 3);
    expect_msg(fd, XS_IS_DOMAIN_INTRODUCED, "T", 2);

    assert_int_equal(xs_sim_release_domain(s->xs, 12), 0);
    assert_int_equal(xs_sim_release_domain(s->xs, 12), -ENOENT);
    assert_int_equal(xs_sim_is_domain_introduced(s->xs, 12), 0);
    expect_msg(fd, XS_WATCH_EVENT, "/local/domain/12\0d\0", 19);
    expect_msg(fd, XS_WATCH_EVENT, "@releaseDomain\0r\0", 17);
    assert_int_equal(xs_sim_read(s->xs, "/local/domain/12", &v, &len), -ENOENT);

    /* The daemon helpers. */
    assert_int_equal(xs_sim_write(s->xs, "/api/k", "v\0w", 3), 0);
    assert_int_equal(xs_sim_read(s->xs, "/api/k", &v, NULL), 0);
    assert_memory_equal(v, "v\0w", 4);
    free(v);
    assert_int_equal(xs_sim_mkdir(s->xs, "/api/dir"), 0);
    assert_int_equal(xs_sim_rm(s->xs, "/api"), 0);
    assert_int_equal(xs_sim_read(s->xs, "/api/k", &v, NULL), -ENOENT);
    assert_int_equal(xs_sim_write(s->xs, "bad//path", "", 0), -EINVAL);
    assert_int_equal(xs_sim_read(s->xs, "/local/domain/0/name", &v, &len), 0);
    assert_string_equal(v, "Domain-0");
    free(v);
    close(fd);
}

static void test_start_errors(void **state)
{
    struct srv *s = *state;
    struct xs_sim *other;
    char path[200];
    char longp[200];
    int fd;

    /* Someone answers there already. */
    assert_int_equal(xs_sim_start(s->sock, &other), -EADDRINUSE);
    assert_null(other);
    /* Not a socket. */
    snprintf(path, sizeof(path), "%s/file", s->dir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(xs_sim_start(path, &other), -EEXIST);
    unlink(path);
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(xs_sim_start(longp, &other), -ENAMETOOLONG);
    assert_int_equal(xs_sim_start("", &other), -EINVAL);
    /* The first daemon is unharmed. */
    fd = xs_daemon_connect(s->sock);
    assert_true(fd >= 0);
    send_msg(fd, XS_READ, 9, "/local/domain/0/domid\0", 22);
    expect_msg(fd, XS_READ, "0", 1);
    close(fd);
}

static void test_stale_socket_replaced(void **state)
{
    struct srv *s = *state;
    struct xs_sim *second;
    char path[100]; /* fits sun_path */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    /* A socket file left by a dead daemon: bound, never listened on. */
    snprintf(path, sizeof(path), "%s/stale", s->dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_int_equal(xs_sim_start(path, &second), 0);
    fd = xs_daemon_connect(path);
    assert_true(fd >= 0);
    send_msg(fd, XS_READ, 9, "/tool\0", 6);
    expect_msg(fd, XS_READ, "", 0);
    close(fd);
    xs_sim_stop(second);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_oversized_closes_only_that_client(void **state)
{
    struct srv *s = *state;
    int bad = xs_daemon_connect(s->sock), good = xs_daemon_connect(s->sock);
    struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
    struct pollfd pfd;
    char c;

    assert_true(bad >= 0 && good >= 0);
    assert_int_equal(send(bad, &h, sizeof(h), MSG_NOSIGNAL), (ssize_t)sizeof(h));
    pfd = (struct pollfd){ .fd = bad, .events = POLLIN };
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(recv(bad, &c, 1, 0), 0); /* closed, no reply */
    send_msg(good, XS_READ, 2, "/local/domain/0/domid\0", 22);
    expect_msg(good, XS_READ, "0", 1);
    close(bad);
    close(good);
}

static void test_pipelined_requests(void **state)
{
    struct srv *s = *state;
    int fd = xs_daemon_connect(s->sock);
    uint8_t buf[64 * 40];
    size_t off = 0;

    /* Forty requests in one write; forty replies, in order. */
    for (uint32_t i = 0; i < 40; i++) {
        struct xsd_sockmsg h = { XS_READ, i, 0, 6 };

        memcpy(buf + off, &h, sizeof(h));
        memcpy(buf + off + sizeof(h), "/tool\0", 6);
        off += sizeof(h) + 6;
    }
    assert_int_equal(send(fd, buf, off, MSG_NOSIGNAL), (ssize_t)off);
    for (uint32_t i = 0; i < 40; i++) {
        struct xsd_sockmsg h;
        char *p = recv_msg(fd, &h);

        assert_int_equal(h.req_id, i);
        assert_int_equal(h.type, XS_READ);
        free(p);
    }
    close(fd);
}

struct writer {
    struct xs_sim *xs;
    int id;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char path[64], val[16];

    for (int i = 0; i < 200; i++) {
        snprintf(path, sizeof(path), "/conc/w%d/k%d", w->id, i % 10);
        snprintf(val, sizeof(val), "%d", i);
        if (xs_sim_write(w->xs, path, val, strlen(val)) < 0)
            return (void *)1;
    }
    return NULL;
}

static void test_api_threads_with_watcher(void **state)
{
    struct srv *s = *state;
    int fd = xs_daemon_connect(s->sock);
    pthread_t th[4];
    struct writer w[4];
    int events = 0;
    char *v;

    send_msg(fd, XS_WATCH, 1, "/conc\0c\0", 8);
    expect_msg(fd, XS_WATCH, "OK", 3);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){ s->xs, i };
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rv;

        assert_int_equal(pthread_join(th[i], &rv), 0);
        assert_null(rv);
    }
    /* The initial event plus one per write, all delivered. */
    while (events < 1 + 4 * 200) {
        struct xsd_sockmsg h;
        char *p = recv_msg(fd, &h);

        assert_int_equal(h.type, XS_WATCH_EVENT);
        free(p);
        events++;
    }
    assert_int_equal(xs_sim_read(s->xs, "/conc/w3/k9", &v, NULL), 0);
    assert_string_equal(v, "199");
    free(v);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_and_events, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_replaced, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_closes_only_that_client, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_requests, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_api_threads_with_watcher, srv_setup, srv_teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
