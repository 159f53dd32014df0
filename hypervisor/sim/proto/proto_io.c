/* SCM_RIGHTS plumbing for the xensim protocol. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto_io.h"

int proto_send(int sock, const void *msg, size_t len, const int *fds,
               unsigned int nr_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * XENSIM_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (nr_fds > XENSIM_MAX_FDS)
        return -EINVAL;
    if (nr_fds > 0) {
        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

        if (n >= 0)
            return (size_t)n == len ? 0 : -EMSGSIZE;
        if (errno != EINTR)
            return -errno;
    }
}

/* Take the fds out of a received control message; close what does not fit. */
static unsigned int collect_fds(struct msghdr *mh, int *fds, bool keep)
{
    unsigned int n = 0;

    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (keep && n < XENSIM_MAX_FDS)
                fds[n++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

long proto_recv(int sock, void *buf, size_t size, int *fds, unsigned int *nr_fds,
                bool inherit_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * XENSIM_MAX_FDS * 2)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = size };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
    ssize_t n;

    do {
        n = recvmsg(sock, &mh, inherit_fds ? 0 : MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;

    bool bad = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
               (n > 0 && (size_t)n < sizeof(struct xensim_hdr));
    if (!bad && n > 0) {
        const struct xensim_hdr *hdr = buf;
        bad = hdr->len != (uint32_t)n;
    }
    *nr_fds = collect_fds(&mh, fds, !bad && n > 0);
    return bad ? -EBADMSG : n;
}
