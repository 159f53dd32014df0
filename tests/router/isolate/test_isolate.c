/* Tests of router_isolate: isolate_spawn() starts isolate_probe, which
 * reports its own process state as "key=value" lines into the log file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "isolate.h"

#ifndef PROBE_PATH
#error "PROBE_PATH must be defined"
#endif

struct fixture {
    char dir[64];
    char log[128];
    char mnt[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/isolate-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->log, sizeof f->log, "%s/probe.log", f->dir);
    snprintf(f->mnt, sizeof f->mnt, "%s/mnt", f->dir);
    umask(022);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->log);
    rmdir(f->mnt);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* The value of the LAST line "KEY=..." in LOG (the log may hold several
 * runs), copied into BUF; NULL if absent. */
static const char *fact(const char *log, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    const char *found = NULL;
    for (const char *p = log; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            found = p + klen + 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!found)
        return NULL;
    size_t n = strcspn(found, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(buf, found, n);
    buf[n] = '\0';
    return buf;
}

#define assert_fact(log, key, expected)                                                      \
    do {                                                                                     \
        char b_[512];                                                                        \
        const char *v_ = fact((log), (key), b_, sizeof b_);                                  \
        if (!v_)                                                                             \
            fail_msg("no '%s' in the log:\n%s", (key), (log));                               \
        if (strcmp(v_, (expected)) != 0)                                                     \
            fail_msg("%s=%s, expected %s; log:\n%s", (key), v_, (expected), (log));          \
    } while (0)

static long fact_long(const char *log, const char *key)
{
    char b[64];
    const char *v = fact(log, key, b, sizeof b);
    if (!v)
        fail_msg("no '%s' in the log:\n%s", key, log);
    return strtol(v, NULL, 10);
}

/* waitpid with a deadline; returns the status. */
static int wait_status(pid_t pid)
{
    for (int i = 0; i < 3000; i++) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            fail_msg("waitpid(%d): %s", (int)pid, strerror(errno));
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("pid %d did not exit within 30 s", (int)pid);
    return -1;
}

static void assert_exited(int st, int code)
{
    if (!WIFEXITED(st))
        fail_msg("not exited: status 0x%x", st);
    assert_int_equal(WEXITSTATUS(st), code);
}

/* For forked helpers, where cmocka cannot report: waits for PID and tells
 * whether it exited with CODE. */
static bool reaped_with(pid_t pid, int code)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* No child of ours is left, running or zombie. */
static void assert_no_children(void)
{
    errno = 0;
    pid_t r = waitpid(-1, NULL, WNOHANG);
    if (r != -1 || errno != ECHILD)
        fail_msg("a child is left: waitpid(-1) = %d (%s)", (int)r, strerror(errno));
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static void read_ns(const char *name, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    ssize_t n = readlink(path, buf, len - 1);
    assert_true(n > 0);
    buf[n] = '\0';
}

/* Can this process create the namespaces at all?  (A container may not.) */
static bool namespaces_available(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC) == 0 ? 0 : 1);
    int st = wait_status(pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Read "ready\n" from FD within 10 s. */
static void assert_ready(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, 10000);
    if (r != 1)
        fail_msg("no readiness within 10 s");
    char buf[16] = { 0 };
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_int_equal(n, 6);
    assert_string_equal(buf, "ready\n");
}

/* A spec for the probe with ARGS (NULL-terminated, after argv[0]). */
struct probe_args {
    char *argv[8];
};

static struct isolate_spec probe_spec(struct probe_args *pa, const struct fixture *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = 0;
    pa->argv[n++] = (char *)"isolate-probe";
    const char *a;
    while (n < 7 && (a = va_arg(ap, const char *)))
        pa->argv[n++] = (char *)a;
    pa->argv[n] = NULL;
    va_end(ap);
    struct isolate_spec s = {
        .exec = PROBE_PATH,
        .argv = pa->argv,
        .log_path = f->log,
        .ready_fd = -1,
    };
    return s;
}

/* Spawn and require success. */
static void spawn_ok(const struct isolate_spec *spec, struct isolate_result *res)
{
    char err[256] = "";
    int rc = isolate_spawn(spec, res, err, sizeof err);
    if (rc != 0)
        fail_msg("isolate_spawn: %d %s", rc, err);
    assert_true(res->pid > 0);
}

/* Spawn, require success, wait, return the status; *logp: the log text. */
static int run(const struct isolate_spec *spec, struct isolate_result *res, char **logp)
{
    spawn_ok(spec, res);
    int st = wait_status(res->pid);
    *logp = read_file(spec->log_path);
    assert_non_null(*logp);
    return st;
}

/* Open a few descriptors without CLOEXEC (fd 3 among them) that must not
 * reach the child.  Returns how many were opened into fds[]. */
static int open_extra_fds(int fds[6])
{
    int n = 0;
    if (fcntl(3, F_GETFD) < 0) {
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        if (fd != 3) {
            assert_int_equal(dup2(fd, 3), 3);
            close(fd);
        }
        fds[n++] = 3;
    }
    for (int i = 0; i < 2; i++) {
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        fds[n++] = fd;
    }
    int p[2];
    assert_int_equal(pipe(p), 0);
    fds[n++] = p[0];
    fds[n++] = p[1];
    return n;
}

static void close_fds(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* ---- tests ------------------------------------------------------------------ */

/* Without namespaces: a direct child with its own pid, the exit status comes
 * through, fds 0-3 only, readiness on fd 3, stdout and stderr appended to
 * the log, environment inherited, no_new_privs, parent-death signal. */
static void test_plain_spawn(void **state)
{
    struct fixture *f = *state;
    int extra[6];
    int nextra = open_extra_fds(extra);
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    write_file(f->log, "previous\n");
    setenv("ISOLATE_TEST_VAR", "inherited", 1);
    /* Our stdin is a pipe for the duration: the child's must not be. */
    int saved_stdin = dup(0), in_pipe[2];
    assert_true(saved_stdin >= 0);
    assert_int_equal(pipe(in_pipe), 0);
    assert_int_equal(dup2(in_pipe[0], 0), 0);

    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, "exit=7", NULL);
    spec.ready_fd = ready[1];
    struct isolate_result res;
    spawn_ok(&spec, &res);
    close(ready[1]);
    assert_int_equal(dup2(saved_stdin, 0), 0);
    close(saved_stdin);
    close(in_pipe[0]);
    close(in_pipe[1]);
    assert_false(res.namespaces_applied);
    assert_ready(ready[0]);
    int st = wait_status(res.pid);
    assert_exited(st, 7);
    /* The child's copy of the ready pipe is gone with it: EOF now. */
    char c;
    assert_int_equal(read(ready[0], &c, 1), 0);
    close(ready[0]);
    close_fds(extra, nextra);
    unsetenv("ISOLATE_TEST_VAR");

    char *log = read_file(f->log);
    assert_non_null(log);
    assert_true(strncmp(log, "previous\n", 9) == 0); /* appended, not truncated */
    assert_non_null(strstr(log, "\nstdout-line\n"));
    assert_non_null(strstr(log, "\nstderr-line\n"));
    assert_int_equal(fact_long(log, "pid"), res.pid);
    assert_int_not_equal(fact_long(log, "pid"), 1);
    assert_int_equal(fact_long(log, "ppid"), getpid());
    assert_fact(log, "argv0", "isolate-probe");
    assert_fact(log, "fds", "0,1,2,3");
    assert_fact(log, "ready", "ok");
    assert_fact(log, "stdin", "/dev/null");
    assert_fact(log, "nnp", "1");
    assert_fact(log, "pdeathsig", "9");
    assert_fact(log, "seccomp", "0");
    assert_fact(log, "sid_is_pid", "1");
    assert_fact(log, "pgid_is_pid", "1");
    assert_fact(log, "env", "inherited");
    assert_fact(log, "uid", "0");
    char ns[128];
    read_ns("pid", ns, sizeof ns);
    assert_fact(log, "ns_pid", ns);
    read_ns("mnt", ns, sizeof ns);
    assert_fact(log, "ns_mnt", ns);
    read_ns("ipc", ns, sizeof ns);
    assert_fact(log, "ns_ipc", ns);
    free(log);
    assert_no_children();
}

/* A second run appends to the same log; a new log is created 0640. */
static void test_log_append_and_mode(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, "exit=1", NULL);
    struct isolate_result res;
    char *log;
    assert_exited(run(&spec, &res, &log), 1);
    free(log);
    struct stat sb;
    assert_int_equal(stat(f->log, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0640);
    pid_t first = res.pid;

    spec = probe_spec(&pa, f, "exit=2", NULL);
    assert_exited(run(&spec, &res, &log), 2);
    char *p = strstr(log, "end\n");
    assert_non_null(p);
    assert_non_null(strstr(p + 4, "end\n")); /* two runs in the file */
    char needle[64];
    snprintf(needle, sizeof needle, "pid=%d\n", (int)first);
    assert_non_null(strstr(log, needle));
    free(log);

    /* No log: stdout goes to /dev/null. */
    unlink(f->log);
    spec.log_path = NULL;
    assert_int_equal(isolate_spawn(&spec, &res, NULL, 0), 0);
    assert_exited(wait_status(res.pid), 2);
    assert_int_equal(access(f->log, F_OK), -1);
    assert_no_children();
}

/* Signals the caller blocks or ignores are back to normal in the child. */
static void test_signals_reset(void **state)
{
    struct fixture *f = *state;
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGCHLD);
    assert_int_equal(sigprocmask(SIG_BLOCK, &block, &saved), 0);
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_usr2, old_pipe;
    sigaction(SIGUSR2, &ign, &old_usr2);
    sigaction(SIGPIPE, &ign, &old_pipe);

    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    struct isolate_result res;
    char *log;
    int st = run(&spec, &res, &log);

    sigaction(SIGUSR2, &old_usr2, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigprocmask(SIG_SETMASK, &saved, NULL);

    assert_exited(st, 0);
    assert_fact(log, "sigblk", "0000000000000000");
    assert_fact(log, "sigign", "0000000000000000");
    free(log);
}

/* With namespaces: PID 1 of a new PID namespace with its own /proc, own
 * mount and IPC namespaces, yet the caller's child (exit status, fds). */
static void test_namespaces(void **state)
{
    struct fixture *f = *state;
    if (!namespaces_available())
        skip();
    int extra[6];
    int nextra = open_extra_fds(extra);

    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, "exit=5", NULL);
    spec.namespaces = true;
    struct isolate_result res;
    char *log;
    int st = run(&spec, &res, &log);
    close_fds(extra, nextra);
    assert_true(res.namespaces_applied);
    assert_exited(st, 5);
    assert_int_not_equal(res.pid, 1);
    assert_fact(log, "pid", "1");
    assert_fact(log, "ppid", "0");
    assert_fact(log, "procpids", "1"); /* a /proc of its own PID namespace */
    assert_fact(log, "fds", "0,1,2");   /* no ready fd: fd 3 closed too */
    assert_fact(log, "ready", "EBADF");
    assert_fact(log, "nnp", "1");
    assert_fact(log, "pdeathsig", "9");
    assert_fact(log, "sid_is_pid", "1");
    char ns[128], b[128];
    const char *names[] = { "pid", "mnt", "ipc" };
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "ns_%s", names[i]);
        read_ns(names[i], ns, sizeof ns);
        const char *v = fact(log, key, b, sizeof b);
        assert_non_null(v);
        assert_true(strncmp(v, names[i], strlen(names[i])) == 0);
        if (strcmp(v, ns) == 0)
            fail_msg("%s: same namespace as the caller's (%s)", key, ns);
    }
    free(log);
    assert_no_children();
}

/* SIGKILL to the returned pid is seen by waitpid, with and without
 * namespaces (PID 1 of a namespace ignores most signals, not SIGKILL from
 * outside). */
static void kill9(const struct fixture *f, bool namespaces)
{
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, "wait", NULL);
    spec.ready_fd = ready[1];
    spec.namespaces = namespaces;
    struct isolate_result res;
    spawn_ok(&spec, &res);
    close(ready[1]);
    assert_int_equal(res.namespaces_applied, namespaces);
    assert_ready(ready[0]);
    /* Still running. */
    assert_int_equal(waitpid(res.pid, NULL, WNOHANG), 0);
    assert_int_equal(kill(res.pid, SIGKILL), 0);
    int st = wait_status(res.pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    close(ready[0]);
    assert_no_children();
}

static void test_kill9_plain(void **state)
{
    kill9(*state, false);
}

static void test_kill9_namespaces(void **state)
{
    if (!namespaces_available())
        skip();
    kill9(*state, true);
}

/* The child dies with the process that spawned it (PR_SET_PDEATHSIG). */
static void parent_death(const struct fixture *f, bool namespaces)
{
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        struct probe_args pa;
        struct isolate_spec spec = probe_spec(&pa, f, "wait", NULL);
        spec.ready_fd = ready[1];
        spec.namespaces = namespaces;
        struct isolate_result res;
        if (isolate_spawn(&spec, &res, NULL, 0) != 0)
            _exit(1);
        close(ready[1]);
        /* Die only once the probe is up and waiting. */
        char buf[6];
        if (read(ready[0], buf, sizeof buf) != 6)
            _exit(2);
        _exit(0);
    }
    close(ready[1]);
    assert_exited(wait_status(helper), 0);
    /* The probe holds the only write end left (its fd 3) until it dies. */
    struct pollfd p = { .fd = ready[0], .events = POLLIN };
    if (poll(&p, 1, 10000) != 1)
        fail_msg("the probe outlived the process that spawned it");
    char c;
    assert_int_equal(read(ready[0], &c, 1), 0);
    close(ready[0]);
}

static void test_parent_death(void **state)
{
    parent_death(*state, false);
    if (namespaces_available())
        parent_death(*state, true);
}

/* user "nobody": uid, primary group, no other groups; the parent-death
 * signal survives the credential change. */
static void test_user_nobody(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    spec.user = "nobody";
    struct isolate_result res;
    char *log;
    assert_exited(run(&spec, &res, &log), 0);
    assert_fact(log, "uid", "65534");
    assert_fact(log, "euid", "65534");
    assert_fact(log, "gid", "65534");
    assert_fact(log, "egid", "65534");
    assert_fact(log, "groups", "65534");
    assert_fact(log, "nnp", "1");
    assert_fact(log, "pdeathsig", "9");
    free(log);
}

/* Numbers for both, a name for the group only, and a user number without
 * passwd entry. */
static void test_user_group_forms(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    struct isolate_result res;
    char *log;

    spec.user = "4242";
    spec.group = "4343";
    assert_exited(run(&spec, &res, &log), 0);
    assert_fact(log, "uid", "4242");
    assert_fact(log, "gid", "4343");
    assert_fact(log, "groups", "4343");
    free(log);

    spec.user = "nobody";
    spec.group = "0";
    assert_exited(run(&spec, &res, &log), 0);
    assert_fact(log, "uid", "65534");
    assert_fact(log, "gid", "0");
    assert_fact(log, "groups", "0");
    free(log);

    spec.user = NULL;
    spec.group = "nogroup";
    assert_exited(run(&spec, &res, &log), 0);
    assert_fact(log, "uid", "0");
    assert_fact(log, "gid", "65534");
    assert_fact(log, "groups", "65534");
    free(log);

    /* No passwd entry, so no primary group: an error, nothing spawned. */
    char err[256] = "";
    spec.user = "4242";
    spec.group = NULL;
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "4242"));
    assert_non_null(strstr(err, "group"));
    assert_no_children();
}

/* Unknown user or group: -ENOENT, a message, nothing spawned. */
static void test_unknown_user(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    spec.user = "nobody2";
    struct isolate_result res = { .pid = 12345, .namespaces_applied = true };
    char err[256] = "";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -ENOENT);
    assert_string_equal(err, "user 'nobody2' does not exist");
    assert_int_equal(res.pid, -1);
    assert_false(res.namespaces_applied);
    assert_no_children();
    assert_int_equal(access(f->log, F_OK), -1); /* the child never ran */

    spec.user = "nobody";
    spec.group = "nogroup2";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -ENOENT);
    assert_string_equal(err, "group 'nogroup2' does not exist");

    spec.group = "12abc";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -ENOENT);
    spec.group = NULL;
    spec.user = "99999999999";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EINVAL);
    spec.user = "";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EINVAL);
    assert_no_children();
    assert_int_equal(access(f->log, F_OK), -1);
}

/* A missing executable: the exec error with the path, no zombie; in both
 * fork paths. */
static void missing_exec(const struct fixture *f, bool namespaces)
{
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    spec.exec = "/nonexistent/isolate-probe";
    spec.namespaces = namespaces;
    spec.seccomp = true;
    spec.user = "nobody";
    struct isolate_result res;
    char err[256] = "";
    int rc = isolate_spawn(&spec, &res, err, sizeof err);
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(err, "exec /nonexistent/isolate-probe: No such file or directory");
    assert_int_equal(res.pid, -1);
    assert_no_children();
}

static void test_missing_exec(void **state)
{
    missing_exec(*state, false);
    missing_exec(*state, true);
}

/* A child stage that fails before exec (the log cannot be opened) comes
 * back with its stage named; not executable: EACCES. */
static void test_child_stage_errors(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    char badlog[160];
    snprintf(badlog, sizeof badlog, "%s/no/such/dir.log", f->dir);
    spec.log_path = badlog;
    struct isolate_result res;
    char err[256] = "", want[256];
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "open log %s: No such file or directory", badlog);
    assert_string_equal(err, want);
    assert_no_children();

    spec.log_path = f->log;
    spec.exec = "/dev/null";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EACCES);
    assert_string_equal(err, "exec /dev/null: Permission denied");
    assert_no_children();
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    struct isolate_result res;
    char err[256];

    assert_int_equal(isolate_spawn(NULL, &res, err, sizeof err), -EINVAL);
    assert_int_equal(isolate_spawn(&spec, NULL, err, sizeof err), -EINVAL);
    spec.exec = "relative/probe";
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "relative/probe"));
    spec.exec = PROBE_PATH;
    char *empty[] = { NULL };
    spec.argv = empty;
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EINVAL);
    spec.argv = pa.argv;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(fd); /* now surely closed */
    spec.ready_fd = fd;
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EBADF);
    spec.ready_fd = -2;
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EBADF);
    assert_no_children();
}

static void seccomp_run(const struct fixture *f, bool seccomp, bool namespaces, char **logp)
{
    assert_true(mkdir(f->mnt, 0755) == 0 || errno == EEXIST);
    char mountarg[160];
    snprintf(mountarg, sizeof mountarg, "mountdir=%s", f->mnt);
    struct probe_args pa;
    struct isolate_spec spec =
        probe_spec(&pa, f, "syscalls", namespaces ? mountarg : NULL, NULL);
    spec.seccomp = seccomp;
    spec.namespaces = namespaces;
    struct isolate_result res;
    assert_exited(run(&spec, &res, logp), 0);
    assert_int_equal(res.namespaces_applied, namespaces);
    /* Nothing the probe mounted is visible here. */
    char *mi = read_file("/proc/self/mountinfo");
    assert_non_null(mi);
    if (strstr(mi, f->mnt))
        fail_msg("%s is mounted in the caller's namespace", f->mnt);
    free(mi);
}

/* What the probe's "syscalls" reports with the filter on and off (NULL: not
 * checked).  mount_tmpfs is only tried with namespaces. */
static const struct {
    const char *key, *on, *off;
} seccomp_facts[] = {
    {"seccomp", "2", "0"},
    {"nnp", "1", NULL},
    {"mount_bogus", "EPERM", "ENODEV"},
    {"mount_tmpfs", "EPERM", "0"},
    {"umount2", "EPERM", "ENOENT"},
    {"unshare", "EPERM", "0"},
    {"ptrace", "EPERM", "ESRCH"},
    {"clone_newuts", "EPERM", "0"},
    {"clone3", "ENOSYS", "EINVAL"},
    {"fork", "ok", "ok"},
    {"thread", "0", "0"},
};

static void seccomp_check(const struct fixture *f, bool seccomp)
{
    bool ns = namespaces_available();
    char *log;
    seccomp_run(f, seccomp, ns, &log);
    for (size_t i = 0; i < sizeof seccomp_facts / sizeof seccomp_facts[0]; i++) {
        const char *want = seccomp ? seccomp_facts[i].on : seccomp_facts[i].off;
        if (want && (ns || strcmp(seccomp_facts[i].key, "mount_tmpfs") != 0))
            assert_fact(log, seccomp_facts[i].key, want);
    }
    free(log);
}

/* The filter denies what it lists, keeps fork and threads working. */
static void test_seccomp_on(void **state)
{
    seccomp_check(*state, true);
}

/* Without the filter the same calls reach the kernel (as root). */
static void test_seccomp_off(void **state)
{
    seccomp_check(*state, false);
}

/* The emulator's mounts stay in its namespace even where the caller's mount
 * tree propagates (a shared mount, systemd's default for "/"): a helper gets
 * a mount namespace of its own with a shared tmpfs on the test directory, and
 * the probe mounts beneath it. */
static void test_mount_propagation(void **state)
{
    struct fixture *f = *state;
    if (!namespaces_available())
        skip();
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(10);
        if (mount("isolate-test", f->dir, "tmpfs", 0, "size=1m") < 0 ||
            mount(NULL, f->dir, NULL, MS_SHARED, NULL) < 0 || mkdir(f->mnt, 0755) < 0)
            _exit(11);
        char mountarg[160];
        snprintf(mountarg, sizeof mountarg, "mountdir=%s", f->mnt);
        struct probe_args pa;
        struct isolate_spec spec = probe_spec(&pa, f, "syscalls", mountarg, "keepmount", NULL);
        spec.namespaces = true;
        struct isolate_result res;
        if (isolate_spawn(&spec, &res, NULL, 0) != 0 || !res.namespaces_applied)
            _exit(12);
        if (!reaped_with(res.pid, 0))
            _exit(13);
        char *log = read_file(f->log), b[32];
        const char *v = log ? fact(log, "mount_tmpfs", b, sizeof b) : NULL;
        if (!v || strcmp(v, "0") != 0)
            _exit(14); /* the probe did mount */
        free(log);
        char *mi = read_file("/proc/self/mountinfo"), needle[160];
        snprintf(needle, sizeof needle, " %s ", f->mnt);
        if (!mi)
            _exit(15);
        if (strstr(mi, needle))
            _exit(16); /* and it propagated here */
        snprintf(needle, sizeof needle, " %s ", f->dir);
        if (!strstr(mi, needle))
            _exit(17); /* the shared tmpfs is there */
        _exit(0);
    }
    int st = wait_status(helper);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 16)
        fail_msg("the emulator's mount propagated to the caller's namespace");
    assert_exited(st, 0);
}

/* A caller without stdin/stdout/stderr (a daemon that closed them): the
 * ready pipe and isolate_spawn's own pipe land on fds 0-2, which the child
 * overwrites; both must still work. */
static void test_caller_without_stdio(void **state)
{
    struct fixture *f = *state;
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        close(0);
        close(1);
        close(2);
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0 || ready[0] != 0 || ready[1] != 1)
            _exit(10);
        struct probe_args pa;
        struct isolate_spec spec = probe_spec(&pa, f, NULL);
        spec.ready_fd = ready[1];
        struct isolate_result res;
        char err[256] = "";
        if (isolate_spawn(&spec, &res, err, sizeof err) != 0)
            _exit(11);
        if (!reaped_with(res.pid, 0))
            _exit(12);
        char buf[8] = "";
        if (read(ready[0], buf, sizeof buf) != 6 || memcmp(buf, "ready\n", 6) != 0)
            _exit(13);
        /* A failure in the child is still reported (its pipe is not one of
         * the fds the child overwrites). */
        spec.exec = "/nonexistent/x";
        if (isolate_spawn(&spec, &res, err, sizeof err) != -ENOENT ||
            strcmp(err, "exec /nonexistent/x: No such file or directory") != 0)
            _exit(14);
        if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
            _exit(15);
        /* No fd below 3 open at all: the child's /dev/null and log land on
         * 1 and 2 unless moved out of the way. */
        close(ready[0]);
        close(ready[1]);
        spec.exec = PROBE_PATH;
        spec.ready_fd = -1;
        if (isolate_spawn(&spec, &res, err, sizeof err) != 0)
            _exit(16);
        if (!reaped_with(res.pid, 0))
            _exit(17);
        _exit(0);
    }
    assert_exited(wait_status(helper), 0);
    char *log = read_file(f->log);
    assert_non_null(log);
    /* Two runs: the first with the ready fd, the second without. */
    assert_true(strncmp(log, "argv0=", 6) == 0);
    const char *second = strstr(log, "\nargv0=");
    assert_non_null(second);
    second++;
    char b[64];
    assert_string_equal(fact(second, "fds", b, sizeof b), "0,1,2");
    assert_string_equal(fact(second, "stdin", b, sizeof b), "/dev/null");
    assert_non_null(strstr(second, "\nstderr-line\n"));
    char *first = strndup(log, (size_t)(second - log));
    assert_non_null(first);
    assert_fact(first, "fds", "0,1,2,3");
    assert_fact(first, "ready", "ok");
    assert_fact(first, "stdin", "/dev/null");
    free(first);
    assert_non_null(strstr(log, "\nstderr-line\n"));
    free(log);
}

/* Everything at once, as the router will use it. */
static void test_all_layers(void **state)
{
    struct fixture *f = *state;
    if (!namespaces_available())
        skip();
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    cpu_set_t cpus;
    assert_int_equal(sched_getaffinity(0, sizeof cpus, &cpus), 0);
    char *env[] = { (char *)"ISOLATE_TEST_VAR=explicit", NULL };
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, "syscalls", "exit=3", NULL);
    spec.envp = env;
    spec.ready_fd = ready[1];
    spec.user = "nobody";
    spec.namespaces = true;
    spec.seccomp = true;
    spec.cpus = &cpus;
    struct isolate_result res;
    char *log;
    int st = run(&spec, &res, &log);
    close(ready[1]);
    assert_ready(ready[0]);
    close(ready[0]);
    assert_exited(st, 3);
    assert_true(res.namespaces_applied);
    assert_fact(log, "pid", "1");
    assert_fact(log, "uid", "65534");
    assert_fact(log, "groups", "65534");
    assert_fact(log, "fds", "0,1,2,3");
    assert_fact(log, "ready", "ok");
    assert_fact(log, "nnp", "1");
    assert_fact(log, "pdeathsig", "9");
    assert_fact(log, "seccomp", "2");
    assert_fact(log, "env", "explicit");
    assert_fact(log, "procpids", "1");
    assert_fact(log, "fork", "ok");
    assert_fact(log, "thread", "0");
    free(log);
}

static void cpu_list(const cpu_set_t *set, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set))
            n += (size_t)snprintf(buf + n, len - n, "%s%d", n ? "," : "", c);
}

static void test_affinity(void **state)
{
    struct fixture *f = *state;
    cpu_set_t own;
    assert_int_equal(sched_getaffinity(0, sizeof own, &own), 0);
    char want[1024];

    /* Inherited. */
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    struct isolate_result res;
    char *log;
    assert_exited(run(&spec, &res, &log), 0);
    cpu_list(&own, want, sizeof want);
    assert_fact(log, "cpus", want);
    free(log);

    /* One CPU: the last one we may use (not CPU 0 when there are several). */
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &own))
            last = c;
    assert_true(last >= 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    spec.cpus = &one;
    spec.namespaces = true;
    assert_exited(run(&spec, &res, &log), 0);
    snprintf(want, sizeof want, "%d", last);
    assert_fact(log, "cpus", want);
    free(log);

    /* A CPU that does not exist: EINVAL from sched_setaffinity. */
    cpu_set_t none;
    CPU_ZERO(&none);
    spec.cpus = &none;
    char err[256];
    assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "sched_setaffinity"));
    assert_no_children();
}

/* When the namespaces cannot be made (here: no CAP_SYS_ADMIN), the emulator
 * still starts, without them, and the result says so. */
static void test_namespace_fallback(void **state)
{
    struct fixture *f = *state;
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &hdr, data) < 0)
            _exit(10);
        data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
        data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
        if (syscall(SYS_capset, &hdr, data) < 0)
            _exit(11);
        struct probe_args pa;
        struct isolate_spec spec = probe_spec(&pa, f, "exit=4", NULL);
        spec.namespaces = true;
        struct isolate_result res;
        if (isolate_spawn(&spec, &res, NULL, 0) != 0)
            _exit(12);
        if (res.namespaces_applied)
            _exit(13);
        if (!reaped_with(res.pid, 4))
            _exit(14);
        _exit(0);
    }
    assert_exited(wait_status(helper), 0);
    char *log = read_file(f->log);
    assert_non_null(log);
    assert_int_not_equal(fact_long(log, "pid"), 1);
    assert_int_equal(fact_long(log, "ppid"), helper);
    char ns[128];
    read_ns("pid", ns, sizeof ns);
    assert_fact(log, "ns_pid", ns);
    free(log);
}

/* No descriptor of the parent is left behind by any path. */
static void test_no_parent_fd_leak(void **state)
{
    struct fixture *f = *state;
    int before = count_fds();
    struct probe_args pa;
    struct isolate_spec spec = probe_spec(&pa, f, NULL);
    struct isolate_result res;
    char err[256];

    for (int ns = 0; ns < 2; ns++) {
        spec = probe_spec(&pa, f, NULL);
        spec.namespaces = ns;
        spec.seccomp = true;
        assert_int_equal(isolate_spawn(&spec, &res, err, sizeof err), 0);
        assert_exited(wait_status(res.pid), 0);

        spec.exec = "/nonexistent/x";
        assert_true(isolate_spawn(&spec, &res, err, sizeof err) < 0);
        spec.exec = PROBE_PATH;
        spec.user = "nobody2";
        assert_true(isolate_spawn(&spec, &res, err, sizeof err) < 0);
        spec.user = NULL;
        spec.log_path = "/nonexistent/dir/log";
        assert_true(isolate_spawn(&spec, &res, err, sizeof err) < 0);
    }
    assert_int_equal(count_fds(), before);
    assert_no_children();
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_plain_spawn),       T(test_log_append_and_mode), T(test_signals_reset),
        T(test_namespaces),        T(test_kill9_plain),         T(test_kill9_namespaces),
        T(test_parent_death),      T(test_user_nobody),         T(test_user_group_forms),
        T(test_unknown_user),      T(test_missing_exec),        T(test_child_stage_errors),
        T(test_bad_arguments),     T(test_seccomp_on),          T(test_seccomp_off),
        T(test_mount_propagation), T(test_caller_without_stdio), T(test_all_layers),
        T(test_affinity),          T(test_namespace_fallback),  T(test_no_parent_fd_leak),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
