/* ioreqctl - the operator's CLI for ioreq-routerd (docs/ioreqctl.md).
 *
 *   ioreqctl [--socket PATH] [--json] list
 *   ioreqctl [--socket PATH] [--json] restart|stop|start GUEST EMULATOR
 *
 * Exit status: 0 ok, 1 the daemon answered an error or cannot be reached,
 * 2 usage error. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl_client.h"

#define CALL_TIMEOUT_MS 30000

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ioreqctl [--socket PATH] [--json] list\n"
            "       ioreqctl [--socket PATH] [--json] restart|stop|start GUEST EMULATOR\n"
            "       ioreqctl --help\n"
            "\n"
            "Talks to ioreq-routerd over its control socket.\n"
            "\n"
            "Commands:\n"
            "  list                      guests, their emulators, ioreq servers, ranges and state\n"
            "  restart GUEST EMULATOR    restart one emulator (its ioreq server stays)\n"
            "  stop GUEST EMULATOR       stop one emulator\n"
            "  start GUEST EMULATOR      start one stopped emulator\n"
            "\n"
            "Options:\n"
            "  --socket PATH   control socket (default: $" CTL_SOCKET_ENV " if set, else\n"
            "                  " CTL_DEFAULT_SOCKET ")\n"
            "  --json          print the daemon's result as JSON\n"
            "  --help          show this help\n"
            "\n"
            "Exit status: 0 ok, 1 the daemon answered an error or cannot be reached,\n"
            "2 usage error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ioreqctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'ioreqctl --help'.\n", stderr);
    va_end(ap);
    return 2;
}

/* ---- rendering of the "list" result ---- */

static struct json_object *member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object))
        json_object_object_get_ex(o, key, &v);
    return v;
}

/* A scalar member as text into BUF ("-" when missing or null). */
static const char *field(struct json_object *o, const char *key, char *buf, size_t len)
{
    struct json_object *v = member(o, key);
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_string:
        return json_object_get_string(v)[0] ? json_object_get_string(v) : "-";
    case json_type_int:
        snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
        return buf;
    case json_type_boolean:
    case json_type_double:
        snprintf(buf, len, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        return buf;
    default:
        return "-";
    }
}

/* Append "KIND a,b" for a non-empty array member KEY of EMU to OUT. */
static void add_ranges(char *out, size_t len, struct json_object *emu, const char *key,
                       const char *kind)
{
    struct json_object *arr = member(emu, key);
    if (!arr || !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
        return;
    size_t used = strlen(out);
    used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s ", used ? "; " : "", kind);
    for (size_t i = 0; i < json_object_array_length(arr) && used < len; i++) {
        struct json_object *r = json_object_array_get_idx(arr, i);
        const char *t = json_object_is_type(r, json_type_string)
                            ? json_object_get_string(r)
                            : json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", t ? t : "?");
    }
}

struct columns {
    int id, state, pid, server, restarts;
};

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void print_guest(struct json_object *g)
{
    char b1[64], b2[64], b3[64];
    printf("guest %s (domid %s, %s)\n", field(g, "name", b1, sizeof(b1)),
           field(g, "domid", b2, sizeof(b2)), field(g, "state", b3, sizeof(b3)));
    struct json_object *emus = member(g, "emulators");
    size_t n = emus && json_object_is_type(emus, json_type_array) ? json_object_array_length(emus) : 0;
    if (n == 0) {
        printf("  (no emulators)\n");
        return;
    }
    struct columns w = {10, 10, 6, 6, 9};
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(emus, i);
        w.id = max_int(w.id, (int)strlen(field(e, "id", b1, sizeof(b1))));
        w.state = max_int(w.state, (int)strlen(field(e, "state", b1, sizeof(b1))));
        w.pid = max_int(w.pid, (int)strlen(field(e, "pid", b1, sizeof(b1))));
        w.server = max_int(w.server, (int)strlen(field(e, "server", b1, sizeof(b1))));
        w.restarts = max_int(w.restarts, (int)strlen(field(e, "restarts", b1, sizeof(b1))));
    }
    printf("  %-*s %-*s %-*s %-*s %-*s %s\n", w.id, "EMULATOR", w.state, "STATE", w.pid, "PID",
           w.server, "SERVER", w.restarts, "RESTARTS", "RANGES");
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(emus, i);
        char ranges[1024] = "";
        add_ranges(ranges, sizeof(ranges), e, "ports", "ports");
        add_ranges(ranges, sizeof(ranges), e, "mmio", "mmio");
        add_ranges(ranges, sizeof(ranges), e, "pci", "pci");
        char id[64], st[64], pid[64], srv[64], rs[64];
        /* field() may return a pointer into the object or into the buffer */
        printf("  %-*s %-*s %-*s %-*s %-*s %s\n", w.id, field(e, "id", id, sizeof(id)), w.state,
               field(e, "state", st, sizeof(st)), w.pid, field(e, "pid", pid, sizeof(pid)), w.server,
               field(e, "server", srv, sizeof(srv)), w.restarts, field(e, "restarts", rs, sizeof(rs)),
               ranges[0] ? ranges : "-");
        static const char *const notes[][2] = {{"last_exit", "last exit"}, {"error", "error"}};
        for (size_t k = 0; k < sizeof(notes) / sizeof(notes[0]); k++) {
            struct json_object *v = member(e, notes[k][0]);
            if (v && json_object_is_type(v, json_type_string) && json_object_get_string_len(v))
                printf("  %-*s %s: %s\n", w.id, "", notes[k][1], json_object_get_string(v));
        }
    }
}

static void print_list(struct json_object *result)
{
    struct json_object *guests = member(result, "guests");
    size_t n = guests && json_object_is_type(guests, json_type_array) ? json_object_array_length(guests) : 0;
    if (n == 0) {
        printf("no guests\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar('\n');
        print_guest(json_object_array_get_idx(guests, i));
    }
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = getenv(CTL_SOCKET_ENV);
    if (!path || !*path)
        path = CTL_DEFAULT_SOCKET;
    bool json = false;

    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt) {
                char o[3] = {'-', (char)optopt, '\0'};
                return usage_error("unknown option '%s'", o);
            }
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!*path)
        return usage_error("empty socket path");
    if (optind >= argc)
        return usage_error("missing command");

    const char *cmd = argv[optind++];
    int nargs = argc - optind;
    bool is_list = strcmp(cmd, "list") == 0;
    if (is_list) {
        if (nargs != 0)
            return usage_error("list takes no arguments, got '%s'", argv[optind]);
    } else if (strcmp(cmd, "restart") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "start") == 0) {
        if (nargs < 2)
            return usage_error("%s needs GUEST EMULATOR", cmd);
        if (nargs > 2)
            return usage_error("%s takes only GUEST EMULATOR", cmd);
    } else {
        return usage_error("unknown command '%s'", cmd);
    }

    struct json_object *req = json_object_new_object();
    if (!req) {
        fprintf(stderr, "ioreqctl: out of memory\n");
        return 1;
    }
    json_object_object_add(req, "cmd", json_object_new_string(cmd));
    if (!is_list) {
        json_object_object_add(req, "guest", json_object_new_string(argv[optind]));
        json_object_object_add(req, "emulator", json_object_new_string(argv[optind + 1]));
    }

    struct json_object *reply = NULL;
    char err[512];
    int r = ctl_call(path, req, CALL_TIMEOUT_MS, &reply, err, sizeof(err));
    json_object_put(req);
    if (r < 0) {
        fprintf(stderr, "ioreqctl: %s\n", err);
        return 1;
    }

    int status = 0;
    if (!json_object_get_boolean(member(reply, "ok"))) {
        fprintf(stderr, "ioreqctl: %s\n", json_object_get_string(member(reply, "error")));
        status = 1;
    } else {
        struct json_object *result = member(reply, "result");
        if (json)
            printf("%s\n", json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY |
                                                                      JSON_C_TO_STRING_SPACED |
                                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        else if (is_list)
            print_list(result);
        else {
            struct json_object *msg = member(result, "message");
            if (msg && json_object_is_type(msg, json_type_string))
                printf("%s\n", json_object_get_string(msg));
            else
                printf("%s %s/%s: ok\n", cmd, argv[optind], argv[optind + 1]);
        }
    }
    json_object_put(reply);
    if (fflush(stdout) != 0) {
        perror("ioreqctl: stdout");
        return 1;
    }
    return status;
}
