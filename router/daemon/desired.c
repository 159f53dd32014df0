/*
 * What the router wants to run: the config files, plus emulator entries
 * under /tool/ioreq-router/guests/<guest>/emulators/<id> in xenstore
 * (docs/router.md).  A file that does not validate changes nothing; a bad
 * xenstore entry is reported under /tool/ioreq-router/errors/<guest>/<id>
 * and its last good version (if any) stays in force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routerd.h"

static void log_errors(const struct config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++)
        rlog(NULL, NULL, "%s", errs->msg[i]);
    if (errs->out_of_memory)
        rlog(NULL, NULL, "(more problems: out of memory while recording them)");
}

static struct router_config_options config_options(const struct routerd *r)
{
    struct router_config_options o = { 0 };
    o.check_exec = true;
    o.check_accounts = true;
    o.exec_path = r->opts.exec_path;
    return o;
}

static void free_file_cfgs(struct router_config **cfgs, size_t n)
{
    if (!cfgs)
        return;
    for (size_t i = 0; i < n; i++)
        router_config_free(cfgs[i]);
    free(cfgs);
}

int routerd_load_files(struct routerd *r, bool initial)
{
    struct router_config_options o = config_options(r);
    struct router_config **cfgs = calloc(r->opts.nconfig_files + 1, sizeof(*cfgs));
    int bad = 0;

    if (!cfgs)
        return -ENOMEM;
    for (size_t i = 0; i < r->opts.nconfig_files; i++) {
        struct config_errors errs;
        config_errors_init(&errs);
        if (router_config_load_opts(r->opts.config_files[i], &o, &cfgs[i], &errs))
            bad++;
        log_errors(&errs);
        config_errors_free(&errs);
    }
    if (bad) {
        rlog(NULL, NULL, initial ? "config is not valid: not starting"
                                 : "config is not valid: reload rejected, nothing changed");
        free_file_cfgs(cfgs, r->opts.nconfig_files);
        return -EINVAL;
    }
    free_file_cfgs(r->file_cfgs, r->opts.nconfig_files);
    r->file_cfgs = cfgs;
    return 0;
}

/* ---- xenstore entries ---------------------------------------------------- */

static void xs_entry_clear(struct xs_entry *x)
{
    free(x->guest);
    free(x->id);
    free(x->text);
    free(x->where);
    router_emulator_free(x->good);
}

static struct xs_entry *xs_entry_find(struct routerd *r, const char *guest, const char *id)
{
    for (size_t i = 0; i < r->nxs_entries; i++)
        if (!strcmp(r->xs_entries[i].guest, guest) && !strcmp(r->xs_entries[i].id, id))
            return &r->xs_entries[i];
    return NULL;
}

/* errors/<guest>/<id>: the first problem (of the kind given), or, errs
 * NULL, nothing. */
static void report_entry(struct routerd *r, struct xs_entry *x, const struct config_errors *errs,
                         enum xs_entry_error kind)
{
    char path[256];
    snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/errors/%s/%s", x->guest, x->id);
    if (!errs || !errs->count) {
        if (x->error != XS_ERROR_NONE && xen_xs_rm(r->xen, path) == 0)
            x->error = XS_ERROR_NONE;
        return;
    }
    log_errors(errs);
    /* A message echoes the value, which may be long: the key gets the start. */
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", errs->msg[0]);
    int rc = xen_xs_write(r->xen, path, msg);
    if (rc)
        rlog(NULL, NULL, "cannot write %s: %s", path, strerror(-rc));
    x->error = kind;
}

static void read_entry(struct routerd *r, const char *guest, const char *id)
{
    char path[256];
    snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/guests/%s/emulators/%s", guest, id);
    char *text = xen_xs_read(r->xen, path);
    struct xs_entry *x = xs_entry_find(r, guest, id);

    /* A value with a NUL byte inside stands for what it is, a JSON string
     * holding one, which the parser rejects ("contains a NUL byte"). */
    if (!text && errno == EILSEQ)
        text = strdup("\"\\u0000\"");
    if (!text)
        return; /* removed meanwhile: unseen */
    if (x && x->text && !strcmp(x->text, text)) {
        x->seen = true;
        free(text);
        return;
    }
    if (!x) {
        struct xs_entry *arr = realloc(r->xs_entries, (r->nxs_entries + 1) * sizeof(*arr));
        if (!arr) {
            free(text);
            return;
        }
        r->xs_entries = arr;
        x = &arr[r->nxs_entries];
        memset(x, 0, sizeof(*x));
        x->guest = strdup(guest);
        x->id = strdup(id);
        char where[300];
        snprintf(where, sizeof(where), "xenstore:%s", path);
        x->where = strdup(where);
        x->error = XS_ERROR_UNKNOWN;
        if (!x->guest || !x->id || !x->where) {
            xs_entry_clear(x);
            free(text);
            return;
        }
        r->nxs_entries++;
    }
    x->seen = true;
    free(x->text);
    x->text = text;

    struct router_config_options o = config_options(r);
    struct config_errors errs;
    struct router_emulator *parsed = NULL;
    config_errors_init(&errs);
    if (router_emulator_parse_string(text, x->where, id, &o, &parsed, &errs) == 0) {
        router_emulator_free(x->good);
        x->good = parsed;
        report_entry(r, x, NULL, XS_ERROR_NONE);
        rlog(NULL, NULL, "%s: accepted", x->where);
    } else {
        report_entry(r, x, &errs, XS_ERROR_INVALID);
        rlog(NULL, NULL, "%s: rejected%s", x->where,
             x->good ? ", the previous version stays" : "");
    }
    config_errors_free(&errs);
}

/* Names become xenstore paths and file names: any other is ignored, and said so. */
static bool usable_name(const char *dir, const char *name, const char *what)
{
    if (router_name_is_safe(name))
        return true;
    rlog(NULL, NULL, "xenstore:%s/%.80s: not %s (1 to %u of A-Z a-z 0-9 _ . + -): ignored", dir,
         name, what, ROUTER_NAME_MAX);
    return false;
}

int routerd_read_xs_entries(struct routerd *r)
{
    unsigned ng = 0;
    char **guests = xen_xs_dir(r->xen, ROUTERD_XS_ROOT "/guests", &ng);

    for (size_t i = 0; i < r->nxs_entries; i++)
        r->xs_entries[i].seen = false;
    for (unsigned i = 0; guests && i < ng; i++) {
        char path[256];
        unsigned ne = 0;
        if (!usable_name(ROUTERD_XS_ROOT "/guests", guests[i], "a guest name"))
            continue;
        snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/guests/%s/emulators", guests[i]);
        char **ids = xen_xs_dir(r->xen, path, &ne);
        for (unsigned j = 0; ids && j < ne; j++)
            if (usable_name(path, ids[j], "an emulator id"))
                read_entry(r, guests[i], ids[j]);
        free(ids);
    }
    free(guests);
    for (size_t i = 0; i < r->nxs_entries;) {
        struct xs_entry *x = &r->xs_entries[i];
        if (x->seen) {
            i++;
            continue;
        }
        rlog(NULL, NULL, "%s: removed", x->where);
        report_entry(r, x, NULL, XS_ERROR_NONE);
        xs_entry_clear(x);
        *x = r->xs_entries[--r->nxs_entries];
    }
    return 0;
}

/* ---- wants --------------------------------------------------------------- */

static void wants_clear(struct routerd *r)
{
    free(r->wants);
    r->wants = NULL;
    r->nwants = 0;
    for (size_t i = 0; i < r->nwhere_pool; i++)
        free(r->where_pool[i]);
    free(r->where_pool);
    r->where_pool = NULL;
    r->nwhere_pool = 0;
}

/* "FILE: guests[I].emulators[J]", kept until the wants are rebuilt. */
static const char *file_where(struct routerd *r, const char *file, size_t i, size_t j)
{
    char buf[512];
    char **p = realloc(r->where_pool, (r->nwhere_pool + 1) * sizeof(*p));
    if (!p)
        return "?";
    r->where_pool = p;
    snprintf(buf, sizeof(buf), "%s: guests[%zu].emulators[%zu]", file, i, j);
    p[r->nwhere_pool] = strdup(buf);
    return p[r->nwhere_pool] ? p[r->nwhere_pool++] : "?";
}

static struct want_guest *want_by_name(struct routerd *r, const char *name)
{
    for (size_t i = 0; i < r->nwants; i++)
        if (r->wants[i].name && !strcmp(r->wants[i].name, name))
            return &r->wants[i];
    return NULL;
}

/* A guest given by domid alone, already wanted. */
static bool want_by_domid(struct routerd *r, uint32_t domid)
{
    for (size_t i = 0; i < r->nwants; i++)
        if (!r->wants[i].name && r->wants[i].has_domid && r->wants[i].domid == domid)
            return true;
    return false;
}

static int xs_entry_cmp(const void *a, const void *b)
{
    const struct xs_entry *x = a, *y = b;
    int c = strcmp(x->guest, y->guest);
    return c ? c : strcmp(x->id, y->id);
}

/* Add xenstore entry x to its guest if the guest stays valid with it. */
static void add_xs_entry(struct routerd *r, struct xs_entry *x)
{
    struct want_guest *w = want_by_name(r, x->guest);
    struct config_errors errs;

    if (!w) {
        w = &r->wants[r->nwants++];
        memset(w, 0, sizeof(*w));
        w->name = x->guest;
    }
    struct router_emulator *emus[ROUTER_MAX_EMULATORS_PER_GUEST + 1];
    const char *wheres[ROUTER_MAX_EMULATORS_PER_GUEST + 1];
    for (size_t i = 0; i < w->nemus; i++) {
        emus[i] = w->emus[i].cfg;
        wheres[i] = w->emus[i].where;
    }
    emus[w->nemus] = x->good;
    wheres[w->nemus] = x->where;
    config_errors_init(&errs);
    char label[300];
    snprintf(label, sizeof(label), "xenstore:" ROUTERD_XS_ROOT "/guests/%s", w->name);
    if (router_guest_check(label, emus, wheres, w->nemus + 1, &errs) == 0) {
        w->emus[w->nemus++] = (struct want_emu){ x->good, x->where };
        x->accepted = true;
        if (x->error == XS_ERROR_CLASH) /* over now (an invalid newer version stays reported) */
            report_entry(r, x, NULL, XS_ERROR_NONE);
    } else {
        rlog(NULL, NULL, "%s: not added to guest %s:", x->where, w->name);
        report_entry(r, x, &errs, XS_ERROR_CLASH);
    }
    config_errors_free(&errs);
}

int routerd_build_wants(struct routerd *r)
{
    size_t max = r->nxs_entries;

    for (size_t f = 0; f < r->opts.nconfig_files; f++)
        max += r->file_cfgs[f]->nguests;
    /* Allocate first: on failure the wants in force stay as they are. */
    struct want_guest *wants = calloc(max + 1, sizeof(*wants));
    bool *was = calloc(r->nxs_entries + 1, sizeof(*was)); /* unbounded: not on the stack */
    if (!wants || !was) {
        free(wants);
        free(was);
        rlog(NULL, NULL, "out of memory: the config change is not applied");
        return -ENOMEM;
    }
    wants_clear(r);
    r->wants = wants;
    for (size_t f = 0; f < r->opts.nconfig_files; f++) {
        const struct router_config *c = r->file_cfgs[f];
        for (size_t i = 0; i < c->nguests; i++) {
            const struct router_guest *g = &c->guests[i];
            if (g->name && want_by_name(r, g->name)) {
                rlog(NULL, NULL, "%s: guests[%zu]: guest \"%s\" is already configured: ignored",
                     r->opts.config_files[f], i, g->name);
                continue;
            }
            if (!g->name && g->has_domid && want_by_domid(r, g->domid)) {
                rlog(NULL, NULL, "%s: guests[%zu]: domid %u is already configured: ignored",
                     r->opts.config_files[f], i, (unsigned)g->domid);
                continue;
            }
            struct want_guest *w = &r->wants[r->nwants++];
            w->name = g->name;
            w->has_domid = g->has_domid;
            w->domid = g->domid;
            w->hold = g->hold;
            for (size_t j = 0; j < g->nemulators; j++)
                w->emus[w->nemus++] = (struct want_emu){
                    &g->emulators[j],
                    file_where(r, r->opts.config_files[f], i, j),
                };
        }
    }
    if (r->nxs_entries)
        qsort(r->xs_entries, r->nxs_entries, sizeof(*r->xs_entries), xs_entry_cmp);
    /* Entries already in force first: a new entry that clashes with one of
     * them is the one rejected. */
    for (size_t i = 0; i < r->nxs_entries; i++) {
        was[i] = r->xs_entries[i].accepted;
        r->xs_entries[i].accepted = false;
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->nxs_entries; i++)
            if (r->xs_entries[i].good && was[i] == (pass == 0))
                add_xs_entry(r, &r->xs_entries[i]);
    free(was);
    return 0;
}

void routerd_free_config(struct routerd *r)
{
    wants_clear(r);
    free_file_cfgs(r->file_cfgs, r->opts.nconfig_files);
    r->file_cfgs = NULL;
    for (size_t i = 0; i < r->nxs_entries; i++)
        xs_entry_clear(&r->xs_entries[i]);
    free(r->xs_entries);
    r->xs_entries = NULL;
    r->nxs_entries = 0;
}
