/*
 * pty backend: a new pseudo-terminal whose slave (named by
 * uart_backend_describe(): "pty /dev/pts/N") is the far end of the line;
 * connect with any terminal program.  The backend keeps the slave open
 * itself, in raw mode, so the master never reports a hang-up while nobody is
 * attached and a terminal program can come and go.  Output is written to
 * the master without blocking; once the pty's buffer is full (nobody is
 * reading) further output is discarded rather than stalling the guest.
 */
#include "uart_backend_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct pty_backend {
    struct uart_backend base;
    int master_fd;
    int slave_fd;
    bool discarding; /* noted once per stretch of discarded output */
};

static size_t pty_write(struct uart_backend *be, const uint8_t *buf, size_t len)
{
    struct pty_backend *p = (struct pty_backend *)be;

    for (;;) {
        ssize_t n = write(p->master_fd, buf, len);

        if (n > 0) {
            p->discarding = false;
            return (size_t)n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (!p->discarding)
            uart_backend_notef(be, "%s: %s; discarding output", be->desc,
                               n < 0 && errno != EAGAIN ? strerror(errno) : "nobody is reading");
        p->discarding = true;
        return len;
    }
}

static int pty_poll_fds(struct uart_backend *be, struct pollfd *fds,
                        bool want_input, bool want_output)
{
    struct pty_backend *p = (struct pty_backend *)be;

    (void)want_output; /* never busy: output is discarded instead */
    if (!want_input)
        return 0;
    fds[0] = (struct pollfd){ .fd = p->master_fd, .events = POLLIN };
    return 1;
}

static size_t pty_handle(struct uart_backend *be, const struct pollfd *fds, int nfds,
                         uint8_t *buf, size_t room)
{
    struct pty_backend *p = (struct pty_backend *)be;
    ssize_t n;

    if (!(uart_backend_revents(fds, nfds, p->master_fd) & POLLIN) || room == 0)
        return 0;
    n = read(p->master_fd, buf, room);
    return n > 0 ? (size_t)n : 0;
}

static void pty_close(struct uart_backend *be)
{
    struct pty_backend *p = (struct pty_backend *)be;

    close(p->slave_fd);
    close(p->master_fd);
}

static const struct uart_backend_ops pty_ops = {
    .write = pty_write,
    .poll_fds = pty_poll_fds,
    .handle = pty_handle,
    .close = pty_close,
};

int uart_backend_pty_open(struct uart_backend **out, char *err, size_t errlen)
{
    char name[PATH_MAX];
    struct termios t;
    struct pty_backend *p;
    int master, slave, e;

    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return uart_backend_fail(err, errlen, errno, "posix_openpt: %s", strerror(errno));
    if (grantpt(master) < 0 || unlockpt(master) < 0 ||
        fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0)
        e = errno;
    else
        e = ptsname_r(master, name, sizeof(name));
    if (e) {
        close(master);
        return uart_backend_fail(err, errlen, e, "pty: %s", strerror(e));
    }
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        e = errno;
        close(master);
        return uart_backend_fail(err, errlen, e, "%s: %s", name, strerror(e));
    }
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        close(slave);
        close(master);
        return uart_backend_fail(err, errlen, ENOMEM, "out of memory");
    }
    p->base.ops = &pty_ops;
    snprintf(p->base.desc, sizeof(p->base.desc), "pty %s", name);
    p->master_fd = master;
    p->slave_fd = slave;
    *out = &p->base;
    return 0;
}
