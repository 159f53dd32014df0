/*
 * One emulator's life: its ioreq server, its process, readiness, restarts.
 *
 * Bring-up creates the server, maps the emulator's ranges and starts the
 * process with `--domid D --ioservid S --ready-fd 3`; the emulator attaches
 * to the server, enables it, binds its event channels and writes the server
 * id and a newline to fd 3.  Then the router confirms the server enabled.
 * A process that dies before it was ever ready takes its server with it.
 * Once a server has served, it stays across restarts: the guest stalls on
 * it and the next process picks up the request in flight.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate.h"
#include "routerd.h"

const char *emu_state_name(enum emu_state s)
{
    switch (s) {
    case EMU_STARTING: return "starting";
    case EMU_RUNNING: return "running";
    case EMU_RESTARTING: return "restarting";
    case EMU_STOPPING: return "stopping";
    case EMU_STOPPED: return "stopped";
    case EMU_FAILED: return "failed";
    }
    return "?";
}

struct emu *emu_new(struct guest *g, const struct router_emulator *cfg, const char *where)
{
    struct emu *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->where = strdup(where);
    if (!e->where || router_emulator_copy(&e->cfg, cfg)) {
        free(e->where);
        free(e);
        return NULL;
    }
    e->guest = g;
    e->ready_fd = -1;
    e->state = EMU_STOPPED;
    return e;
}

void emu_free(struct emu *e)
{
    if (!e)
        return;
    router_emulator_clear(&e->cfg);
    free(e->where);
    for (size_t k = 0; k < EMU_NKEYS; k++)
        free(e->published[k]);
    free(e);
}

static void set_error(struct emu *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct emu *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->error, sizeof(e->error), fmt, ap);
    va_end(ap);
}

void emu_format_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        if (abbrev)
            snprintf(buf, len, "killed by SIG%s", abbrev);
        else
            snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    } else
        snprintf(buf, len, "status 0x%x", status);
}

/* ---- xenstore state ------------------------------------------------------ */

/* Write (or, val NULL, remove) one key, unless xenstore already has that. */
static void publish_one(struct routerd *r, struct emu *e, enum emu_key k, const char *val)
{
    static const char *const names[EMU_NKEYS] = {
        [EMU_KEY_STATE] = "state",       [EMU_KEY_PID] = "pid",
        [EMU_KEY_SERVER] = "server",     [EMU_KEY_RESTARTS] = "restarts",
        [EMU_KEY_EXIT] = "exit-status",  [EMU_KEY_ERROR] = "error",
    };
    const char *old = e->published[k];
    char path[256];

    if ((e->published_known & (1u << k)) && (old && val ? !strcmp(old, val) : old == val))
        return;
    snprintf(path, sizeof(path), ROUTERD_XS_ROOT "/state/%u/%s/%s", e->guest->domid, e->cfg.id,
             names[k]);
    int rc = val ? xen_xs_write(r->xen, path, val) : xen_xs_rm(r->xen, path);
    free(e->published[k]);
    e->published[k] = NULL;
    e->published_known &= ~(1u << k); /* unknown: written again next time */
    if (rc) {
        rdebug(e->guest, e, "cannot update %s: %s", path, strerror(-rc));
        return;
    }
    if (val && !(e->published[k] = strdup(val)))
        return;
    e->published_known |= 1u << k;
}

static void emu_publish(struct routerd *r, struct emu *e)
{
    char buf[64];

    publish_one(r, e, EMU_KEY_STATE, emu_state_name(e->state));
    snprintf(buf, sizeof(buf), "%d", (int)e->pid);
    publish_one(r, e, EMU_KEY_PID, e->pid > 0 ? buf : NULL);
    snprintf(buf, sizeof(buf), "%u", e->server);
    publish_one(r, e, EMU_KEY_SERVER, e->have_server ? buf : NULL);
    snprintf(buf, sizeof(buf), "%u", e->restarts);
    publish_one(r, e, EMU_KEY_RESTARTS, buf);
    if (e->has_exit) {
        emu_format_status(e->exit_status, buf, sizeof(buf));
        publish_one(r, e, EMU_KEY_EXIT, buf);
    }
    publish_one(r, e, EMU_KEY_ERROR, e->error[0] ? e->error : NULL);
}

static void set_state(struct routerd *r, struct emu *e, enum emu_state s)
{
    if (e->state != s)
        rdebug(e->guest, e, "%s -> %s", emu_state_name(e->state), emu_state_name(s));
    e->state = s;
    emu_publish(r, e);
}

/* ---- server -------------------------------------------------------------- */

static void emu_destroy_server(struct routerd *r, struct emu *e)
{
    if (!e->have_server)
        return;
    int rc = xen_server_destroy(r->xen, e->guest->domid, e->server);
    if (rc && rc != -ESRCH)
        rlog(e->guest, e, "cannot destroy ioreq server %u: %s", e->server, strerror(-rc));
    else
        rdebug(e->guest, e, "ioreq server %u destroyed", e->server);
    e->have_server = false;
    e->ever_ready = false;
}

static int create_server(struct routerd *r, struct emu *e)
{
    char err[200];
    int rc = xen_server_create(r->xen, e->guest->domid, e->cfg.bufioreq, &e->server);

    if (rc) {
        set_error(e, "cannot create an ioreq server: %s", strerror(-rc));
        return rc;
    }
    e->have_server = true;
    e->ever_ready = false;
    rc = xen_server_map_all(r->xen, e->guest->domid, e->server, &e->cfg, err, sizeof(err));
    if (rc) {
        set_error(e, "%s", err);
        emu_destroy_server(r, e);
    }
    return rc;
}

/* ---- process ------------------------------------------------------------- */

static void close_ready_fd(struct routerd *r, struct emu *e)
{
    if (e->ready_fd < 0)
        return;
    routerd_unwatch_fd(r, e->ready_fd);
    close(e->ready_fd);
    e->ready_fd = -1;
}

static int spawn(struct routerd *r, struct emu *e)
{
    char domid[16], sid[16], readyfd[16], logpath[512], err[256];
    size_t n = 0;
    char **argv = calloc(e->cfg.nargs + 8, sizeof(*argv));
    int pipefd[2];
    int rc;

    if (!argv) {
        set_error(e, "out of memory");
        return -ENOMEM;
    }
    snprintf(domid, sizeof(domid), "%u", e->guest->domid);
    snprintf(sid, sizeof(sid), "%u", e->server);
    snprintf(readyfd, sizeof(readyfd), "%d", ISOLATE_READY_FD);
    argv[n++] = e->cfg.exec;
    argv[n++] = "--domid";
    argv[n++] = domid;
    argv[n++] = "--ioservid";
    argv[n++] = sid;
    argv[n++] = "--ready-fd";
    argv[n++] = readyfd;
    for (size_t i = 0; i < e->cfg.nargs; i++)
        argv[n++] = e->cfg.args[i];
    argv[n] = NULL;

    if (pipe2(pipefd, O_CLOEXEC)) {
        rc = -errno;
        free(argv);
        set_error(e, "pipe: %s", strerror(-rc));
        return rc;
    }
    snprintf(logpath, sizeof(logpath), "%s/%s.%s.log", r->opts.log_dir, e->guest->name,
             e->cfg.id);

    struct isolate_spec spec = {
        .exec = e->cfg.exec_resolved ? e->cfg.exec_resolved : e->cfg.exec,
        .argv = argv,
        .envp = NULL,
        .log_path = logpath,
        .ready_fd = pipefd[1],
        .user = e->cfg.user,
        .group = e->cfg.group,
        .namespaces = e->cfg.isolation.namespaces,
        .seccomp = e->cfg.isolation.seccomp,
        .cpus = e->cfg.isolation.has_cpus ? &e->cfg.isolation.cpus : NULL,
    };
    struct isolate_result res;
    rc = isolate_spawn(&spec, &res, err, sizeof(err));
    close(pipefd[1]);
    free(argv);
    if (rc) {
        close(pipefd[0]);
        set_error(e, "cannot start %s: %s", e->cfg.exec, err);
        return rc;
    }
    if (spec.namespaces && !res.namespaces_applied)
        rdebug(e->guest, e, "namespaces unavailable here: started without them");
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    e->ready_fd = pipefd[0];
    e->ready_len = 0;
    routerd_watch_fd(r, e->ready_fd);
    e->pid = res.pid;
    e->starts++;
    e->started_ms = now_ms();
    e->deadline_ms = e->started_ms + e->cfg.ready_timeout_ms;
    e->error[0] = '\0';
    rlog(e->guest, e, "started %s: pid %d, ioreq server %u, log %s", e->cfg.exec, (int)e->pid,
         e->server, logpath);
    return 0;
}

/* Something failed before the emulator was ready (no process is left). */
static void failed_before_ready(struct routerd *r, struct emu *e);

/* The router is going away: nothing starts any more, what has a server drops it. */
static bool refuse_start(struct routerd *r, struct emu *e)
{
    if (!r->stopping)
        return false;
    e->goal = EMU_GOAL_NONE;
    e->deadline_ms = 0;
    emu_destroy_server(r, e);
    set_state(r, e, EMU_STOPPED);
    return true;
}

/* Start from nothing: a new server, then the process. */
static void start_fresh(struct routerd *r, struct emu *e, enum emu_state as)
{
    if (refuse_start(r, e))
        return;
    e->goal = EMU_GOAL_NONE;
    if (create_server(r, e) || spawn(r, e)) {
        emu_destroy_server(r, e);
        rlog(e->guest, e, "bring-up failed: %s", e->error);
        failed_before_ready(r, e);
        return;
    }
    set_state(r, e, as);
}

/* Start a new process on the server that is kept. */
static void respawn(struct routerd *r, struct emu *e)
{
    if (refuse_start(r, e))
        return;
    e->goal = EMU_GOAL_NONE;
    if (!e->have_server) {
        start_fresh(r, e, EMU_RESTARTING);
        return;
    }
    if (spawn(r, e)) {
        rlog(e->guest, e, "restart failed: %s", e->error);
        failed_before_ready(r, e);
        return;
    }
    set_state(r, e, EMU_RESTARTING);
}

void emu_start(struct routerd *r, struct emu *e)
{
    e->nrestart_times = 0;
    start_fresh(r, e, EMU_STARTING);
}

/* ---- supervision --------------------------------------------------------- */

static unsigned restarts_in_window(struct emu *e, uint64_t now)
{
    uint64_t window = (uint64_t)e->cfg.restart.window_s * 1000u;
    unsigned kept = 0;

    for (unsigned i = 0; i < e->nrestart_times; i++)
        if (now - e->restart_times[i] < window)
            e->restart_times[kept++] = e->restart_times[i];
    e->nrestart_times = kept;
    return kept;
}

/* The process is gone (or never started) and should run: restart it
 * after the backoff, or give up. */
static void schedule_restart(struct routerd *r, struct emu *e)
{
    uint64_t now = now_ms();
    unsigned recent = restarts_in_window(e, now);

    if (recent >= e->cfg.restart.max_restarts) {
        set_error(e, "crash loop: %u restarts within %u s", recent, e->cfg.restart.window_s);
        rlog(e->guest, e, "giving up: %s", e->error);
        emu_destroy_server(r, e);
        set_state(r, e, EMU_FAILED);
        guest_check_hold(r, e->guest);
        return;
    }
    if (e->nrestart_times == EMU_HISTORY) { /* window longer than the history: drop the oldest */
        e->nrestart_times--;
        memmove(e->restart_times, e->restart_times + 1,
                e->nrestart_times * sizeof(e->restart_times[0]));
    }
    e->restart_times[e->nrestart_times++] = now;
    uint64_t delay = e->cfg.restart.backoff_ms;
    for (unsigned i = 0; i < recent && delay < ROUTER_RESTART_BACKOFF_CAP_MS; i++)
        delay *= 2;
    if (delay > ROUTER_RESTART_BACKOFF_CAP_MS)
        delay = ROUTER_RESTART_BACKOFF_CAP_MS;
    e->restarts++;
    e->deadline_ms = now + delay;
    rlog(e->guest, e, "restart %u in %llu ms%s", e->restarts, (unsigned long long)delay,
         e->have_server ? " (ioreq server kept: the guest waits)" : "");
    set_state(r, e, EMU_RESTARTING);
}

static bool policy_restarts(const struct emu *e, bool clean_exit)
{
    switch (e->cfg.restart.policy) {
    case ROUTER_RESTART_ALWAYS: return true;
    case ROUTER_RESTART_NEVER: return false;
    case ROUTER_RESTART_ON_FAILURE: return !clean_exit;
    }
    return false;
}

static void failed_before_ready(struct routerd *r, struct emu *e)
{
    if (r->stopping || !policy_restarts(e, false)) {
        emu_destroy_server(r, e);
        set_state(r, e, EMU_FAILED);
        guest_check_hold(r, e->guest);
        return;
    }
    schedule_restart(r, e);
}

/* The process did something wrong before it was ready (e->error says
 * what): kill it; its exit does the rest. */
static void kill_unready(struct emu *e)
{
    rlog(e->guest, e, "%s: stopping it", e->error);
    kill(e->pid, SIGKILL);
}

static void on_ready(struct routerd *r, struct emu *e, unsigned id)
{
    if (e->state != EMU_STARTING && e->state != EMU_RESTARTING)
        return; /* asked to stop meanwhile: its server stays disabled */
    if (id != e->server) {
        set_error(e, "reported ready on ioreq server %u, not %u", id, e->server);
        kill_unready(e);
        return;
    }
    int rc = xen_server_enable(r->xen, e->guest->domid, e->server);
    if (rc) {
        set_error(e, "cannot enable ioreq server %u: %s", e->server, strerror(-rc));
        rlog(e->guest, e, "%s", e->error);
        kill(e->pid, SIGKILL);
        return;
    }
    e->ever_ready = true;
    e->deadline_ms = 0;
    rlog(e->guest, e, "ready: ioreq server %u enabled (%llu ms after start)", e->server,
         (unsigned long long)(now_ms() - e->started_ms));
    set_state(r, e, EMU_RUNNING);
    guest_check_hold(r, e->guest);
}

void emu_on_ready_fd(struct routerd *r, struct emu *e)
{
    for (;;) {
        ssize_t n = read(e->ready_fd, e->ready_buf + e->ready_len,
                         sizeof(e->ready_buf) - 1 - e->ready_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* EOF or error: the exit (if any) will follow */
            close_ready_fd(r, e);
            return;
        }
        e->ready_len += (size_t)n;
        e->ready_buf[e->ready_len] = '\0';
        char *nl = strchr(e->ready_buf, '\n');
        if (nl) {
            char *end;
            *nl = '\0';
            unsigned long id = strtoul(e->ready_buf, &end, 10);
            close_ready_fd(r, e);
            if (!isdigit((unsigned char)e->ready_buf[0]) || *end || id > UINT16_MAX) {
                set_error(e, "malformed readiness message");
                kill_unready(e);
                return;
            }
            on_ready(r, e, (unsigned)id);
            return;
        }
        if (e->ready_len == sizeof(e->ready_buf) - 1) {
            close_ready_fd(r, e);
            set_error(e, "malformed readiness message");
            kill_unready(e);
            return;
        }
    }
}

void emu_on_exit(struct routerd *r, struct emu *e, int status)
{
    char what[64];
    bool was_ready = e->state == EMU_RUNNING;

    emu_format_status(status, what, sizeof(what));
    close_ready_fd(r, e);
    e->pid = 0;
    e->has_exit = true;
    e->exit_status = status;
    e->deadline_ms = 0;
    rlog(e->guest, e, "process %s", what);

    if (e->state == EMU_STOPPING) {
        switch (e->goal) {
        case EMU_GOAL_RESTART:
            respawn(r, e);
            return;
        case EMU_GOAL_STOP:
        case EMU_GOAL_REMOVE:
        case EMU_GOAL_NONE:
            emu_destroy_server(r, e);
            set_state(r, e, EMU_STOPPED);
            return;
        }
    }
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!was_ready && !e->ever_ready) {
        if (!e->error[0])
            set_error(e, "%s before it was ready", what);
        emu_destroy_server(r, e); /* never served: nothing for the guest to wait for */
        failed_before_ready(r, e);
        return;
    }
    if (!e->error[0] || was_ready)
        set_error(e, "%s", what);
    if (!policy_restarts(e, clean) || r->stopping) {
        emu_destroy_server(r, e);
        set_state(r, e, clean ? EMU_STOPPED : EMU_FAILED);
        return;
    }
    schedule_restart(r, e);
}

void emu_on_deadline(struct routerd *r, struct emu *e)
{
    e->deadline_ms = 0;
    if (e->pid > 0 && e->state == EMU_STOPPING) {
        rlog(e->guest, e, "did not stop within %u ms: killing it", ROUTERD_STOP_GRACE_MS);
        kill(e->pid, SIGKILL);
        return;
    }
    if (e->pid > 0) { /* starting or restarting: the ready timeout */
        set_error(e, "not ready within %u ms", e->cfg.ready_timeout_ms);
        rlog(e->guest, e, "%s: killing it", e->error);
        kill(e->pid, SIGKILL);
        return;
    }
    if (e->state == EMU_RESTARTING)
        respawn(r, e);
}

/*
 * Before a process is stopped for good: no new requests for its server, so
 * that it can answer what is in flight before it exits.  Xen does not wake
 * a vCPU whose server is destroyed under it; this way none is left waiting.
 */
static void quiesce_server(struct routerd *r, struct emu *e)
{
    if (!e->have_server)
        return;
    int rc = xen_server_disable(r->xen, e->guest->domid, e->server);
    if (rc)
        rlog(e->guest, e, "cannot disable ioreq server %u: %s", e->server, strerror(-rc));
}

void emu_request_stop(struct routerd *r, struct emu *e, enum emu_stop_goal goal)
{
    if (e->pid > 0) {
        if (e->state == EMU_STOPPING && goal != EMU_GOAL_REMOVE && e->goal == EMU_GOAL_REMOVE)
            return; /* removal wins */
        if (goal != EMU_GOAL_RESTART && (e->state != EMU_STOPPING || e->goal == EMU_GOAL_RESTART))
            quiesce_server(r, e);
        e->goal = goal;
        if (e->state != EMU_STOPPING) {
            /* A readiness report from now on would undo the stop (enable the
             * server, cancel the SIGKILL deadline): it is no longer read. */
            close_ready_fd(r, e);
            kill(e->pid, SIGTERM);
            e->deadline_ms = now_ms() + ROUTERD_STOP_GRACE_MS;
            set_state(r, e, EMU_STOPPING);
        }
        return;
    }
    /* No process: act now. */
    e->deadline_ms = 0;
    switch (goal) {
    case EMU_GOAL_RESTART:
        if (e->have_server)
            respawn(r, e);
        else
            emu_start(r, e);
        break;
    case EMU_GOAL_STOP:
    case EMU_GOAL_REMOVE:
    case EMU_GOAL_NONE:
        e->goal = goal;
        emu_destroy_server(r, e);
        set_state(r, e, EMU_STOPPED);
        break;
    }
}

void emu_abandon(struct routerd *r, struct emu *e)
{
    if (e->pid > 0)
        routerd_add_orphan(r, e->pid);
    close_ready_fd(r, e);
    emu_destroy_server(r, e);
    emu_free(e);
}
