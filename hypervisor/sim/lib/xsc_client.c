/* The drop-in libraries' connection to the xensim daemon; see xsc_client.h. */
#define _GNU_SOURCE
#include "xsc_client.h"
#include "proto_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xentoollog.h>

_Static_assert(sizeof(struct xensim_hdr) == 16, "xensim_hdr layout");

void xsc_close_fds(const int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

long xsc_call(struct xsc_conn *c, void *req, size_t req_len, void *reply, size_t reply_size,
              size_t min_len, int *fds, unsigned int *nr_fds)
{
    struct xensim_hdr *h = req;
    int got[XENSIM_MAX_FDS];
    unsigned int nr_got = 0;
    long n;

    if (nr_fds)
        *nr_fds = 0;
    if (req_len < sizeof(*h) || req_len > XENSIM_MSG_MAX || reply_size < sizeof(*h)) {
        errno = EINVAL;
        return -1;
    }

    pthread_mutex_lock(&c->lock);
    /* After a transport failure (daemon gone, reply out of step) nothing more can be said. */
    if (c->sock < 0 || c->broken) {
        pthread_mutex_unlock(&c->lock);
        errno = EIO;
        return -1;
    }
    const uint32_t type = h->type;
    const uint32_t seq = c->next_seq++;
    h->len = (uint32_t)req_len;
    h->seq = seq;
    h->err = 0;
    int rc = proto_send(c->sock, req, req_len, NULL, 0);
    if (rc < 0) {
        int e = -rc;
        if (e != ENOMEM && e != ENOBUFS) { /* EPIPE, ECONNRESET, ...: daemon gone */
            c->broken = true;
            e = EIO;
        }
        pthread_mutex_unlock(&c->lock);
        errno = e;
        return -1;
    }
    /* `reply` may alias `req`: nothing of the request is read after this. */
    n = proto_recv(c->sock, reply, reply_size, got, &nr_got, !c->cloexec);
    const struct xensim_hdr *rh = reply;
    if (n <= 0 || rh->seq != seq || rh->type != type) {
        xsc_close_fds(got, nr_got);
        c->broken = true;
        pthread_mutex_unlock(&c->lock);
        errno = EIO;
        return -1;
    }
    pthread_mutex_unlock(&c->lock);

    if (rh->err != 0 || (size_t)n < min_len) {
        xsc_close_fds(got, nr_got);
        errno = rh->err > 0 && rh->err < 4096 ? rh->err : EIO;
        return -1;
    }
    if (fds && nr_fds) {
        memcpy(fds, got, nr_got * sizeof(int));
        *nr_fds = nr_got;
    } else {
        xsc_close_fds(got, nr_got);
    }
    return (long)n;
}

int xsc_restrict(struct xsc_conn *c, uint32_t type, uint32_t domid)
{
    struct xensim_restrict req = { .hdr = { .type = type }, .domid = domid };
    struct xensim_hdr rep;

    return xsc_call(c, &req, sizeof(req), &rep, sizeof(rep), sizeof(rep), NULL, NULL) < 0 ? -1
                                                                                          : 0;
}

/* connect(2), finishing a connection that a signal interrupted. */
static int connect_unix(int sock, const struct sockaddr_un *sa)
{
    if (connect(sock, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    for (;;) {
        struct pollfd p = { .fd = sock, .events = POLLOUT };
        int rc = poll(&p, 1, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return -1;
        if (err) {
            errno = err;
            return -1;
        }
        return 0;
    }
}

static int parse_domid(uint32_t *domid)
{
    const char *s = getenv(XENSIM_DOMID_ENV);
    char *end;

    *domid = 0;
    if (!s || !*s)
        return 0;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end || v > UINT16_MAX || s[0] == '-') {
        errno = EINVAL;
        return -1;
    }
    *domid = (uint32_t)v;
    return 0;
}

int xsc_open(struct xsc_conn *c, uint32_t kind, bool cloexec, int *fds, unsigned int *nr_fds,
             const char **what)
{
    const char *path = getenv(XENSIM_SOCKET_ENV);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *dummy;
    uint32_t domid;
    int err;

    if (!what)
        what = &dummy;
    if (nr_fds)
        *nr_fds = 0;
    c->sock = -1;
    c->next_seq = 1;
    c->broken = false;
    c->cloexec = cloexec;

    if (!path || !*path) {
        *what = "cannot reach the xensim daemon: $" XENSIM_SOCKET_ENV " is not set";
        errno = ENOENT;
        return -1;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        *what = "cannot reach the xensim daemon: $" XENSIM_SOCKET_ENV " is too long";
        errno = ENAMETOOLONG;
        return -1;
    }
    if (parse_domid(&domid) < 0) {
        *what = "$" XENSIM_DOMID_ENV " is not a domain id";
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);

    err = pthread_mutex_init(&c->lock, NULL);
    if (err) {
        *what = "cannot initialise a mutex";
        errno = err;
        return -1;
    }
    c->sock = socket(AF_UNIX, SOCK_SEQPACKET | (cloexec ? SOCK_CLOEXEC : 0), 0);
    if (c->sock < 0) {
        *what = "cannot create a socket";
        goto fail;
    }
    if (connect_unix(c->sock, &sa) < 0) {
        *what = "cannot connect to the xensim daemon at $" XENSIM_SOCKET_ENV;
        goto fail;
    }

    struct xensim_hello hello = {
        .hdr = { .type = XENSIM_HELLO },
        .version = XENSIM_PROTO_VERSION,
        .kind = kind,
        .domid = domid,
        .pid = (uint32_t)getpid(),
    };
    struct xensim_hdr rep;
    if (xsc_call(c, &hello, sizeof(hello), &rep, sizeof(rep), sizeof(rep), fds, nr_fds) < 0) {
        *what = "the xensim daemon did not accept the connection";
        goto fail;
    }
    return 0;

fail:
    err = errno;
    if (c->sock >= 0)
        close(c->sock);
    c->sock = -1;
    pthread_mutex_destroy(&c->lock);
    errno = err;
    return -1;
}

void xsc_close(struct xsc_conn *c)
{
    if (c->sock >= 0) {
        close(c->sock);
        c->sock = -1;
        pthread_mutex_destroy(&c->lock);
    }
}

static void logger_message(struct xentoollog_logger *lg, int err, const char *context,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void logger_message(struct xentoollog_logger *lg, int err, const char *context,
                           const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lg->vmessage(lg, XTL_ERROR, err, context, fmt, ap);
    va_end(ap);
}

void xsc_log_open_failure(struct xentoollog_logger *logger, const char *lib, int err,
                          const char *what)
{
    if (logger && logger->vmessage)
        logger_message(logger, err, lib, "%s", what);
    else
        fprintf(stderr, "%s: error: %s: %s\n", lib, what, strerror(err));
}
