/*
 * One transaction: a private copy of the tree taken at start (so the
 * transaction sees its own writes and nobody else's), the generation of
 * every node it touched as it was when first touched (0 = absent), and the
 * log of its changes.  Commit = no touched node changed in the main tree
 * since, then the log is replayed on it; otherwise EAGAIN.
 */
#ifndef XSIM_TXN_H
#define XSIM_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs_perms.h"
#include "xs_tree.h"

enum xsim_txop {
    XSIM_TXOP_WRITE,
    XSIM_TXOP_MKDIR,
    XSIM_TXOP_RM,
    XSIM_TXOP_SET_PERMS,
};

struct xsim_txlog {
    enum xsim_txop op;
    char *path;              /* absolute */
    uint8_t *val;            /* WRITE */
    size_t len;
    struct xsim_perms perms; /* SET_PERMS */
};

struct xsim_touch {
    char *path;
    uint64_t gen;            /* 0: did not exist */
};

struct xsim_txn {
    struct xsim_txn *next;
    uint32_t id;
    void *owner;
    struct xsim_tree snap;
    struct xsim_touch *touched;
    size_t ntouched, ctouched;
    struct xsim_txlog *log;
    size_t nlog, clog;
};

/* 0, or -ENOMEM. */
int xsim_txn_new(const struct xsim_tree *main_tree, uint32_t id, void *owner,
                 struct xsim_txn **out);
void xsim_txn_free(struct xsim_txn *tx);

/* Note the current state of path in the snapshot, unless noted already. */
int xsim_txn_touch(struct xsim_txn *tx, const char *path);
/* Note n and every node below it. */
int xsim_txn_touch_subtree(struct xsim_txn *tx, const struct xsim_node *n);

int xsim_txn_log(struct xsim_txn *tx, enum xsim_txop op, const char *path,
                 const void *val, size_t len, const struct xsim_perms *perms);

/* Has any touched node changed in main_tree since the transaction began? */
bool xsim_txn_conflicts(const struct xsim_txn *tx,
                        const struct xsim_tree *main_tree);

#endif
