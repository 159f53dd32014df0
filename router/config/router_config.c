/* router_config: parse and validate the router's JSON config (see header). */
#define _GNU_SOURCE
#include "router_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#define PATH_LEN 512

struct ctx {
    const char *file;
    struct config_errors *errs;
    const struct router_config_options *opts;
    bool oom;
};

/* ---------------- errors ---------------- */

void config_errors_init(struct config_errors *errs)
{
    memset(errs, 0, sizeof(*errs));
}

void config_errors_free(struct config_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->count; i++)
        free(errs->msg[i]);
    free(errs->msg);
    memset(errs, 0, sizeof(*errs));
}

static void add_msg(struct config_errors *errs, char *m)
{
    if (!m) {
        errs->out_of_memory = true;
        return;
    }
    if (errs->count == errs->cap) {
        size_t ncap = errs->cap ? errs->cap * 2 : 16;
        char **n = realloc(errs->msg, ncap * sizeof(*n));
        if (!n) {
            free(m);
            errs->out_of_memory = true;
            return;
        }
        errs->msg = n;
        errs->cap = ncap;
    }
    errs->msg[errs->count++] = m;
}

__attribute__((format(printf, 3, 4)))
static void err(struct ctx *c, const char *path, const char *fmt, ...)
{
    char *body = NULL, *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&body, fmt, ap);
    va_end(ap);
    if (r < 0) {
        add_msg(c->errs, NULL);
        return;
    }
    if (asprintf(&m, "%s: %s: %s", c->file, path, body) < 0)
        m = NULL;
    free(body);
    add_msg(c->errs, m);
}

__attribute__((format(printf, 3, 4)))
static void pjoin(char *dst, const char *base, const char *fmt, ...)
{
    char tail[PATH_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof(tail), fmt, ap);
    va_end(ap);
    size_t bl = strlen(base);
    if (bl >= PATH_LEN)
        bl = PATH_LEN - 1;
    memmove(dst, base, bl);
    size_t tl = strlen(tail);
    if (bl + tl >= PATH_LEN)
        tl = PATH_LEN - 1 - bl;
    memcpy(dst + bl, tail, tl);
    dst[bl + tl] = '\0';
}

static char *xstrdup(struct ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d)
        c->oom = true;
    return d;
}

/* ---------------- generic field helpers ---------------- */

static void check_keys(struct ctx *c, struct json_object *obj, const char *base,
                       const char *const *allowed)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = true;
        if (!ok) {
            char p[PATH_LEN];
            pjoin(p, base, "%s%s", base[0] ? "." : "", key);
            err(c, p, "unknown key");
        }
    }
}

static void key_path(char *p, const char *base, const char *key)
{
    pjoin(p, base, "%s%s", base[0] ? "." : "", key);
}

/* Returns 1 and sets *out (a copy) when present and valid, 0 when absent,
 * -1 when invalid (already reported). */
static int get_string(struct ctx *c, struct json_object *obj, const char *base,
                      const char *key, bool required, char **out)
{
    struct json_object *v;
    char p[PATH_LEN];
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required)
            err(c, base[0] ? base : "(top level)", "missing required key \"%s\"", key);
        return 0;
    }
    key_path(p, base, key);
    if (!json_object_is_type(v, json_type_string)) {
        err(c, p, "must be a string");
        return -1;
    }
    const char *s = json_object_get_string(v);
    if (s[0] == '\0') {
        err(c, p, "must not be empty");
        return -1;
    }
    *out = xstrdup(c, s);
    return *out ? 1 : -1;
}

static int get_int(struct ctx *c, struct json_object *obj, const char *base,
                   const char *key, int64_t min, int64_t max, int64_t *out)
{
    struct json_object *v;
    char p[PATH_LEN];
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    key_path(p, base, key);
    if (!json_object_is_type(v, json_type_int)) {
        err(c, p, "must be an integer");
        return -1;
    }
    errno = 0;
    int64_t n = json_object_get_int64(v);
    if (errno == ERANGE || n < min || n > max) {
        err(c, p, "must be between %lld and %lld", (long long)min, (long long)max);
        return -1;
    }
    *out = n;
    return 1;
}

static int get_enum(struct ctx *c, struct json_object *obj, const char *base,
                    const char *key, const char *const *names, int *out)
{
    struct json_object *v;
    char p[PATH_LEN];
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    key_path(p, base, key);
    size_t n = 0;
    while (names[n])
        n++;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        for (size_t i = 0; i < n; i++)
            if (strcmp(s, names[i]) == 0) {
                *out = (int)i;
                return 1;
            }
    }
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
                                i == 0 ? "" : (i + 1 == n ? " or " : ", "), names[i]);
    err(c, p, "must be %s", list);
    return -1;
}

/* ---------------- numbers, ranges, SBDF ---------------- */

/* Decimal, or hexadecimal with 0x: no sign, no spaces. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    int base = 10;
    const char *d = buf;
    if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        base = 16;
        d = buf + 2;
    }
    if (!*d)
        return false;
    for (const char *q = d; *q; q++)
        if (base == 10 ? !(*q >= '0' && *q <= '9') : !strchr("0123456789abcdefABCDEF", *q))
            return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(d, &end, base);
    if (errno == ERANGE || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_range(struct ctx *c, const char *p, struct json_object *v, bool is_port,
                        struct router_range *r)
{
    if (!json_object_is_type(v, json_type_string)) {
        err(c, p, "must be a string \"START-END\", e.g. \"0x3f8-0x3ff\"");
        return false;
    }
    const char *s = json_object_get_string(v);
    const char *dash = strchr(s, '-');
    if (!dash) {
        err(c, p, "\"%s\" is not a range (expected \"START-END\", e.g. \"0x3f8-0x3ff\")", s);
        return false;
    }
    bool ok = true;
    if (!parse_u64(s, (size_t)(dash - s), &r->start)) {
        err(c, p, "bad number \"%.*s\" (expected decimal or 0x-prefixed hex)",
            (int)(dash - s), s);
        ok = false;
    }
    if (!parse_u64(dash + 1, strlen(dash + 1), &r->end)) {
        err(c, p, "bad number \"%s\" (expected decimal or 0x-prefixed hex)", dash + 1);
        ok = false;
    }
    if (!ok)
        return false;
    if (r->start > r->end) {
        err(c, p, "start 0x%llx is above end 0x%llx", (unsigned long long)r->start,
            (unsigned long long)r->end);
        ok = false;
    }
    if (is_port && (r->end > 0xffff || r->start > 0xffff)) {
        err(c, p, "port 0x%llx is above 0xffff",
            (unsigned long long)(r->end > r->start ? r->end : r->start));
        ok = false;
    }
    return ok;
}

static int hexn(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            return 0;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 1;
}

static bool parse_sbdf(struct ctx *c, const char *p, struct json_object *v,
                       struct router_sbdf *out)
{
    if (!json_object_is_type(v, json_type_string)) {
        err(c, p, "must be a string \"SSSS:BB:DD.F\" or \"BB:DD.F\"");
        return false;
    }
    const char *s = json_object_get_string(v);
    size_t len = strlen(s);
    unsigned seg = 0, bus, dev, fn;
    const char *b = s;
    bool ok = false;
    if (len == 12 && s[4] == ':' && hexn(s, 4, &seg))
        b = s + 5, ok = true;
    else if (len == 7)
        ok = true;
    if (ok)
        ok = b[2] == ':' && b[5] == '.' && hexn(b, 2, &bus) && hexn(b + 3, 2, &dev) &&
             hexn(b + 6, 1, &fn);
    if (!ok) {
        err(c, p, "\"%s\" is not a PCI address (expected \"SSSS:BB:DD.F\" or \"BB:DD.F\", "
                  "e.g. \"0000:00:05.0\")", s);
        return false;
    }
    if (dev > 0x1f) {
        err(c, p, "\"%s\": device number 0x%x is above 0x1f", s, dev);
        return false;
    }
    if (fn > 7) {
        err(c, p, "\"%s\": function number %u is above 7", s, fn);
        return false;
    }
    out->segment = (uint16_t)seg;
    out->bus = (uint8_t)bus;
    out->dev = (uint8_t)dev;
    out->func = (uint8_t)fn;
    return true;
}

/* ---------------- executables ---------------- */

static void check_exec(struct ctx *c, const char *p, struct router_emulator *e)
{
    const char *x = e->exec;
    if (x[0] == '/') {
        if (access(x, F_OK) != 0)
            err(c, p, "\"%s\" not found", x);
        else if (access(x, X_OK) != 0)
            err(c, p, "\"%s\" is not executable", x);
        else
            e->exec_resolved = xstrdup(c, x);
        return;
    }
    if (strchr(x, '/')) {
        err(c, p, "\"%s\" must be an absolute path or a bare program name", x);
        return;
    }
    const char *lists[2] = {c->opts->exec_path, getenv("PATH")};
    bool found_noexec = false;
    for (int li = 0; li < 2; li++) {
        const char *l = lists[li];
        if (!l)
            continue;
        while (*l) {
            const char *colon = strchrnul(l, ':');
            if (colon > l) {
                char *cand = NULL;
                if (asprintf(&cand, "%.*s/%s", (int)(colon - l), l, x) < 0) {
                    c->oom = true;
                    return;
                }
                if (access(cand, X_OK) == 0) {
                    e->exec_resolved = cand;
                    return;
                }
                if (access(cand, F_OK) == 0)
                    found_noexec = true;
                free(cand);
            }
            l = *colon ? colon + 1 : colon;
        }
    }
    if (found_noexec)
        err(c, p, "\"%s\" is not executable", x);
    else
        err(c, p, "\"%s\" not found (searched %s$PATH)", x,
            c->opts->exec_path ? "the exec path and " : "");
}

/* ---------------- emulators ---------------- */

static bool parse_range_list(struct ctx *c, struct json_object *obj, const char *base,
                             const char *key, bool is_port, struct router_range **out,
                             size_t *nout)
{
    struct json_object *arr;
    char p[PATH_LEN], ip[PATH_LEN];
    if (!json_object_object_get_ex(obj, key, &arr))
        return true;
    key_path(p, base, key);
    if (!json_object_is_type(arr, json_type_array)) {
        err(c, p, "must be an array");
        return false;
    }
    size_t n = json_object_array_length(arr);
    if (!n)
        return true;
    *out = calloc(n, sizeof(**out));
    if (!*out) {
        c->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        pjoin(ip, p, "[%zu]", i);
        if (!parse_range(c, ip, json_object_array_get_idx(arr, i), is_port, &(*out)[i]))
            ok = false;
    }
    *nout = n;
    return ok;
}

static const char *const emu_keys[] = {"id", "exec", "args", "bufioreq", "ports", "mmio",
                                       "pci", "user", "group", "restart", NULL};
static const char *const restart_keys[] = {"policy", "max_restarts", "window_s", NULL};
static const char *const bufioreq_names[] = {"off", "legacy", "atomic", NULL};
static const char *const policy_names[] = {"on-failure", "always", "never", NULL};

static bool parse_emulator(struct ctx *c, struct json_object *o, const char *base,
                           struct router_emulator *e)
{
    char p[PATH_LEN], ip[PATH_LEN];
    bool ok = true;
    e->restart.policy = ROUTER_RESTART_ON_FAILURE;
    e->restart.max_restarts = 5;
    e->restart.window_s = 60;
    if (!json_object_is_type(o, json_type_object)) {
        err(c, base, "must be an object");
        return false;
    }
    size_t before = c->errs->count;
    check_keys(c, o, base, emu_keys);
    get_string(c, o, base, "id", true, &e->id);
    int xr = get_string(c, o, base, "exec", true, &e->exec);
    get_string(c, o, base, "user", false, &e->user);
    get_string(c, o, base, "group", false, &e->group);
    int mode;
    if (get_enum(c, o, base, "bufioreq", bufioreq_names, &mode) == 1)
        e->bufioreq = (enum router_bufioreq)mode;

    struct json_object *v;
    if (json_object_object_get_ex(o, "args", &v)) {
        key_path(p, base, "args");
        if (!json_object_is_type(v, json_type_array)) {
            err(c, p, "must be an array of strings");
        } else {
            size_t n = json_object_array_length(v);
            e->args = calloc(n + 1, sizeof(char *));
            if (!e->args)
                c->oom = true;
            for (size_t i = 0; e->args && i < n; i++) {
                struct json_object *a = json_object_array_get_idx(v, i);
                pjoin(ip, p, "[%zu]", i);
                if (!json_object_is_type(a, json_type_string)) {
                    err(c, ip, "must be a string");
                    continue;
                }
                e->args[e->nargs++] = xstrdup(c, json_object_get_string(a));
            }
        }
    }
    parse_range_list(c, o, base, "ports", true, &e->ports, &e->nports);
    parse_range_list(c, o, base, "mmio", false, &e->mmio, &e->nmmio);

    if (json_object_object_get_ex(o, "pci", &v)) {
        key_path(p, base, "pci");
        if (!json_object_is_type(v, json_type_array)) {
            err(c, p, "must be an array");
        } else {
            size_t n = json_object_array_length(v);
            e->pci = calloc(n ? n : 1, sizeof(*e->pci));
            if (!e->pci)
                c->oom = true;
            for (size_t i = 0; e->pci && i < n; i++) {
                pjoin(ip, p, "[%zu]", i);
                parse_sbdf(c, ip, json_object_array_get_idx(v, i), &e->pci[i]);
                for (size_t j = 0; j < i; j++)
                    if (memcmp(&e->pci[i], &e->pci[j], sizeof(e->pci[i])) == 0 &&
                        e->pci[i].dev | e->pci[i].bus | e->pci[i].func | e->pci[i].segment)
                        err(c, ip, "duplicate of pci[%zu]", j);
            }
            e->npci = n;
        }
    }

    if (json_object_object_get_ex(o, "restart", &v)) {
        key_path(p, base, "restart");
        if (!json_object_is_type(v, json_type_object)) {
            err(c, p, "must be an object");
        } else {
            check_keys(c, v, p, restart_keys);
            int pol;
            int64_t n;
            if (get_enum(c, v, p, "policy", policy_names, &pol) == 1)
                e->restart.policy = (enum router_restart_policy)pol;
            if (get_int(c, v, p, "max_restarts", 0, 1000000, &n) == 1)
                e->restart.max_restarts = (unsigned)n;
            if (get_int(c, v, p, "window_s", 1, 86400, &n) == 1)
                e->restart.window_s = (unsigned)n;
        }
    }

    if (xr == 1 && c->opts->check_exec) {
        key_path(p, base, "exec");
        check_exec(c, p, e);
    }
    if (c->errs->count != before)
        ok = false;
    return ok;
}

/* ---------------- guests ---------------- */

struct owned_range {
    const struct router_range *r;
    size_t emu, idx;
};

static void check_overlaps(struct ctx *c, const char *gbase, struct router_guest *g,
                           bool ports)
{
    const char *kind = ports ? "ports" : "mmio";
    size_t total = 0;
    for (size_t i = 0; i < g->nemulators; i++)
        total += ports ? g->emulators[i].nports : g->emulators[i].nmmio;
    if (total < 2)
        return;
    struct owned_range *all = calloc(total, sizeof(*all));
    if (!all) {
        c->oom = true;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < g->nemulators; i++) {
        struct router_emulator *e = &g->emulators[i];
        size_t n = ports ? e->nports : e->nmmio;
        for (size_t j = 0; j < n; j++)
            all[k++] = (struct owned_range){ports ? &e->ports[j] : &e->mmio[j], i, j};
    }
    for (size_t b = 0; b < total; b++) {
        const struct router_range *rb = all[b].r;
        if (rb->start > rb->end)
            continue;
        for (size_t a = 0; a < b; a++) {
            const struct router_range *ra = all[a].r;
            if (ra->start > ra->end || ra->end < rb->start || rb->end < ra->start)
                continue;
            char p[PATH_LEN];
            pjoin(p, gbase, ".emulators[%zu].%s[%zu]", all[b].emu, kind, all[b].idx);
            const char *other = g->emulators[all[a].emu].id;
            if (all[a].emu == all[b].emu)
                err(c, p, "overlaps %s[%zu] 0x%llx-0x%llx of the same emulator", kind,
                    all[a].idx, (unsigned long long)ra->start, (unsigned long long)ra->end);
            else if (other)
                err(c, p, "overlaps \"%s\" 0x%llx-0x%llx", other,
                    (unsigned long long)ra->start, (unsigned long long)ra->end);
            else
                err(c, p, "overlaps emulators[%zu] 0x%llx-0x%llx", all[a].emu,
                    (unsigned long long)ra->start, (unsigned long long)ra->end);
        }
    }
    free(all);
}

static void check_pci_conflicts(struct ctx *c, const char *gbase, struct router_guest *g)
{
    for (size_t i = 0; i < g->nemulators; i++)
        for (size_t k = 0; k < g->emulators[i].npci; k++) {
            const struct router_sbdf *s = &g->emulators[i].pci[k];
            for (size_t j = 0; j < i; j++)
                for (size_t l = 0; l < g->emulators[j].npci; l++)
                    if (memcmp(s, &g->emulators[j].pci[l], sizeof(*s)) == 0 &&
                        (s->dev | s->bus | s->func | s->segment)) {
                        char p[PATH_LEN];
                        pjoin(p, gbase, ".emulators[%zu].pci[%zu]", i, k);
                        err(c, p, "%04x:%02x:%02x.%x is also used by \"%s\"", s->segment,
                            s->bus, s->dev, s->func,
                            g->emulators[j].id ? g->emulators[j].id : "?");
                    }
        }
}

static const char *const guest_keys[] = {"name", "domid", "hold", "emulators", NULL};

static void parse_guest(struct ctx *c, struct json_object *o, const char *base,
                        struct router_guest *g)
{
    char p[PATH_LEN], ip[PATH_LEN];
    if (!json_object_is_type(o, json_type_object)) {
        err(c, base, "must be an object");
        return;
    }
    check_keys(c, o, base, guest_keys);
    int nr = get_string(c, o, base, "name", false, &g->name);
    int64_t d;
    int dr = get_int(c, o, base, "domid", 1, ROUTER_MAX_DOMID, &d);
    if (dr == 1) {
        g->has_domid = true;
        g->domid = (uint32_t)d;
    }
    if (nr == 0 && dr == 0)
        err(c, base, "missing required key \"name\" or \"domid\"");
    struct json_object *v;
    if (json_object_object_get_ex(o, "hold", &v)) {
        key_path(p, base, "hold");
        if (!json_object_is_type(v, json_type_boolean))
            err(c, p, "must be true or false");
        else
            g->hold = json_object_get_boolean(v);
    }
    if (!json_object_object_get_ex(o, "emulators", &v)) {
        err(c, base, "missing required key \"emulators\"");
        return;
    }
    key_path(p, base, "emulators");
    if (!json_object_is_type(v, json_type_array)) {
        err(c, p, "must be an array");
        return;
    }
    size_t n = json_object_array_length(v);
    if (n == 0) {
        err(c, p, "must list at least one emulator");
        return;
    }
    if (n > ROUTER_MAX_EMULATORS_PER_GUEST)
        err(c, p, "%zu emulators, but Xen allows %d ioreq servers per guest", n,
            ROUTER_MAX_EMULATORS_PER_GUEST);
    g->emulators = calloc(n, sizeof(*g->emulators));
    if (!g->emulators) {
        c->oom = true;
        return;
    }
    g->nemulators = n;
    for (size_t i = 0; i < n; i++) {
        pjoin(ip, p, "[%zu]", i);
        parse_emulator(c, json_object_array_get_idx(v, i), ip, &g->emulators[i]);
        if (!g->emulators[i].id)
            continue;
        for (size_t j = 0; j < i; j++)
            if (g->emulators[j].id && strcmp(g->emulators[j].id, g->emulators[i].id) == 0) {
                pjoin(ip, p, "[%zu].id", i);
                err(c, ip, "duplicate emulator id \"%s\" (already used by emulators[%zu])",
                    g->emulators[i].id, j);
                break;
            }
    }
    check_overlaps(c, base, g, true);
    check_overlaps(c, base, g, false);
    check_pci_conflicts(c, base, g);
}

/* ---------------- top level ---------------- */

static void free_emulator(struct router_emulator *e)
{
    free(e->id);
    free(e->exec);
    free(e->exec_resolved);
    for (size_t i = 0; i < e->nargs; i++)
        free(e->args[i]);
    free(e->args);
    free(e->ports);
    free(e->mmio);
    free(e->pci);
    free(e->user);
    free(e->group);
}

void router_config_free(struct router_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nguests; i++) {
        struct router_guest *g = &cfg->guests[i];
        for (size_t j = 0; j < g->nemulators; j++)
            free_emulator(&g->emulators[j]);
        free(g->emulators);
        free(g->name);
    }
    free(cfg->guests);
    free(cfg);
}

static const char *const top_keys[] = {"$schema", "guests", NULL};

static void parse_top(struct ctx *c, struct json_object *root, struct router_config *cfg)
{
    char p[PATH_LEN];
    if (!json_object_is_type(root, json_type_object)) {
        err(c, "(top level)", "must be an object");
        return;
    }
    check_keys(c, root, "", top_keys);
    struct json_object *v;
    if (json_object_object_get_ex(root, "$schema", &v) &&
        !json_object_is_type(v, json_type_string))
        err(c, "$schema", "must be a string");
    if (!json_object_object_get_ex(root, "guests", &v)) {
        err(c, "(top level)", "missing required key \"guests\"");
        return;
    }
    if (!json_object_is_type(v, json_type_array)) {
        err(c, "guests", "must be an array");
        return;
    }
    size_t n = json_object_array_length(v);
    if (!n)
        return;
    cfg->guests = calloc(n, sizeof(*cfg->guests));
    if (!cfg->guests) {
        c->oom = true;
        return;
    }
    cfg->nguests = n;
    for (size_t i = 0; i < n; i++) {
        struct router_guest *g = &cfg->guests[i];
        pjoin(p, "guests", "[%zu]", i);
        parse_guest(c, json_object_array_get_idx(v, i), p, g);
        for (size_t j = 0; j < i; j++) {
            const struct router_guest *o = &cfg->guests[j];
            if (g->name && o->name && strcmp(g->name, o->name) == 0) {
                pjoin(p, "guests", "[%zu].name", i);
                err(c, p, "duplicate guest name \"%s\" (already used by guests[%zu])",
                    g->name, j);
            }
            if (g->has_domid && o->has_domid && g->domid == o->domid) {
                pjoin(p, "guests", "[%zu].domid", i);
                err(c, p, "duplicate guest domid %u (already used by guests[%zu])",
                    g->domid, j);
            }
        }
    }
}

int router_config_parse_string(const char *text, const char *filename,
                               const struct router_config_options *opts,
                               struct router_config **out, struct config_errors *errs)
{
    struct router_config_options defaults = {true, getenv("IOREQ_ROUTER_EXEC_PATH")};
    struct ctx c = {filename ? filename : "(string)", errs, opts ? opts : &defaults, false};
    size_t before = errs->count;
    *out = NULL;

    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        errs->out_of_memory = true;
        return -1;
    }
    size_t len = strlen(text);
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (!root || je != json_tokener_success || (size_t)json_tokener_get_parse_end(tok) < len) {
        size_t off = json_tokener_get_parse_end(tok);
        bool trailing = root && je == json_tokener_success;
        if (!trailing) {
            if (!root && je == json_tokener_continue)
                je = json_tokener_error_parse_eof;
        } else {
            /* allow trailing whitespace only */
            size_t i = off;
            while (i < len && strchr(" \t\r\n", text[i]))
                i++;
            trailing = i < len;
            off = i;
        }
        if (!root || trailing) {
            size_t line = 1, col = 1;
            for (size_t i = 0; i < off && i < len; i++) {
                if (text[i] == '\n')
                    line++, col = 1;
                else
                    col++;
            }
            char where[64];
            snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
            if (trailing)
                err(&c, where, "not valid JSON: unexpected text after the end");
            else
                err(&c, where, "not valid JSON: %s", json_tokener_error_desc(je));
            json_object_put(root);
            json_tokener_free(tok);
            return -1;
        }
    }
    json_tokener_free(tok);

    struct router_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        json_object_put(root);
        errs->out_of_memory = true;
        return -1;
    }
    parse_top(&c, root, cfg);
    json_object_put(root);
    if (c.oom)
        errs->out_of_memory = true;
    if (errs->count != before || c.oom || errs->out_of_memory) {
        router_config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int router_config_load_opts(const char *path, const struct router_config_options *opts,
                            struct router_config **out, struct config_errors *errs)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    if (f) {
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        size_t n;
        while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            fwrite(chunk, 1, n, m);
        int rerr = ferror(f) ? errno : 0;
        fclose(f);
        if (!m || fclose(m) != 0) {
            errs->out_of_memory = true;
            free(buf);
            return -1;
        }
        if (rerr) {
            free(buf);
            buf = NULL;
            errno = rerr;
        }
    }
    if (!buf) {
        struct ctx c = {path, errs, opts, false};
        err(&c, "(file)", "cannot read: %s", strerror(errno));
        return -1;
    }
    if (strlen(buf) != len) {
        struct ctx c = {path, errs, opts, false};
        err(&c, "(file)", "contains a NUL byte");
        free(buf);
        return -1;
    }
    int r = router_config_parse_string(buf, path, opts, out, errs);
    free(buf);
    return r;
}

int router_config_load(const char *path, struct router_config **out,
                       struct config_errors *errs)
{
    return router_config_load_opts(path, NULL, out, errs);
}

const char *router_bufioreq_name(enum router_bufioreq mode)
{
    return mode < 3 ? bufioreq_names[mode] : "?";
}

const char *router_restart_policy_name(enum router_restart_policy policy)
{
    return policy < 3 ? policy_names[policy] : "?";
}
