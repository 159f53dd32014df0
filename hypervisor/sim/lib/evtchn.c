/*
 * Drop-in libxenevtchn.so.1.  Each handle has a control connection to the
 * daemon (bind, unbind, notify, restrict), and an event socket and event
 * page, passed with the HELLO reply, that behave like Linux's
 * /dev/xen/evtchn: the daemon writes a pending port to the socket as a
 * uint32_t (the port is then masked); unmasking clears the port's mask bit
 * in the page, and only when an event was latched meanwhile writes the port
 * back to the socket so that the daemon delivers it (xensim_proto.h).  The
 * daemon must hand out the page: there is no fallback to unmasking through
 * the socket alone.  A HELLO reply without it fails the open with EIO (as a
 * library without the page fails on a reply with it: mixed builds are
 * refused, never hang).
 *
 * A bind whose remote end is a hypervisor channel that wakes a vCPU comes
 * with that vCPU's doorbell (an eventfd): notifying such a port writes to
 * the eventfd directly instead of messaging the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "xsc_client.h"
#include "xsc_toolcore.h"

/* Ports above this get no doorbell slot: they notify through the daemon. */
#define DOORBELL_PORTS_MAX (1u << 20)

struct xenevtchn_handle {
    Xentoolcore__Active_Handle tc_ah;
    struct xsc_conn conn;
    int fd;                    /* the event socket */
    struct xensim_evtchn_page *page; /* mask and latch bits, shared with the daemon */
    pthread_rwlock_t db_lock;  /* guards doorbell[], nr_doorbell */
    int *doorbell;             /* doorbell[port]: an eventfd, or -1 */
    uint32_t nr_doorbell;
};

static int restrict_cb(Xentoolcore__Active_Handle *ah, domid_t domid)
{
    return xenevtchn_restrict(XSC_CONTAINER_OF(ah, xenevtchn_handle, tc_ah), domid);
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
    const char *what = "cannot allocate a handle";
    xenevtchn_handle *xce = NULL;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;
    int err;

    if (flags & ~(unsigned int)XENEVTCHN_NO_CLOEXEC) { /* as the real library */
        errno = EINVAL;
        return NULL;
    }
    xce = calloc(1, sizeof(*xce));
    if (!xce)
        goto fail;
    err = pthread_rwlock_init(&xce->db_lock, NULL);
    if (err) {
        free(xce);
        xce = NULL;
        errno = err;
        goto fail;
    }
    if (xsc_open(&xce->conn, XENSIM_CLIENT_EVTCHN, !(flags & XENEVTCHN_NO_CLOEXEC), fds,
                 &nr_fds, &what) < 0)
        goto fail;
    void *page = nr_fds == 2 ? mmap(NULL, XENSIM_EVTCHN_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                    MAP_SHARED, fds[1], 0)
                             : MAP_FAILED;
    if (page == MAP_FAILED) {
        err = nr_fds == 2 ? errno : EIO;
        xsc_close_fds(fds, nr_fds);
        xsc_close(&xce->conn);
        what = nr_fds == 2 ? "cannot map the event page"
                           : "the xensim daemon sent no event socket and page";
        errno = err;
        goto fail;
    }
    close(fds[1]);
    xce->page = page;
    xce->fd = fds[0];
    xce->tc_ah.restrict_callback = restrict_cb;
    xentoolcore__register_active_handle(&xce->tc_ah);
    return xce;

fail:
    err = errno;
    if (xce) {
        pthread_rwlock_destroy(&xce->db_lock);
        free(xce);
    }
    xsc_log_open_failure(logger, "xenevtchn", err, what);
    errno = err;
    return NULL;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
                                   unsigned open_flags)
{
    (void)logger, (void)fd;
    /*
     * The event fd alone cannot be turned back into a handle: the control
     * connection to the daemon would be missing.
     */
    errno = open_flags ? EINVAL : EOPNOTSUPP;
    return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    if (!xce)
        return 0;
    xentoolcore__deregister_active_handle(&xce->tc_ah);
    /* Closing the connection releases the handle's ports in the daemon. */
    xsc_close(&xce->conn);
    close(xce->fd);
    munmap(xce->page, XENSIM_EVTCHN_PAGE_SIZE);
    for (uint32_t i = 0; i < xce->nr_doorbell; i++)
        if (xce->doorbell[i] >= 0)
            close(xce->doorbell[i]);
    free(xce->doorbell);
    pthread_rwlock_destroy(&xce->db_lock);
    free(xce);
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    return xce->fd;
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
    if (!xce) {
        errno = EBADF;
        return -1;
    }
    return xsc_restrict(&xce->conn, XENSIM_EVTCHN_RESTRICT, domid);
}

/* One XENSIM_EVTCHN_* request; returns the reply's port or -1. */
static long evtchn_call(xenevtchn_handle *xce, uint32_t type, uint32_t domid, uint32_t port,
                        struct xensim_evtchn_reply *rep, int *fds, unsigned int *nr_fds)
{
    struct xensim_evtchn req = { .hdr = { .type = type }, .domid = domid, .port = port };

    if (xsc_call(&xce->conn, &req, sizeof(req), rep, sizeof(*rep), sizeof(*rep), fds,
                 nr_fds) < 0)
        return -1;
    return rep->port;
}

/* Take ownership of `fd` as the doorbell of local `port` (closing it if there is no room). */
static void doorbell_set(xenevtchn_handle *xce, uint32_t port, int fd)
{
    pthread_rwlock_wrlock(&xce->db_lock);
    if (port >= xce->nr_doorbell && port < DOORBELL_PORTS_MAX) {
        uint32_t n = xce->nr_doorbell ? xce->nr_doorbell : 64;
        while (n <= port)
            n *= 2;
        int *db = realloc(xce->doorbell, n * sizeof(int));
        if (db) {
            for (uint32_t i = xce->nr_doorbell; i < n; i++)
                db[i] = -1;
            xce->doorbell = db;
            xce->nr_doorbell = n;
        }
    }
    if (port < xce->nr_doorbell) {
        if (xce->doorbell[port] >= 0) /* stale: the port was unbound behind our back */
            close(xce->doorbell[port]);
        xce->doorbell[port] = fd;
        fd = -1;
    }
    pthread_rwlock_unlock(&xce->db_lock);
    if (fd >= 0) /* no slot: notify goes through the daemon */
        close(fd);
}

static void doorbell_clear(xenevtchn_handle *xce, uint32_t port)
{
    int fd = -1;

    pthread_rwlock_wrlock(&xce->db_lock);
    if (port < xce->nr_doorbell) {
        fd = xce->doorbell[port];
        xce->doorbell[port] = -1;
    }
    pthread_rwlock_unlock(&xce->db_lock);
    if (fd >= 0)
        close(fd);
}

static xenevtchn_port_or_error_t bind_port(xenevtchn_handle *xce, uint32_t type, uint32_t domid,
                                      uint32_t remote_port)
{
    struct xensim_evtchn_reply rep;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;

    if (!xce) {
        errno = EBADF;
        return -1;
    }
    long port = evtchn_call(xce, type, domid, remote_port, &rep, fds, &nr_fds);
    if (port < 0)
        return -1;
    if (port > INT_MAX) {
        xsc_close_fds(fds, nr_fds);
        errno = EIO;
        return -1;
    }
    if (rep.has_doorbell && nr_fds >= 1) {
        doorbell_set(xce, (uint32_t)port, fds[0]);
        xsc_close_fds(fds + 1, nr_fds - 1);
    } else {
        xsc_close_fds(fds, nr_fds);
    }
    return (xenevtchn_port_or_error_t)port;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
    return bind_port(xce, XENSIM_EVTCHN_BIND_UNBOUND, domid, 0);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
                                                     evtchn_port_t remote_port)
{
    return bind_port(xce, XENSIM_EVTCHN_BIND_INTERDOMAIN, domid, remote_port);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
    (void)xce, (void)virq;
    return xsc_unsupported();
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    struct xensim_evtchn_reply rep;

    if (!xce) {
        errno = EBADF;
        return -1;
    }
    if (evtchn_call(xce, XENSIM_EVTCHN_UNBIND, 0, port, &rep, NULL, NULL) < 0)
        return -1;
    doorbell_clear(xce, port);
    return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    struct xensim_evtchn_reply rep;

    if (!xce) {
        errno = EBADF;
        return -1;
    }
    /* Fast path: ring the vCPU's doorbell ourselves. */
    pthread_rwlock_rdlock(&xce->db_lock);
    if (port < xce->nr_doorbell && xce->doorbell[port] >= 0) {
        const uint64_t one = 1;
        ssize_t n;
        do
            n = write(xce->doorbell[port], &one, sizeof(one));
        while (n < 0 && errno == EINTR);
        int e = errno;
        pthread_rwlock_unlock(&xce->db_lock);
        if (n == (ssize_t)sizeof(one))
            return 0;
        errno = n < 0 ? e : EIO;
        return -1;
    }
    pthread_rwlock_unlock(&xce->db_lock);

    return evtchn_call(xce, XENSIM_EVTCHN_NOTIFY, 0, port, &rep, NULL, NULL) < 0 ? -1 : 0;
}

/* Wait until `fd` is ready for `events` (used only to finish a started transfer). */
static int wait_fd(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };

    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    unsigned char buf[sizeof(uint32_t)];
    size_t got = 0;

    while (got < sizeof(buf)) {
        ssize_t n = read(xce->fd, buf + got, sizeof(buf) - got);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) { /* the daemon went away */
            errno = EIO;
            return -1;
        } else if (got == 0) { /* EAGAIN, EINTR...: as the device reports them */
            return -1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(xce->fd, POLLIN) < 0)
                return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    uint32_t port;
    memcpy(&port, buf, sizeof(port));
    if (port > INT_MAX) {
        errno = EIO;
        return -1;
    }
    return (xenevtchn_port_or_error_t)port;
}

/*
 * Linux's device ignores unmasks of ports that are not the handle's; so do
 * we: the daemon never masks those.
 */
int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    if (port >= XENSIM_EVTCHN_PORTS || !xensim_evtchn_unmask(xce->page, port))
        return 0;

    /* An event was latched while the port was masked: the daemon delivers it. */
    const uint32_t p = port;
    const unsigned char *buf = (const unsigned char *)&p;
    size_t sent = 0;

    while (sent < sizeof(p)) {
        /* send(MSG_NOSIGNAL): a daemon that went away must not raise SIGPIPE. */
        ssize_t n = send(xce->fd, buf + sent, sizeof(p) - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(xce->fd, POLLOUT) < 0)
                return -1;
        } else if (errno != EINTR) {
            if (errno == EPIPE || errno == ECONNRESET)
                errno = EIO;
            return -1;
        }
    }
    return 0;
}
