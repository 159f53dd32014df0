/* Unit tests of router/ctl: a ctl_server runs in-process (in a thread that
 * polls ctl_server_fd(), or driven directly) with a fake handler, and the
 * test talks to it with ctl_call() or raw sockets.  The permission tests
 * fork a child that becomes uid 65534 (nobody); they need root and are
 * skipped without it. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_client.h"
#include "ctl_server.h"

#define NOBODY 65534
#define NOGROUP 65534
#define BIG_LEN 600000

struct fx {
    char dir[64];
    char path[128];
    struct ctl_server *srv;
    pthread_t th;
    int stopfd;
    bool running;
    bool use_timeout_api; /* server loop: poll timeout from ctl_server_timeout_ms */
    int dispatch_err;
    int calls; /* handler calls (atomic) */
};

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int calls(struct fx *f)
{
    return __atomic_load_n(&f->calls, __ATOMIC_SEQ_CST);
}

static struct json_object *fake_handler(void *opaque, const char *cmd, struct json_object *req,
                                        char **errmsg)
{
    struct fx *f = opaque;
    __atomic_add_fetch(&f->calls, 1, __ATOMIC_SEQ_CST);
    if (strcmp(cmd, "echo") == 0) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "cmd", json_object_new_string(cmd));
        json_object_object_add(o, "request", json_object_get(req));
        return o;
    }
    if (strcmp(cmd, "fail") == 0) {
        *errmsg = strdup("it failed");
        return NULL;
    }
    if (strcmp(cmd, "fail_nomsg") == 0)
        return NULL;
    if (strcmp(cmd, "big") == 0) {
        char *s = malloc(BIG_LEN);
        memset(s, 'x', BIG_LEN);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "data", json_object_new_string_len(s, BIG_LEN));
        free(s);
        return o;
    }
    *errmsg = strdup("unknown command");
    return NULL;
}

static void *server_loop(void *arg)
{
    struct fx *f = arg;
    struct pollfd p[2] = {{.fd = ctl_server_fd(f->srv), .events = POLLIN},
                          {.fd = f->stopfd, .events = POLLIN}};
    for (;;) {
        int timeout = f->use_timeout_api ? ctl_server_timeout_ms(f->srv) : -1;
        if (poll(p, 2, timeout) < 0 && errno != EINTR) {
            f->dispatch_err = -errno;
            break;
        }
        if (p[1].revents)
            break;
        int r = ctl_server_dispatch(f->srv);
        if (r < 0) {
            f->dispatch_err = r;
            break;
        }
    }
    return NULL;
}

static struct ctl_server_options opts_for(struct fx *f)
{
    struct ctl_server_options o = {.path = f->path, .allowed_gid = (gid_t)-1, .mode = 0660};
    return o;
}

/* Open the server with O and run it in a thread. */
static void fx_start(struct fx *f, const struct ctl_server_options *o)
{
    assert_int_equal(ctl_server_open(o, fake_handler, f, &f->srv), 0);
    assert_int_equal(pthread_create(&f->th, NULL, server_loop, f), 0);
    f->running = true;
}

static void fx_stop(struct fx *f)
{
    if (f->running) {
        uint64_t one = 1;
        assert_int_equal(write(f->stopfd, &one, sizeof(one)), sizeof(one));
        pthread_join(f->th, NULL);
        assert_int_equal(read(f->stopfd, &one, sizeof(one)), sizeof(one)); /* for the next start */
        f->running = false;
        assert_int_equal(f->dispatch_err, 0);
    }
    ctl_server_close(f->srv);
    f->srv = NULL;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/ctl-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    chmod(f->dir, 0755); /* nobody must reach the socket in the permission tests */
    snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
    f->stopfd = eventfd(0, EFD_CLOEXEC);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->srv)
        fx_stop(f);
    close(f->stopfd);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int raw_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const char *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Everything until EOF (or reset); fails on a receive timeout. */
static char *raw_read_all(int fd, size_t *lenp)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap)
            buf = realloc(buf, (cap *= 2) + 1);
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_msg("recv: %s", strerror(errno));
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (lenp)
        *lenp = len;
    return buf;
}

/* The single reply line on FD, then EOF: parsed. */
static struct json_object *raw_reply(int fd)
{
    size_t len;
    char *buf = raw_read_all(fd, &len);
    assert_true(len > 0);
    assert_int_equal(buf[len - 1], '\n');
    assert_ptr_equal(memchr(buf, '\n', len), buf + len - 1); /* exactly one line */
    struct json_object *o = json_tokener_parse(buf);
    assert_non_null(o);
    free(buf);
    return o;
}

static const char *str_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool ok_member(struct json_object *reply)
{
    struct json_object *v = NULL;
    assert_true(json_object_object_get_ex(reply, "ok", &v));
    assert_true(json_object_is_type(v, json_type_boolean));
    return json_object_get_boolean(v);
}

static void assert_error_reply(struct json_object *reply, const char *msg)
{
    assert_false(ok_member(reply));
    assert_non_null(str_member(reply, "error"));
    assert_string_equal(str_member(reply, "error"), msg);
}

/* Send LINE raw (exactly as given) and expect the error reply MSG. */
static void expect_raw_error(struct fx *f, const char *line, size_t len, const char *msg)
{
    int fd = raw_connect(f->path);
    raw_send(fd, line, len);
    struct json_object *reply = raw_reply(fd);
    assert_error_reply(reply, msg);
    json_object_put(reply);
    close(fd);
}

/* ctl_call with request text REQ; returns the reply (must succeed). */
static struct json_object *call(struct fx *f, const char *req)
{
    struct json_object *r = json_tokener_parse(req), *reply = NULL;
    assert_non_null(r);
    char err[256];
    int rc = ctl_call(f->path, r, 5000, &reply, err, sizeof(err));
    if (rc != 0)
        fail_msg("ctl_call(%s): %d %s", req, rc, err);
    json_object_put(r);
    return reply;
}

static void expect_echo(struct fx *f)
{
    struct json_object *reply = call(f, "{\"cmd\":\"echo\"}");
    assert_true(ok_member(reply));
    json_object_put(reply);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    for (int i = 0; i < 5; i++) {
        struct json_object *reply =
            call(f, "{\"cmd\":\"echo\",\"guest\":\"demo\",\"emulator\":\"uart0\",\"path\":\"/a/b\"}");
        assert_true(ok_member(reply));
        struct json_object *result = NULL, *req = NULL;
        assert_true(json_object_object_get_ex(reply, "result", &result));
        assert_string_equal(str_member(result, "cmd"), "echo");
        assert_true(json_object_object_get_ex(result, "request", &req));
        assert_string_equal(str_member(req, "guest"), "demo");
        assert_string_equal(str_member(req, "emulator"), "uart0");
        assert_string_equal(str_member(req, "path"), "/a/b");
        json_object_put(reply);
    }
    assert_int_equal(calls(f), 5);

    /* The wire form: one plain line, no escaped slashes. */
    int fd = raw_connect(f->path);
    const char req[] = "{\"cmd\":\"echo\",\"p\":\"/x\"}\n";
    raw_send(fd, req, sizeof(req) - 1);
    char *text = raw_read_all(fd, NULL);
    assert_string_equal(text, "{\"ok\":true,\"result\":{\"cmd\":\"echo\",\"request\":"
                              "{\"cmd\":\"echo\",\"p\":\"/x\"}}}\n");
    free(text);
    close(fd);

    /* "\r\n" and white space around the object are fine. */
    fd = raw_connect(f->path);
    raw_send(fd, "  {\"cmd\":\"echo\"} \r\n", 19);
    struct json_object *reply = raw_reply(fd);
    assert_true(ok_member(reply));
    json_object_put(reply);
    close(fd);
    assert_int_equal(calls(f), 7);

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0660);
}

static void test_malformed(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"[1,2]\n", "malformed request: not a JSON object"},
        {"\"list\"\n", "malformed request: not a JSON object"},
        {"{\"cmd\":5}\n", "malformed request: missing \"cmd\" (string)"},
        {"{\"guest\":\"demo\"}\n", "malformed request: missing \"cmd\" (string)"},
        {"\n", "malformed request: empty line"},
        {"   \r\n", "malformed request: empty line"},
        {"{\"cmd\":\"echo\"\n", "malformed request: incomplete JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_raw_error(f, cases[i].line, strlen(cases[i].line), cases[i].msg);
    expect_raw_error(f, "{\"cmd\":\"e\0\"}\n", 13, "malformed request: NUL byte in line");

    /* Syntax errors: json-c's description after the prefix. */
    static const char *const bad[] = {"{not json\n", "{\"cmd\":\"echo\",}\n", "{'cmd':'echo'}\n",
                                     "{\"cmd\":\"echo\"} x\n", "{\"cmd\":\"echo\"}{}\n",
                                     "{\"cmd\":\"echo\"}\"cmd\"\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = raw_connect(f->path);
        raw_send(fd, bad[i], strlen(bad[i]));
        struct json_object *reply = raw_reply(fd);
        assert_false(ok_member(reply));
        const char *e = str_member(reply, "error");
        assert_non_null(e);
        if (strncmp(e, "malformed request: ", 19) != 0 || strlen(e) <= 19)
            fail_msg("%s -> %s", bad[i], e);
        json_object_put(reply);
        close(fd);
    }
    assert_int_equal(calls(f), 0);
    expect_echo(f);
    assert_int_equal(calls(f), 1);
}

/* {"cmd":"echo","pad":"xxx"} padded to exactly LEN bytes, plus "\n". */
static char *padded_request(size_t len)
{
    const char head[] = "{\"cmd\":\"echo\",\"pad\":\"", tail[] = "\"}";
    char *s = malloc(len + 2);
    size_t h = sizeof(head) - 1, t = sizeof(tail) - 1;
    memcpy(s, head, h);
    memset(s + h, 'a', len - h - t);
    memcpy(s + len - t, tail, t);
    s[len] = '\n';
    s[len + 1] = '\0';
    return s;
}

static void test_oversize(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    /* 4095 bytes + "\n" = CTL_MAX_REQUEST: served. */
    char *req = padded_request(CTL_MAX_REQUEST - 1);
    int fd = raw_connect(f->path);
    raw_send(fd, req, CTL_MAX_REQUEST);
    struct json_object *reply = raw_reply(fd);
    assert_true(ok_member(reply));
    json_object_put(reply);
    close(fd);
    free(req);
    assert_int_equal(calls(f), 1);

    /* One byte more: refused, connection closed. */
    req = padded_request(CTL_MAX_REQUEST);
    expect_raw_error(f, req, CTL_MAX_REQUEST + 1, "request too long (more than 4096 bytes)");
    free(req);

    /* Lots without any newline. */
    char *junk = malloc(20000);
    memset(junk, 'z', 20000);
    expect_raw_error(f, junk, 20000, "request too long (more than 4096 bytes)");
    free(junk);
    assert_int_equal(calls(f), 1);

    /* ctl_call refuses to send a request that is too long. */
    struct json_object *big = json_tokener_parse("{\"cmd\":\"echo\"}");
    char *pad = calloc(1, CTL_MAX_REQUEST);
    memset(pad, 'a', CTL_MAX_REQUEST - 1);
    json_object_object_add(big, "pad", json_object_new_string(pad));
    free(pad);
    char err[128];
    struct json_object *r2 = (void *)1;
    assert_int_equal(ctl_call(f->path, big, 1000, &r2, err, sizeof(err)), -EMSGSIZE);
    assert_null(r2);
    assert_string_equal(err, "request longer than 4096 bytes");
    json_object_put(big);
    assert_int_equal(calls(f), 1);
}

static void test_eof_before_newline(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    int fd = raw_connect(f->path);
    raw_send(fd, "{\"cmd\":\"echo\"}", 14);
    shutdown(fd, SHUT_WR);
    struct json_object *reply = raw_reply(fd);
    assert_error_reply(reply, "request not terminated by a newline");
    json_object_put(reply);
    close(fd);

    /* Connect and leave at once: nothing happens, the server goes on. */
    for (int i = 0; i < 5; i++)
        close(raw_connect(f->path));
    assert_int_equal(calls(f), 0);
    expect_echo(f);
}

static void test_handler_error(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    struct json_object *reply = call(f, "{\"cmd\":\"fail\"}");
    assert_error_reply(reply, "it failed");
    assert_false(json_object_object_get_ex(reply, "result", NULL));
    json_object_put(reply);
    reply = call(f, "{\"cmd\":\"fail_nomsg\"}");
    assert_error_reply(reply, "internal error");
    json_object_put(reply);
    assert_int_equal(calls(f), 2);
}

/* A Unix stream socket bound at PATH (which must be free). */
static int bind_at(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* A listening socket at PATH, replacing whatever was there. */
static int listen_at(const char *path)
{
    unlink(path);
    int fd = bind_at(path);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

/* Bind a socket at PATH and close it without unlinking: a stale socket. */
static void make_stale(const char *path, bool listening)
{
    int fd = bind_at(path);
    if (listening)
        assert_int_equal(listen(fd, 1), 0);
    close(fd);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
}

static void test_stale_socket(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);

    make_stale(f->path, true);
    fx_start(f, &o);
    expect_echo(f);
    fx_stop(f);

    make_stale(f->path, false);
    fx_start(f, &o);
    expect_echo(f);
    fx_stop(f);

    /* Not a socket: left alone. */
    int fd = open(f->path, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    struct ctl_server *s = (void *)1;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), -EEXIST);
    assert_null(s);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 4);
}

static void test_live_socket(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    struct ctl_server *s2 = (void *)1;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s2), -EADDRINUSE);
    assert_null(s2);
    /* The first server still owns the path and answers. */
    expect_echo(f);
    fx_stop(f);

    /* Any live listener counts, not only a ctl_server. */
    int fd = listen_at(f->path);
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s2), -EADDRINUSE);
    close(fd);
}

static void test_parents_mode_close(void **state)
{
    struct fx *f = *state;
    char path[160], a[160], ab[160];
    snprintf(a, sizeof(a), "%s/a", f->dir);
    snprintf(ab, sizeof(ab), "%s/a/b", f->dir);
    snprintf(path, sizeof(path), "%s/a/b/ctl.sock", f->dir);
    int fds = count_fds();

    mode_t old = umask(077); /* the created dirs are 0755 whatever the umask */
    struct ctl_server_options o = {.path = path, .allowed_gid = (gid_t)-1, .mode = 0600};
    struct ctl_server *s = NULL;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(ab, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(ctl_server_nclients(s), 0);
    assert_int_equal(ctl_server_dispatch(s), 0); /* nothing to do: returns at once */
    ctl_server_close(s);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(count_fds(), fds);

    /* mode 0 means 0660. */
    o.mode = 0;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    /* close does not unlink what replaced its socket. */
    assert_int_equal(unlink(path), 0);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    close(fd);
    ctl_server_close(s);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(count_fds(), fds);
    ctl_server_close(NULL);
}

static void test_open_errors(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = (void *)1;
    struct ctl_server_options o = opts_for(f);
    assert_int_equal(ctl_server_open(NULL, fake_handler, f, &s), -EINVAL);
    assert_null(s);
    assert_int_equal(ctl_server_open(&o, NULL, f, &s), -EINVAL);
    assert_int_equal(ctl_server_open(&o, fake_handler, f, NULL), -EINVAL);
    o.path = "";
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), -EINVAL);
    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    o.path = longp;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), -ENAMETOOLONG);

    char file[160], under[200];
    snprintf(file, sizeof(file), "%s/file", f->dir);
    snprintf(under, sizeof(under), "%s/file/sock", f->dir);
    close(open(file, O_CREAT | O_WRONLY, 0644));
    o.path = under;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &s), -ENOTDIR);
    assert_null(s);
}

/* Fork a child that becomes UID with only GID as group, calls "echo" and
 * reports "r=RC ok=OK error=MSG" in OUT. */
static void child_call(const char *path, uid_t uid, gid_t gid, char *out, size_t outlen)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        char buf[512];
        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
            snprintf(buf, sizeof(buf), "cannot drop privileges: %s", strerror(errno));
        } else {
            struct json_object *req = json_tokener_parse("{\"cmd\":\"echo\"}"), *reply = NULL;
            char err[256] = "";
            int r = ctl_call(path, req, 5000, &reply, err, sizeof(err));
            struct json_object *ok = NULL, *e = NULL;
            if (reply) {
                json_object_object_get_ex(reply, "ok", &ok);
                json_object_object_get_ex(reply, "error", &e);
            }
            snprintf(buf, sizeof(buf), "r=%d ok=%d error=%s", r, ok ? json_object_get_boolean(ok) : -1,
                     e ? json_object_get_string(e) : err);
        }
        ssize_t n = write(p[1], buf, strlen(buf));
        _exit(n < 0);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < outlen && (n = read(p[0], out + len, outlen - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_permission_refused(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    char out[512];

    /* Root only; the file mode lets anybody connect, SO_PEERCRED refuses. */
    struct ctl_server_options o = opts_for(f);
    o.mode = 0666;
    fx_start(f, &o);
    child_call(f->path, NOBODY, NOGROUP, out, sizeof(out));
    assert_string_equal(out, "r=0 ok=0 error=permission denied: uid 65534 is not root");
    assert_int_equal(calls(f), 0);
    expect_echo(f); /* root is fine */
    assert_int_equal(calls(f), 1);
    fx_stop(f);

    /* A group nobody is not in. */
    gid_t g = 4242;
    o.allowed_gid = g;
    fx_start(f, &o);
    child_call(f->path, NOBODY, NOGROUP, out, sizeof(out));
    char expected[256];
    struct group *gr = getgrgid(g);
    if (gr)
        snprintf(expected, sizeof(expected),
                 "r=0 ok=0 error=permission denied: uid 65534 is not root and not in group '%s'", gr->gr_name);
    else
        snprintf(expected, sizeof(expected),
                 "r=0 ok=0 error=permission denied: uid 65534 is not root and not in group %u", g);
    assert_string_equal(out, expected);
    assert_int_equal(calls(f), 1);
    fx_stop(f);

    /* The socket file's mode is the first barrier: 0660 root:root. */
    o.allowed_gid = (gid_t)-1;
    o.mode = 0660;
    fx_start(f, &o);
    child_call(f->path, NOBODY, NOGROUP, out, sizeof(out));
    char want[300];
    snprintf(want, sizeof(want), "r=-13 ok=-1 error=cannot connect to %s: Permission denied", f->path);
    assert_string_equal(out, want);
    assert_int_equal(calls(f), 1);
}

static void test_permission_group_allowed(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    char out[512];

    struct ctl_server_options o = opts_for(f);
    o.allowed_gid = NOGROUP;
    o.mode = 0660;
    fx_start(f, &o);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, NOGROUP);

    /* Through the socket's group and the peer's egid. */
    child_call(f->path, NOBODY, NOGROUP, out, sizeof(out));
    assert_string_equal(out, "r=0 ok=1 error=");
    assert_int_equal(calls(f), 1);
    fx_stop(f);

    /* Through the account: the peer runs with another gid, but nogroup is
     * nobody's primary group in the passwd database. */
    o.mode = 0666;
    fx_start(f, &o);
    child_call(f->path, NOBODY, 4242, out, sizeof(out));
    assert_string_equal(out, "r=0 ok=1 error=");
    assert_int_equal(calls(f), 2);
    fx_stop(f);

    /* Through the peer's egid alone: 4242 is not in nobody's account. */
    o.allowed_gid = 4242;
    fx_start(f, &o);
    child_call(f->path, NOBODY, 4242, out, sizeof(out));
    assert_string_equal(out, "r=0 ok=1 error=");
    child_call(f->path, NOBODY, NOGROUP, out, sizeof(out));
    assert_true(strncmp(out, "r=0 ok=0 error=permission denied: uid 65534 is not root and not in group ", 73) == 0);
    assert_int_equal(calls(f), 3);
}

static void test_max_clients(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    int fds[CTL_SERVER_MAX_CLIENTS + 1];
    for (int i = 0; i <= CTL_SERVER_MAX_CLIENTS; i++)
        fds[i] = raw_connect(f->path);
    /* The 33rd is accepted and closed at once, with a reason. */
    struct json_object *reply = raw_reply(fds[CTL_SERVER_MAX_CLIENTS]);
    assert_error_reply(reply, "too many clients");
    json_object_put(reply);
    close(fds[CTL_SERVER_MAX_CLIENTS]);

    /* The 32 are all served. */
    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "{\"cmd\":\"echo\",\"i\":%d}\n", i);
        raw_send(fds[i], line, (size_t)n);
    }
    for (int i = CTL_SERVER_MAX_CLIENTS - 1; i >= 0; i--) {
        reply = raw_reply(fds[i]);
        assert_true(ok_member(reply));
        struct json_object *result, *req, *iv;
        assert_true(json_object_object_get_ex(reply, "result", &result));
        assert_true(json_object_object_get_ex(result, "request", &req));
        assert_true(json_object_object_get_ex(req, "i", &iv));
        assert_int_equal(json_object_get_int(iv), i);
        json_object_put(reply);
        close(fds[i]);
    }
    assert_int_equal(calls(f), CTL_SERVER_MAX_CLIENTS);
    /* Slots are free again. */
    expect_echo(f);
}

/* A client that sends half a line, or nothing, is dropped after the idle
 * timeout while others are served; the server loop waits on the fd only
 * (use_timeout_api false), so the internal timerfd must wake it. */
static void test_idle_timeout(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    o.idle_timeout_ms = 300;
    fx_start(f, &o);

    int64_t t0 = now_ms();
    int half = raw_connect(f->path);
    int silent = raw_connect(f->path);
    raw_send(half, "{\"cmd\":", 7);
    expect_echo(f); /* not held up by the other two */
    assert_true(now_ms() - t0 < 250);

    struct json_object *reply = raw_reply(half);
    int64_t dt = now_ms() - t0;
    assert_error_reply(reply, "timed out waiting for the request line");
    json_object_put(reply);
    if (dt < 280 || dt > 2000)
        fail_msg("dropped after %lld ms, expected ~300", (long long)dt);
    reply = raw_reply(silent);
    assert_error_reply(reply, "timed out waiting for the request line");
    json_object_put(reply);
    close(half);
    close(silent);
    assert_int_equal(calls(f), 1);
}

/* Driven by hand, in this thread: the timeout API and the fd's readiness. */
static void test_timeout_api(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    o.idle_timeout_ms = 300;
    assert_int_equal(ctl_server_open(&o, fake_handler, f, &f->srv), 0);
    struct ctl_server *s = f->srv;
    assert_int_equal(ctl_server_timeout_ms(s), -1);

    int fd = raw_connect(f->path);
    struct pollfd p = {.fd = ctl_server_fd(s), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 1000), 1); /* the new connection */
    assert_int_equal(ctl_server_dispatch(s), 0);
    assert_int_equal(ctl_server_nclients(s), 1);
    int t = ctl_server_timeout_ms(s);
    assert_true(t > 0 && t <= 300);

    /* Nothing more to do: the fd is quiet until the deadline. */
    int64_t t0 = now_ms();
    assert_int_equal(poll(&p, 1, 1000), 1);
    int64_t dt = now_ms() - t0;
    if (dt < 200 || dt > 900)
        fail_msg("fd became readable after %lld ms, expected ~300", (long long)dt);
    assert_int_equal(ctl_server_dispatch(s), 0);
    assert_int_equal(ctl_server_nclients(s), 0);
    assert_int_equal(ctl_server_timeout_ms(s), -1);
    assert_int_equal(poll(&p, 1, 0), 0);
    close(fd);

    /* A request is served within one dispatch once it is there. */
    fd = raw_connect(f->path);
    raw_send(fd, "{\"cmd\":\"echo\"}\n", 15);
    assert_int_equal(poll(&p, 1, 1000), 1);
    assert_int_equal(ctl_server_dispatch(s), 0);
    assert_int_equal(ctl_server_nclients(s), 0);
    struct json_object *reply = raw_reply(fd);
    assert_true(ok_member(reply));
    json_object_put(reply);
    close(fd);
    assert_int_equal(calls(f), 1);
}

/* A reply far larger than the socket buffer goes out in pieces. */
static void test_partial_write(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    int fd = raw_connect(f->path);
    raw_send(fd, "{\"cmd\":\"big\"}\n", 14);
    usleep(100 * 1000); /* let the server fill the buffer and wait */
    struct json_object *reply = raw_reply(fd);
    assert_true(ok_member(reply));
    struct json_object *result, *data;
    assert_true(json_object_object_get_ex(reply, "result", &result));
    assert_true(json_object_object_get_ex(result, "data", &data));
    assert_int_equal(json_object_get_string_len(data), BIG_LEN);
    json_object_put(reply);
    close(fd);

    /* ctl_call reads big replies too. */
    reply = call(f, "{\"cmd\":\"big\"}");
    assert_true(ok_member(reply));
    json_object_put(reply);
}

/* A client that does not read its reply is dropped after the timeout. */
static void test_slow_reader(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    o.idle_timeout_ms = 200;
    fx_start(f, &o);

    int fd = raw_connect(f->path);
    raw_send(fd, "{\"cmd\":\"big\"}\n", 14);
    usleep(600 * 1000);
    size_t len;
    char *buf = raw_read_all(fd, &len);
    assert_true(len > 0 && len < BIG_LEN);
    free(buf);
    close(fd);
    expect_echo(f);
}

/* Clients that vanish before their reply: no SIGPIPE (it would kill this
 * test), the server goes on. */
static void test_no_sigpipe(void **state)
{
    struct fx *f = *state;
    struct ctl_server_options o = opts_for(f);
    fx_start(f, &o);

    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(f->path);
        raw_send(fd, "{\"cmd\":\"big\"}\n", 14);
        close(fd);
    }
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(f->path);
        raw_send(fd, "{\"cmd\":\"big\"}\n", 14);
        char b[100];
        assert_true(recv(fd, b, sizeof(b), 0) > 0); /* the reply is being written */
        close(fd);
    }
    usleep(100 * 1000);
    expect_echo(f);
    assert_int_equal(calls(f), 7);
}

/* A fake server for ctl_call's errors: accepts one client, reads its line
 * and answers REPLY (NULL: closes without answering). */
struct fake_peer {
    int lfd;
    const char *reply;
};

static void *fake_peer_run(void *arg)
{
    struct fake_peer *p = arg;
    int fd = accept(p->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    (void)n;
    if (p->reply)
        n = send(fd, p->reply, strlen(p->reply), MSG_NOSIGNAL);
    close(fd);
    return NULL;
}

static int call_peer(struct fx *f, const char *reply_text, char *err, size_t errlen)
{
    struct fake_peer p = {listen_at(f->path), reply_text};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_peer_run, &p), 0);
    struct json_object *req = json_tokener_parse("{\"cmd\":\"echo\"}"), *reply = (void *)1;
    int r = ctl_call(f->path, req, 2000, &reply, err, errlen);
    pthread_join(th, NULL);
    close(p.lfd);
    json_object_put(req);
    if (r == 0)
        json_object_put(reply);
    else
        assert_null(reply);
    return r;
}

static void test_client_errors(void **state)
{
    struct fx *f = *state;
    char err[256], want[256];
    struct json_object *reply = (void *)1;
    struct json_object *req = json_tokener_parse("{\"cmd\":\"list\"}");

    assert_int_equal(ctl_call(f->path, req, 1000, &reply, err, sizeof(err)), -ENOENT);
    assert_null(reply);
    snprintf(want, sizeof(want), "cannot connect to %s: No such file or directory", f->path);
    assert_string_equal(err, want);

    struct json_object *nocmd = json_tokener_parse("{\"guest\":\"x\"}");
    assert_int_equal(ctl_call(f->path, nocmd, 1000, &reply, err, sizeof(err)), -EINVAL);
    json_object_put(nocmd);
    assert_int_equal(ctl_call(f->path, NULL, 1000, &reply, err, sizeof(err)), -EINVAL);
    assert_int_equal(ctl_call(f->path, req, 1000, NULL, NULL, 0), -EINVAL);

    /* Nobody accepts: the timeout holds. */
    int lfd = listen_at(f->path);
    int64_t t0 = now_ms();
    assert_int_equal(ctl_call(f->path, req, 200, &reply, err, sizeof(err)), -ETIMEDOUT);
    int64_t dt = now_ms() - t0;
    assert_true(dt >= 190 && dt < 2000);
    snprintf(want, sizeof(want), "%s: timed out waiting for the reply", f->path);
    assert_string_equal(err, want);
    close(lfd);
    json_object_put(req);

    assert_int_equal(call_peer(f, NULL, err, sizeof(err)), -EPROTO);
    snprintf(want, sizeof(want), "%s: connection closed without a reply", f->path);
    assert_string_equal(err, want);

    assert_int_equal(call_peer(f, "{\"ok\":true,\"result\":{}", err, sizeof(err)), -EPROTO);
    assert_string_equal(err, want); /* no newline before EOF */

    assert_int_equal(call_peer(f, "hello\n", err, sizeof(err)), -EPROTO);
    assert_true(strstr(err, ": malformed reply: ") != NULL);
    assert_int_equal(call_peer(f, "{\"ok\":1}\n", err, sizeof(err)), -EPROTO);
    snprintf(want, sizeof(want), "%s: malformed reply: missing \"ok\" (boolean)", f->path);
    assert_string_equal(err, want);
    assert_int_equal(call_peer(f, "{\"ok\":false}\n", err, sizeof(err)), -EPROTO);
    snprintf(want, sizeof(want), "%s: malformed reply: missing \"error\" (string)", f->path);
    assert_string_equal(err, want);
    assert_int_equal(call_peer(f, "{\"ok\":true}\n", err, sizeof(err)), -EPROTO);
    assert_int_equal(call_peer(f, "{\"ok\":true,\"result\":{}}\ntrailing", err, sizeof(err)), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip),       T(test_malformed),
        T(test_oversize),         T(test_eof_before_newline),
        T(test_handler_error),    T(test_stale_socket),
        T(test_live_socket),      T(test_parents_mode_close),
        T(test_open_errors),      T(test_permission_refused),
        T(test_permission_group_allowed), T(test_max_clients),
        T(test_idle_timeout),     T(test_timeout_api),
        T(test_partial_write),    T(test_slow_reader),
        T(test_no_sigpipe),       T(test_client_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
