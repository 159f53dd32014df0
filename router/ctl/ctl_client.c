/* ctl_client.c - one request/reply exchange on the control socket
 * (ctl_client.h). */
#define _GNU_SOURCE
#include "ctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until DEADLINE for poll() (-1: no deadline). */
static int left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ms();
    return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* Wait for EVENTS on FD until DEADLINE: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, left_ms(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int connect_to(const char *path, int timeout_ms, int *fdp, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(path);
    if (plen >= sizeof(sa.sun_path))
        return fail(-ENAMETOOLONG, err, errlen, "cannot connect to %s: %s", path, strerror(ENAMETOOLONG));
    memcpy(sa.sun_path, path, plen + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(-errno, err, errlen, "socket: %s", strerror(errno));
    if (timeout_ms >= 0) {
        /* A Unix connect only waits when the listen backlog is full; it
         * honours SO_SNDTIMEO (0 would mean forever). */
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        if (timeout_ms == 0)
            tv.tv_usec = 1;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    int r;
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int e = errno == EINPROGRESS || errno == EAGAIN ? ETIMEDOUT : errno;
        close(fd);
        return fail(-e, err, errlen, "cannot connect to %s: %s", path, strerror(e));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return fail(-e, err, errlen, "fcntl: %s", strerror(e));
    }
    *fdp = fd;
    return 0;
}

/* Send LEN bytes; a server that closed early (it may have refused us) is
 * not an error here: its reply, if any, is waiting to be read. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline, const char *path,
                    char *err, size_t errlen)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EPIPE || errno == ECONNRESET)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(-errno, err, errlen, "%s: send: %s", path, strerror(errno));
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r == -ETIMEDOUT)
            return fail(r, err, errlen, "%s: timed out sending the request", path);
        if (r < 0)
            return fail(r, err, errlen, "%s: poll: %s", path, strerror(-r));
    }
    return 0;
}

/* Read up to and including the first "\n"; *LINE is malloc'ed, *LEN
 * excludes the "\n". */
static int recv_line(int fd, int64_t deadline, const char *path, char **line, size_t *len,
                     char *err, size_t errlen)
{
    size_t cap = 4096, have = 0;
    char *buf = malloc(cap);
    if (!buf)
        return fail(-ENOMEM, err, errlen, "out of memory");
    int r = 0;
    for (;;) {
        if (have == cap) {
            if (cap >= CTL_MAX_REPLY) {
                r = fail(-EPROTO, err, errlen, "%s: reply longer than %u bytes", path,
                         (unsigned)CTL_MAX_REPLY);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                r = fail(-ENOMEM, err, errlen, "out of memory");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + have, cap - have, MSG_DONTWAIT);
        if (n > 0) {
            char *nl = memchr(buf + have, '\n', (size_t)n);
            have += (size_t)n;
            if (nl) {
                *line = buf;
                *len = (size_t)(nl - buf);
                return 0;
            }
            continue;
        }
        if (n == 0 || errno == ECONNRESET) {
            r = fail(-EPROTO, err, errlen, "%s: connection closed without a reply", path);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            r = fail(-errno, err, errlen, "%s: recv: %s", path, strerror(errno));
            break;
        }
        r = wait_fd(fd, POLLIN, deadline);
        if (r == -ETIMEDOUT) {
            fail(r, err, errlen, "%s: timed out waiting for the reply", path);
            break;
        }
        if (r < 0) {
            fail(r, err, errlen, "%s: poll: %s", path, strerror(-r));
            break;
        }
    }
    free(buf);
    return r;
}

int ctl_call(const char *path, struct json_object *request, int timeout_ms,
             struct json_object **reply, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!reply)
        return fail(-EINVAL, err, errlen, "no reply pointer");
    *reply = NULL;
    if (!path || !*path)
        return fail(-EINVAL, err, errlen, "no socket path");
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

    size_t len = 0;
    int r = 0;
    char *out = ctl_proto_encode_request(request, &len, &r);
    if (!out) {
        if (r == -EMSGSIZE)
            return fail(r, err, errlen, "request longer than %d bytes", CTL_MAX_REQUEST);
        if (r == -EINVAL)
            return fail(r, err, errlen, "request is not an object with a string \"cmd\"");
        return fail(r, err, errlen, "out of memory");
    }
    int fd = -1;
    r = connect_to(path, timeout_ms, &fd, err, errlen);
    if (r == 0)
        r = send_all(fd, out, len, deadline, path, err, errlen);
    free(out);
    char *line = NULL;
    if (r == 0)
        r = recv_line(fd, deadline, path, &line, &len, err, errlen);
    if (fd >= 0)
        close(fd);
    if (r < 0)
        return r;

    char why[256];
    r = ctl_proto_parse_reply(line, len, reply, why, sizeof(why));
    free(line);
    if (r == -EPROTO)
        return fail(r, err, errlen, "%s: %s", path, why);
    if (r < 0)
        return fail(r, err, errlen, "out of memory");
    return 0;
}
