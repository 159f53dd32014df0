/*
 * The loop: ioreq_fd() + ioreq_dispatch() for a caller's own poll loop, or
 * ioreq_run() on its own, stopped by ioreq_stop() (an eventfd) or by
 * SIGTERM/SIGINT (a signalfd of the calling thread; no process-wide handler).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "internal.h"

int ioreq_fd(const struct ioreq_ctx *ctx)
{
    return ctx && ctx->xce ? xenevtchn_fd(ctx->xce) : -EINVAL;
}

int ioreq_dispatch(struct ioreq_ctx *ctx)
{
    if (!ctx || !ctx->started)
        return -EINVAL;
    int rc = evtchn_collect(ctx);
    if (rc < 0)
        return rc;
    int served = (int)serve_ring(ctx);
    rc = sync_serve(ctx, false);
    return rc < 0 ? rc : served + rc;
}

void ioreq_stop(struct ioreq_ctx *ctx)
{
    const uint64_t one = 1;

    if (!ctx)
        return;
    __atomic_store_n(&ctx->stop, 1, __ATOMIC_SEQ_CST);
    ssize_t n = write(ctx->stop_fd, &one, sizeof(one)); /* a full counter is awake anyway */
    (void)n;
}

int ioreq_run(struct ioreq_ctx *ctx)
{
    sigset_t set, old;
    int result = 0;

    if (!ctx || !ctx->started)
        return -EINVAL;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int rc = pthread_sigmask(SIG_BLOCK, &set, &old);
    if (rc)
        return -rc;
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        result = -errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return result;
    }
    struct pollfd p[3] = {
        { .fd = xenevtchn_fd(ctx->xce), .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
        { .fd = ctx->stop_fd, .events = POLLIN },
    };
    while (!__atomic_load_n(&ctx->stop, __ATOMIC_SEQ_CST)) {
        rc = ioreq_dispatch(ctx);
        if (rc < 0) {
            result = rc;
            break;
        }
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            result = -errno;
            break;
        }
        struct signalfd_siginfo si;
        if ((p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            ctx_log(ctx, IOREQ_LOG_INFO, "signal %u: stopping", si.ssi_signo);
            result = (int)si.ssi_signo;
            break;
        }
        if (p[2].revents & POLLIN) {
            uint64_t v;
            ssize_t n = read(ctx->stop_fd, &v, sizeof(v));
            (void)n;
        }
    }
    if (result >= 0) { /* finish what is pending */
        rc = ioreq_dispatch(ctx);
        if (rc < 0)
            result = rc;
    }
    __atomic_store_n(&ctx->stop, 0, __ATOMIC_SEQ_CST);
    close(sfd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return result;
}
