/* ctl_server.h - the daemon side of ioreq-routerd's control socket.
 *
 * A ctl_server listens on a Unix stream socket and answers one request per
 * connection by calling the daemon's handler; the wire format is described
 * in ctl_proto.h and docs/ioreqctl.md.  It never blocks: the daemon polls
 * ctl_server_fd() in its own loop and calls ctl_server_dispatch() when it is
 * readable.  The handler runs inside ctl_server_dispatch(), on the caller's
 * thread.  The library has no globals, never prints and never exits;
 * errors are negative errno values.
 *
 * Who may talk: the peer's credentials (SO_PEERCRED) are checked when the
 * connection is accepted.  Root (uid 0) and the daemon's own effective uid
 * are always allowed; with allowed_gid set, also a peer whose effective gid
 * is allowed_gid or whose uid's account has allowed_gid as primary or
 * supplementary group (getpwuid_r + getgrouplist).  Refused peers get
 *   {"ok":false,"error":"permission denied: uid 1000 is not root and not in group 'ioreq'"}
 * and are closed; the handler is never called for them.  The socket file's
 * mode (and group) is the first barrier: the peer needs write permission
 * on the socket to connect at all.
 *
 * Limits: at most CTL_SERVER_MAX_CLIENTS connections at once (more are
 * accepted and closed at once with {"ok":false,"error":"too many clients"});
 * a client must send its full line within idle_timeout_ms of connecting and
 * read the whole reply within idle_timeout_ms of it being ready, or it is
 * dropped.  Writes are non-blocking (partial writes wait for EPOLLOUT) and
 * use MSG_NOSIGNAL: a client that goes away never raises SIGPIPE.
 */
#ifndef IOREQ_CTL_SERVER_H
#define IOREQ_CTL_SERVER_H

#include <sys/types.h>

#include "ctl_proto.h"

struct json_object;
struct ctl_server;

#define CTL_SERVER_MAX_CLIENTS 32
#define CTL_SERVER_IDLE_TIMEOUT_MS 5000

/* The daemon's answer to one request.  CMD is the request's "cmd"; REQUEST
 * is the whole request object (borrowed: take a reference to keep any of
 * it).  Return a new json object, which becomes the reply's "result" (the
 * server takes that reference), or NULL with *ERRMSG set to a malloc'ed
 * string, which becomes the reply's "error" (the server frees it).  NULL
 * without *ERRMSG replies "internal error". */
typedef struct json_object *(*ctl_handler_fn)(void *opaque, const char *cmd,
                                              struct json_object *request, char **errmsg);

struct ctl_server_options {
    /* Socket path.  Missing parent directories are created 0755.  An
     * existing socket nobody listens on (connect is refused) is replaced;
     * a live one makes ctl_server_open fail with -EADDRINUSE; anything else
     * at the path (a regular file, ...) with -EEXIST. */
    const char *path;
    /* (gid_t)-1: only root and the daemon's euid may talk; else members of
     * this group too (see above). */
    gid_t allowed_gid;
    /* Socket file mode, e.g. 0660 (0 means 0660).  With allowed_gid set,
     * the socket's group is changed to allowed_gid (owner stays the
     * daemon's euid, i.e. root:allowed_gid for a root daemon). */
    mode_t mode;
    /* Per-client deadline in ms (see above); 0 means
     * CTL_SERVER_IDLE_TIMEOUT_MS. */
    unsigned idle_timeout_ms;
};

/* Create the socket and start listening.  FN and OPAQUE answer requests.
 * Returns 0 with *OUT set, or a negative errno (-EINVAL for a NULL or empty
 * path or NULL FN, -ENAMETOOLONG when the path does not fit sun_path,
 * -EADDRINUSE, -EEXIST, or whatever mkdir/socket/bind/chmod/chown said). */
int ctl_server_open(const struct ctl_server_options *o, ctl_handler_fn fn, void *opaque,
                    struct ctl_server **out);

/* One pollable fd (an internal epoll fd; wait for EPOLLIN/POLLIN) for the
 * daemon's loop.  It also becomes readable when a client deadline passes
 * (an internal timerfd), so the daemon needs no timeout of its own. */
int ctl_server_fd(const struct ctl_server *s);

/* Do all the work that is ready without blocking: accept new clients
 * (checking their credentials), read requests, call the handler, write
 * replies, drop clients past their deadline.  Call it whenever
 * ctl_server_fd() is readable (calling it more often is harmless).
 * Returns 0, or a negative errno when the internal epoll itself failed. */
int ctl_server_dispatch(struct ctl_server *s);

/* Milliseconds until the next client deadline (0 when one has passed), or
 * -1 when there is none: optional, for a daemon that prefers an epoll
 * timeout to relying on ctl_server_fd() waking up. */
int ctl_server_timeout_ms(const struct ctl_server *s);

/* Number of connected clients (for tests and statistics). */
unsigned ctl_server_nclients(const struct ctl_server *s);

/* Close all clients and the listening socket, and unlink the socket file
 * (unless something else has replaced it).  NULL is fine. */
void ctl_server_close(struct ctl_server *s);

#endif
