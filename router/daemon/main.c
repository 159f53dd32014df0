/*
 * ioreq-routerd: runs the emulators a config asks for, one ioreq server
 * each, for as long as their guests live (docs/router.md).
 *
 * One thread, one epoll loop: signals (signalfd), xenstore watches, the
 * control socket, the emulators' readiness pipes, and deadlines (ready
 * timeouts, restart backoff, stop grace) as the epoll timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_server.h"
#include "routerd.h"

#define DEFAULT_SOCKET "/run/ioreq-router/control"
#define DEFAULT_LOG_DIR "/var/log/ioreq-router"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ioreq-routerd [OPTIONS]\n"
            "       ioreq-routerd --check FILE [--exec-path DIRS]\n"
            "\n"
            "Start and supervise the device emulators that the config asks for, one\n"
            "ioreq server each, for every guest that the config matches.\n"
            "\n"
            "  -c, --config FILE        a JSON config (docs/config.md); repeatable.\n"
            "                           Guests can also be configured in xenstore under\n"
            "                           " ROUTERD_XS_ROOT "/guests (docs/router.md)\n"
            "      --check FILE         validate FILE, print every problem, exit 0/1\n"
            "      --exec-path DIRS     look up bare `exec` names in DIRS (colon-separated)\n"
            "                           before $PATH; default $IOREQ_ROUTER_EXEC_PATH\n"
            "      --log-dir DIR        emulator logs, DIR/GUEST.EMULATOR.log\n"
            "                           (default " DEFAULT_LOG_DIR ")\n"
            "      --control-socket P   the socket ioreqctl talks to (default\n"
            "                           $IOREQ_ROUTER_SOCKET or " DEFAULT_SOCKET ")\n"
            "      --control-group G    members of group G may use ioreqctl too\n"
            "                           (default: root only)\n"
            "  -v, --verbose            log state changes too\n"
            "  -h, --help               this help\n"
            "\n"
            "Signals: SIGHUP reloads the config files and applies only the difference;\n"
            "SIGTERM/SIGINT stop every emulator and destroy its ioreq server.\n"
            "Exit status: 0 stopped cleanly, 1 cannot start (bad config, no Xen),\n"
            "2 bad arguments.\n");
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "ioreq-routerd: %s%s%s\nTry 'ioreq-routerd --help'.\n", msg, arg ? " " : "",
            arg ? arg : "");
    return 2;
}

static int check_only(const char *file, const char *exec_path)
{
    struct router_config_options opts = { .check_exec = true, .check_accounts = true,
                                           .exec_path = exec_path };
    struct config_errors errs;
    struct router_config *cfg = NULL;

    config_errors_init(&errs);
    int rc = router_config_load_opts(file, &opts, &cfg, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.out_of_memory)
        fprintf(stderr, "%s: out of memory while checking\n", file);
    config_errors_free(&errs);
    router_config_free(cfg);
    if (rc)
        return 1;
    printf("%s: ok\n", file);
    return 0;
}

/* ---- the loop's fds ---- */

void routerd_watch_fd(struct routerd *r, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev))
        rlog(NULL, NULL, "epoll_ctl(add %d): %s", fd, strerror(errno));
}

void routerd_unwatch_fd(struct routerd *r, int fd)
{
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static struct emu *emu_by_ready_fd(struct routerd *r, int fd)
{
    struct emu *e;
    FOR_EACH_EMU(r, e)
        if (e->ready_fd == fd)
            return e;
    return NULL;
}

/* ---- events ---- */

static void config_changed(struct routerd *r)
{
    routerd_build_wants(r);
    routerd_scan_domains(r);
}

static void on_watches(struct routerd *r)
{
    char *path, *token;
    bool scan = false, release = false, config = false;

    while (xen_xs_next_watch(r->xen, &path, &token) == 0) {
        if (!strcmp(token, "intro"))
            scan = true;
        else if (!strcmp(token, "release"))
            release = true;
        else if (!strcmp(token, "config"))
            config = true;
        free(path);
        free(token);
    }
    if (release)
        routerd_check_released(r);
    if (config) {
        routerd_read_xs_entries(r);
        routerd_build_wants(r);
    }
    if (scan || config) {
        r->rescans_left = 10;
        routerd_scan_domains(r);
    }
}

static void begin_shutdown(struct routerd *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    rlog(NULL, NULL, "stopping: terminating every emulator");
    struct emu *e;
    FOR_EACH_EMU(r, e)
        emu_request_stop(r, e, EMU_GOAL_STOP);
}

static void on_signals(struct routerd *r)
{
    struct signalfd_siginfo si;

    while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            routerd_reap(r);
            break;
        case SIGHUP:
            if (r->stopping)
                break;
            rlog(NULL, NULL, "SIGHUP: reloading the config");
            if (routerd_load_files(r, false) == 0)
                config_changed(r);
            break;
        case SIGTERM:
        case SIGINT:
            begin_shutdown(r);
            break;
        }
    }
}

static uint64_t next_deadline(struct routerd *r)
{
    uint64_t next = UINT64_MAX;
    struct emu *e;

    FOR_EACH_EMU(r, e)
        if (e->deadline_ms && e->deadline_ms < next)
            next = e->deadline_ms;
    for (size_t i = 0; i < r->norphans; i++)
        if (r->orphans[i].kill_ms && r->orphans[i].kill_ms < next)
            next = r->orphans[i].kill_ms;
    if (r->rescan_ms && r->rescan_ms < next)
        next = r->rescan_ms;
    return next;
}

/* Deadlines that have passed; then, once per loop turn, reconcile() for
 * whatever the events and deadlines changed. */
static void fire_deadlines(struct routerd *r)
{
    uint64_t now = now_ms();
    struct emu *e;

    FOR_EACH_EMU(r, e)
        if (e->deadline_ms && e->deadline_ms <= now)
            emu_on_deadline(r, e);
    for (size_t i = 0; i < r->norphans; i++)
        if (r->orphans[i].kill_ms && r->orphans[i].kill_ms <= now) {
            kill(r->orphans[i].pid, SIGKILL);
            r->orphans[i].kill_ms = 0;
        }
    if (r->rescan_ms && r->rescan_ms <= now) {
        r->rescan_ms = 0;
        routerd_scan_domains(r);
    }
    reconcile(r);
}

static bool anything_running(const struct routerd *r)
{
    struct emu *e;

    if (r->norphans)
        return true;
    FOR_EACH_EMU(r, e)
        if (e->pid > 0)
            return true;
    return false;
}

static int run_loop(struct routerd *r)
{
    int xsfd = xen_xs_fd(r->xen);
    int ctlfd = ctl_server_fd(r->ctl); /* also readable when a client's deadline passes */

    while (!r->stopping || anything_running(r)) {
        struct epoll_event evs[16];
        uint64_t next = next_deadline(r), now = now_ms();
        int timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
        int n = epoll_wait(r->epfd, evs, 16, timeout);
        if (n < 0 && errno != EINTR) {
            rlog(NULL, NULL, "epoll_wait: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            struct emu *e;
            if (fd == r->sigfd)
                on_signals(r);
            else if (fd == xsfd)
                on_watches(r);
            else if (fd == ctlfd)
                ctl_server_dispatch(r->ctl);
            else if ((e = emu_by_ready_fd(r, fd)))
                emu_on_ready_fd(r, e);
        }
        fire_deadlines(r);
    }
    return 0;
}

static void shutdown_cleanup(struct routerd *r)
{
    while (r->nguests) {
        struct guest *g = r->guests[0];
        guest_teardown(r, g);
    }
}

static int setup(struct routerd *r)
{
    char err[256];
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->sigfd < 0 || r->epfd < 0) {
        rlog(NULL, NULL, "cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    if (mkdir(r->opts.log_dir, 0750) && errno != EEXIST) {
        rlog(NULL, NULL, "cannot create the log directory %s: %s", r->opts.log_dir,
             strerror(errno));
        return -1;
    }
    if (routerd_load_files(r, true))
        return -1;
    if (xen_host_open(&r->xen, err, sizeof(err))) {
        rlog(NULL, NULL, "%s", err);
        return -1;
    }
    if (routerd_control_open(r))
        return -1;
    routerd_watch_fd(r, r->sigfd);
    routerd_watch_fd(r, xen_xs_fd(r->xen));
    routerd_watch_fd(r, ctl_server_fd(r->ctl));
    int rc = xen_xs_watch(r->xen, "@introduceDomain", "intro");
    if (!rc)
        rc = xen_xs_watch(r->xen, "@releaseDomain", "release");
    if (!rc)
        rc = xen_xs_watch(r->xen, ROUTERD_XS_ROOT "/guests", "config");
    if (rc) {
        rlog(NULL, NULL, "cannot watch xenstore: %s", strerror(-rc));
        return -1;
    }
    routerd_read_xs_entries(r);
    routerd_build_wants(r);
    r->rescans_left = 10;
    routerd_scan_domains(r);
    reconcile(r);
    rlog(NULL, NULL, "running: %zu guest(s) configured, control socket %s", r->nwants,
         r->opts.socket_path);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check", required_argument, NULL, 'C' },
        { "exec-path", required_argument, NULL, 'x' },
        { "log-dir", required_argument, NULL, 'l' },
        { "control-socket", required_argument, NULL, 's' },
        { "control-group", required_argument, NULL, 'g' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct routerd r = { .epfd = -1, .sigfd = -1 };
    const char *check = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof(*files));
    int c;

    if (!files)
        return 1;
    r.opts.exec_path = getenv("IOREQ_ROUTER_EXEC_PATH");
    r.opts.log_dir = DEFAULT_LOG_DIR;
    r.opts.socket_path = getenv("IOREQ_ROUTER_SOCKET") ? getenv("IOREQ_ROUTER_SOCKET")
                                                       : DEFAULT_SOCKET;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': files[r.opts.nconfig_files++] = optarg; break;
        case 'C': check = optarg; break;
        case 'x': r.opts.exec_path = optarg; break;
        case 'l': r.opts.log_dir = optarg; break;
        case 's': r.opts.socket_path = optarg; break;
        case 'g': r.opts.ctl_group = optarg; break;
        case 'v': r.opts.verbose = true; break;
        case 'h': usage(stdout); free(files); return 0;
        case ':': free(files); return usage_error(argv[optind - 1], "needs an argument");
        default: free(files); return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        free(files);
        return usage_error("unexpected argument", argv[optind]);
    }
    if (check) {
        free(files);
        return check_only(check, r.opts.exec_path);
    }
    r.opts.config_files = files;
    rlog_set_verbose(r.opts.verbose);

    int rc = setup(&r) ? 1 : run_loop(&r);
    if (r.xen)
        shutdown_cleanup(&r);
    if (r.ctl)
        ctl_server_close(r.ctl);
    routerd_free_config(&r);
    xen_host_close(r.xen);
    free(r.guests);
    free(r.orphans);
    free(files);
    if (r.epfd >= 0)
        close(r.epfd);
    if (r.sigfd >= 0)
        close(r.sigfd);
    if (!rc)
        rlog(NULL, NULL, "stopped");
    return rc;
}
