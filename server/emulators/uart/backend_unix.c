/*
 * unix socket backend: listens on a stream socket; one client at a time is
 * the far end of the line (input and output); a client that connects while
 * another is attached is turned away.  With no client, output is discarded,
 * as on a serial port with no cable.  A client that shuts down its sending
 * side keeps receiving output.  A stale socket left at PATH (a previous
 * instance) is replaced; anything else there is an error.  close() removes
 * the socket.
 */
#include "uart_backend_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_backend {
    struct uart_backend base;
    int listen_fd;
    int client_fd;      /* -1: no client */
    bool client_in_eof; /* the client sends no more */
    bool client_hup;    /* the client has gone (input may remain unread) */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void drop_client(struct unix_backend *ub, const char *why)
{
    close(ub->client_fd);
    ub->client_fd = -1;
    ub->client_in_eof = false;
    ub->client_hup = false;
    uart_backend_notef(&ub->base, "%s: client %s", ub->base.desc, why);
}

static size_t unix_write(struct uart_backend *be, const uint8_t *buf, size_t len)
{
    struct unix_backend *ub = (struct unix_backend *)be;

    while (ub->client_fd >= 0) {
        ssize_t n = send(ub->client_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n >= 0)
            return (size_t)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0; /* the client is slow: hold the line */
        drop_client(ub, errno == EPIPE || errno == ECONNRESET ? "disconnected" : strerror(errno));
    }
    return len; /* no client: discarded */
}

static int unix_poll_fds(struct uart_backend *be, struct pollfd *fds,
                         bool want_input, bool want_output)
{
    struct unix_backend *ub = (struct unix_backend *)be;
    bool input = want_input && !ub->client_in_eof;
    int n = 0;

    fds[n++] = (struct pollfd){ .fd = ub->listen_fd, .events = POLLIN };
    if (ub->client_fd < 0)
        return n;
    if (ub->client_hup) {
        /* Gone: only what it sent before going is left to read. */
        if (input)
            fds[n++] = (struct pollfd){ .fd = ub->client_fd, .events = POLLIN };
        return n;
    }
    /* Polled even with no events: POLLHUP says the client went. */
    fds[n++] = (struct pollfd){
        .fd = ub->client_fd,
        .events = (short)((input ? POLLIN : 0) | (want_output ? POLLOUT : 0)),
    };
    return n;
}

static void accept_client(struct unix_backend *ub)
{
    int fd = accept4(ub->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return; /* EAGAIN, or the client gave up already */
    if (ub->client_fd >= 0) {
        close(fd);
        uart_backend_notef(&ub->base, "%s: turned a second client away", ub->base.desc);
        return;
    }
    ub->client_fd = fd;
    ub->client_in_eof = false;
    ub->client_hup = false;
    uart_backend_notef(&ub->base, "%s: client connected", ub->base.desc);
}

static size_t unix_handle(struct uart_backend *be, const struct pollfd *fds, int nfds,
                          uint8_t *buf, size_t room)
{
    struct unix_backend *ub = (struct unix_backend *)be;
    short revents = uart_backend_revents(fds, nfds, ub->client_fd);
    size_t got = 0;

    if (revents & (POLLHUP | POLLERR | POLLNVAL))
        ub->client_hup = true;
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && room && !ub->client_in_eof) {
        ssize_t n = read(ub->client_fd, buf, room);

        if (n > 0) {
            got = (size_t)n;
        } else if (n == 0) {
            ub->client_in_eof = true;
            if (!ub->client_hup)
                uart_backend_notef(be, "%s: client closed its input", be->desc);
        } else if (errno != EAGAIN && errno != EINTR) {
            drop_client(ub, strerror(errno));
        }
    }
    /* Gone, and nothing it sent is left unread (or it cannot be read). */
    if (ub->client_fd >= 0 && ub->client_hup && (ub->client_in_eof || (revents & POLLNVAL)))
        drop_client(ub, "disconnected");
    if (uart_backend_revents(fds, nfds, ub->listen_fd) & POLLIN)
        accept_client(ub);
    return got;
}

static void unix_close(struct uart_backend *be)
{
    struct unix_backend *ub = (struct unix_backend *)be;

    if (ub->client_fd >= 0)
        close(ub->client_fd);
    close(ub->listen_fd);
    unlink(ub->path);
}

static const struct uart_backend_ops unix_ops = {
    .write = unix_write,
    .poll_fds = unix_poll_fds,
    .handle = unix_handle,
    .close = unix_close,
};

int uart_backend_unix_open(const char *path, struct uart_backend **out, char *err, size_t errlen)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct unix_backend *ub;
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path))
        return uart_backend_fail(err, errlen, ENAMETOOLONG,
                                 "%s: path too long for a unix socket (max %zu bytes)",
                                 path, sizeof(addr.sun_path) - 1);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return uart_backend_fail(err, errlen, EEXIST, "%s: exists and is not a socket", path);
        if (unlink(path) < 0)
            return uart_backend_fail(err, errlen, errno, "%s: cannot replace the old socket: %s",
                                     path, strerror(errno));
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return uart_backend_fail(err, errlen, errno, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        int e = errno;

        close(fd);
        return uart_backend_fail(err, errlen, e, "%s: %s", path, strerror(e));
    }
    ub = calloc(1, sizeof(*ub));
    if (!ub) {
        close(fd);
        unlink(path);
        return uart_backend_fail(err, errlen, ENOMEM, "out of memory");
    }
    ub->base.ops = &unix_ops;
    snprintf(ub->base.desc, sizeof(ub->base.desc), "unix socket %s", path);
    ub->listen_fd = fd;
    ub->client_fd = -1;
    strcpy(ub->path, path);
    *out = &ub->base;
    return 0;
}
