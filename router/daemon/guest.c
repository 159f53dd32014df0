/*
 * Guests: picking up domains (by the name in /local/domain/<domid>/name or
 * by domid), holding them paused until their emulators are ready, and
 * tearing everything down when the domain goes away.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routerd.h"

struct guest *guest_find_domid(struct routerd *r, uint16_t domid)
{
    for (size_t i = 0; i < r->nguests; i++)
        if (r->guests[i]->domid == domid)
            return r->guests[i];
    return NULL;
}

struct guest *guest_find_name(struct routerd *r, const char *name)
{
    for (size_t i = 0; i < r->nguests; i++)
        if (!strcmp(r->guests[i]->name, name))
            return r->guests[i];
    return NULL;
}

struct emu *guest_find_emu(struct guest *g, const char *id)
{
    for (size_t i = 0; i < g->nemus; i++)
        if (!strcmp(g->emus[i]->cfg.id, id))
            return g->emus[i];
    return NULL;
}

/* Drop our pause reference; the toolstack's own pause (xl create -p) is
 * left for the toolstack to lift, so QEMU still gets its QMP "cont". */
void guest_release_hold(struct routerd *r, struct guest *g, const char *why)
{
    if (!g->holding)
        return;
    int rc = xen_domain_unpause(r->xen, g->domid);
    if (rc) {
        rlog(g, NULL, "cannot unpause: %s", strerror(-rc));
        return;
    }
    g->holding = false;
    rlog(g, NULL, "%s: hold released", why);
}

/* Lift the hold once every emulator is ready. */
void guest_check_hold(struct routerd *r, struct guest *g)
{
    size_t ready = 0, failed = 0;
    char why[64];

    if (!g->holding)
        return;
    for (size_t i = 0; i < g->nemus; i++) {
        if (g->emus[i]->state == EMU_RUNNING)
            ready++;
        else if (g->emus[i]->state == EMU_FAILED)
            failed++;
    }
    if (failed) {
        if (!g->hold_stuck_logged)
            rlog(g, NULL, "held paused: %zu of %zu emulators failed", failed, g->nemus);
        g->hold_stuck_logged = true;
        return;
    }
    g->hold_stuck_logged = false;
    if (ready < g->nemus)
        return;
    snprintf(why, sizeof(why), "all %zu emulators ready", g->nemus);
    guest_release_hold(r, g, why);
}

void routerd_add_orphan(struct routerd *r, pid_t pid)
{
    struct orphan *o = realloc(r->orphans, (r->norphans + 1) * sizeof(*o));

    kill(pid, SIGTERM);
    if (!o) {
        kill(pid, SIGKILL); /* cannot track it: make sure it goes */
        return;
    }
    r->orphans = o;
    o[r->norphans++] = (struct orphan){ .pid = pid, .kill_ms = now_ms() + ROUTERD_STOP_GRACE_MS };
}

static void remove_state(struct routerd *r, uint16_t domid)
{
    char path[96];
    snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/state/%u", domid);
    xen_xs_rm(r->xen, path);
}

/* The domain is gone or going: stop its emulators, destroy its servers. */
void guest_teardown(struct routerd *r, struct guest *g)
{
    /* Our pause reference goes with us; a domain already gone refuses. */
    if (g->holding && xen_domain_unpause(r->xen, g->domid) == 0)
        rlog(g, NULL, "stopping: hold released");
    g->holding = false;
    for (size_t i = 0; i < g->nemus; i++)
        emu_abandon(r, g->emus[i]);
    g->nemus = 0;
    remove_state(r, g->domid);
    rlog(g, NULL, "released: emulators stopped, ioreq servers destroyed");
    for (size_t i = 0; i < r->nguests; i++) {
        if (r->guests[i] == g) {
            r->guests[i] = r->guests[--r->nguests];
            break;
        }
    }
    free(g->name);
    free(g);
}

const struct want_guest *routerd_want_for(struct routerd *r, const char *name, uint16_t domid)
{
    for (size_t i = 0; i < r->nwants; i++) {
        const struct want_guest *w = &r->wants[i];
        if (w->name && (!name || strcmp(w->name, name)))
            continue;
        if (w->has_domid && w->domid != domid)
            continue;
        return w;
    }
    return NULL;
}

static void pick_up(struct routerd *r, uint16_t domid, const char *name,
                    const struct want_guest *w)
{
    char fallback[24];
    struct guest *g = calloc(1, sizeof(*g));
    struct guest **arr = realloc(r->guests, (r->nguests + 1) * sizeof(*arr));

    if (arr)
        r->guests = arr;
    snprintf(fallback, sizeof(fallback), "domain%u", domid);
    if (w->name)
        name = w->name;
    else if (!router_name_is_safe(name)) /* matched by domid: could be anything */
        name = fallback;
    if (!g || !arr || !(g->name = strdup(name))) {
        free(g);
        rlog(NULL, NULL, "out of memory picking up domain %u", domid);
        return;
    }
    g->domid = domid;
    r->guests[r->nguests++] = g;
    rlog(g, NULL, "picked up: %zu emulators%s", w->nemus, w->hold ? ", held paused" : "");

    if (w->hold) {
        /* Always a reference of our own, also on a domain created paused:
         * the toolstack's pause is not ours to give away (with QEMU as
         * device model, only "xl unpause" resumes QEMU too). */
        int rc = xen_domain_pause(r->xen, domid);
        if (rc)
            rlog(g, NULL, "cannot pause: %s", strerror(-rc));
        else
            g->holding = true;
    }
    char path[96];
    snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/state/%u/name", domid);
    xen_xs_write(r->xen, path, g->name);
}

/* Look at every domain in xenstore and pick up those the config wants. */
void routerd_scan_domains(struct routerd *r)
{
    unsigned n = 0;
    char **ids = xen_xs_dir(r->xen, "/local/domain", &n);
    bool unnamed = false;

    for (unsigned i = 0; ids && i < n; i++) {
        char *end, path[64];
        unsigned long domid = strtoul(ids[i], &end, 10);
        if (*end || end == ids[i] || domid == 0 || domid > ROUTER_MAX_DOMID)
            continue;
        if (guest_find_domid(r, (uint16_t)domid))
            continue;
        snprintf(path, sizeof(path), "/local/domain/%lu/name", domid);
        char *name = xen_xs_read(r->xen, path);
        if (!name)
            unnamed = true; /* the toolstack writes it just after: look again */
        const struct want_guest *w = routerd_want_for(r, name, (uint16_t)domid);
        if (w && (name || w->has_domid)) {
            struct xen_domain_state st;
            if (xen_domain_state(r->xen, (uint16_t)domid, &st) == 0 && st.exists && !st.dying)
                pick_up(r, (uint16_t)domid, name, w);
        }
        free(name);
    }
    free(ids);
    if (unnamed && r->rescans_left) {
        r->rescans_left--;
        r->rescan_ms = now_ms() + 200;
    } else if (!unnamed) {
        r->rescan_ms = 0;
    }
}

/* After @releaseDomain: tear down the guests whose domain is gone. */
void routerd_check_released(struct routerd *r)
{
    for (size_t i = 0; i < r->nguests;) {
        struct guest *g = r->guests[i];
        struct xen_domain_state st;
        int rc = xen_domain_state(r->xen, g->domid, &st);
        if (rc == 0 && (!st.exists || st.dying)) {
            guest_teardown(r, g); /* moves the last guest into slot i */
            continue;
        }
        i++;
    }
}
