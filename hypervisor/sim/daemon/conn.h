/* Client connections of the xensim daemon and their request handlers. */
#ifndef XENSIM_CONN_H
#define XENSIM_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"

struct client;

/* What epoll reports on: the listening socket, a client, or its event socket. */
enum watch_kind { WATCH_LISTEN, WATCH_CLIENT, WATCH_EVENTS };

struct watch {
    enum watch_kind kind;
    struct client *client;
};

struct client {
    struct evtchn_client ec; /* first: the event table's; ec.page mapped for evtchn clients */
    struct sim *sim;
    int fd;                  /* the SOCK_SEQPACKET connection */
    int events;              /* daemon end of the event socket, or -1 */
    struct watch watch_fd, watch_events;
    bool greeted;            /* HELLO done */
    uint32_t kind;           /* enum xensim_client_kind */
    domid_t domid;           /* the domain it acts as */
    int restricted_to;       /* domid, or -1 */
    bool busy;               /* a guest run replies later from its thread */
    bool closing;            /* close once no longer busy */
    struct client *next;
};

/* A request: the decoded header and body, with the reply to fill. */
struct request {
    struct client *client;
    const struct xensim_hdr *hdr;
    const void *body;        /* the whole message */
    size_t len;
};

/* Send a reply (header filled from the request, `err` positive errno). */
int reply(struct request *rq, void *msg, size_t len, int err, const int *fds,
          unsigned int nr_fds);
int reply_error(struct request *rq, int err);
/* Restrict a handle to one domain (devicemodel, foreignmemory, evtchn alike). */
void handle_restrict(struct request *rq);

/* 0 if the client may act on `domid` (restriction), else EPERM. */
int client_may_touch(const struct client *c, domid_t domid);

/* handle_*.c: each returns after replying (or scheduling a reply). */
void handle_dm(struct request *rq);
void handle_fmem(struct request *rq);
void handle_evtchn(struct request *rq);
void handle_control(struct request *rq);

/* conn.c, for the daemon's loop */
struct client *client_new(struct sim *sim, int fd);
void client_free(struct client *c);
void client_dispatch(struct client *c, const void *msg, size_t len);
/* The client's event socket is readable: unmask records, or it hung up. */
void client_unmask_events(struct client *c);
/* Queue a port on a client's event socket (the event table's callback). */
void sim_client_deliver(struct evtchn_client *c, evtchn_port_t port);

/* guest_runner.c: run scripts on vCPU threads; replies when all are done. */
void guest_run_start(struct request *rq);

#endif
