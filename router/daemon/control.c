/*
 * The control socket's commands (docs/ioreqctl.md): list, and start, stop
 * or restart one emulator.  router/ctl does the socket and the permission
 * check; this file only answers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "accounts.h"
#include "ctl_server.h"
#include "routerd.h"

static struct json_object *ranges_json(const struct router_range *r, size_t n)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        char buf[48];
        router_range_format(&r[i], buf, sizeof(buf));
        json_object_array_add(a, json_object_new_string(buf));
    }
    return a;
}

static struct json_object *emu_json(const struct emu *e)
{
    struct json_object *o = json_object_new_object();
    struct json_object *pci = json_object_new_array();
    char buf[64];

    json_object_object_add(o, "id", json_object_new_string(e->cfg.id));
    json_object_object_add(o, "state", json_object_new_string(emu_state_name(e->state)));
    json_object_object_add(o, "pid", e->pid > 0 ? json_object_new_int(e->pid) : NULL);
    json_object_object_add(o, "server", e->have_server ? json_object_new_int(e->server) : NULL);
    json_object_object_add(o, "restarts", json_object_new_int((int)e->restarts));
    json_object_object_add(o, "starts", json_object_new_int((int)e->starts));
    if (e->has_exit) /* the same words as the log and xenstore's exit-status */
        emu_format_status(e->exit_status, buf, sizeof(buf));
    json_object_object_add(o, "last_exit", e->has_exit ? json_object_new_string(buf) : NULL);
    json_object_object_add(o, "error", e->error[0] ? json_object_new_string(e->error) : NULL);
    json_object_object_add(o, "ports", ranges_json(e->cfg.ports, e->cfg.nports));
    json_object_object_add(o, "mmio", ranges_json(e->cfg.mmio, e->cfg.nmmio));
    for (size_t i = 0; i < e->cfg.npci; i++) {
        router_sbdf_format(&e->cfg.pci[i], buf, sizeof(buf));
        json_object_array_add(pci, json_object_new_string(buf));
    }
    json_object_object_add(o, "pci", pci);
    json_object_object_add(o, "bufioreq", json_object_new_string(router_bufioreq_name(e->cfg.bufioreq)));
    json_object_object_add(o, "uptime_s",
                           e->state == EMU_RUNNING
                               ? json_object_new_int64((int64_t)((now_ms() - e->started_ms) / 1000))
                               : NULL);
    return o;
}

static struct json_object *list_json(struct routerd *r)
{
    struct json_object *res = json_object_new_object();
    struct json_object *guests = json_object_new_array();

    for (size_t i = 0; i < r->nguests; i++) {
        const struct guest *g = r->guests[i];
        struct json_object *go = json_object_new_object();
        struct json_object *emus = json_object_new_array();
        json_object_object_add(go, "name", json_object_new_string(g->name));
        json_object_object_add(go, "domid", json_object_new_int(g->domid));
        json_object_object_add(go, "state", json_object_new_string(
                                                g->holding ? "held" : "running"));
        for (size_t j = 0; j < g->nemus; j++)
            json_object_array_add(emus, emu_json(g->emus[j]));
        json_object_object_add(go, "emulators", emus);
        json_object_array_add(guests, go);
    }
    /* Configured guests that are not running now. */
    for (size_t i = 0; i < r->nwants; i++) {
        const struct want_guest *w = &r->wants[i];
        if (w->name && guest_find_name(r, w->name))
            continue;
        if (!w->name && w->has_domid && guest_find_domid(r, (uint16_t)w->domid))
            continue;
        struct json_object *go = json_object_new_object();
        json_object_object_add(go, "name", w->name ? json_object_new_string(w->name) : NULL);
        json_object_object_add(go, "domid", w->has_domid ? json_object_new_int((int)w->domid) : NULL);
        json_object_object_add(go, "state", json_object_new_string("absent"));
        json_object_object_add(go, "emulators", json_object_new_array());
        json_object_array_add(guests, go);
    }
    json_object_object_add(res, "guests", guests);
    return res;
}

static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errorf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static struct json_object *handle(void *opaque, const char *cmd, struct json_object *req,
                                  char **errmsg)
{
    struct routerd *r = opaque;
    struct json_object *jg, *je;

    if (!strcmp(cmd, "list"))
        return list_json(r);
    bool is_start = !strcmp(cmd, "start"), is_stop = !strcmp(cmd, "stop");
    bool is_restart = !strcmp(cmd, "restart");
    if (!is_start && !is_stop && !is_restart) {
        *errmsg = errorf("unknown command \"%s\"", cmd);
        return NULL;
    }
    if (!json_object_object_get_ex(req, "guest", &jg) || !json_object_is_type(jg, json_type_string) ||
        !json_object_object_get_ex(req, "emulator", &je) || !json_object_is_type(je, json_type_string)) {
        *errmsg = errorf("%s needs \"guest\" and \"emulator\" strings", cmd);
        return NULL;
    }
    const char *gname = json_object_get_string(jg), *id = json_object_get_string(je);
    struct guest *g = guest_find_name(r, gname);
    if (!g) {
        char *end;
        unsigned long d = strtoul(gname, &end, 10);
        if (*gname && !*end && d <= ROUTER_MAX_DOMID)
            g = guest_find_domid(r, (uint16_t)d);
    }
    if (!g) {
        *errmsg = errorf("no running guest \"%s\"", gname);
        return NULL;
    }
    struct emu *e = guest_find_emu(g, id);
    if (!e) {
        *errmsg = errorf("guest \"%s\" has no emulator \"%s\"", g->name, id);
        return NULL;
    }
    if (e->goal == EMU_GOAL_REMOVE) {
        *errmsg = errorf("%s/%s is being removed", g->name, id);
        return NULL;
    }
    if (r->stopping) {
        *errmsg = errorf("the router is stopping");
        return NULL;
    }
    if (is_start) {
        if (e->state != EMU_STOPPED && e->state != EMU_FAILED) {
            *errmsg = errorf("%s/%s is already %s", g->name, id, emu_state_name(e->state));
            return NULL;
        }
        rlog(g, e, "start requested");
        emu_start(r, e);
    } else if (is_stop) {
        if (e->state == EMU_STOPPED) {
            *errmsg = errorf("%s/%s is already stopped", g->name, id);
            return NULL;
        }
        rlog(g, e, "stop requested");
        emu_request_stop(r, e, EMU_GOAL_STOP);
    } else {
        rlog(g, e, "restart requested");
        emu_request_stop(r, e, EMU_GOAL_RESTART); /* with no process and no server: emu_start */
    }
    return emu_json(e);
}

int routerd_control_open(struct routerd *r)
{
    struct ctl_server_options o = { .path = r->opts.socket_path, .allowed_gid = (gid_t)-1,
                                    .mode = 0600 };
    if (r->opts.ctl_group) {
        int found = account_group_by_name(r->opts.ctl_group, &o.allowed_gid);
        if (found != 1) {
            rlog(NULL, NULL, "--control-group %s: %s", r->opts.ctl_group,
                 found ? strerror(-found) : "no such group");
            return found ? found : -ENOENT;
        }
        o.mode = 0660;
    }
    int rc = ctl_server_open(&o, handle, r, &r->ctl);
    if (rc)
        rlog(NULL, NULL, "cannot open the control socket %s: %s", o.path, strerror(-rc));
    return rc;
}
