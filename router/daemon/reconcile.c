/*
 * reconcile(): make what runs match what is wanted, one guest at a time.
 *
 * An emulator whose config is unchanged is never touched.  One that was
 * removed or changed is stopped and its server destroyed; the new version
 * (if any) starts only after every removal in that guest has finished, so
 * that two servers never claim the same range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "routerd.h"

static const struct want_emu *want_emu(const struct want_guest *w, const char *id)
{
    for (size_t i = 0; w && i < w->nemus; i++)
        if (!strcmp(w->emus[i].cfg->id, id))
            return &w->emus[i];
    return NULL;
}

static void drop_emu(struct guest *g, size_t i)
{
    emu_free(g->emus[i]);
    memmove(&g->emus[i], &g->emus[i + 1], (g->nemus - i - 1) * sizeof(g->emus[0]));
    g->nemus--;
}

static void reconcile_guest(struct routerd *r, struct guest *g)
{
    const struct want_guest *w = routerd_want_for(r, g->name, g->domid);
    bool removing = false;

    for (size_t i = 0; i < g->nemus;) {
        struct emu *e = g->emus[i];
        const struct want_emu *we = want_emu(w, e->cfg.id);
        bool wanted = we && router_emulator_equal(&e->cfg, we->cfg);

        if (!wanted || e->goal == EMU_GOAL_REMOVE) {
            if (e->pid > 0 || e->have_server) {
                if (e->goal != EMU_GOAL_REMOVE || e->state != EMU_STOPPING) {
                    rlog(g, e, we ? "config changed: replacing it" : "no longer configured: removing it");
                    emu_request_stop(r, e, EMU_GOAL_REMOVE);
                }
            }
            if (e->pid > 0 || e->have_server) {
                removing = true;
                i++;
                continue;
            }
            char path[256];
            snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/state/%u/%s", g->domid, e->cfg.id);
            xen_xs_rm(r->xen, path);
            drop_emu(g, i);
            continue;
        }
        i++;
    }
    if (!w)
        guest_release_hold(r, g, "no longer configured");
    if (removing || !w)
        return;
    for (size_t i = 0; i < w->nemus; i++) {
        if (guest_find_emu(g, w->emus[i].cfg->id))
            continue;
        if (g->nemus == ROUTER_MAX_EMULATORS_PER_GUEST)
            break; /* cannot happen: the wants are checked */
        struct emu *e = emu_new(g, w->emus[i].cfg, w->emus[i].where);
        if (!e) {
            rlog(g, NULL, "out of memory adding %s", w->emus[i].cfg->id);
            continue;
        }
        g->emus[g->nemus++] = e;
        emu_start(r, e);
    }
    guest_check_hold(r, g);
}

void reconcile(struct routerd *r)
{
    if (r->stopping)
        return;
    for (size_t i = 0; i < r->nguests; i++)
        reconcile_guest(r, r->guests[i]);
}

static struct emu *emu_by_pid(struct routerd *r, pid_t pid)
{
    struct emu *e;
    FOR_EACH_EMU(r, e)
        if (e->pid == pid)
            return e;
    return NULL;
}

/* Collect every exited child. */
void routerd_reap(struct routerd *r)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct emu *e = emu_by_pid(r, pid);
        if (e) {
            emu_on_exit(r, e, status);
            continue;
        }
        for (size_t i = 0; i < r->norphans; i++) {
            if (r->orphans[i].pid == pid) {
                r->orphans[i] = r->orphans[--r->norphans];
                break;
            }
        }
    }
}
