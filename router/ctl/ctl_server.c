/* ctl_server.c - the daemon side of the control socket (ctl_server.h).
 *
 * One internal epoll set holds the listening socket, a timerfd armed to the
 * earliest client deadline, and every client socket.  Each client is a small
 * state machine in a fixed slot:
 *
 *   READ   waiting for the request line (EPOLLIN), deadline = accept + idle
 *   WRITE  sending the reply (EPOLLOUT when a send was partial),
 *          deadline = reply ready + idle
 *   then the connection is closed and the slot is free again.
 *
 * Epoll events carry the slot and a generation number, so an event that was
 * already fetched for a client closed meanwhile is recognized and ignored.
 */
#define _GNU_SOURCE
#include "ctl_server.h"

#include "accounts.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define TAG_LISTEN 0u
#define TAG_TIMER 1u
#define TAG_CLIENT 2u
#define LISTEN_RETRY_NS (100 * 1000000LL) /* after EMFILE and friends */
#define ACCEPTS_PER_DISPATCH 64
#define EVENTS_PER_WAIT 16
#define WAITS_PER_DISPATCH 8

enum client_state { CL_FREE, CL_READ, CL_WRITE };

struct client {
    int fd; /* -1 when the slot is free */
    enum client_state state;
    uint32_t gen;
    int64_t deadline_ns;
    size_t len;        /* request bytes in buf */
    char *out;         /* reply line */
    bool out_owned;    /* out is malloc'ed */
    size_t out_len, out_off;
    bool want_out;     /* registered for EPOLLOUT */
    char buf[CTL_MAX_REQUEST];
};

struct ctl_server {
    int epfd, lfd, tfd;
    char *path;
    dev_t dev;
    ino_t ino;
    gid_t allowed_gid;
    uid_t euid;
    int64_t idle_ns;
    ctl_handler_fn fn;
    void *opaque;
    bool listen_paused;
    int64_t listen_retry_ns;
    unsigned nclients;
    uint32_t gen;
    struct client clients[CTL_SERVER_MAX_CLIENTS];
};

static const char oom_reply[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t ev_data(uint32_t tag, uint32_t gen)
{
    return (uint64_t)gen << 32 | tag;
}

/* ---- socket file setup ---- */

/* mkdir -p of PATH's parent directories, each new one chmod'ed 0755. */
static int make_parents(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int ret = 0;
    for (char *q = strchr(p + 1, '/'); q; q = strchr(q + 1, '/')) {
        *q = '\0';
        if (mkdir(p, 0755) == 0) {
            if (chmod(p, 0755) < 0) /* whatever the umask was */
                ret = -errno;
        } else if (errno != EEXIST) {
            ret = -errno;
        }
        *q = '/';
        if (ret)
            break;
    }
    free(p);
    return ret;
}

/* Whatever is at the socket path: nothing (0), a stale socket (unlinked,
 * 0), a live one (-EADDRINUSE), something else (-EEXIST). */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN || e == EINPROGRESS)
        return -EADDRINUSE; /* somebody listens (EAGAIN: backlog full) */
    if (e == ENOENT)
        return 0; /* gone meanwhile */
    if (e != ECONNREFUSED)
        return -e;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

static int epoll_set(struct ctl_server *s, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(s->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int ctl_server_open(const struct ctl_server_options *o, ctl_handler_fn fn, void *opaque,
                    struct ctl_server **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!o || !o->path || !*o->path || !fn)
        return -EINVAL;

    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(o->path);
    if (plen >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, o->path, plen + 1);

    struct ctl_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->epfd = s->lfd = s->tfd = -1;
    for (unsigned i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        s->clients[i].fd = -1;
    s->allowed_gid = o->allowed_gid;
    s->euid = geteuid();
    s->idle_ns = (int64_t)(o->idle_timeout_ms ? o->idle_timeout_ms : CTL_SERVER_IDLE_TIMEOUT_MS) *
                 1000000LL;
    s->fn = fn;
    s->opaque = opaque;
    mode_t mode = o->mode ? o->mode : 0660;
    bool bound = false;
    int r;

    s->path = strdup(o->path);
    if (!s->path) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = make_parents(o->path)) < 0 || (r = clear_stale(o->path, &sa)) < 0)
        goto fail;

    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        goto fail;
    }
    bound = true;
    /* Mode and group before listen(): until then connects are refused, so
     * nobody gets in through the umask's mode. */
    if (o->allowed_gid != (gid_t)-1 && chown(o->path, (uid_t)-1, o->allowed_gid) < 0) {
        r = -errno;
        goto fail;
    }
    struct stat st;
    if (chmod(o->path, mode) < 0 || stat(o->path, &st) < 0 || listen(s->lfd, SOMAXCONN) < 0) {
        r = -errno;
        goto fail;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->epfd < 0 || s->tfd < 0) {
        r = -errno;
        goto fail;
    }
    if ((r = epoll_set(s, EPOLL_CTL_ADD, s->lfd, EPOLLIN, ev_data(TAG_LISTEN, 0))) < 0 ||
        (r = epoll_set(s, EPOLL_CTL_ADD, s->tfd, EPOLLIN, ev_data(TAG_TIMER, 0))) < 0)
        goto fail;
    *out = s;
    return 0;

fail:
    if (bound)
        unlink(o->path);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->tfd >= 0)
        close(s->tfd);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->path);
    free(s);
    return r;
}

int ctl_server_fd(const struct ctl_server *s)
{
    return s ? s->epfd : -EINVAL;
}

unsigned ctl_server_nclients(const struct ctl_server *s)
{
    return s ? s->nclients : 0;
}

/* ---- permission ---- */

/* Is the account of UID a member (primary or supplementary) of GID? */
static bool uid_in_group(uid_t uid, gid_t gid)
{
    gid_t primary;
    char *name = NULL;

    if (account_user_by_uid(uid, &primary, &name) != 1)
        return false;
    bool member = primary == gid;
    int ngroups = 32;
    gid_t *groups = NULL;
    while (!member) {
        gid_t *ng = realloc(groups, (size_t)ngroups * sizeof(*groups));
        if (!ng)
            break;
        groups = ng;
        int n = ngroups;
        if (getgrouplist(name, primary, groups, &n) >= 0) {
            for (int i = 0; i < n; i++)
                member |= groups[i] == gid;
            break;
        }
        if (n <= ngroups || n > 65536) /* no progress, or absurd */
            break;
        ngroups = n;
    }
    free(groups);
    free(name);
    return member;
}

/* NULL if CR may talk to S, else a malloc'ed refusal message (or a static
 * one when memory ran out). */
static char *check_peer(const struct ctl_server *s, const struct ucred *cr, bool *owned)
{
    *owned = false;
    if (cr->uid == 0 || cr->uid == s->euid)
        return NULL;
    if (s->allowed_gid != (gid_t)-1 && (cr->gid == s->allowed_gid || uid_in_group(cr->uid, s->allowed_gid)))
        return NULL;

    char *msg = NULL;
    int r;
    if (s->allowed_gid == (gid_t)-1) {
        if (s->euid == 0)
            r = asprintf(&msg, "permission denied: uid %u is not root", (unsigned)cr->uid);
        else
            r = asprintf(&msg, "permission denied: uid %u is not root and not the daemon's uid %u",
                         (unsigned)cr->uid, (unsigned)s->euid);
    } else {
        char *group = NULL;
        if (account_group_by_gid(s->allowed_gid, &group) == 1)
            r = asprintf(&msg, "permission denied: uid %u is not root and not in group '%s'",
                         (unsigned)cr->uid, group);
        else
            r = asprintf(&msg, "permission denied: uid %u is not root and not in group %u",
                         (unsigned)cr->uid, (unsigned)s->allowed_gid);
        free(group);
    }
    if (r < 0)
        return (char *)"permission denied";
    *owned = true;
    return msg;
}

/* ---- clients ---- */

static void client_drop(struct ctl_server *s, struct client *c)
{
    if (c->out_owned)
        free(c->out);
    c->out = NULL;
    c->out_owned = false;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->state = CL_FREE;
    s->nclients--;
}

/* Send an error line on a fresh or dying connection without waiting: the
 * socket's buffer takes it whole unless the peer stuffed it. */
static void send_error_now(int fd, const char *msg)
{
    size_t len;
    char *line = ctl_proto_reply_error(msg, &len);
    if (line) {
        ssize_t n = send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
        free(line);
    }
}

static void client_write(struct ctl_server *s, struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->want_out) {
                    if (epoll_set(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT,
                                  ev_data(TAG_CLIENT + (uint32_t)(c - s->clients), c->gen)) < 0)
                        break; /* cannot wait: give up on this client */
                    c->want_out = true;
                }
                return;
            }
            break; /* EPIPE, ECONNRESET, ...: the client is gone */
        }
        c->out_off += (size_t)n;
    }
    client_drop(s, c); /* all sent, or failed */
}

/* Queue OUT (malloc'ed, or NULL for out-of-memory) as C's reply and start
 * sending it. */
static void client_reply(struct ctl_server *s, struct client *c, char *out, size_t len)
{
    if (out) {
        c->out = out;
        c->out_owned = true;
        c->out_len = len;
    } else {
        c->out = (char *)oom_reply;
        c->out_owned = false;
        c->out_len = sizeof(oom_reply) - 1;
    }
    c->out_off = 0;
    c->state = CL_WRITE;
    c->deadline_ns = now_ns() + s->idle_ns;
    client_write(s, c);
}

static void client_reply_error(struct ctl_server *s, struct client *c, const char *msg)
{
    size_t len = 0;
    char *out = ctl_proto_reply_error(msg, &len);
    client_reply(s, c, out, len);
}

/* A full line (LEN bytes, without "\n") is in C's buffer: answer it. */
static void client_serve(struct ctl_server *s, struct client *c, size_t len)
{
    struct json_object *req;
    const char *cmd;
    char *msg = NULL;
    int r = ctl_proto_parse_request(c->buf, len, &req, &cmd, &msg);
    if (r < 0) {
        client_reply_error(s, c, msg ? msg : "out of memory");
        free(msg);
        return;
    }
    struct json_object *result = s->fn(s->opaque, cmd, req, &msg);
    json_object_put(req);
    size_t olen = 0;
    char *out;
    if (result) {
        free(msg);
        out = ctl_proto_reply_ok(result, &olen);
    } else {
        out = ctl_proto_reply_error(msg ? msg : "internal error", &olen);
        free(msg);
    }
    client_reply(s, c, out, olen);
}

static void client_read(struct ctl_server *s, struct client *c)
{
    for (;;) {
        size_t room = sizeof(c->buf) - c->len;
        if (room == 0) {
            client_reply_error(s, c, "request too long (more than 4096 bytes)");
            return;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, room, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                client_drop(s, c);
            return;
        }
        if (n == 0) {
            if (c->len == 0)
                client_drop(s, c); /* connected and left, e.g. a liveness probe */
            else
                client_reply_error(s, c, "request not terminated by a newline");
            return;
        }
        char *nl = memchr(c->buf + c->len, '\n', (size_t)n);
        c->len += (size_t)n;
        if (nl) {
            client_serve(s, c, (size_t)(nl - c->buf)); /* bytes after "\n" are ignored */
            return;
        }
    }
}

static void client_new(struct ctl_server *s, int fd)
{
    struct client *c = NULL;
    for (unsigned i = 0; i < CTL_SERVER_MAX_CLIENTS && !c; i++)
        if (s->clients[i].fd < 0)
            c = &s->clients[i];
    if (!c) {
        send_error_now(fd, "too many clients");
        close(fd);
        return;
    }
    c->fd = fd;
    c->gen = ++s->gen;
    c->len = 0;
    c->out = NULL;
    c->out_owned = false;
    c->out_len = c->out_off = 0;
    c->want_out = false;
    c->state = CL_READ;
    c->deadline_ns = now_ns() + s->idle_ns;
    s->nclients++;

    struct ucred cr;
    socklen_t crlen = sizeof(cr);
    char *refusal;
    bool owned = false;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || crlen != sizeof(cr))
        refusal = (char *)"permission denied: cannot get the peer's credentials";
    else
        refusal = check_peer(s, &cr, &owned);

    uint64_t data = ev_data(TAG_CLIENT + (uint32_t)(c - s->clients), c->gen);
    if (epoll_set(s, EPOLL_CTL_ADD, fd, refusal ? 0 : EPOLLIN, data) < 0) {
        if (owned)
            free(refusal);
        client_drop(s, c);
        return;
    }
    if (refusal) {
        client_reply_error(s, c, refusal);
        if (owned)
            free(refusal);
    } else {
        client_read(s, c); /* the request is often there already */
    }
}

static void set_listening(struct ctl_server *s, bool on, int64_t now)
{
    if (epoll_set(s, EPOLL_CTL_MOD, s->lfd, on ? EPOLLIN : 0, ev_data(TAG_LISTEN, 0)) < 0)
        return;
    s->listen_paused = !on;
    s->listen_retry_ns = on ? 0 : now + LISTEN_RETRY_NS;
}

static void accept_clients(struct ctl_server *s)
{
    for (int i = 0; i < ACCEPTS_PER_DISPATCH; i++) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                set_listening(s, false, now_ns()); /* retry later, do not spin */
            return;
        }
        client_new(s, fd);
    }
}

static int64_t next_deadline(const struct ctl_server *s)
{
    int64_t next = s->listen_paused ? s->listen_retry_ns : INT64_MAX;
    for (unsigned i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0 && s->clients[i].deadline_ns < next)
            next = s->clients[i].deadline_ns;
    return next;
}

static void arm_timer(struct ctl_server *s)
{
    int64_t next = next_deadline(s);
    struct itimerspec its = {0};
    if (next != INT64_MAX) {
        if (next <= 0)
            next = 1;
        its.it_value.tv_sec = next / 1000000000LL;
        its.it_value.tv_nsec = next % 1000000000LL;
    }
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void expire(struct ctl_server *s, int64_t now)
{
    if (s->listen_paused && s->listen_retry_ns <= now)
        set_listening(s, true, now);
    for (unsigned i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        struct client *c = &s->clients[i];
        if (c->fd < 0 || c->deadline_ns > now)
            continue;
        if (c->state == CL_READ)
            send_error_now(c->fd, "timed out waiting for the request line");
        client_drop(s, c);
    }
}

int ctl_server_dispatch(struct ctl_server *s)
{
    if (!s)
        return -EINVAL;
    struct epoll_event ev[EVENTS_PER_WAIT];
    for (int round = 0; round < WAITS_PER_DISPATCH; round++) {
        int n = epoll_wait(s->epfd, ev, EVENTS_PER_WAIT, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        bool do_accept = false;
        for (int i = 0; i < n; i++) {
            uint32_t tag = (uint32_t)ev[i].data.u64;
            uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
            if (tag == TAG_LISTEN) {
                do_accept = true; /* after the clients: no slot reuse within a batch */
            } else if (tag == TAG_TIMER) {
                uint64_t ticks;
                ssize_t r = read(s->tfd, &ticks, sizeof(ticks));
                (void)r;
            } else if (tag - TAG_CLIENT < CTL_SERVER_MAX_CLIENTS) {
                struct client *c = &s->clients[tag - TAG_CLIENT];
                if (c->fd < 0 || c->gen != gen)
                    continue; /* closed (and maybe reused) since */
                if (c->state == CL_READ)
                    client_read(s, c);
                else
                    client_write(s, c);
            }
        }
        if (do_accept)
            accept_clients(s);
        if (n < EVENTS_PER_WAIT)
            break;
    }
    expire(s, now_ns());
    arm_timer(s);
    return 0;
}

int ctl_server_timeout_ms(const struct ctl_server *s)
{
    if (!s)
        return -1;
    int64_t next = next_deadline(s);
    if (next == INT64_MAX)
        return -1;
    int64_t left = next - now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void ctl_server_close(struct ctl_server *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            client_drop(s, &s->clients[i]);
    struct stat st;
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    close(s->lfd);
    close(s->tfd);
    close(s->epfd);
    free(s->path);
    free(s);
}
