/*
 * Node permissions as xenstored keeps them: entry 0 names the owner and the
 * access of every domain not listed; further entries give listed domains
 * their own access.  Wire form of an entry: one of n/r/w/b then a domid.
 */
#ifndef XSIM_PERMS_H
#define XSIM_PERMS_H

#include <stdbool.h>
#include <stddef.h>

#define XSIM_PERM_NONE  0u
#define XSIM_PERM_READ  1u
#define XSIM_PERM_WRITE 2u
#define XSIM_PERM_BOTH  (XSIM_PERM_READ | XSIM_PERM_WRITE)
#define XSIM_PERM_OWNER 4u  /* only in access results */

/* Longest wire form: letter, 5 digits, NUL. */
#define XSIM_PERM_STR_MAX 8

struct xsim_perm {
    unsigned int domid;
    unsigned int perm; /* XSIM_PERM_NONE / READ / WRITE / BOTH */
};

struct xsim_perms {
    unsigned int num; /* >= 1 for a node */
    struct xsim_perm *p;
};

/* "r5" -> {5, READ}.  0 or -EINVAL. */
int xsim_perm_parse(const char *s, struct xsim_perm *out);

/* {5, READ} -> "r5" into buf[XSIM_PERM_STR_MAX]. */
void xsim_perm_format(const struct xsim_perm *p, char *buf);

/* Replace dst with a copy of n entries.  0 or -ENOMEM / -EINVAL (n == 0). */
int xsim_perms_set(struct xsim_perms *dst, const struct xsim_perm *src,
                   unsigned int n);
int xsim_perms_copy(struct xsim_perms *dst, const struct xsim_perms *src);
void xsim_perms_free(struct xsim_perms *p);
bool xsim_perms_equal(const struct xsim_perms *a, const struct xsim_perms *b);

/*
 * What a domain may do to a node with these permissions: READ/WRITE bits,
 * plus OWNER.  A privileged caller and the owner get everything.
 */
unsigned int xsim_perms_access(const struct xsim_perms *p, unsigned int domid,
                               bool privileged);

#endif
