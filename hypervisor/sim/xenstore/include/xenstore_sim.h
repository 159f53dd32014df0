/*
 * xensim_store: a xenstored-compatible store on a unix socket.
 *
 * Debian's unmodified libxenstore and xenstore-utils talk to it when
 * XENSTORED_PATH names the socket: the <xen/io/xs_wire.h> protocol with
 * read, write, mkdir, rm, directory (and directory_part), permissions,
 * watches with events (an initial event on registration, subtree matching,
 * @introduceDomain / @releaseDomain), transactions (a conflicting commit
 * gets EAGAIN), get_domain_path and is_domain_introduced.  Socket clients
 * are dom0 (privileged), as with xenstored.
 *
 * At start the tree holds /, /local, /local/domain, /local/domain/0 (name
 * "Domain-0", domid "0") and /tool, and domain 0 counts as introduced.
 * The store runs its own thread; every function here is thread-safe.
 * Functions return 0 (or a documented value) or a negative errno value.
 */
#ifndef XENSTORE_SIM_H
#define XENSTORE_SIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xs_sim;

/*
 * Listen on socket_path and serve it from a new thread.  A stale socket at
 * the path is replaced; -EADDRINUSE if something answers there, -EEXIST if
 * it is not a socket, -ENAMETOOLONG if it does not fit a sockaddr_un.
 */
int xs_sim_start(const char *socket_path, struct xs_sim **out);

/* Stop the thread, close every connection, unlink the socket, free all. */
void xs_sim_stop(struct xs_sim *xs);

/* The socket path given to xs_sim_start. */
const char *xs_sim_socket_path(const struct xs_sim *xs);

/*
 * A domain appears: /local/domain/<domid> owned by the domain (no access
 * for others), with "name" (unless name is NULL) and "domid"; then
 * @introduceDomain fires.  -EEXIST if already introduced, -EINVAL for a
 * domid above 0x7fef.
 */
int xs_sim_introduce_domain(struct xs_sim *xs, unsigned int domid,
                            const char *name);

/* The domain goes: /local/domain/<domid> is removed (watches fire) and
 * @releaseDomain fires.  -ENOENT if not introduced, -EINVAL for domain 0. */
int xs_sim_release_domain(struct xs_sim *xs, unsigned int domid);

/* 1 or 0. */
int xs_sim_is_domain_introduced(struct xs_sim *xs, unsigned int domid);

/*
 * Direct access as dom0, firing watches like a client would.  Paths are
 * absolute (or relative to /local/domain/0).  xs_sim_read returns a
 * malloc'd copy with a NUL after the *len bytes (len may be NULL).
 */
int xs_sim_read(struct xs_sim *xs, const char *path, char **value,
                size_t *len);
int xs_sim_write(struct xs_sim *xs, const char *path, const void *value,
                 size_t len);
int xs_sim_mkdir(struct xs_sim *xs, const char *path);
int xs_sim_rm(struct xs_sim *xs, const char *path);

#ifdef __cplusplus
}
#endif

#endif
