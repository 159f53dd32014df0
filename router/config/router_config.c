/* router_config: parse and validate the router's JSON config (see header). */
#define _GNU_SOURCE
#include "router_config.h"

#include "accounts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#define PATH_LEN 512

struct ctx {
    const char *file; /* message prefix: a file name, or a caller's `where` */
    struct config_errors *errs;
    const struct router_config_options *opts;
    bool oom;
    bool where_is_path; /* `file` is "FILE: JSON.PATH": keys are joined with '.' */
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

/* One message "WHERE: PATH: body", or "WHERE.PATH: body" when WHERE is itself
 * a JSON path (see "Message prefixes" in the header).  An empty PATH is the
 * object WHERE names: "WHERE: (top level): body", or "WHERE: body" for a path. */
static void vreport(struct config_errors *errs, const char *where, bool where_is_path,
                    const char *path, const char *fmt, va_list ap)
{
    char *body = NULL, *m = NULL;
    int r;
    if (vasprintf(&body, fmt, ap) < 0) {
        add_msg(errs, NULL);
        return;
    }
    if (!where_is_path)
        r = asprintf(&m, "%s: %s: %s", where, path[0] ? path : "(top level)", body);
    else if (path[0])
        r = asprintf(&m, "%s.%s: %s", where, path, body);
    else
        r = asprintf(&m, "%s: %s", where, body);
    if (r < 0)
        m = NULL;
    free(body);
    add_msg(errs, m);
}

static bool is_path_prefix(const char *where)
{
    return strstr(where, ": ") != NULL;
}

/* At a JSON path below the context's prefix ("" for the object itself). */
__attribute__((format(printf, 3, 4)))
static void err(struct ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c->errs, c->file, c->where_is_path, path, fmt, ap);
    va_end(ap);
}

/* At a place that is not a JSON path ("line 2, column 14", "(file)"). */
__attribute__((format(printf, 3, 4)))
static void err_text(struct ctx *c, const char *place, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c->errs, c->file, false, place, fmt, ap);
    va_end(ap);
}

/* At key SUB of a caller's prefix WHERE (router_guest_check). */
__attribute__((format(printf, 4, 5)))
static void err_at(struct ctx *c, const char *where, const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c->errs, where, is_path_prefix(where), sub, fmt, ap);
    va_end(ap);
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
            err(c, base, "missing required key \"%s\"", key);
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

/* Ids and guest names become file names (logs) and xenstore path
 * components: 1-64 of [A-Za-z0-9_.+-], not "." or "..". */
bool router_name_is_safe(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (!n || n > ROUTER_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.+-", s[i]))
            return false;
    return true;
}

static void check_token(struct ctx *c, const char *base, const char *key, const char *what,
                        const char *s)
{
    char p[PATH_LEN];

    if (!router_name_is_safe(s)) {
        key_path(p, base, key);
        err(c, p, "%s \"%s\" must be 1 to %d of A-Z a-z 0-9 _ . + - (it names files and xenstore paths)",
            what, s, ROUTER_NAME_MAX);
    }
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

static bool sbdf_eq(const struct router_sbdf *a, const struct router_sbdf *b)
{
    return a->segment == b->segment && a->bus == b->bus && a->dev == b->dev &&
           a->func == b->func;
}

/* An entry that did not parse (already reported) holds this: no real address
 * has a device number above 0x1f, so it never matches one in the conflict
 * checks.  It never leaves the library: such a config is refused. */
static const struct router_sbdf sbdf_unparsed = {.dev = 0xff};

static bool sbdf_parsed(const struct router_sbdf *s)
{
    return s->dev <= 0x1f;
}

/* On failure *out is sbdf_unparsed. */
static bool parse_sbdf(struct ctx *c, const char *p, struct json_object *v,
                       struct router_sbdf *out)
{
    *out = sbdf_unparsed;
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
    /* A relative directory is taken from the working directory now, so
     * that exec_resolved stays right wherever the emulator is started;
     * without a working directory, relative ones are skipped. */
    char cwd[PATH_MAX + 1];
    bool have_cwd = getcwd(cwd, PATH_MAX) != NULL;
    if (have_cwd && strcmp(cwd, "/") != 0)
        strcat(cwd, "/");
    const char *lists[2] = {c->opts->exec_path, getenv("PATH")};
    bool found_noexec = false;
    for (int li = 0; li < 2; li++) {
        const char *l = lists[li];
        if (!l)
            continue;
        while (*l) {
            const char *colon = strchrnul(l, ':');
            if (colon > l && (l[0] == '/' || have_cwd)) {
                char *cand = NULL;
                const char *base = l[0] == '/' ? "" : cwd;
                if (asprintf(&cand, "%s%.*s/%s", base, (int)(colon - l), l, x) < 0) {
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

/* ---------------- accounts ---------------- */

/* A decimal id: accepted without lookup.  Returns 1 if S is all digits (and
 * reports it when out of range), 0 otherwise. */
static int numeric_id(struct ctx *c, const char *p, const char *kind, const char *s)
{
    unsigned id;
    int r = account_parse_id(s, &id);
    if (r == -ERANGE)
        err(c, p, "%s id %s is out of range (at most 4294967294)", kind, s);
    return r != 0;
}

static void check_account(struct ctx *c, const char *base, const char *key, const char *name)
{
    bool group = key[0] == 'g';
    char p[PATH_LEN];
    key_path(p, base, key);
    if (numeric_id(c, p, key, name) || !c->opts->check_accounts)
        return;
    int r = group ? account_group_by_name(name, NULL) : account_user_by_name(name, NULL, NULL);
    if (r == 0)
        err(c, p, "%s \"%s\" does not exist", key, name);
    else if (r == -ENOMEM)
        c->oom = true;
    else if (r < 0)
        err(c, p, "%s \"%s\" cannot be looked up: %s", key, name, strerror(-r));
}

/* ---------------- isolation ---------------- */

static bool parse_dec(const char *s, size_t len, uint64_t *out)
{
    return len > 0 && strspn(s, "0123456789") >= len && parse_u64(s, len, out);
}

static void parse_cpus(struct ctx *c, struct json_object *v, const char *p,
                       struct router_isolation *iso)
{
    char ip[PATH_LEN];
    if (!json_object_is_type(v, json_type_array)) {
        err(c, p, "must be an array");
        return;
    }
    size_t n = json_object_array_length(v);
    if (n == 0) {
        err(c, p, "must list at least one CPU");
        return;
    }
    CPU_ZERO(&iso->cpus);
    for (size_t i = 0; i < n; i++) {
        struct json_object *a = json_object_array_get_idx(v, i);
        pjoin(ip, p, "[%zu]", i);
        if (json_object_is_type(a, json_type_int)) {
            errno = 0;
            int64_t cpu = json_object_get_int64(a);
            if (errno == ERANGE || cpu < 0 || cpu >= CPU_SETSIZE)
                err(c, ip, "must be between 0 and %d", CPU_SETSIZE - 1);
            else
                CPU_SET((size_t)cpu, &iso->cpus);
            continue;
        }
        if (!json_object_is_type(a, json_type_string)) {
            err(c, ip, "must be a CPU number or a string \"A-B\", e.g. \"4-7\"");
            continue;
        }
        const char *s = json_object_get_string(a);
        const char *dash = strchr(s, '-');
        if (!dash) {
            err(c, ip, "\"%s\" is not a CPU range (expected \"A-B\", e.g. \"4-7\")", s);
            continue;
        }
        uint64_t lo, hi;
        bool ok = true;
        if (!parse_dec(s, (size_t)(dash - s), &lo)) {
            err(c, ip, "bad CPU number \"%.*s\" (expected decimal)", (int)(dash - s), s);
            ok = false;
        }
        if (!parse_dec(dash + 1, strlen(dash + 1), &hi)) {
            err(c, ip, "bad CPU number \"%s\" (expected decimal)", dash + 1);
            ok = false;
        }
        if (!ok)
            continue;
        if (lo > hi) {
            err(c, ip, "start %llu is above end %llu", (unsigned long long)lo,
                (unsigned long long)hi);
            continue;
        }
        if (hi >= CPU_SETSIZE) {
            err(c, ip, "CPU %llu is above %d", (unsigned long long)hi, CPU_SETSIZE - 1);
            continue;
        }
        for (uint64_t cpu = lo; cpu <= hi; cpu++)
            CPU_SET((size_t)cpu, &iso->cpus);
    }
    iso->has_cpus = true;
}

static const char *const isolation_keys[] = {"namespaces", "seccomp", "cpus", NULL};
static const char *const seccomp_names[] = {"default", "off", NULL};

static void parse_isolation(struct ctx *c, struct json_object *o, const char *base,
                            struct router_isolation *iso)
{
    struct json_object *v;
    char p[PATH_LEN], kp[PATH_LEN];
    if (!json_object_object_get_ex(o, "isolation", &v))
        return;
    key_path(p, base, "isolation");
    if (!json_object_is_type(v, json_type_object)) {
        err(c, p, "must be an object");
        return;
    }
    check_keys(c, v, p, isolation_keys);
    struct json_object *x;
    if (json_object_object_get_ex(v, "namespaces", &x)) {
        key_path(kp, p, "namespaces");
        if (!json_object_is_type(x, json_type_boolean))
            err(c, kp, "must be true or false");
        else
            iso->namespaces = json_object_get_boolean(x);
    }
    int mode;
    if (get_enum(c, v, p, "seccomp", seccomp_names, &mode) == 1)
        iso->seccomp = mode == 0;
    if (json_object_object_get_ex(v, "cpus", &x)) {
        key_path(kp, p, "cpus");
        parse_cpus(c, x, kp, iso);
    }
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
    if (n > ROUTER_MAX_RANGES) {
        err(c, p, "has %zu ranges, at most %u (Xen's limit for one ioreq server)", n,
            ROUTER_MAX_RANGES);
        return false;
    }
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
                                       "pci", "user", "group", "restart",
                                       "ready_timeout_ms", "isolation", NULL};
static const char *const restart_keys[] = {"policy", "max_restarts", "window_s", "backoff_ms",
                                           NULL};
static const char *const bufioreq_names[] = {"off", "legacy", "atomic", NULL};
static const char *const policy_names[] = {"on-failure", "always", "never", NULL};

/* ENTRY_ID: the xenstore entry's name (NULL in a file): "id" may then be left
 * out, and must match when given. */
static void parse_emulator(struct ctx *c, struct json_object *o, const char *base,
                           const char *entry_id, struct router_emulator *e)
{
    char p[PATH_LEN], ip[PATH_LEN];
    e->restart.policy = ROUTER_RESTART_ON_FAILURE;
    e->restart.max_restarts = 5;
    e->restart.window_s = 60;
    e->restart.backoff_ms = 500;
    e->ready_timeout_ms = 10000;
    e->isolation.namespaces = true;
    e->isolation.seccomp = true;
    if (!json_object_is_type(o, json_type_object)) {
        err(c, base, "must be an object");
        return;
    }
    check_keys(c, o, base, emu_keys);
    int ir = get_string(c, o, base, "id", !entry_id, &e->id);
    if (ir == 1)
        check_token(c, base, "id", "id", e->id);
    if (entry_id && ir == 0) {
        e->id = xstrdup(c, entry_id);
        if (e->id)
            check_token(c, base, "id", "entry name", e->id);
    } else if (entry_id && ir == 1 && strcmp(e->id, entry_id) != 0) {
        key_path(p, base, "id");
        err(c, p, "id \"%s\" does not match the entry name \"%s\"", e->id, entry_id);
    }
    int xr = get_string(c, o, base, "exec", true, &e->exec);
    int ur = get_string(c, o, base, "user", false, &e->user);
    int gr = get_string(c, o, base, "group", false, &e->group);
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
        } else if (json_object_array_length(v) > ROUTER_MAX_RANGES) {
            err(c, p, "has %zu functions, at most %u (Xen's limit for one ioreq server)",
                json_object_array_length(v), ROUTER_MAX_RANGES);
        } else {
            size_t n = json_object_array_length(v);
            e->pci = calloc(n ? n : 1, sizeof(*e->pci));
            if (!e->pci)
                c->oom = true;
            for (size_t i = 0; e->pci && i < n; i++) {
                pjoin(ip, p, "[%zu]", i);
                if (!parse_sbdf(c, ip, json_object_array_get_idx(v, i), &e->pci[i]))
                    continue;
                for (size_t j = 0; j < i; j++)
                    if (sbdf_eq(&e->pci[i], &e->pci[j])) {
                        err(c, ip, "duplicate of pci[%zu]", j);
                        break;
                    }
            }
            if (e->pci)
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
            if (get_int(c, v, p, "max_restarts", 0, ROUTER_RESTART_MAX_RESTARTS, &n) == 1)
                e->restart.max_restarts = (unsigned)n;
            if (get_int(c, v, p, "window_s", 1, 86400, &n) == 1)
                e->restart.window_s = (unsigned)n;
            if (get_int(c, v, p, "backoff_ms", 1, 60000, &n) == 1)
                e->restart.backoff_ms = (unsigned)n;
        }
    }
    int64_t t;
    if (get_int(c, o, base, "ready_timeout_ms", 100, 600000, &t) == 1)
        e->ready_timeout_ms = (unsigned)t;
    parse_isolation(c, o, base, &e->isolation);

    if (xr == 1 && c->opts->check_exec) {
        key_path(p, base, "exec");
        check_exec(c, p, e);
    }
    if (ur == 1)
        check_account(c, base, "user", e->user);
    if (gr == 1)
        check_account(c, base, "group", e->group);
}

/* ---------------- checks between the emulators of a guest ---------------- */

/* How emulator J is named in a message about emulator I: its last path
 * component when both are in the same file and guest, else its whole where. */
static const char *other_ref(const char *wi, const char *wj)
{
    const char *si = strstr(wi, ": "), *sj = strstr(wj, ": ");
    const char *di = strrchr(wi, '.'), *dj = strrchr(wj, '.');
    if (si && sj && di && dj && di > si && di - wi == dj - wj &&
        strncmp(wi, wj, (size_t)(di - wi)) == 0)
        return dj + 1;
    return wj;
}

static void gc_count(struct ctx *c, const char *label, size_t n)
{
    if (n > ROUTER_MAX_EMULATORS_PER_GUEST)
        err_at(c, label, "emulators", "%zu emulators, but Xen allows %d ioreq servers per guest",
               n, ROUTER_MAX_EMULATORS_PER_GUEST);
}

static void gc_dup_id(struct ctx *c, struct router_emulator *const *emus,
                      const char *const *where, size_t i)
{
    if (!emus[i]->id)
        return;
    for (size_t j = 0; j < i; j++)
        if (emus[j]->id && strcmp(emus[j]->id, emus[i]->id) == 0) {
            err_at(c, where[i], "id", "duplicate emulator id \"%s\" (already used by %s)",
                   emus[i]->id, other_ref(where[i], where[j]));
            return;
        }
}

struct owned_range {
    const struct router_range *r;
    size_t emu, idx;
};

static void gc_overlaps(struct ctx *c, struct router_emulator *const *emus,
                        const char *const *where, size_t n, bool ports)
{
    const char *kind = ports ? "ports" : "mmio";
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += ports ? emus[i]->nports : emus[i]->nmmio;
    if (total < 2)
        return;
    struct owned_range *all = calloc(total, sizeof(*all));
    if (!all) {
        c->oom = true;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct router_emulator *e = emus[i];
        size_t m = ports ? e->nports : e->nmmio;
        for (size_t j = 0; j < m; j++)
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
            char sub[64], rs[ROUTER_FORMAT_LEN];
            snprintf(sub, sizeof(sub), "%s[%zu]", kind, all[b].idx);
            router_range_format(ra, rs, sizeof(rs));
            const char *w = where[all[b].emu];
            const char *other = emus[all[a].emu]->id;
            if (all[a].emu == all[b].emu)
                err_at(c, w, sub, "overlaps %s[%zu] %s of the same emulator", kind, all[a].idx,
                       rs);
            else if (other)
                err_at(c, w, sub, "overlaps \"%s\" %s", other, rs);
            else
                err_at(c, w, sub, "overlaps %s %s", other_ref(w, where[all[a].emu]), rs);
            break; /* one report per range: the first range it overlaps */
        }
    }
    free(all);
}

static void gc_pci(struct ctx *c, struct router_emulator *const *emus,
                   const char *const *where, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < emus[i]->npci; k++) {
            const struct router_sbdf *s = &emus[i]->pci[k];
            if (!sbdf_parsed(s))
                continue;
            for (size_t j = 0; j < i; j++)
                for (size_t l = 0; l < emus[j]->npci; l++) {
                    if (!sbdf_eq(s, &emus[j]->pci[l]))
                        continue;
                    char sub[64], ss[ROUTER_FORMAT_LEN], q[PATH_LEN];
                    snprintf(sub, sizeof(sub), "pci[%zu]", k);
                    router_sbdf_format(s, ss, sizeof(ss));
                    if (emus[j]->id)
                        snprintf(q, sizeof(q), "\"%s\"", emus[j]->id);
                    else
                        snprintf(q, sizeof(q), "%s", other_ref(where[i], where[j]));
                    err_at(c, where[i], sub, "%s is also used by %s", ss, q);
                }
        }
}

int router_guest_check(const char *guest_label, struct router_emulator *const *emus,
                       const char *const *where, size_t n, struct config_errors *errs)
{
    struct ctx c = {"", errs, NULL, false, false};
    size_t before = errs->count;
    gc_count(&c, guest_label ? guest_label : "(guest)", n);
    for (size_t i = 0; i < n; i++)
        gc_dup_id(&c, emus, where, i);
    gc_overlaps(&c, emus, where, n, true);
    gc_overlaps(&c, emus, where, n, false);
    gc_pci(&c, emus, where, n);
    if (c.oom)
        errs->out_of_memory = true;
    return errs->count != before || c.oom ? -1 : 0;
}

/* ---------------- guests ---------------- */

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
    if (nr == 1)
        check_token(c, base, "name", "name", g->name);
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
    /* The checks of router_guest_check, with where[i] = "FILE: BASE.emulators[i]";
     * duplicate ids are reported right after each emulator's own problems. */
    char *label = NULL;
    struct router_emulator **emus = calloc(n, sizeof(*emus));
    char **where = calloc(n, sizeof(*where));
    g->emulators = calloc(n, sizeof(*g->emulators));
    if (!emus || !where || !g->emulators || asprintf(&label, "%s: %s", c->file, base) < 0) {
        c->oom = true;
        goto out;
    }
    g->nemulators = n;
    for (size_t i = 0; i < n; i++) {
        emus[i] = &g->emulators[i];
        if (asprintf(&where[i], "%s: %s[%zu]", c->file, p, i) < 0) {
            where[i] = NULL;
            c->oom = true;
            goto out;
        }
    }
    const char *const *cwhere = (const char *const *)where;
    gc_count(c, label, n);
    for (size_t i = 0; i < n; i++) {
        pjoin(ip, p, "[%zu]", i);
        parse_emulator(c, json_object_array_get_idx(v, i), ip, NULL, &g->emulators[i]);
        gc_dup_id(c, emus, cwhere, i);
    }
    gc_overlaps(c, emus, cwhere, n, true);
    gc_overlaps(c, emus, cwhere, n, false);
    gc_pci(c, emus, cwhere, n);
out:
    if (where)
        for (size_t i = 0; i < n; i++)
            free(where[i]);
    free(where);
    free(emus);
    free(label);
}

/* ---------------- top level ---------------- */

void router_emulator_clear(struct router_emulator *e)
{
    if (!e)
        return;
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
    memset(e, 0, sizeof(*e));
}

void router_emulator_free(struct router_emulator *e)
{
    router_emulator_clear(e);
    free(e);
}

void router_config_free(struct router_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nguests; i++) {
        struct router_guest *g = &cfg->guests[i];
        for (size_t j = 0; j < g->nemulators; j++)
            router_emulator_clear(&g->emulators[j]);
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
        err(c, "", "must be an object");
        return;
    }
    check_keys(c, root, "", top_keys);
    struct json_object *v;
    if (json_object_object_get_ex(root, "$schema", &v) &&
        !json_object_is_type(v, json_type_string))
        err(c, "$schema", "must be a string");
    if (!json_object_object_get_ex(root, "guests", &v)) {
        err(c, "", "missing required key \"guests\"");
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

/*
 * Report every string under V (at path P) with a NUL byte in it (JSON's
 * \u0000): everything after would be cut off unseen, in an exec path, an
 * argument or a range.  json-c bounds the depth (32), so does this.
 */
static void report_nul_strings(struct ctx *c, struct json_object *v, const char *p)
{
    char sub[PATH_LEN];

    if (json_object_is_type(v, json_type_string)) {
        if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
            err(c, p, "contains a NUL byte (\\u0000)");
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            pjoin(sub, p, "[%zu]", i);
            report_nul_strings(c, json_object_array_get_idx(v, i), sub);
        }
    } else if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, val) {
            key_path(sub, p, key);
            report_nul_strings(c, val, sub);
        }
    }
}

/* Parse TEXT as one JSON value; NULL (reported) if it is not valid JSON or
 * holds a string with a NUL byte. */
static struct json_object *parse_json(struct ctx *c, const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        c->oom = true;
        return NULL;
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
                err_text(c, where, "not valid JSON: unexpected text after the end");
            else
                err_text(c, where, "not valid JSON: %s", json_tokener_error_desc(je));
            json_object_put(root);
            root = NULL;
        }
    }
    json_tokener_free(tok);
    if (root) {
        size_t before = c->errs->count;
        report_nul_strings(c, root, "");
        if (c->errs->count != before) {
            json_object_put(root);
            root = NULL;
        }
    }
    return root;
}

static const struct router_config_options *
options_or_defaults(const struct router_config_options *opts, struct router_config_options *def)
{
    if (opts)
        return opts;
    def->check_exec = true;
    def->exec_path = getenv("IOREQ_ROUTER_EXEC_PATH");
    def->check_accounts = true;
    return def;
}

int router_config_parse_string(const char *text, const char *filename,
                               const struct router_config_options *opts,
                               struct router_config **out, struct config_errors *errs)
{
    struct router_config_options defaults;
    struct ctx c = {filename ? filename : "(string)", errs, options_or_defaults(opts, &defaults),
                    false, false};
    size_t before = errs->count;
    *out = NULL;

    struct json_object *root = parse_json(&c, text);
    if (!root) {
        if (c.oom)
            errs->out_of_memory = true;
        return -1;
    }
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
        struct ctx c = {path, errs, opts, false, false};
        err_text(&c, "(file)", "cannot read: %s", strerror(errno));
        return -1;
    }
    if (strlen(buf) != len) {
        struct ctx c = {path, errs, opts, false, false};
        err_text(&c, "(file)", "contains a NUL byte");
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

/* ---------------- single emulators ---------------- */

int router_emulator_parse_string(const char *text, const char *where, const char *id,
                                 const struct router_config_options *opts,
                                 struct router_emulator **out, struct config_errors *errs)
{
    struct router_config_options defaults;
    if (!where)
        where = "(string)";
    struct ctx c = {where, errs, options_or_defaults(opts, &defaults), false,
                    is_path_prefix(where)};
    size_t before = errs->count;
    *out = NULL;
    if (id && !id[0])
        id = NULL;

    struct json_object *root = parse_json(&c, text);
    struct router_emulator *e = NULL;
    if (root) {
        e = calloc(1, sizeof(*e));
        if (!e)
            c.oom = true;
        else
            parse_emulator(&c, root, "", id, e);
        json_object_put(root);
    }
    if (e) {
        /* overlaps between the emulator's own ranges */
        struct router_emulator *const one[1] = {e};
        const char *const w[1] = {where};
        gc_overlaps(&c, one, w, 1, true);
        gc_overlaps(&c, one, w, 1, false);
    }
    if (c.oom)
        errs->out_of_memory = true;
    if (!e || errs->count != before || c.oom) {
        router_emulator_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

static bool dup_str(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

static bool dup_mem(const void *src, size_t n, size_t size, void **out)
{
    *out = NULL;
    if (!src || !n)
        return true;
    *out = malloc(n * size);
    if (!*out)
        return false;
    memcpy(*out, src, n * size);
    return true;
}

int router_emulator_copy(struct router_emulator *dst, const struct router_emulator *src)
{
    struct router_emulator t = *src;
    t.id = t.exec = t.exec_resolved = t.user = t.group = NULL;
    t.args = NULL;
    t.nargs = 0;
    t.ports = t.mmio = NULL;
    t.pci = NULL;
    bool ok = dup_str(src->id, &t.id) && dup_str(src->exec, &t.exec) &&
              dup_str(src->exec_resolved, &t.exec_resolved) && dup_str(src->user, &t.user) &&
              dup_str(src->group, &t.group) &&
              dup_mem(src->ports, src->nports, sizeof(*src->ports), (void **)&t.ports) &&
              dup_mem(src->mmio, src->nmmio, sizeof(*src->mmio), (void **)&t.mmio) &&
              dup_mem(src->pci, src->npci, sizeof(*src->pci), (void **)&t.pci);
    if (ok && src->args) {
        t.args = calloc(src->nargs + 1, sizeof(char *));
        ok = t.args != NULL;
        for (size_t i = 0; ok && i < src->nargs; i++) {
            ok = dup_str(src->args[i], &t.args[i]);
            t.nargs = i + 1;
        }
    }
    if (!ok) {
        router_emulator_clear(&t);
        return -ENOMEM;
    }
    *dst = t;
    return 0;
}

static bool str_eq(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool ranges_eq(const struct router_range *a, size_t na, const struct router_range *b,
                      size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].start != b[i].start || a[i].end != b[i].end)
            return false;
    return true;
}

bool router_emulator_equal(const struct router_emulator *a, const struct router_emulator *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    if (a->exec_resolved && b->exec_resolved ? !str_eq(a->exec_resolved, b->exec_resolved)
                                             : !str_eq(a->exec, b->exec))
        return false;
    if (a->nargs != b->nargs)
        return false;
    for (size_t i = 0; i < a->nargs; i++)
        if (!str_eq(a->args[i], b->args[i]))
            return false;
    if (a->bufioreq != b->bufioreq || !ranges_eq(a->ports, a->nports, b->ports, b->nports) ||
        !ranges_eq(a->mmio, a->nmmio, b->mmio, b->nmmio) || a->npci != b->npci)
        return false;
    for (size_t i = 0; i < a->npci; i++)
        if (!sbdf_eq(&a->pci[i], &b->pci[i]))
            return false;
    if (!str_eq(a->user, b->user) || !str_eq(a->group, b->group))
        return false;
    if (a->restart.policy != b->restart.policy ||
        a->restart.max_restarts != b->restart.max_restarts ||
        a->restart.window_s != b->restart.window_s ||
        a->restart.backoff_ms != b->restart.backoff_ms)
        return false;
    if (a->ready_timeout_ms != b->ready_timeout_ms)
        return false;
    const struct router_isolation *ia = &a->isolation, *ib = &b->isolation;
    if (ia->namespaces != ib->namespaces || ia->seccomp != ib->seccomp ||
        ia->has_cpus != ib->has_cpus)
        return false;
    return !ia->has_cpus || CPU_EQUAL(&ia->cpus, &ib->cpus);
}

/* ---------------- formatting and names ---------------- */

void router_range_format(const struct router_range *r, char *buf, size_t len)
{
    if (buf && len)
        snprintf(buf, len, "0x%llx-0x%llx", (unsigned long long)r->start,
                 (unsigned long long)r->end);
}

void router_sbdf_format(const struct router_sbdf *s, char *buf, size_t len)
{
    if (buf && len)
        snprintf(buf, len, "%04x:%02x:%02x.%x", (unsigned)s->segment, (unsigned)s->bus,
                 (unsigned)s->dev, (unsigned)s->func);
}

const char *router_bufioreq_name(enum router_bufioreq mode)
{
    return mode < 3 ? bufioreq_names[mode] : "?";
}

const char *router_restart_policy_name(enum router_restart_policy policy)
{
    return policy < 3 ? policy_names[policy] : "?";
}
