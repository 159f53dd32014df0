/*
 * Xenstore path rules: validation, relative-to-domain resolution, ancestry.
 * Pure string functions.
 */
#ifndef XSIM_PATH_H
#define XSIM_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest "/local/domain/<domid>" plus NUL. */
#define XSIM_DOMAIN_PATH_MAX 32

/* Highest domid a guest can have (DOMID_FIRST_RESERVED - 1). */
#define XSIM_DOMID_MAX 0x7fefu

/* An absolute node path: "/" or "/a/b" with [A-Za-z0-9_@-] components,
 * no empty component, no trailing '/', at most XENSTORE_ABS_PATH_MAX bytes. */
bool xsim_path_valid_abs(const char *p);

/* A special watch path: '@' followed by valid characters, no '/'. */
bool xsim_path_is_special(const char *p);

/* "/local/domain/<domid>" into buf (at least XSIM_DOMAIN_PATH_MAX bytes). */
void xsim_domain_path(unsigned int domid, char *buf);

/*
 * Resolve a client path: absolute paths are checked, relative ones are taken
 * from /local/domain/<domid>/.  If allow_special, '@' paths pass unchanged.
 * On success *out is malloc'd and *strip (if non-NULL) is the number of bytes
 * of the absolute path that the client did not write (0 if absolute).
 * Returns 0, -EINVAL (bad path) or -ENOMEM.
 */
int xsim_path_resolve(const char *in, unsigned int domid, bool allow_special,
                      char **out, size_t *strip);

/* path == prefix, or path lies below prefix. */
bool xsim_path_is_under(const char *path, const char *prefix);

/* Length of the parent of absolute path p ("/a" -> 1 for "/", "/a/b" -> 2).
 * p must not be "/". */
size_t xsim_path_parent_len(const char *p);

/* Parse a decimal domid ("0".."32751"): 0 or -EINVAL. */
int xsim_parse_domid(const char *s, unsigned int *out);

#endif
