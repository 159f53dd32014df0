/*
 * Watch registrations and matching.  A watch is (owner, path, token); a
 * change to node N matches every watch whose path is N or an ancestor of N
 * ("subtree" match), and a removed descendant matches only watches set on
 * exactly it ("exact" match).  Special '@' paths match only exactly.
 * Event paths are reported the way the client wrote the watch: relative
 * watches get relative event paths.  No I/O: matches go to a callback.
 */
#ifndef XSIM_WATCH_H
#define XSIM_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct xsim_watch {
    struct xsim_watch *next;
    void *owner;             /* the connection (opaque) */
    unsigned int domid;      /* the owner's domain, for event permission checks */
    bool privileged;
    char *path;              /* as the client wrote it */
    char *abs;               /* absolute node path or "@..." */
    size_t strip;            /* leading bytes of abs the client did not write */
    char *token;
};

struct xsim_watches {
    struct xsim_watch *head, *tail;
    size_t count;
};

/* -EEXIST (same owner, path and token), -ENOSPC (owner has `limit`), -ENOMEM. */
int xsim_watch_add(struct xsim_watches *ws, void *owner, unsigned int domid,
                   bool privileged, const char *path, const char *abs,
                   size_t strip, const char *token, size_t limit);
/* Remove by absolute path and token: 0 or -ENOENT. */
int xsim_watch_remove(struct xsim_watches *ws, void *owner, const char *abs,
                      const char *token);
void xsim_watch_remove_owner(struct xsim_watches *ws, void *owner);
void xsim_watch_clear(struct xsim_watches *ws);
size_t xsim_watch_count_owner(const struct xsim_watches *ws, const void *owner);

/* Called once per matching watch with the path to report. */
typedef void (*xsim_watch_fn)(const struct xsim_watch *w,
                              const char *event_path, void *ctx);

/* Fire for a change at abs: subtree match unless exact. */
void xsim_watch_match(const struct xsim_watches *ws, const char *abs,
                      bool exact, xsim_watch_fn fn, void *ctx);

#endif
