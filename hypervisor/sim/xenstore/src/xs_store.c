/* The store: xenstored's operations over the tree, transactions and watches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xs_wire_inc.h"

#include "xs_store.h"

/* Where one operation acts: the main tree, or a transaction's snapshot. */
struct op {
    struct xsim_store *st;
    const struct xsim_caller *c;
    struct xsim_tree *tree;
    struct xsim_txn *tx; /* NULL: main tree, changes fire watches */
};

static const struct xsim_caller store_self = { 0, true, NULL };

static struct xsim_txn *find_txn(struct xsim_store *st, void *owner,
                                 uint32_t id)
{
    for (struct xsim_txn *t = st->txns; t; t = t->next)
        if (t->id == id && t->owner == owner)
            return t;
    return NULL;
}

static int op_begin(struct xsim_store *st, const struct xsim_caller *c,
                    uint32_t tx, struct op *o)
{
    o->st = st;
    o->c = c;
    o->tx = NULL;
    o->tree = &st->tree;
    if (tx) {
        o->tx = find_txn(st, c->owner, tx);
        if (!o->tx)
            return -ENOENT;
        o->tree = &o->tx->snap;
    }
    return 0;
}

static unsigned int access_of(const struct op *o, const struct xsim_node *n)
{
    return xsim_perms_access(&n->perms, o->c->domid, o->c->privileged);
}

/* Record a node's state for the commit-time conflict check. */
static int note(struct op *o, const char *path)
{
    return o->tx ? xsim_txn_touch(o->tx, path) : 0;
}

/* Missing node: ENOENT if the caller may read what is there, else EACCES. */
static int missing(const struct op *o, const char *abs)
{
    const struct xsim_node *anc = xsim_tree_nearest(o->tree, abs);

    return (access_of(o, anc) & XSIM_PERM_READ) ? -ENOENT : -EACCES;
}

/* ---- watch events ---- */

struct fire_ctx {
    struct xsim_store *st;
    const struct xsim_perms *perms; /* of the changed node; NULL: special */
};

static void deliver(const struct xsim_watch *w, const char *event_path,
                    void *ctx)
{
    struct fire_ctx *f = ctx;

    /* A domain hears about nodes it may read, like xenstored. */
    if (f->perms && !w->privileged &&
        !(xsim_perms_access(f->perms, w->domid, false) & XSIM_PERM_READ))
        return;
    if (f->st->event)
        f->st->event(w->owner, event_path, w->token, f->st->event_ctx);
}

static void fire(struct xsim_store *st, const char *abs,
                 const struct xsim_perms *perms, bool exact)
{
    struct fire_ctx f = { st, perms };

    xsim_watch_match(&st->watches, abs, exact, deliver, &f);
}

/* ---- operations on struct op ---- */

/* Note abs and each missing ancestor up to the first existing one. */
static int note_chain(struct op *o, const char *abs)
{
    char *p;
    int rc = 0;

    if (!o->tx)
        return 0;
    p = strdup(abs);
    if (!p)
        return -ENOMEM;
    for (;;) {
        rc = note(o, p);
        if (rc < 0 || xsim_tree_lookup(o->tree, p) || strcmp(p, "/") == 0)
            break;
        p[xsim_path_parent_len(p)] = '\0';
    }
    free(p);
    return rc;
}

/* Find abs, or create it (and its ancestors) if the caller may. */
static int get_or_create(struct op *o, const char *abs, struct xsim_node **out,
                         bool *created)
{
    struct xsim_node *n = xsim_tree_lookup(o->tree, abs);
    unsigned int made;
    int rc;

    *created = false;
    if (n) {
        if (!(access_of(o, n) & XSIM_PERM_WRITE))
            return -EACCES;
        rc = note(o, abs);
        *out = n;
        return rc;
    }
    if (!(access_of(o, xsim_tree_nearest(o->tree, abs)) & XSIM_PERM_WRITE))
        return -EACCES;
    rc = note_chain(o, abs);
    if (rc < 0)
        return rc;
    /* Domains own what they create. */
    rc = xsim_tree_create(o->tree, abs, o->c->privileged ? -1 : (int)o->c->domid,
                          out, &made);
    *created = rc == 0;
    return rc;
}

static int do_write(struct op *o, const char *abs, const void *val, size_t len)
{
    struct xsim_node *n;
    bool created;
    int rc = get_or_create(o, abs, &n, &created);

    if (rc < 0)
        return rc;
    rc = xsim_tree_set_value(o->tree, n, val, len);
    if (rc < 0)
        return rc;
    if (o->tx)
        return xsim_txn_log(o->tx, XSIM_TXOP_WRITE, abs, val, len, NULL);
    fire(o->st, abs, &n->perms, false);
    return 0;
}

static int do_mkdir(struct op *o, const char *abs)
{
    struct xsim_node *n;
    bool created;
    int rc = get_or_create(o, abs, &n, &created);

    if (rc < 0 || !created)
        return rc;
    if (o->tx)
        return xsim_txn_log(o->tx, XSIM_TXOP_MKDIR, abs, NULL, 0, NULL);
    fire(o->st, abs, &n->perms, false);
    return 0;
}

/* Removed nodes: the top one fires subtree watches, the rest exact ones. */
struct rm_ctx {
    struct xsim_store *st;
    const struct xsim_node *top;
};

static int rm_visit(const struct xsim_node *n, const char *path, void *ctx)
{
    struct rm_ctx *r = ctx;

    fire(r->st, path, &n->perms, n != r->top);
    return 0;
}

static int do_rm(struct op *o, const char *abs)
{
    struct xsim_node *n = xsim_tree_lookup(o->tree, abs);
    char *parent;
    int rc;

    if (strcmp(abs, "/") == 0)
        return -EINVAL;
    parent = strndup(abs, xsim_path_parent_len(abs));
    if (!parent)
        return -ENOMEM;
    rc = note(o, abs);
    if (rc == 0)
        rc = note(o, parent);
    if (rc == 0 && !n) {
        /* Already gone: fine if the parent is there. */
        const struct xsim_node *p = xsim_tree_lookup(o->tree, parent);

        if (!p)
            rc = missing(o, parent);
        else if (!(access_of(o, p) & XSIM_PERM_READ))
            rc = -EACCES;
    } else if (rc == 0) {
        if (!(access_of(o, n) & XSIM_PERM_WRITE)) {
            rc = -EACCES;
        } else if (o->tx) {
            rc = xsim_txn_touch_subtree(o->tx, n);
            if (rc == 0)
                rc = xsim_txn_log(o->tx, XSIM_TXOP_RM, abs, NULL, 0, NULL);
            if (rc == 0)
                xsim_tree_remove(o->tree, n);
        } else {
            struct rm_ctx r = { o->st, n };

            rc = xsim_tree_walk(n, rm_visit, &r);
            xsim_tree_remove(o->tree, n);
        }
    }
    free(parent);
    return rc;
}

static int do_set_perms(struct op *o, const char *abs,
                        const struct xsim_perms *perms)
{
    struct xsim_node *n = xsim_tree_lookup(o->tree, abs);
    unsigned int acc;
    int rc;

    if (perms->num == 0)
        return -EINVAL;
    if (!n)
        return missing(o, abs);
    acc = access_of(o, n);
    if (!(acc & XSIM_PERM_WRITE) || !(acc & XSIM_PERM_OWNER))
        return -EACCES;
    /* Only a privileged caller may give a node away. */
    if (!o->c->privileged && perms->p[0].domid != n->perms.p[0].domid)
        return -EPERM;
    rc = note(o, abs);
    if (rc == 0)
        rc = xsim_tree_set_perms(o->tree, n, perms);
    if (rc < 0)
        return rc;
    if (o->tx)
        return xsim_txn_log(o->tx, XSIM_TXOP_SET_PERMS, abs, NULL, 0, perms);
    fire(o->st, abs, &n->perms, false);
    return 0;
}

/* Look a node up for reading (noting it), with the access errors. */
static int get_readable(struct op *o, const char *abs,
                        const struct xsim_node **out)
{
    const struct xsim_node *n = xsim_tree_lookup(o->tree, abs);
    int rc = note(o, abs);

    if (rc < 0)
        return rc;
    if (!n)
        return missing(o, abs);
    if (!(access_of(o, n) & XSIM_PERM_READ))
        return -EACCES;
    *out = n;
    return 0;
}

/* Common prologue: find the transaction and resolve the path. */
static int begin(struct xsim_store *st, const struct xsim_caller *c,
                 uint32_t tx, const char *path, struct op *o, char **abs)
{
    int rc = op_begin(st, c, tx, o);

    if (rc < 0)
        return rc;
    return xsim_path_resolve(path, c->domid, false, abs, NULL);
}

int xsim_store_read(struct xsim_store *st, const struct xsim_caller *c,
                    uint32_t tx, const char *path, char **val, size_t *len)
{
    struct op o;
    const struct xsim_node *n;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = get_readable(&o, abs, &n);
    if (rc == 0) {
        *val = malloc(n->vlen + 1);
        if (!*val) {
            rc = -ENOMEM;
        } else {
            if (n->vlen)
                memcpy(*val, n->value, n->vlen);
            (*val)[n->vlen] = '\0';
            *len = n->vlen;
        }
    }
    free(abs);
    return rc;
}

int xsim_store_write(struct xsim_store *st, const struct xsim_caller *c,
                     uint32_t tx, const char *path, const void *val,
                     size_t len)
{
    struct op o;
    char *abs;
    int rc;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    rc = begin(st, c, tx, path, &o, &abs);
    if (rc < 0)
        return rc;
    rc = do_write(&o, abs, val, len);
    free(abs);
    return rc;
}

int xsim_store_mkdir(struct xsim_store *st, const struct xsim_caller *c,
                     uint32_t tx, const char *path)
{
    struct op o;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = do_mkdir(&o, abs);
    free(abs);
    return rc;
}

int xsim_store_rm(struct xsim_store *st, const struct xsim_caller *c,
                  uint32_t tx, const char *path)
{
    struct op o;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = do_rm(&o, abs);
    free(abs);
    return rc;
}

int xsim_store_directory(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path, char **list,
                         size_t *len, uint64_t *gen)
{
    struct op o;
    const struct xsim_node *n;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = get_readable(&o, abs, &n);
    if (rc == 0)
        rc = xsim_tree_children(n, list, len);
    if (rc == 0 && gen)
        *gen = n->gen;
    free(abs);
    return rc;
}

int xsim_store_get_perms(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path,
                         struct xsim_perms *out)
{
    struct op o;
    const struct xsim_node *n;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = get_readable(&o, abs, &n);
    if (rc == 0)
        rc = xsim_perms_copy(out, &n->perms);
    free(abs);
    return rc;
}

int xsim_store_set_perms(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t tx, const char *path,
                         const struct xsim_perms *perms)
{
    struct op o;
    char *abs;
    int rc = begin(st, c, tx, path, &o, &abs);

    if (rc < 0)
        return rc;
    rc = do_set_perms(&o, abs, perms);
    free(abs);
    return rc;
}

/* ---- watches ---- */

int xsim_store_watch(struct xsim_store *st, const struct xsim_caller *c,
                     const char *path, const char *token)
{
    char *abs;
    size_t strip;
    int rc = xsim_path_resolve(path, c->domid, true, &abs, &strip);

    if (rc < 0)
        return rc;
    rc = xsim_watch_add(&st->watches, c->owner, c->domid, c->privileged, path,
                        abs, strip, token, XSIM_MAX_WATCHES_PER_OWNER);
    free(abs);
    return rc;
}

void xsim_store_watch_initial(struct xsim_store *st,
                              const struct xsim_caller *c, const char *path,
                              const char *token)
{
    if (st->event)
        st->event(c->owner, path, token, st->event_ctx);
}

int xsim_store_unwatch(struct xsim_store *st, const struct xsim_caller *c,
                       const char *path, const char *token)
{
    char *abs;
    int rc = xsim_path_resolve(path, c->domid, true, &abs, NULL);

    if (rc < 0)
        return rc;
    rc = xsim_watch_remove(&st->watches, c->owner, abs, token);
    free(abs);
    return rc;
}

void xsim_store_forget_owner(struct xsim_store *st, void *owner)
{
    struct xsim_txn **pp = &st->txns;

    xsim_watch_remove_owner(&st->watches, owner);
    while (*pp) {
        struct xsim_txn *t = *pp;

        if (t->owner == owner) {
            *pp = t->next;
            xsim_txn_free(t);
        } else {
            pp = &t->next;
        }
    }
}

/* ---- transactions ---- */

int xsim_store_txn_start(struct xsim_store *st, const struct xsim_caller *c,
                         uint32_t *id)
{
    struct xsim_txn *t;
    size_t mine = 0;
    uint32_t next;
    int rc;

    for (t = st->txns; t; t = t->next)
        if (t->owner == c->owner)
            mine++;
    if (mine >= XSIM_MAX_TXNS_PER_OWNER)
        return -ENOSPC;
    /* Ids are unique in the store; skip 0 and ids still in use. */
    next = st->last_txid;
    do {
        next++;
        for (t = st->txns; t && t->id != next; t = t->next)
            ;
    } while (next == 0 || t);
    rc = xsim_txn_new(&st->tree, next, c->owner, &t);
    if (rc < 0)
        return rc;
    st->last_txid = next;
    t->next = st->txns;
    st->txns = t;
    *id = next;
    return 0;
}

static int replay(struct xsim_store *st, const struct xsim_caller *c,
                  const struct xsim_txlog *e)
{
    struct op o = { st, c, &st->tree, NULL };

    switch (e->op) {
    case XSIM_TXOP_WRITE: return do_write(&o, e->path, e->val, e->len);
    case XSIM_TXOP_MKDIR: return do_mkdir(&o, e->path);
    case XSIM_TXOP_RM: return do_rm(&o, e->path);
    case XSIM_TXOP_SET_PERMS: return do_set_perms(&o, e->path, &e->perms);
    }
    return -EINVAL;
}

int xsim_store_txn_end(struct xsim_store *st, const struct xsim_caller *c,
                       uint32_t id, bool commit)
{
    struct xsim_txn **pp = &st->txns, *t;
    int rc = 0;

    while (*pp && !((*pp)->id == id && (*pp)->owner == c->owner))
        pp = &(*pp)->next;
    t = *pp;
    if (!t || id == 0)
        return -ENOENT;
    *pp = t->next;
    if (commit) {
        if (xsim_txn_conflicts(t, &st->tree)) {
            rc = -EAGAIN;
        } else {
            /* Nothing the transaction saw has moved: its log replays
             * exactly as it ran, now firing watches. */
            for (size_t i = 0; i < t->nlog; i++) {
                int r = replay(st, c, &t->log[i]);

                if (r < 0 && rc == 0)
                    rc = r == -ENOMEM ? r : -EIO;
            }
        }
    }
    xsim_txn_free(t);
    return rc;
}

/* ---- domains ---- */

static void set_introduced(struct xsim_store *st, unsigned int domid, bool on)
{
    if (on)
        st->introduced[domid / 8] |= (uint8_t)(1u << (domid % 8));
    else
        st->introduced[domid / 8] &= (uint8_t)~(1u << (domid % 8));
}

bool xsim_store_is_introduced(const struct xsim_store *st, unsigned int domid)
{
    return domid <= XSIM_DOMID_MAX &&
           (st->introduced[domid / 8] & (1u << (domid % 8)));
}

static int make_domain_nodes(struct xsim_store *st, unsigned int domid,
                             const char *name)
{
    char dom[XSIM_DOMAIN_PATH_MAX], path[XSIM_DOMAIN_PATH_MAX + 8], num[8];
    struct xsim_perm own = { domid, XSIM_PERM_NONE };
    struct xsim_perms perms = { 1, &own };
    struct op o = { st, &store_self, &st->tree, NULL };
    int rc;

    xsim_domain_path(domid, dom);
    rc = do_mkdir(&o, dom);
    if (rc == 0)
        rc = do_set_perms(&o, dom, &perms);
    if (rc == 0 && name) {
        snprintf(path, sizeof(path), "%s/name", dom);
        rc = do_write(&o, path, name, strlen(name));
    }
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/domid", dom);
        snprintf(num, sizeof(num), "%u", domid);
        rc = do_write(&o, path, num, strlen(num));
    }
    return rc;
}

int xsim_store_introduce(struct xsim_store *st, unsigned int domid,
                         const char *name, bool make_nodes)
{
    int rc;

    if (domid > XSIM_DOMID_MAX)
        return -EINVAL;
    if (xsim_store_is_introduced(st, domid))
        return -EEXIST;
    if (make_nodes) {
        rc = make_domain_nodes(st, domid, name);
        if (rc < 0)
            return rc;
    }
    set_introduced(st, domid, true);
    fire(st, "@introduceDomain", NULL, true);
    return 0;
}

int xsim_store_release(struct xsim_store *st, unsigned int domid,
                       bool remove_nodes)
{
    if (domid > XSIM_DOMID_MAX || domid == 0)
        return -EINVAL;
    if (!xsim_store_is_introduced(st, domid))
        return -ENOENT;
    if (remove_nodes) {
        char dom[XSIM_DOMAIN_PATH_MAX];
        struct op o = { st, &store_self, &st->tree, NULL };
        int rc;

        xsim_domain_path(domid, dom);
        rc = do_rm(&o, dom);
        if (rc < 0)
            return rc;
    }
    set_introduced(st, domid, false);
    fire(st, "@releaseDomain", NULL, true);
    return 0;
}

/* ---- life cycle ---- */

int xsim_store_init(struct xsim_store *st, xsim_event_fn event, void *ctx)
{
    struct op o = { st, &store_self, &st->tree, NULL };
    int rc;

    memset(st, 0, sizeof(*st));
    st->event = event;
    st->event_ctx = ctx;
    rc = xsim_tree_init(&st->tree);
    if (rc == 0)
        rc = do_mkdir(&o, "/local/domain");
    if (rc == 0)
        rc = do_mkdir(&o, "/tool");
    if (rc == 0)
        rc = make_domain_nodes(st, 0, "Domain-0");
    if (rc < 0) {
        xsim_store_destroy(st);
        return rc;
    }
    set_introduced(st, 0, true);
    return 0;
}

void xsim_store_destroy(struct xsim_store *st)
{
    while (st->txns) {
        struct xsim_txn *t = st->txns;

        st->txns = t->next;
        xsim_txn_free(t);
    }
    xsim_watch_clear(&st->watches);
    xsim_tree_destroy(&st->tree);
}
