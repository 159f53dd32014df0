/*
 * stdio backend: output to stdout, input from stdin.  A terminal on stdin
 * goes into raw mode (no echo, no line editing, no flow control) but keeps
 * its signal keys, so ^C still stops the emulator; close restores it.
 * stdin is never made non-blocking (its file description is shared with the
 * shell): it is read once per POLLIN.
 */
#include "uart_backend_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct stdio_backend {
    struct uart_backend base;
    int in_fd;          /* -1 once input has ended */
    int out_fd;         /* -1 once output has failed: discarded from then on */
    bool restore_tty;
    struct termios saved;
};

static size_t stdio_write(struct uart_backend *be, const uint8_t *buf, size_t len)
{
    struct stdio_backend *s = (struct stdio_backend *)be;
    int rc;

    if (s->out_fd < 0)
        return len;
    rc = uart_backend_write_all(s->out_fd, buf, len);
    if (rc < 0) {
        uart_backend_notef(be, "stdout: %s; output discarded from now on", strerror(-rc));
        s->out_fd = -1;
    }
    return len;
}

static int stdio_poll_fds(struct uart_backend *be, struct pollfd *fds,
                          bool want_input, bool want_output)
{
    struct stdio_backend *s = (struct stdio_backend *)be;

    (void)want_output; /* writes block instead */
    if (s->in_fd < 0 || !want_input)
        return 0;
    fds[0] = (struct pollfd){ .fd = s->in_fd, .events = POLLIN };
    return 1;
}

static size_t stdio_handle(struct uart_backend *be, const struct pollfd *fds, int nfds,
                           uint8_t *buf, size_t room)
{
    struct stdio_backend *s = (struct stdio_backend *)be;
    short revents = uart_backend_revents(fds, nfds, s->in_fd);
    ssize_t n;

    if (!revents || room == 0)
        return 0;
    if (revents & POLLNVAL) {
        s->in_fd = -1;
        return 0;
    }
    n = read(s->in_fd, buf, room);
    if (n > 0)
        return (size_t)n;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    uart_backend_notef(be, "stdin: %s; no more input", n == 0 ? "end of input" : strerror(errno));
    s->in_fd = -1;
    return 0;
}

static void stdio_close(struct uart_backend *be)
{
    struct stdio_backend *s = (struct stdio_backend *)be;

    if (s->restore_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
}

static const struct uart_backend_ops stdio_ops = {
    .write = stdio_write,
    .poll_fds = stdio_poll_fds,
    .handle = stdio_handle,
    .close = stdio_close,
};

int uart_backend_stdio_open(struct uart_backend **out, char *err, size_t errlen)
{
    struct stdio_backend *s = calloc(1, sizeof(*s));

    if (!s)
        return uart_backend_fail(err, errlen, ENOMEM, "out of memory");
    s->base.ops = &stdio_ops;
    snprintf(s->base.desc, sizeof(s->base.desc), "stdio");
    s->in_fd = STDIN_FILENO;
    s->out_fd = STDOUT_FILENO;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved) == 0) {
        struct termios raw = s->saved;

        raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            s->restore_tty = true;
    }
    *out = &s->base;
    return 0;
}
