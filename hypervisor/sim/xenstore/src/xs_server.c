/* The unix-socket server and its poll thread. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs_codec.h"
#include "xs_dispatch.h"
#include "xs_server.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

/* An existing file at path: a socket nobody answers on may go. */
static int clear_stale(const struct sockaddr_un *sa, const char *path)
{
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    close(fd);
    if (rc == 0)
        return -EADDRINUSE;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int xsim_server_open(struct xs_sim *xs, const char *path)
{
    struct sockaddr_un sa;
    int rc = fill_addr(&sa, path);

    xs->listen_fd = xs->wake_fd = -1;
    if (rc < 0)
        return rc;
    rc = clear_stale(&sa, path);
    if (rc < 0)
        return rc;
    xs->socket_path = strdup(path);
    if (!xs->socket_path)
        return -ENOMEM;
    xs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (xs->listen_fd < 0)
        return -errno;
    if (bind(xs->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -errno;
    xs->bound = true;
    if (listen(xs->listen_fd, 64) < 0)
        return -errno;
    xs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xs->wake_fd < 0)
        return -errno;
    return 0;
}

void xsim_server_wake(struct xs_sim *xs)
{
    uint64_t one = 1;
    ssize_t n;

    do
        n = write(xs->wake_fd, &one, sizeof(one));
    while (n < 0 && errno == EINTR);
}

void xsim_server_event(void *owner, const char *path, const char *token,
                       void *ctx)
{
    struct xsim_conn *c = owner;

    (void)ctx;
    if (!c || c->dead)
        return;
    /* An event that cannot fit one message is dropped, not sent broken. */
    if (xsim_codec_event(&c->out, path, token) == -ENOMEM ||
        xsim_buf_avail(&c->out) > XSIM_OUT_HARD_LIMIT)
        c->dead = true;
}

/* ---- per-connection work, with the lock held ---- */

static void conn_flush(struct xsim_conn *c)
{
    while (!c->dead && xsim_buf_avail(&c->out)) {
        ssize_t n = send(c->fd, xsim_buf_head(&c->out), xsim_buf_avail(&c->out),
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0)
            xsim_buf_consume(&c->out, (size_t)n);
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else
            c->dead = true;
    }
}

/* Run every complete request, unless the client is not reading replies. */
static void conn_process(struct xs_sim *xs, struct xsim_conn *c)
{
    while (!c->dead && xsim_buf_avail(&c->out) < XSIM_OUT_SOFT_LIMIT) {
        struct xsd_sockmsg hdr;
        long n = xsim_codec_frame(xsim_buf_head(&c->in), xsim_buf_avail(&c->in),
                                  &hdr);

        if (n == 0)
            break;
        if (n < 0) {
            /* Oversized payload: the stream cannot be resynchronised. */
            c->dead = true;
            break;
        }
        if (xsim_dispatch(&xs->store, &c->caller, &hdr,
                          (const char *)xsim_buf_head(&c->in) + XSIM_HDR_SIZE,
                          &c->out) < 0)
            c->dead = true;
        xsim_buf_consume(&c->in, (size_t)n);
    }
}

static void conn_read(struct xs_sim *xs, struct xsim_conn *c)
{
    uint8_t buf[16384];
    ssize_t n;

    do
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        c->dead = true;
        return;
    }
    if (n > 0 && xsim_buf_append(&c->in, buf, (size_t)n) < 0) {
        c->dead = true;
        return;
    }
    conn_process(xs, c);
}

static void conn_free(struct xs_sim *xs, struct xsim_conn *c)
{
    xsim_store_forget_owner(&xs->store, c);
    close(c->fd);
    xsim_buf_free(&c->in);
    xsim_buf_free(&c->out);
    free(c);
}

static void reap(struct xs_sim *xs)
{
    struct xsim_conn **pp = &xs->conns;

    while (*pp) {
        struct xsim_conn *c = *pp;

        if (c->dead) {
            *pp = c->next;
            xs->nconns--;
            conn_free(xs, c);
        } else {
            pp = &c->next;
        }
    }
}

static void accept_all(struct xs_sim *xs)
{
    while (xs->nconns < XSIM_MAX_CONNS) {
        int fd = accept4(xs->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct xsim_conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of fds: try again on the next wake */
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            return;
        }
        c->fd = fd;
        c->caller.domid = 0;
        c->caller.privileged = true;
        c->caller.owner = c;
        c->next = xs->conns;
        xs->conns = c;
        xs->nconns++;
    }
}

static void drain_wake(struct xs_sim *xs)
{
    uint64_t v;

    while (read(xs->wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

static void *server_main(void *arg)
{
    struct xs_sim *xs = arg;
    struct pollfd *pfd = NULL;
    struct xsim_conn **pc = NULL;
    size_t cap = 0;

    pthread_mutex_lock(&xs->lock);
    while (!xs->stopping) {
        size_t n = 2, i;
        struct xsim_conn *c;

        for (c = xs->conns; c; c = c->next) {
            conn_flush(c);
            conn_process(xs, c);
            conn_flush(c);
        }
        reap(xs);
        if (cap < xs->nconns + 2) {
            size_t ncap = xs->nconns + 2 + 16;
            struct pollfd *np = realloc(pfd, ncap * sizeof(*np));
            struct xsim_conn **npc;

            if (np)
                pfd = np;
            npc = np ? realloc(pc, ncap * sizeof(*npc)) : NULL;
            if (npc)
                pc = npc;
            if (np && npc)
                cap = ncap;
        }
        if (cap < 2) {
            /* Nothing to poll with yet: back off and retry. */
            pthread_mutex_unlock(&xs->lock);
            usleep(10000);
            pthread_mutex_lock(&xs->lock);
            continue;
        }
        pfd[0] = (struct pollfd){ .fd = xs->wake_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = xs->listen_fd,
                                  .events = xs->nconns < XSIM_MAX_CONNS ? POLLIN : 0 };
        for (c = xs->conns; c && n < cap; c = c->next, n++) {
            short ev = 0;

            if (xsim_buf_avail(&c->out))
                ev |= POLLOUT;
            if (xsim_buf_avail(&c->out) < XSIM_OUT_SOFT_LIMIT)
                ev |= POLLIN;
            pfd[n] = (struct pollfd){ .fd = c->fd, .events = ev };
            pc[n] = c;
        }
        pthread_mutex_unlock(&xs->lock);

        if (poll(pfd, n, -1) < 0 && errno != EINTR) {
            pthread_mutex_lock(&xs->lock);
            continue;
        }

        pthread_mutex_lock(&xs->lock);
        if (pfd[0].revents)
            drain_wake(xs);
        /* Connections are only freed on this thread: pc[] is still valid. */
        for (i = 2; i < n; i++) {
            c = pc[i];
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                conn_read(xs, c);
            if (pfd[i].revents & POLLNVAL)
                c->dead = true;
        }
        if (pfd[1].revents & POLLIN)
            accept_all(xs);
    }
    pthread_mutex_unlock(&xs->lock);
    free(pfd);
    free(pc);
    return NULL;
}

int xsim_server_start(struct xs_sim *xs)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&xs->thread, NULL, server_main, xs);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    xs->thread_started = true;
    return 0;
}

void xsim_server_close(struct xs_sim *xs)
{
    if (xs->thread_started) {
        pthread_mutex_lock(&xs->lock);
        xs->stopping = true;
        pthread_mutex_unlock(&xs->lock);
        xsim_server_wake(xs);
        pthread_join(xs->thread, NULL);
        xs->thread_started = false;
    }
    while (xs->conns) {
        struct xsim_conn *c = xs->conns;

        xs->conns = c->next;
        conn_free(xs, c);
    }
    xs->nconns = 0;
    if (xs->listen_fd >= 0)
        close(xs->listen_fd);
    if (xs->bound)
        unlink(xs->socket_path);
    xs->bound = false;
    if (xs->wake_fd >= 0)
        close(xs->wake_fd);
    xs->listen_fd = xs->wake_fd = -1;
    free(xs->socket_path);
    xs->socket_path = NULL;
}
