/*
 * The store: the tree, transactions, watches and the set of introduced
 * domains, with xenstored's semantics and permission checks for a caller.
 * No I/O and no locking: the caller serialises.  Watch events leave through
 * the event callback given at init, addressed to the watch's owner.
 *
 * Paths may be absolute or relative to the caller's /local/domain/<domid>.
 * A transaction id of 0 means no transaction; others must belong to the
 * caller's owner.  Everything returns 0 or a negative errno.
 */
#ifndef XSIM_STORE_H
#define XSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs_path.h"
#include "xs_perms.h"
#include "xs_tree.h"
#include "xs_txn.h"
#include "xs_watch.h"

#define XSIM_MAX_WATCHES_PER_OWNER 1024
#define XSIM_MAX_TXNS_PER_OWNER 64

struct xsim_caller {
    unsigned int domid;
    bool privileged;
    void *owner; /* who owns watches and transactions (a connection) */
};

typedef void (*xsim_event_fn)(void *owner, const char *path,
                              const char *token, void *ctx);

struct xsim_store {
    struct xsim_tree tree;
    struct xsim_watches watches;
    struct xsim_txn *txns;
    uint32_t last_txid;
    uint8_t introduced[(XSIM_DOMID_MAX + 8) / 8];
    xsim_event_fn event;
    void *event_ctx;
};

/* /, /local, /local/domain, /local/domain/0 (name "Domain-0", domid "0")
 * and /tool; domain 0 counts as introduced. */
int xsim_store_init(struct xsim_store *st, xsim_event_fn event, void *ctx);
void xsim_store_destroy(struct xsim_store *st);

/* *val is malloc'd with a NUL after the *len bytes. */
int xsim_store_read(struct xsim_store *st, const struct xsim_caller *c,
                    uint32_t tx, const char *path, char **val, size_t *len);
/* Creates missing ancestors; len <= XENSTORE_PAYLOAD_MAX. */
int xsim_store_write(struct xsim_store *st, const struct xsim_caller *c,
                     uint32_t tx, const char *path, const void *val,
                     size_t len);
/* Succeeds without change if the node exists. */
int xsim_store_mkdir(struct xsim_store *st, const struct xsim_caller *c,
                     uint32_t tx, const char *path);
/* Removes the subtree; succeeds if the node is missing but its parent is not. */
int xsim_store_rm(struct xsim_store *st, const struct xsim_caller *c,
                  uint32_t tx, const char *path);
/* Children names, each NUL-terminated (malloc'd), and the node's generation. */
int xsim_store_directory(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path, char **list,
                         size_t *len, uint64_t *gen);
/* *out must be empty ({0}); the caller frees it with xsim_perms_free. */
int xsim_store_get_perms(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path,
                         struct xsim_perms *out);
int xsim_store_set_perms(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path,
                         const struct xsim_perms *perms);

/* Register; the initial event is a separate call so the ack can go first. */
int xsim_store_watch(struct xsim_store *st, const struct xsim_caller *c,
                     const char *path, const char *token);
void xsim_store_watch_initial(struct xsim_store *st,
                              const struct xsim_caller *c, const char *path,
                              const char *token);
int xsim_store_unwatch(struct xsim_store *st, const struct xsim_caller *c,
                       const char *path, const char *token);
/* Drop every watch and transaction of an owner (RESET_WATCHES, close). */
void xsim_store_forget_owner(struct xsim_store *st, void *owner);

int xsim_store_txn_start(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t *id);
/* commit: -EAGAIN if a node the transaction touched changed meanwhile.
 * The transaction is gone afterwards in every case but -ENOENT. */
int xsim_store_txn_end(struct xsim_store *st, const struct xsim_caller *c,
                       uint32_t id, bool commit);

/*
 * Domains.  With make_nodes, introduce creates /local/domain/<domid> owned
 * by the domain (others: none) with "name" (if given) and "domid", and
 * release removes that subtree.  Both fire their '@' watch.
 * -EEXIST: already introduced; -ENOENT: not introduced; -EINVAL: bad domid.
 */
int xsim_store_introduce(struct xsim_store *st, unsigned int domid,
                         const char *name, bool make_nodes);
int xsim_store_release(struct xsim_store *st, unsigned int domid,
                       bool remove_nodes);
bool xsim_store_is_introduced(const struct xsim_store *st, unsigned int domid);

#endif
