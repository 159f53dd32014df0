/* ctl_fake_daemon - a stand-in for ioreq-routerd's control socket, for
 * testing ioreqctl: router_ctl with a canned handler.
 *
 *   ctl_fake_daemon --socket PATH [--gid GID] [--mode OCTAL]
 *                   [--ready FILE] [--log FILE]
 *
 * Creates FILE once the socket listens, appends "CMD GUEST EMULATOR" to the
 * log for each request the handler sees, exits 0 on SIGTERM/SIGINT.
 *   list                         a fixed result (below)
 *   restart|stop|start demo ID   ok for uart0/pcitest0 (restart uart0 answers
 *                                {"message":"restarting demo/uart0"}),
 *                                else an error
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_server.h"

static const char list_result[] =
    "{\"guests\":["
    "{\"name\":\"demo\",\"domid\":3,\"state\":\"running\",\"emulators\":["
    "{\"id\":\"uart0\",\"state\":\"running\",\"pid\":1234,\"server\":1,\"restarts\":0,\"starts\":1,"
    "\"last_exit\":null,\"ports\":[\"0x3f8-0x3ff\"],\"mmio\":[],\"pci\":[],\"bufioreq\":\"off\","
    "\"uptime_s\":12},"
    "{\"id\":\"pcitest0\",\"state\":\"running\",\"pid\":1240,\"server\":2,\"restarts\":0,\"starts\":1,"
    "\"last_exit\":null,\"ports\":[],\"mmio\":[],\"pci\":[\"0000:00:05.0\"],\"bufioreq\":\"off\","
    "\"uptime_s\":12}]},"
    "{\"name\":\"web\",\"domid\":7,\"state\":\"running\",\"emulators\":["
    "{\"id\":\"debugcon-with-long-name\",\"state\":\"restarting\",\"pid\":null,\"server\":3,"
    "\"restarts\":2,\"starts\":3,\"last_exit\":\"killed by SIGKILL\",\"ports\":[\"0xe9\",\"0x402\"],"
    "\"mmio\":[\"0xfe000000-0xfe000fff\"],\"pci\":[],\"bufioreq\":\"atomic\",\"uptime_s\":0},"
    "{\"id\":\"gpio\",\"state\":\"failed\",\"pid\":null,\"server\":null,\"restarts\":5,"
    "\"last_exit\":\"exited 1\",\"error\":\"crash loop: 5 restarts in 60 s\",\"ports\":[],"
    "\"mmio\":[],\"pci\":[]}]},"
    "{\"name\":\"idle\",\"domid\":null,\"state\":\"stopped\",\"emulators\":[]},"
    "{\"name\":\"partial\",\"emulators\":[{\"id\":\"x\"}]}"
    "]}";

struct daemon {
    FILE *log;
};

static const char *str_arg(struct json_object *req, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *handle(void *opaque, const char *cmd, struct json_object *req, char **errmsg)
{
    struct daemon *d = opaque;
    const char *guest = str_arg(req, "guest"), *emu = str_arg(req, "emulator");
    if (d->log) {
        fprintf(d->log, "%s %s %s\n", cmd, guest ? guest : "-", emu ? emu : "-");
        fflush(d->log);
    }
    if (strcmp(cmd, "list") == 0)
        return json_tokener_parse(list_result);
    if (strcmp(cmd, "restart") && strcmp(cmd, "stop") && strcmp(cmd, "start")) {
        if (asprintf(errmsg, "unknown command '%s'", cmd) < 0)
            *errmsg = NULL;
        return NULL;
    }
    if (!guest || !emu) {
        *errmsg = strdup("missing \"guest\" or \"emulator\"");
        return NULL;
    }
    if (strcmp(guest, "demo") || (strcmp(emu, "uart0") && strcmp(emu, "pcitest0"))) {
        if (asprintf(errmsg, "no emulator '%s' in guest '%s'", emu, guest) < 0)
            *errmsg = NULL;
        return NULL;
    }
    struct json_object *o = json_object_new_object();
    if (strcmp(cmd, "restart") == 0 && strcmp(emu, "uart0") == 0)
        json_object_object_add(o, "message", json_object_new_string("restarting demo/uart0"));
    return o;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"gid", required_argument, NULL, 'g'},
        {"mode", required_argument, NULL, 'm'},   {"ready", required_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},    {NULL, 0, NULL, 0},
    };
    struct ctl_server_options o = {.allowed_gid = (gid_t)-1, .mode = 0660};
    const char *ready = NULL, *logpath = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': o.path = optarg; break;
        case 'g': o.allowed_gid = (gid_t)strtoul(optarg, NULL, 10); break;
        case 'm': o.mode = (mode_t)strtoul(optarg, NULL, 8); break;
        case 'r': ready = optarg; break;
        case 'l': logpath = optarg; break;
        default: return 2;
        }
    }
    if (!o.path) {
        fprintf(stderr, "ctl_fake_daemon: --socket PATH needed\n");
        return 2;
    }
    struct daemon d = {NULL};
    if (logpath && !(d.log = fopen(logpath, "a"))) {
        perror(logpath);
        return 1;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);

    struct ctl_server *srv;
    int r = ctl_server_open(&o, handle, &d, &srv);
    if (r < 0) {
        fprintf(stderr, "ctl_fake_daemon: %s: %s\n", o.path, strerror(-r));
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    struct pollfd p[2] = {{.fd = ctl_server_fd(srv), .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, ctl_server_timeout_ms(srv)) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (ctl_server_dispatch(srv) < 0)
            break;
    }
    ctl_server_close(srv);
    if (d.log)
        fclose(d.log);
    return 0;
}
