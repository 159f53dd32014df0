/* Watch registrations and matching. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_path.h"
#include "xs_watch.h"

static void watch_free(struct xsim_watch *w)
{
    free(w->path);
    free(w->abs);
    free(w->token);
    free(w);
}

size_t xsim_watch_count_owner(const struct xsim_watches *ws, const void *owner)
{
    size_t n = 0;

    for (const struct xsim_watch *w = ws->head; w; w = w->next)
        if (w->owner == owner)
            n++;
    return n;
}

int xsim_watch_add(struct xsim_watches *ws, void *owner, unsigned int domid,
                   bool privileged, const char *path, const char *abs,
                   size_t strip, const char *token, size_t limit)
{
    struct xsim_watch *w;

    for (w = ws->head; w; w = w->next)
        if (w->owner == owner && strcmp(w->abs, abs) == 0 &&
            strcmp(w->token, token) == 0)
            return -EEXIST;
    if (xsim_watch_count_owner(ws, owner) >= limit)
        return -ENOSPC;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->owner = owner;
    w->domid = domid;
    w->privileged = privileged;
    w->strip = strip;
    w->path = strdup(path);
    w->abs = strdup(abs);
    w->token = strdup(token);
    if (!w->path || !w->abs || !w->token) {
        watch_free(w);
        return -ENOMEM;
    }
    if (ws->tail)
        ws->tail->next = w;
    else
        ws->head = w;
    ws->tail = w;
    ws->count++;
    return 0;
}

/* Unlink every watch for which pred holds. */
static size_t remove_if(struct xsim_watches *ws,
                        bool (*pred)(const struct xsim_watch *, const void *,
                                     const char *, const char *),
                        const void *owner, const char *abs, const char *token)
{
    struct xsim_watch **pp = &ws->head, *prev = NULL;
    size_t removed = 0;

    while (*pp) {
        struct xsim_watch *w = *pp;

        if (pred(w, owner, abs, token)) {
            *pp = w->next;
            watch_free(w);
            ws->count--;
            removed++;
        } else {
            prev = w;
            pp = &w->next;
        }
    }
    ws->tail = prev;
    return removed;
}

static bool is_this_watch(const struct xsim_watch *w, const void *owner,
                          const char *abs, const char *token)
{
    return w->owner == owner && strcmp(w->abs, abs) == 0 &&
           strcmp(w->token, token) == 0;
}

static bool is_owned(const struct xsim_watch *w, const void *owner,
                     const char *abs, const char *token)
{
    (void)abs;
    (void)token;
    return w->owner == owner;
}

static bool always(const struct xsim_watch *w, const void *owner,
                   const char *abs, const char *token)
{
    (void)w;
    (void)owner;
    (void)abs;
    (void)token;
    return true;
}

int xsim_watch_remove(struct xsim_watches *ws, void *owner, const char *abs,
                      const char *token)
{
    return remove_if(ws, is_this_watch, owner, abs, token) ? 0 : -ENOENT;
}

void xsim_watch_remove_owner(struct xsim_watches *ws, void *owner)
{
    remove_if(ws, is_owned, owner, NULL, NULL);
}

void xsim_watch_clear(struct xsim_watches *ws)
{
    remove_if(ws, always, NULL, NULL, NULL);
}

void xsim_watch_match(const struct xsim_watches *ws, const char *abs,
                      bool exact, xsim_watch_fn fn, void *ctx)
{
    bool special = abs[0] == '@';

    for (const struct xsim_watch *w = ws->head; w; w = w->next) {
        bool hit;

        if (exact || special || w->abs[0] == '@')
            hit = strcmp(w->abs, abs) == 0;
        else
            hit = xsim_path_is_under(abs, w->abs);
        if (!hit)
            continue;
        /* A relative watch hears relative paths: abs lies below its prefix. */
        fn(w, abs + (strlen(abs) >= w->strip ? w->strip : 0), ctx);
    }
}
