/*
 * file backend: output appended to a file (created 0644 if missing, so a
 * restarted emulator continues the same log); no input.
 */
#include "uart_backend_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct file_backend {
    struct uart_backend base;
    int fd; /* -1 once a write failed: output discarded from then on */
};

static size_t file_write(struct uart_backend *be, const uint8_t *buf, size_t len)
{
    struct file_backend *f = (struct file_backend *)be;
    int rc;

    if (f->fd < 0)
        return len;
    rc = uart_backend_write_all(f->fd, buf, len);
    if (rc < 0) {
        uart_backend_notef(be, "%s: %s; output discarded from now on", be->desc, strerror(-rc));
        close(f->fd);
        f->fd = -1;
    }
    return len;
}

static void file_close(struct uart_backend *be)
{
    struct file_backend *f = (struct file_backend *)be;

    if (f->fd >= 0)
        close(f->fd);
}

static const struct uart_backend_ops file_ops = {
    .write = file_write,
    .close = file_close,
};

int uart_backend_file_open(const char *path, struct uart_backend **out, char *err, size_t errlen)
{
    struct file_backend *f;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0)
        return uart_backend_fail(err, errlen, errno, "%s: %s", path, strerror(errno));
    f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        return uart_backend_fail(err, errlen, ENOMEM, "out of memory");
    }
    f->base.ops = &file_ops;
    snprintf(f->base.desc, sizeof(f->base.desc), "file %s", path);
    f->fd = fd;
    *out = &f->base;
    return 0;
}
