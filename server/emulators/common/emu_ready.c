#include "emu_ready.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int emu_write_ready_file(const char *path, unsigned int server_id)
{
    char tmp[4096], line[16];
    int fd, len, e = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    len = snprintf(line, sizeof(line), "%u\n", server_id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, line, (size_t)len) != len)
        e = errno ? errno : EIO;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return -e;
    }
    return 0;
}

int emu_write_ready_fd(int fd, unsigned int server_id)
{
    char line[16];
    int len = snprintf(line, sizeof(line), "%u\n", server_id);
    ssize_t n;

    do
        n = write(fd, line, (size_t)len);
    while (n < 0 && errno == EINTR);
    int e = n == len ? 0 : n < 0 ? errno : EIO;
    close(fd);
    return -e;
}
