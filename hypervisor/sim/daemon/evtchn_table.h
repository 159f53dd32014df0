/*
 * Event channels of every simulated domain, as Xen keeps them: per domain
 * a port space, each port free, unbound (waiting for one remote domain to
 * bind it) or interdomain (connected to a peer port).  A port's consumer is
 * either the hypervisor (the core's channels: an event wakes one vCPU) or a
 * client handle (a libxenevtchn handle: an event is queued on its event
 * socket and the port stays masked until the client unmasks it, as Linux's
 * evtchn device does).
 *
 * A client's mask and latch bits are in its event page, shared with the
 * client (struct xensim_evtchn_page, whose comment has the protocol): the
 * client unmasks by clearing a bit, and asks for evtchn_unmask() only when
 * an event is latched.
 *
 * Thread-safe.  Callbacks run with the table's lock held and must not call
 * back into the table.
 */
#ifndef XENSIM_EVTCHN_TABLE_H
#define XENSIM_EVTCHN_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xensim_proto.h"

#define EVTCHN_PORTS_PER_DOMAIN XENSIM_EVTCHN_PORTS

struct evtchn_table;

/* A handle that owns ports; its address identifies it. */
struct evtchn_client {
    struct xensim_evtchn_page *page; /* its ports' mask and latch bits */
};

struct evtchn_callbacks {
    void *ctx;
    /* Queue `port` on the client's event socket. */
    void (*deliver)(void *ctx, struct evtchn_client *client, evtchn_port_t port);
    /* Wake a vCPU: an event reached one of the hypervisor's ports. */
    void (*kick)(void *ctx, domid_t domid, unsigned int vcpu_id);
};

int evtchn_table_new(const struct evtchn_callbacks *cb, struct evtchn_table **out);
void evtchn_table_free(struct evtchn_table *t);

/* A domain's port space appears and disappears with the domain. */
int evtchn_domain_add(struct evtchn_table *t, domid_t domid);
/* Closes every port of the domain; their peers become unbound. */
void evtchn_domain_remove(struct evtchn_table *t, domid_t domid);

/* ---- the hypervisor's side (the core's platform) ---- */

/* An unbound port in `domid` for `remote` to bind; events wake `vcpu_id`. */
int evtchn_alloc_hypervisor(struct evtchn_table *t, domid_t domid,
                            unsigned int vcpu_id, domid_t remote);
void evtchn_free_hypervisor(struct evtchn_table *t, domid_t domid,
                            evtchn_port_t port);
/* The hypervisor signals its port: the peer's consumer hears it. */
void evtchn_send_hypervisor(struct evtchn_table *t, domid_t domid,
                            evtchn_port_t port);

/* ---- a client handle's side (libxenevtchn) ---- */

/* Where a newly bound port leads; for a hypervisor peer, which vCPU it wakes. */
struct evtchn_binding {
    evtchn_port_t local_port;
    bool peer_is_hypervisor;
    domid_t peer_domid;
    unsigned int peer_vcpu;
};

/* -ESRCH no such domain, -EINVAL port not unbound for us, -ENOSPC. */
int evtchn_bind_interdomain(struct evtchn_table *t, struct evtchn_client *c,
                            domid_t local, domid_t remote,
                            evtchn_port_t remote_port, struct evtchn_binding *out);
int evtchn_bind_unbound(struct evtchn_table *t, struct evtchn_client *c,
                        domid_t local, domid_t remote);
/* -ENOTCONN when the port is not this client's. */
int evtchn_unbind(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                  evtchn_port_t port);
int evtchn_notify(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                  evtchn_port_t port);
/*
 * The client unmasked `port` (in its event page) and found an event latched:
 * deliver it, unless done already.  Other ports are ignored.
 */
void evtchn_unmask(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                   evtchn_port_t port);
/* The client went away: unbind everything it owned. */
void evtchn_client_release(struct evtchn_table *t, struct evtchn_client *c);

/* For tests and tools: the state of one port. */
enum evtchn_state { EVTCHN_FREE, EVTCHN_UNBOUND, EVTCHN_INTERDOMAIN };
int evtchn_port_state(struct evtchn_table *t, domid_t domid, evtchn_port_t port,
                      enum evtchn_state *state, domid_t *remote);

#endif
