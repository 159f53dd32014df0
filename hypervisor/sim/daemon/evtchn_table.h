/*
 * Event channels of every simulated domain, as Xen keeps them: per domain
 * a port space, each port free, unbound (waiting for one remote domain to
 * bind it) or interdomain (connected to a peer port).  A port's consumer is
 * either the hypervisor (the core's channels: an event wakes one vCPU) or a
 * client handle (a libxenevtchn handle: an event is queued on its event
 * socket and the port stays masked until the client unmasks it, as Linux's
 * evtchn device does).
 *
 * Unmasking can be lazy (the take_unmasks and waiting callbacks): a
 * client's unmask requests stay in its queue until an event finds one of
 * its ports masked, and are taken then, before deciding whether to deliver
 * or latch that event; only while an event is latched on a masked port must
 * the owner take them as they come (evtchn_client_take_unmasks).  A
 * synchronous ioreq round trip then needs no third thread: the vCPU that
 * sends the next request applies the emulator's unmask itself.
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

#define EVTCHN_PORTS_PER_DOMAIN 4096

struct evtchn_table;
struct evtchn_client; /* opaque: identifies the handle that owns a port */

struct evtchn_callbacks {
    void *ctx;
    /* Queue `port` on the client's event socket. */
    void (*deliver)(void *ctx, struct evtchn_client *client, evtchn_port_t port);
    /* Wake a vCPU: an event reached one of the hypervisor's ports. */
    void (*kick)(void *ctx, domid_t domid, unsigned int vcpu_id);
    /*
     * Both or neither (lazy unmasking, see above).  take_unmasks: read,
     * without blocking, up to `max` unmask requests the client has queued;
     * returns how many.  waiting: the number of the client's masked ports
     * with a latched event changed by `delta` (+1 or -1); while it is not
     * zero, the client's queued unmasks must be taken as they arrive
     * (evtchn_client_take_unmasks), else a latched event could stay
     * undelivered.
     */
    unsigned int (*take_unmasks)(void *ctx, struct evtchn_client *client,
                                 evtchn_port_t *ports, unsigned int max);
    void (*waiting)(void *ctx, struct evtchn_client *client, int delta);
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
/* Re-enable delivery; a pending event is delivered now.  Unknown ports are ignored. */
void evtchn_unmask(struct evtchn_table *t, struct evtchn_client *c, domid_t local,
                   evtchn_port_t port);
/* Apply the unmask requests the client has queued (lazy unmasking). */
void evtchn_client_take_unmasks(struct evtchn_table *t, struct evtchn_client *c,
                                domid_t local);
/* The client went away: unbind everything it owned. */
void evtchn_client_release(struct evtchn_table *t, struct evtchn_client *c);

/* For tests and tools: the state of one port. */
enum evtchn_state { EVTCHN_FREE, EVTCHN_UNBOUND, EVTCHN_INTERDOMAIN };
int evtchn_port_state(struct evtchn_table *t, domid_t domid, evtchn_port_t port,
                      enum evtchn_state *state, domid_t *remote);

#endif
