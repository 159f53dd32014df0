/* Connections: greeting, dispatch by client kind, replies, teardown. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "proto_io.h"

int reply(struct request *rq, void *msg, size_t len, int err, const int *fds,
          unsigned int nr_fds)
{
    struct xensim_hdr *hdr = msg;

    hdr->type = rq->hdr->type;
    hdr->len = (uint32_t)len;
    hdr->seq = rq->hdr->seq;
    hdr->err = err;
    int rc = proto_send(rq->client->fd, msg, len, fds, nr_fds);
    /*
     * Client sockets are non-blocking: one that does not read its replies
     * must not stall the daemon.  A reply that cannot go out ends the
     * connection (the main loop then sees EOF and drops the client).
     */
    if (rc < 0)
        shutdown(rq->client->fd, SHUT_RDWR);
    return rc;
}

int reply_error(struct request *rq, int err)
{
    struct xensim_hdr hdr;

    return reply(rq, &hdr, sizeof(hdr), err, NULL, 0);
}

int client_may_touch(const struct client *c, domid_t domid)
{
    return c->restricted_to < 0 || c->restricted_to == domid ? 0 : EPERM;
}

/* Called by the event channel table, under its lock, from any thread. */
void sim_client_deliver(struct evtchn_client *ec, evtchn_port_t port)
{
    struct client *c = (struct client *)ec;
    uint32_t p = port;

    /*
     * A port is queued at most once until unmasked, and a domain has
     * EVTCHN_PORTS_PER_DOMAIN ports: only a client that unmasks ports it
     * has not read can fill the socket buffer.  It then loses events (the
     * write does not block).
     */
    if (c->events >= 0 && write(c->events, &p, sizeof(p)) != sizeof(p))
        fprintf(stderr, "xensim: lost event on port %u: %s\n", port, strerror(errno));
}

/* An evtchn handle's event page, zeroed (every port unmasked): its fd, or -errno. */
static int event_page_new(struct client *c)
{
    int fd = memfd_create("xensim-evtchn-page", MFD_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, XENSIM_EVTCHN_PAGE_SIZE) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    void *pg = mmap(NULL, XENSIM_EVTCHN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (pg == MAP_FAILED) {
        int err = errno;
        close(fd);
        return -err;
    }
    c->ec.page = pg;
    return fd;
}

static void handle_hello(struct request *rq)
{
    const struct xensim_hello *h = rq->body;
    struct client *c = rq->client;

    if (rq->len != sizeof(*h) || h->version != XENSIM_PROTO_VERSION ||
        h->kind < XENSIM_CLIENT_DEVICEMODEL || h->kind > XENSIM_CLIENT_XENCTRL) {
        reply_error(rq, EPROTO);
        return;
    }
    if (h->domid >= DOMID_FIRST_RESERVED || !sim_domain_get(c->sim, (domid_t)h->domid)) {
        reply_error(rq, ESRCH);
        return;
    }

    /* Evtchn handles: the event socket (our end, their end) and the event page. */
    int fds[3] = { -1, -1, -1 };
    if (h->kind == XENSIM_CLIENT_EVTCHN) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
            reply_error(rq, errno);
            return;
        }
        fds[2] = event_page_new(c);
        if (fds[2] < 0) {
            close(fds[0]);
            close(fds[1]);
            reply_error(rq, -fds[2]);
            return;
        }
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
    }
    c->kind = h->kind;
    c->domid = (domid_t)h->domid;
    c->greeted = true;
    c->events = fds[0];

    struct xensim_hdr out;
    reply(rq, &out, sizeof(out), 0, &fds[1], fds[1] >= 0 ? 2 : 0);
    for (int i = 1; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

void client_dispatch(struct client *c, const void *msg, size_t len)
{
    struct request rq = { .client = c, .hdr = msg, .body = msg, .len = len };

    if (!c->greeted) {
        if (rq.hdr->type == XENSIM_HELLO)
            handle_hello(&rq);
        else
            reply_error(&rq, EPROTO);
        return;
    }
    if (c->busy) {
        reply_error(&rq, EBUSY);
        return;
    }
    switch (rq.hdr->type >> 8) {
    case XENSIM_DM_OP >> 8:
        if (c->kind == XENSIM_CLIENT_DEVICEMODEL)
            {
            handle_dm(&rq);
            return;
        }
        break;
    case XENSIM_FMEM_MAP >> 8:
        if (c->kind == XENSIM_CLIENT_FOREIGNMEMORY)
            {
            handle_fmem(&rq);
            return;
        }
        break;
    case XENSIM_EVTCHN_BIND_INTERDOMAIN >> 8:
        if (c->kind == XENSIM_CLIENT_EVTCHN)
            {
            handle_evtchn(&rq);
            return;
        }
        break;
    case XENSIM_DOMAIN_CREATE >> 8:
        if (c->kind == XENSIM_CLIENT_CONTROL)
            {
            handle_control(&rq);
            return;
        }
        break;
    case XENSIM_DOMAIN_PAUSE >> 8:
        if (c->kind == XENSIM_CLIENT_CONTROL || c->kind == XENSIM_CLIENT_XENCTRL) {
            handle_control(&rq);
            return;
        }
        break;
    }
    reply_error(&rq, EOPNOTSUPP);
}

/*
 * The client unmasked ports with a latched event: deliver them.  Taken as
 * they come (level-triggered, at most 64 per wake-up); unmasks without a
 * latched event never reach the daemon.
 */
void client_unmask_events(struct client *c)
{
    evtchn_port_t ports[64];
    ssize_t n = read(c->events, ports, sizeof(ports));

    /* A partial port at the end is a broken client: drop it. */
    for (size_t i = 0; n > 0 && i < (size_t)n / sizeof(ports[0]); i++)
        evtchn_unmask(c->sim->evtchn, &c->ec, c->domid, ports[i]);
    /* Hung up (or broken): stop listening; its ports stay bound until it goes. */
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        epoll_ctl(c->sim->epoll, EPOLL_CTL_DEL, c->events, NULL);
}

struct client *client_new(struct sim *sim, int fd)
{
    struct client *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->sim = sim;
    c->fd = fd;
    c->events = -1;
    c->restricted_to = -1;
    c->watch_fd = (struct watch){ WATCH_CLIENT, c };
    c->watch_events = (struct watch){ WATCH_EVENTS, c };
    return c;
}

/* Release everything the client held: its ports go back to unbound. */
void client_free(struct client *c)
{
    evtchn_client_release(c->sim->evtchn, &c->ec);
    if (c->ec.page)
        munmap(c->ec.page, XENSIM_EVTCHN_PAGE_SIZE);
    if (c->events >= 0)
        close(c->events);
    close(c->fd);
    free(c);
}
