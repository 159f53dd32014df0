/* The node tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_tree.h"

static struct xsim_node *node_new(const char *name, size_t nlen)
{
    struct xsim_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->name = malloc(nlen + 1);
    if (!n->name) {
        free(n);
        return NULL;
    }
    memcpy(n->name, name, nlen);
    n->name[nlen] = '\0';
    return n;
}

static void node_free(struct xsim_tree *t, struct xsim_node *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        node_free(t, n->kids[i]);
    free(n->kids);
    free(n->value);
    xsim_perms_free(&n->perms);
    free(n->name);
    free(n);
    if (t)
        t->nnodes--;
}

static void touch(struct xsim_tree *t, struct xsim_node *n)
{
    n->gen = ++t->last_gen;
}

int xsim_tree_init(struct xsim_tree *t)
{
    static const struct xsim_perm root_perm = { 0, XSIM_PERM_NONE };

    memset(t, 0, sizeof(*t));
    t->root = node_new("", 0);
    if (!t->root)
        return -ENOMEM;
    if (xsim_perms_set(&t->root->perms, &root_perm, 1) < 0) {
        node_free(NULL, t->root);
        t->root = NULL;
        return -ENOMEM;
    }
    t->nnodes = 1;
    touch(t, t->root);
    return 0;
}

void xsim_tree_destroy(struct xsim_tree *t)
{
    if (t->root)
        node_free(NULL, t->root);
    memset(t, 0, sizeof(*t));
}

static struct xsim_node *node_clone(const struct xsim_node *src,
                                    struct xsim_node *parent)
{
    struct xsim_node *n = node_new(src->name, strlen(src->name));

    if (!n)
        return NULL;
    n->parent = parent;
    n->gen = src->gen;
    if (xsim_perms_copy(&n->perms, &src->perms) < 0)
        goto fail;
    if (src->vlen) {
        n->value = malloc(src->vlen);
        if (!n->value)
            goto fail;
        memcpy(n->value, src->value, src->vlen);
        n->vlen = src->vlen;
    }
    if (src->nkids) {
        n->kids = calloc(src->nkids, sizeof(*n->kids));
        if (!n->kids)
            goto fail;
        n->kcap = src->nkids;
        for (size_t i = 0; i < src->nkids; i++) {
            n->kids[i] = node_clone(src->kids[i], n);
            if (!n->kids[i])
                goto fail;
            n->nkids++;
        }
    }
    return n;
fail:
    node_free(NULL, n);
    return NULL;
}

int xsim_tree_clone(struct xsim_tree *dst, const struct xsim_tree *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->root = node_clone(src->root, NULL);
    if (!dst->root)
        return -ENOMEM;
    dst->last_gen = src->last_gen;
    dst->nnodes = src->nnodes;
    return 0;
}

static struct xsim_node *find_kid(const struct xsim_node *n, const char *name,
                                  size_t nlen)
{
    for (size_t i = 0; i < n->nkids; i++) {
        struct xsim_node *k = n->kids[i];

        if (strncmp(k->name, name, nlen) == 0 && k->name[nlen] == '\0')
            return k;
    }
    return NULL;
}

/* Walk as far as path exists; *rest is the unmatched remainder. */
static struct xsim_node *descend(const struct xsim_tree *t, const char *path,
                                 const char **rest)
{
    struct xsim_node *n = t->root;
    const char *p = path;

    while (*p == '/')
        p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct xsim_node *k = find_kid(n, p, len);

        if (!k)
            break;
        n = k;
        p += len;
        while (*p == '/')
            p++;
    }
    *rest = p;
    return n;
}

struct xsim_node *xsim_tree_lookup(const struct xsim_tree *t, const char *path)
{
    const char *rest;
    struct xsim_node *n = descend(t, path, &rest);

    return *rest ? NULL : n;
}

struct xsim_node *xsim_tree_nearest(const struct xsim_tree *t, const char *path)
{
    const char *rest;

    return descend(t, path, &rest);
}

static int add_kid(struct xsim_node *parent, struct xsim_node *k)
{
    if (parent->nkids == parent->kcap) {
        size_t cap = parent->kcap ? parent->kcap * 2 : 4;
        struct xsim_node **kids = realloc(parent->kids, cap * sizeof(*kids));

        if (!kids)
            return -ENOMEM;
        parent->kids = kids;
        parent->kcap = cap;
    }
    parent->kids[parent->nkids++] = k;
    k->parent = parent;
    return 0;
}

int xsim_tree_create(struct xsim_tree *t, const char *path, int owner,
                     struct xsim_node **out, unsigned int *created)
{
    const char *rest;
    struct xsim_node *n = descend(t, path, &rest);
    struct xsim_node *top = NULL, *cur = NULL;
    unsigned int made = 0;

    /* Build the missing chain detached, then hang it on n in one step. */
    while (*rest) {
        const char *end = strchr(rest, '/');
        size_t len = end ? (size_t)(end - rest) : strlen(rest);
        struct xsim_node *k = node_new(rest, len);
        const struct xsim_perms *from = cur ? &cur->perms : &n->perms;

        if (!k || xsim_perms_copy(&k->perms, from) < 0 ||
            (cur && add_kid(cur, k) < 0)) {
            if (k)
                node_free(NULL, k);
            if (top)
                node_free(NULL, top);
            return -ENOMEM;
        }
        if (owner >= 0)
            k->perms.p[0].domid = (unsigned int)owner;
        if (!top)
            top = k;
        cur = k;
        made++;
        rest += len;
        while (*rest == '/')
            rest++;
    }
    if (top) {
        struct xsim_node *k;

        if (add_kid(n, top) < 0) {
            node_free(NULL, top);
            return -ENOMEM;
        }
        touch(t, n);
        for (k = top; k; k = k->nkids ? k->kids[0] : NULL)
            touch(t, k);
        t->nnodes += made;
        n = cur;
    }
    *out = n;
    if (created)
        *created = made;
    return 0;
}

int xsim_tree_set_value(struct xsim_tree *t, struct xsim_node *n,
                        const void *v, size_t len)
{
    uint8_t *copy = NULL;

    if (len) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, v, len);
    }
    free(n->value);
    n->value = copy;
    n->vlen = len;
    touch(t, n);
    return 0;
}

int xsim_tree_set_perms(struct xsim_tree *t, struct xsim_node *n,
                        const struct xsim_perms *p)
{
    int rc = xsim_perms_copy(&n->perms, p);

    if (rc == 0)
        touch(t, n);
    return rc;
}

void xsim_tree_remove(struct xsim_tree *t, struct xsim_node *n)
{
    struct xsim_node *parent = n->parent;

    if (!parent)
        return;
    for (size_t i = 0; i < parent->nkids; i++) {
        if (parent->kids[i] == n) {
            memmove(&parent->kids[i], &parent->kids[i + 1],
                    (parent->nkids - i - 1) * sizeof(parent->kids[0]));
            parent->nkids--;
            break;
        }
    }
    touch(t, parent);
    node_free(t, n);
}

int xsim_tree_children(const struct xsim_node *n, char **buf, size_t *len)
{
    size_t total = 0, off = 0;
    char *b;

    for (size_t i = 0; i < n->nkids; i++)
        total += strlen(n->kids[i]->name) + 1;
    b = malloc(total ? total : 1);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < n->nkids; i++) {
        size_t l = strlen(n->kids[i]->name) + 1;

        memcpy(b + off, n->kids[i]->name, l);
        off += l;
    }
    *buf = b;
    *len = total;
    return 0;
}

char *xsim_node_path(const struct xsim_node *n)
{
    size_t len = 0;
    char *p;

    if (!n->parent)
        return strdup("/");
    for (const struct xsim_node *c = n; c->parent; c = c->parent)
        len += strlen(c->name) + 1;
    p = malloc(len + 1);
    if (!p)
        return NULL;
    p[len] = '\0';
    for (const struct xsim_node *c = n; c->parent; c = c->parent) {
        size_t l = strlen(c->name);

        len -= l;
        memcpy(p + len, c->name, l);
        p[--len] = '/';
    }
    return p;
}

static int walk(const struct xsim_node *n, char **path, size_t *cap,
                size_t plen, xsim_visit_fn fn, void *ctx)
{
    int rc = fn(n, *path, ctx);

    for (size_t i = 0; rc == 0 && i < n->nkids; i++) {
        const char *name = n->kids[i]->name;
        size_t nl = strlen(name);
        size_t sep = (plen == 1) ? 0 : 1; /* no second '/' after the root */
        size_t need = plen + sep + nl + 1;

        if (need > *cap) {
            char *p = realloc(*path, need * 2);

            if (!p)
                return -ENOMEM;
            *path = p;
            *cap = need * 2;
        }
        if (sep)
            (*path)[plen] = '/';
        memcpy(*path + plen + sep, name, nl + 1);
        rc = walk(n->kids[i], path, cap, plen + sep + nl, fn, ctx);
        (*path)[plen] = '\0';
    }
    return rc;
}

int xsim_tree_walk(const struct xsim_node *n, xsim_visit_fn fn, void *ctx)
{
    char *path = xsim_node_path(n);
    size_t cap;
    int rc;

    if (!path)
        return -ENOMEM;
    cap = strlen(path) + 1;
    rc = walk(n, &path, &cap, strlen(path), fn, ctx);
    free(path);
    return rc;
}
