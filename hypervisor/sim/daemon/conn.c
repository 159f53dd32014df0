/* Connections: greeting, dispatch by client kind, replies, teardown. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
     * A port is queued at most once until unmasked, and no domain has more
     * than EVTCHN_PORTS_PER_DOMAIN, so the socket buffer cannot fill up.
     */
    if (c->events >= 0 && write(c->events, &p, sizeof(p)) != sizeof(p))
        fprintf(stderr, "xensim: lost event on port %u: %s\n", port, strerror(errno));
}

static void handle_hello(struct request *rq)
{
    const struct xensim_hello *h = rq->body;
    struct client *c = rq->client;

    if (rq->len != sizeof(*h) || h->version != XENSIM_PROTO_VERSION ||
        h->kind < XENSIM_CLIENT_DEVICEMODEL || h->kind > XENSIM_CLIENT_CONTROL) {
        reply_error(rq, EPROTO);
        return;
    }
    if (h->domid >= DOMID_FIRST_RESERVED || !sim_domain_get(c->sim, (domid_t)h->domid)) {
        reply_error(rq, ESRCH);
        return;
    }

    int pair[2] = { -1, -1 };
    if (h->kind == XENSIM_CLIENT_EVTCHN) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            reply_error(rq, errno);
            return;
        }
        fcntl(pair[0], F_SETFL, O_NONBLOCK);
    }
    c->kind = h->kind;
    c->domid = (domid_t)h->domid;
    c->greeted = true;
    c->events = pair[0];

    struct xensim_hdr out;
    reply(rq, &out, sizeof(out), 0, &pair[1], pair[1] >= 0 ? 1 : 0);
    if (pair[1] >= 0)
        close(pair[1]);
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
    }
    reply_error(&rq, EOPNOTSUPP);
}

/* Called by the event channel table, under its lock, from any thread. */
unsigned int sim_client_take_unmasks(struct evtchn_client *ec, evtchn_port_t *ports,
                                     unsigned int max)
{
    struct client *c = (struct client *)ec;
    ssize_t n = c->events >= 0 ? read(c->events, ports, max * sizeof(*ports)) : -1;

    /* A partial port at the end is a broken client: drop it. */
    return n > 0 ? (unsigned int)((size_t)n / sizeof(*ports)) : 0;
}

/*
 * Called by the event channel table, under its lock, from any thread: the
 * main loop watches the event socket for unmasks only while the client has
 * a latched event (lazy unmasking, evtchn_table.h); otherwise the next
 * event to the client takes its unmasks, and no third thread wakes up.
 */
void sim_client_waiting(struct evtchn_client *ec, int delta)
{
    struct client *c = (struct client *)ec;
    unsigned int before = c->waiting;

    c->waiting += (unsigned int)delta;
    if ((before == 0) != (c->waiting == 0) && c->events >= 0) {
        /* ENOENT: the client is being dropped, its socket no longer watched. */
        struct epoll_event ev = { .events = c->waiting ? EPOLLIN : 0,
                                  .data.ptr = &c->watch_events };
        epoll_ctl(c->sim->epoll, EPOLL_CTL_MOD, c->events, &ev);
    }
}

/* The client wrote unmasks while it had a latched event (or hung up). */
void client_unmask_events(struct client *c)
{
    evtchn_client_take_unmasks(c->sim->evtchn, (struct evtchn_client *)c, c->domid);
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
    evtchn_client_release(c->sim->evtchn, (struct evtchn_client *)c);
    if (c->events >= 0)
        close(c->events);
    close(c->fd);
    free(c);
}
