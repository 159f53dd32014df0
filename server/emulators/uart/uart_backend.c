/*
 * UART backends: choosing one from its spec, and what they share.
 */
#include "uart_backend_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int uart_backend_open(const char *spec, struct uart_backend **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!spec)
        return uart_backend_fail(err, errlen, EINVAL, "no backend given");
    if (strcmp(spec, "stdio") == 0)
        return uart_backend_stdio_open(out, err, errlen);
    if (strcmp(spec, "pty") == 0)
        return uart_backend_pty_open(out, err, errlen);
    if (strncmp(spec, "file:", 5) == 0) {
        if (!spec[5])
            return uart_backend_fail(err, errlen, EINVAL, "file: needs a path (file:PATH)");
        return uart_backend_file_open(spec + 5, out, err, errlen);
    }
    if (strncmp(spec, "unix:", 5) == 0) {
        if (!spec[5])
            return uart_backend_fail(err, errlen, EINVAL, "unix: needs a path (unix:PATH)");
        return uart_backend_unix_open(spec + 5, out, err, errlen);
    }
    return uart_backend_fail(err, errlen, EINVAL,
                             "unknown backend \"%s\" (stdio, file:PATH, unix:PATH or pty)", spec);
}

void uart_backend_close(struct uart_backend *be)
{
    if (!be)
        return;
    if (be->ops->close)
        be->ops->close(be);
    free(be);
}

const char *uart_backend_describe(const struct uart_backend *be)
{
    return be->desc;
}

void uart_backend_set_note(struct uart_backend *be, uart_backend_note_fn *fn, void *opaque)
{
    be->note = fn;
    be->note_opaque = opaque;
}

size_t uart_backend_write(struct uart_backend *be, const uint8_t *buf, size_t len)
{
    if (len == 0)
        return 0;
    return be->ops->write(be, buf, len);
}

int uart_backend_poll_fds(struct uart_backend *be, struct pollfd *fds,
                          bool want_input, bool want_output)
{
    if (!be->ops->poll_fds)
        return 0;
    return be->ops->poll_fds(be, fds, want_input, want_output);
}

size_t uart_backend_handle(struct uart_backend *be, const struct pollfd *fds, int nfds,
                           uint8_t *buf, size_t room)
{
    if (!be->ops->handle)
        return 0;
    return be->ops->handle(be, fds, nfds, buf, room);
}

void uart_backend_notef(struct uart_backend *be, const char *fmt, ...)
{
    char msg[PATH_MAX + 128];
    va_list ap;

    if (!be->note)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    be->note(be->note_opaque, msg);
}

int uart_backend_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

int uart_backend_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

short uart_backend_revents(const struct pollfd *fds, int nfds, int fd)
{
    if (fd < 0)
        return 0;
    for (int i = 0; i < nfds; i++)
        if (fds[i].fd == fd)
            return fds[i].revents;
    return 0;
}
