/*
 * Inside the UART backends: the operations each kind implements, and
 * helpers they share.  Not for users of uart_backend.h.
 */
#ifndef UART_BACKEND_IMPL_H
#define UART_BACKEND_IMPL_H

#include "uart_backend.h"

#include <limits.h>
#include <sys/types.h>

struct uart_backend_ops {
    size_t (*write)(struct uart_backend *be, const uint8_t *buf, size_t len);
    /* Optional: no fds to poll. */
    int (*poll_fds)(struct uart_backend *be, struct pollfd *fds, bool want_input, bool want_output);
    /* Optional: no input. */
    size_t (*handle)(struct uart_backend *be, const struct pollfd *fds, int nfds,
                     uint8_t *buf, size_t room);
    /* Release what the backend holds; the common code frees the struct. */
    void (*close)(struct uart_backend *be);
};

/* Each backend embeds this first and allocates the whole with calloc. */
struct uart_backend {
    const struct uart_backend_ops *ops;
    uart_backend_note_fn *note;
    void *note_opaque;
    char desc[PATH_MAX + 32];
};

int uart_backend_stdio_open(struct uart_backend **out, char *err, size_t errlen);
int uart_backend_file_open(const char *path, struct uart_backend **out, char *err, size_t errlen);
int uart_backend_unix_open(const char *path, struct uart_backend **out, char *err, size_t errlen);
int uart_backend_pty_open(struct uart_backend **out, char *err, size_t errlen);

/* Report a runtime event through the note callback, if any. */
void uart_backend_notef(struct uart_backend *be, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Format err (if any) and return -errnum. */
int uart_backend_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write everything to a blocking fd; returns 0 or a negative errno. */
int uart_backend_write_all(int fd, const uint8_t *buf, size_t len);

/* The revents poll gave for fd in fds, or 0 if fd was not there. */
short uart_backend_revents(const struct pollfd *fds, int nfds, int fd);

#endif /* UART_BACKEND_IMPL_H */
