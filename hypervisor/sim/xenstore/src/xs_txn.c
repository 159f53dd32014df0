/* Transactions: snapshot, touched set, change log, conflict check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_txn.h"

int xsim_txn_new(const struct xsim_tree *main_tree, uint32_t id, void *owner,
                 struct xsim_txn **out)
{
    struct xsim_txn *tx = calloc(1, sizeof(*tx));

    if (!tx)
        return -ENOMEM;
    if (xsim_tree_clone(&tx->snap, main_tree) < 0) {
        free(tx);
        return -ENOMEM;
    }
    tx->id = id;
    tx->owner = owner;
    *out = tx;
    return 0;
}

void xsim_txn_free(struct xsim_txn *tx)
{
    if (!tx)
        return;
    xsim_tree_destroy(&tx->snap);
    for (size_t i = 0; i < tx->ntouched; i++)
        free(tx->touched[i].path);
    free(tx->touched);
    for (size_t i = 0; i < tx->nlog; i++) {
        free(tx->log[i].path);
        free(tx->log[i].val);
        xsim_perms_free(&tx->log[i].perms);
    }
    free(tx->log);
    free(tx);
}

static int touch_gen(struct xsim_txn *tx, const char *path, uint64_t gen)
{
    for (size_t i = 0; i < tx->ntouched; i++)
        if (strcmp(tx->touched[i].path, path) == 0)
            return 0;
    if (tx->ntouched == tx->ctouched) {
        size_t cap = tx->ctouched ? tx->ctouched * 2 : 8;
        struct xsim_touch *t = realloc(tx->touched, cap * sizeof(*t));

        if (!t)
            return -ENOMEM;
        tx->touched = t;
        tx->ctouched = cap;
    }
    tx->touched[tx->ntouched].path = strdup(path);
    if (!tx->touched[tx->ntouched].path)
        return -ENOMEM;
    tx->touched[tx->ntouched].gen = gen;
    tx->ntouched++;
    return 0;
}

int xsim_txn_touch(struct xsim_txn *tx, const char *path)
{
    const struct xsim_node *n = xsim_tree_lookup(&tx->snap, path);

    return touch_gen(tx, path, n ? n->gen : 0);
}

static int touch_visit(const struct xsim_node *n, const char *path, void *ctx)
{
    return touch_gen(ctx, path, n->gen);
}

int xsim_txn_touch_subtree(struct xsim_txn *tx, const struct xsim_node *n)
{
    return xsim_tree_walk(n, touch_visit, tx);
}

int xsim_txn_log(struct xsim_txn *tx, enum xsim_txop op, const char *path,
                 const void *val, size_t len, const struct xsim_perms *perms)
{
    struct xsim_txlog e = { .op = op };

    if (tx->nlog == tx->clog) {
        size_t cap = tx->clog ? tx->clog * 2 : 8;
        struct xsim_txlog *l = realloc(tx->log, cap * sizeof(*l));

        if (!l)
            return -ENOMEM;
        tx->log = l;
        tx->clog = cap;
    }
    e.path = strdup(path);
    if (!e.path)
        return -ENOMEM;
    if (len) {
        e.val = malloc(len);
        if (!e.val)
            goto nomem;
        memcpy(e.val, val, len);
        e.len = len;
    }
    if (perms && xsim_perms_copy(&e.perms, perms) < 0)
        goto nomem;
    tx->log[tx->nlog++] = e;
    return 0;
nomem:
    free(e.path);
    free(e.val);
    return -ENOMEM;
}

bool xsim_txn_conflicts(const struct xsim_txn *tx,
                        const struct xsim_tree *main_tree)
{
    for (size_t i = 0; i < tx->ntouched; i++) {
        const struct xsim_node *n =
            xsim_tree_lookup(main_tree, tx->touched[i].path);

        if ((n ? n->gen : 0) != tx->touched[i].gen)
            return true;
    }
    return false;
}
