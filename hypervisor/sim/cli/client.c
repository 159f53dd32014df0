/* The xensim control connection: connect, hello, request and reply. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto_io.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is readable; 0 or -errno. */
static int wait_readable(int fd, unsigned int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        int n = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n == 0 && left == 0)
            return -ETIMEDOUT;
    }
}

long xensim_client_call(struct xensim_client *c, void *req, size_t req_len,
                        void *reply, size_t reply_max, unsigned int timeout_ms, int *fd)
{
    struct xensim_hdr *rq = req, rp;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;

    if (fd)
        *fd = -1;
    if (req_len < sizeof(*rq) || req_len > XENSIM_MSG_MAX || reply_max < sizeof(rp))
        return -EINVAL;
    rq->seq = ++c->seq;
    rq->len = (uint32_t)req_len;
    rq->err = 0;
    int rc = proto_send(c->fd, req, req_len, NULL, 0);
    if (rc)
        return rc == -EPIPE ? -ECONNRESET : rc;
    if ((rc = wait_readable(c->fd, timeout_ms)))
        return rc;
    long n = proto_recv(c->fd, c->buf, XENSIM_MSG_MAX, fds, &nr_fds, false);
    if (n == 0 || n == -ECONNRESET) {
        n = -ECONNRESET;
    } else if (n < 0) {
        n = n == -EBADMSG ? -EPROTO : n;
    } else {
        memcpy(&rp, c->buf, sizeof(rp));
        if (rp.type != rq->type || rp.seq != rq->seq || (size_t)n > reply_max ||
            (fd && nr_fds > 1))
            n = -EPROTO;
        else
            memcpy(reply, c->buf, (size_t)n);
    }
    for (unsigned int i = 0; i < nr_fds; i++) { /* control replies carry none */
        if (n >= 0 && fd)
            *fd = fds[i];
        else
            close(fds[i]);
    }
    return n;
}

int xensim_client_open(struct xensim_client *c, const char *path,
                       unsigned int timeout_ms, int *hello_refused)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct xensim_hello hello = {
        .hdr.type = XENSIM_HELLO,
        .version = XENSIM_PROTO_VERSION,
        .kind = XENSIM_CLIENT_CONTROL,
        .domid = 0,
        .pid = (uint32_t)getpid(),
    };
    struct xensim_hdr reply;
    int err;

    *hello_refused = 0;
    *c = (struct xensim_client){ .fd = -1 };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    c->buf = malloc(XENSIM_MSG_MAX);
    if (!c->buf)
        return -ENOMEM;
    c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = -errno;
        xensim_client_close(c);
        return err;
    }
    long n = xensim_client_call(c, &hello, sizeof(hello), &reply, sizeof(reply),
                                timeout_ms, NULL);
    if (n >= 0 && reply.err) {
        *hello_refused = 1;
        n = reply.err > 0 ? -reply.err : -EPROTO;
    }
    if (n < 0) {
        xensim_client_close(c);
        return (int)n;
    }
    return 0;
}

void xensim_client_close(struct xensim_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    c->fd = -1;
    c->buf = NULL;
}
