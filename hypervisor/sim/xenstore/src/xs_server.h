/*
 * The unix-socket side: one thread with a poll loop accepting connections,
 * framing their bytes into requests for the dispatcher and writing replies
 * and watch events back.  Every socket connection is dom0 (privileged), as
 * with xenstored's socket.  A connection that announces a payload larger
 * than XENSTORE_PAYLOAD_MAX, or stops reading while its queue grows past a
 * limit, is closed; everything it held (watches, transactions) goes.
 */
#ifndef XSIM_SERVER_H
#define XSIM_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "xs_buf.h"
#include "xs_store.h"

#define XSIM_MAX_CONNS 1024
/* Stop reading a client's requests while this much output is queued. */
#define XSIM_OUT_SOFT_LIMIT (1u << 20)
/* Drop a client whose queued output (events) passes this. */
#define XSIM_OUT_HARD_LIMIT (16u << 20)

struct xsim_conn {
    struct xsim_conn *next;
    int fd;
    bool dead;
    struct xsim_buf in, out;
    struct xsim_caller caller;
};

/* Everything behind the public handle. */
struct xs_sim {
    pthread_mutex_t lock;     /* guards store and conns */
    struct xsim_store store;
    struct xsim_conn *conns;
    size_t nconns;
    int listen_fd;
    bool bound;               /* socket_path is ours to unlink */
    int wake_fd;              /* eventfd: stop, or output queued by the API */
    bool stopping;
    bool thread_started;
    pthread_t thread;
    char *socket_path;
};

/* Bind and listen on path (replacing a stale socket), make the wake fd.
 * On failure xsim_server_close() undoes what was done. */
int xsim_server_open(struct xs_sim *xs, const char *path);
/* Start the poll thread (all signals blocked in it). */
int xsim_server_start(struct xs_sim *xs);
/* Ask the poll thread to look again (after the API queued events). */
void xsim_server_wake(struct xs_sim *xs);
/* Stop and join the thread, close every connection and the socket, unlink. */
void xsim_server_close(struct xs_sim *xs);
/* The store's event callback: queue an XS_WATCH_EVENT to a connection. */
void xsim_server_event(void *owner, const char *path, const char *token,
                       void *ctx);

#endif
