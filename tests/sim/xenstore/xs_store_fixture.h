/* A store with an event recorder, shared by the store-level unit tests. */
#ifndef XS_STORE_FIXTURE_H
#define XS_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xs_store.h"
#include "xs_wire_inc.h"

#define FX_MAX_EVENTS 256

struct fx_event {
    void *owner;
    char *path;
    char *token;
};

struct fx {
    struct xsim_store st;
    struct fx_event ev[FX_MAX_EVENTS];
    int nev;
    int owner_a, owner_b, owner_c; /* addresses used as owners */
    struct xsim_caller dom0, dom0b, dom5, dom6;
};

static inline void fx_record(void *owner, const char *path, const char *token,
                      void *ctx)
{
    struct fx *f = ctx;

    assert_true(f->nev < FX_MAX_EVENTS);
    f->ev[f->nev].owner = owner;
    f->ev[f->nev].path = strdup(path);
    f->ev[f->nev].token = strdup(token);
    f->nev++;
}

static inline void fx_clear_events(struct fx *f)
{
    for (int i = 0; i < f->nev; i++) {
        free(f->ev[i].path);
        free(f->ev[i].token);
    }
    f->nev = 0;
}

/* Is there an event for owner with this path and token? */
static inline int fx_count(const struct fx *f, const void *owner, const char *path,
                    const char *token)
{
    int n = 0;

    for (int i = 0; i < f->nev; i++)
        if (f->ev[i].owner == owner && strcmp(f->ev[i].path, path) == 0 &&
            strcmp(f->ev[i].token, token) == 0)
            n++;
    return n;
}

static inline int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(xsim_store_init(&f->st, fx_record, f), 0);
    f->dom0 = (struct xsim_caller){ 0, true, &f->owner_a };
    f->dom0b = (struct xsim_caller){ 0, true, &f->owner_b };
    f->dom5 = (struct xsim_caller){ 5, false, &f->owner_c };
    f->dom6 = (struct xsim_caller){ 6, false, &f->owner_c };
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    struct fx *f = *state;

    fx_clear_events(f);
    xsim_store_destroy(&f->st);
    free(f);
    return 0;
}

/* Read a node as dom0 (no transaction) and compare with a string. */
static inline void fx_expect_value(struct fx *f, const char *path, const char *want)
{
    char *v = NULL;
    size_t len = 0;

    assert_int_equal(xsim_store_read(&f->st, &f->dom0, 0, path, &v, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(v, want);
    free(v);
}

static inline int fx_read_rc(struct fx *f, const struct xsim_caller *c, uint32_t tx,
                      const char *path)
{
    char *v = NULL;
    size_t len;
    int rc = xsim_store_read(&f->st, c, tx, path, &v, &len);

    free(v);
    return rc;
}

static inline int fx_write(struct fx *f, const struct xsim_caller *c, uint32_t tx,
                    const char *path, const char *val)
{
    return xsim_store_write(&f->st, c, tx, path, val, strlen(val));
}

#endif
