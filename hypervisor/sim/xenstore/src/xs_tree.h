/*
 * The node tree: values, permissions, children in creation order and a
 * generation count per node.  Pure data structure, no I/O and no policy:
 * permission checks, transactions and watches live elsewhere.
 *
 * Every change to a node (its value, its permissions or its list of
 * children) gives it a new generation from the tree's counter, so a node
 * that was deleted and created again never has its old generation back.
 * Paths given to these functions must be valid absolute paths.
 */
#ifndef XSIM_TREE_H
#define XSIM_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "xs_perms.h"

struct xsim_node {
    char *name;               /* last component, "" for the root */
    struct xsim_node *parent; /* NULL for the root */
    struct xsim_node **kids;
    size_t nkids, kcap;
    uint8_t *value;
    size_t vlen;
    struct xsim_perms perms;
    uint64_t gen;
};

struct xsim_tree {
    struct xsim_node *root;
    uint64_t last_gen;
    size_t nnodes;
};

/* A root owned by dom0 with no access for others ("n0"). 0 or -ENOMEM. */
int xsim_tree_init(struct xsim_tree *t);
void xsim_tree_destroy(struct xsim_tree *t);
/* Deep copy, generations included.  0 or -ENOMEM (dst left empty). */
int xsim_tree_clone(struct xsim_tree *dst, const struct xsim_tree *src);

struct xsim_node *xsim_tree_lookup(const struct xsim_tree *t, const char *path);
/* The deepest existing node on the way to path (the node itself if it exists). */
struct xsim_node *xsim_tree_nearest(const struct xsim_tree *t, const char *path);

/*
 * Create path and any missing ancestors with empty values.  Each new node
 * copies its parent's permissions; if owner >= 0 it becomes the owner of
 * every new node.  *out is the node at path, *created the number of nodes
 * made.  0 or -ENOMEM (nothing created).
 */
int xsim_tree_create(struct xsim_tree *t, const char *path, int owner,
                     struct xsim_node **out, unsigned int *created);

int xsim_tree_set_value(struct xsim_tree *t, struct xsim_node *n,
                        const void *v, size_t len);
int xsim_tree_set_perms(struct xsim_tree *t, struct xsim_node *n,
                        const struct xsim_perms *p);
/* Remove a non-root node and everything below it. */
void xsim_tree_remove(struct xsim_tree *t, struct xsim_node *n);

/* Children names, each NUL-terminated, malloc'd (never NULL on success). */
int xsim_tree_children(const struct xsim_node *n, char **buf, size_t *len);

/* Full path of a node, malloc'd, or NULL. */
char *xsim_node_path(const struct xsim_node *n);

/*
 * Visit n and every node below it, parents before children, with full
 * paths.  A non-zero return from fn stops the walk and is returned.
 */
typedef int (*xsim_visit_fn)(const struct xsim_node *n, const char *path,
                             void *ctx);
int xsim_tree_walk(const struct xsim_node *n, xsim_visit_fn fn, void *ctx);

#endif
