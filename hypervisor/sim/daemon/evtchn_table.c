/* The simulated event channel table. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "evtchn_table.h"

struct port {
    enum evtchn_state state;
    domid_t remote_domid;        /* unbound: who may bind; interdomain: peer */
    evtchn_port_t remote_port;   /* interdomain: peer port */
    bool hypervisor;             /* consumer: the hypervisor (wakes `vcpu`) */
    unsigned int vcpu;
    struct evtchn_client *owner; /* consumer: a client handle (bits in its page) */
};

struct port_space {
    struct port port[EVTCHN_PORTS_PER_DOMAIN]; /* port 0 is never used */
};

struct evtchn_table {
    pthread_mutex_t lock;
    struct evtchn_callbacks cb;
    struct port_space *domain[DOMID_FIRST_RESERVED];
};

int evtchn_table_new(const struct evtchn_callbacks *cb, struct evtchn_table **out)
{
    struct evtchn_table *t = calloc(1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->cb = *cb;
    *out = t;
    return 0;
}

void evtchn_table_free(struct evtchn_table *t)
{
    if (!t)
        return;
    for (unsigned int d = 0; d < DOMID_FIRST_RESERVED; d++)
        free(t->domain[d]);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct port *lookup(struct evtchn_table *t, domid_t domid, evtchn_port_t port)
{
    if (domid >= DOMID_FIRST_RESERVED || !t->domain[domid] || port == 0 ||
        port >= EVTCHN_PORTS_PER_DOMAIN)
        return NULL;
    return &t->domain[domid]->port[port];
}

static int alloc_port(struct evtchn_table *t, domid_t domid)
{
    if (domid >= DOMID_FIRST_RESERVED || !t->domain[domid])
        return -ESRCH;
    for (evtchn_port_t p = 1; p < EVTCHN_PORTS_PER_DOMAIN; p++)
        if (t->domain[domid]->port[p].state == EVTCHN_FREE)
            return (int)p;
    return -ENOSPC;
}

/* A client's port starts over: unmasked, nothing latched. */
static void reset_bits(struct port *p, evtchn_port_t port)
{
    if (p->owner)
        xensim_evtchn_reset(p->owner->page, port);
}

/* Close one end: as in Xen, the other end goes back to unbound. */
static void close_port(struct evtchn_table *t, domid_t domid, struct port *p,
                       evtchn_port_t port)
{
    if (p->state == EVTCHN_INTERDOMAIN) {
        struct port *peer = lookup(t, p->remote_domid, p->remote_port);

        if (peer && peer->state == EVTCHN_INTERDOMAIN) {
            reset_bits(peer, p->remote_port);
            peer->state = EVTCHN_UNBOUND;
            peer->remote_domid = domid;
            peer->remote_port = 0;
        }
    }
    reset_bits(p, port);
    *p = (struct port){ .state = EVTCHN_FREE };
}

int evtchn_domain_add(struct evtchn_table *t, domid_t domid)
{
    if (domid >= DOMID_FIRST_RESERVED)
        return -EINVAL;
    struct port_space *space = calloc(1, sizeof(*space));
    if (!space)
        return -ENOMEM;

    int rc = 0;
    pthread_mutex_lock(&t->lock);
    if (t->domain[domid])
        rc = -EEXIST;
    else
        t->domain[domid] = space;
    pthread_mutex_unlock(&t->lock);
    if (rc)
        free(space);
    return rc;
}

void evtchn_domain_remove(struct evtchn_table *t, domid_t domid)
{
    if (domid >= DOMID_FIRST_RESERVED)
        return;
    pthread_mutex_lock(&t->lock);
    struct port_space *space = t->domain[domid];
    for (evtchn_port_t p = 1; space && p < EVTCHN_PORTS_PER_DOMAIN; p++)
        close_port(t, domid, &space->port[p], p);
    t->domain[domid] = NULL;
    pthread_mutex_unlock(&t->lock);
    free(space);
}

int evtchn_alloc_hypervisor(struct evtchn_table *t, domid_t domid,
                            unsigned int vcpu_id, domid_t remote)
{
    pthread_mutex_lock(&t->lock);
    int port = alloc_port(t, domid);
    if (port > 0)
        t->domain[domid]->port[port] = (struct port){
            .state = EVTCHN_UNBOUND, .remote_domid = remote,
            .hypervisor = true, .vcpu = vcpu_id };
    pthread_mutex_unlock(&t->lock);
    return port;
}

void evtchn_free_hypervisor(struct evtchn_table *t, domid_t domid,
                            evtchn_port_t port)
{
    pthread_mutex_lock(&t->lock);
    struct port *p = lookup(t, domid, port);
    if (p && p->hypervisor)
        close_port(t, domid, p, port);
    pthread_mutex_unlock(&t->lock);
}

/* An event arrives at `p` (the receiving end). */
static void raise(struct evtchn_table *t, domid_t domid, struct port *p,
                  evtchn_port_t port)
{
    if (p->hypervisor)
        t->cb.kick(t->cb.ctx, domid, p->vcpu);
    else if (p->owner && xensim_evtchn_raise(p->owner->page, port))
        t->cb.deliver(t->cb.ctx, p->owner, port);
}

/* Send from (domid, port) to its peer; events on unbound ports are dropped. */
static void send_locked(struct evtchn_table *t, struct port *from)
{
    if (from->state != EVTCHN_INTERDOMAIN)
        return;
    struct port *peer = lookup(t, from->remote_domid, from->remote_port);
    if (peer && peer->state == EVTCHN_INTERDOMAIN)
        raise(t, from->remote_domid, peer, from->remote_port);
}

void evtchn_send_hypervisor(struct evtchn_table *t, domid_t domid,
                            evtchn_port_t port)
{
    pthread_mutex_lock(&t->lock);
    struct port *p = lookup(t, domid, port);
    if (p && p->hypervisor)
        send_locked(t, p);
    pthread_mutex_unlock(&t->lock);
}

int evtchn_bind_interdomain(struct evtchn_table *t, struct evtchn_client *c,
                            domid_t local, domid_t remote,
                            evtchn_port_t remote_port, struct evtchn_binding *out)
{
    pthread_mutex_lock(&t->lock);
    int rc = alloc_port(t, local);
    struct port *rp = NULL;
    if (rc > 0) {
        if (remote >= DOMID_FIRST_RESERVED || !t->domain[remote])
            rc = -ESRCH;
        else if (!(rp = lookup(t, remote, remote_port)) ||
                 rp->state != EVTCHN_UNBOUND || rp->remote_domid != local)
            rc = -EINVAL;
    }
    if (rc > 0) {
        evtchn_port_t lport = (evtchn_port_t)rc;

        t->domain[local]->port[lport] = (struct port){
            .state = EVTCHN_INTERDOMAIN, .remote_domid = remote,
            .remote_port = remote_port, .owner = c };
        xensim_evtchn_reset(c->page, lport);
        rp->state = EVTCHN_INTERDOMAIN;
        rp->remote_domid = local;
        rp->remote_port = lport;
        *out = (struct evtchn_binding){ .local_port = lport,
                                        .peer_is_hypervisor = rp->hypervisor,
                                        .peer_domid = remote, .peer_vcpu = rp->vcpu };
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int evtchn_bind_unbound(struct evtchn_table *t, struct evtchn_client *c,
                        domid_t local, domid_t remote)
{
    pthread_mutex_lock(&t->lock);
    int port = alloc_port(t, local);
    if (port > 0) {
        t->domain[local]->port[port] = (struct port){
            .state = EVTCHN_UNBOUND, .remote_domid = remote, .owner = c };
        xensim_evtchn_reset(c->page, (evtchn_port_t)port);
    }
    pthread_mutex_unlock(&t->lock);
    return port;
}

/* The port, if it is this client's. */
static struct port *owned(struct evtchn_table *t, struct evtchn_client *c,
                          domid_t local, evtchn_port_t port)
{
    struct port *p = lookup(t, local, port);

    return p && p->state != EVTCHN_FREE && !p->hypervisor && p->owner == c ? p : NULL;
}

int evtchn_unbind(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                  evtchn_port_t port)
{
    pthread_mutex_lock(&t->lock);
    struct port *p = owned(t, c, local, port);
    if (p)
        close_port(t, local, p, port);
    pthread_mutex_unlock(&t->lock);
    return p ? 0 : -ENOTCONN;
}

int evtchn_notify(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                  evtchn_port_t port)
{
    pthread_mutex_lock(&t->lock);
    struct port *p = owned(t, c, local, port);
    if (p)
        send_locked(t, p);
    pthread_mutex_unlock(&t->lock);
    return p ? 0 : -ENOTCONN;
}

void evtchn_unmask(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                   evtchn_port_t port)
{
    pthread_mutex_lock(&t->lock);
    if (owned(t, c, local, port) && xensim_evtchn_take_latched(c->page, port))
        t->cb.deliver(t->cb.ctx, c, port);
    pthread_mutex_unlock(&t->lock);
}

void evtchn_client_release(struct evtchn_table *t, struct evtchn_client *c)
{
    pthread_mutex_lock(&t->lock);
    for (unsigned int d = 0; d < DOMID_FIRST_RESERVED; d++) {
        struct port_space *space = t->domain[d];

        for (evtchn_port_t p = 1; space && p < EVTCHN_PORTS_PER_DOMAIN; p++)
            if (!space->port[p].hypervisor && space->port[p].owner == c &&
                space->port[p].state != EVTCHN_FREE)
                close_port(t, (domid_t)d, &space->port[p], p);
    }
    pthread_mutex_unlock(&t->lock);
}

int evtchn_port_state(struct evtchn_table *t, domid_t domid, evtchn_port_t port,
                      enum evtchn_state *state, domid_t *remote)
{
    pthread_mutex_lock(&t->lock);
    struct port *p = lookup(t, domid, port);
    if (p) {
        *state = p->state;
        *remote = p->remote_domid;
    }
    pthread_mutex_unlock(&t->lock);
    return p ? 0 : -ENOENT;
}
