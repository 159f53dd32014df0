/*
 * accounts: user and group look-ups through NSS for the router's pieces
 * (config checks, isolation, the control socket's permission check).
 *
 * The *_r calls need a caller-sized buffer and report ERANGE when it is too
 * small, and "no such entry" differs between NSS modules (0 with no result,
 * ENOENT, ESRCH, EBADF, EPERM); both are handled once, here.  Every function
 * returns 1 when found, 0 when there is no such account, or a negative
 * errno.  No globals, nothing printed.
 */
#ifndef ROUTER_ACCOUNTS_H
#define ROUTER_ACCOUNTS_H

#include <sys/types.h>

/* A numeric uid or gid: 1 and *id if S is all decimal digits, 0 if it is
 * not (a name, or empty), -ERANGE above 4294967294 ((uid_t)-1 is not an id:
 * to the kernel it means "leave unchanged"). */
int account_parse_id(const char *s, unsigned *id);

/* The user called NAME: its uid and primary gid (either pointer may be NULL). */
int account_user_by_name(const char *name, uid_t *uid, gid_t *gid);

/* The user with UID: its primary gid and, if name is not NULL, its name
 * (malloc'ed, the caller frees it). */
int account_user_by_uid(uid_t uid, gid_t *gid, char **name);

/* The group called NAME: its gid (may be NULL). */
int account_group_by_name(const char *name, gid_t *gid);

/* The group with GID: its name (malloc'ed, the caller frees it). */
int account_group_by_gid(gid_t gid, char **name);

#endif
