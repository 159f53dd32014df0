/* router_isolate: spawn one emulator process, isolated (see isolate.h).
 *
 * Everything that can fail for a reason the caller should hear about in
 * words (user and group names, the seccomp filter) is prepared in the parent
 * before forking.  Between fork and execve the child only makes system calls:
 * no allocation, no stdio, no library locks.  That matters because the
 * namespaced path forks with a raw clone(), after which glibc's own
 * bookkeeping (atfork handlers, the thread list) has not been redone; for the
 * same reason credentials are changed with the raw system calls, not glibc's
 * wrappers that would try to broadcast the change to the parent's threads.
 *
 * A child failure travels to the parent as a struct child_report (stage and
 * errno) over a close-on-exec pipe.  EOF on that pipe means execve()
 * succeeded. */
#define _GNU_SOURCE
#include "isolate.h"

#include "accounts.h"
#include "isolate_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The 32-bit-id variants where an architecture has both (i386, arm). */
#ifdef SYS_setresuid32
#define NR_SETRESUID SYS_setresuid32
#define NR_SETRESGID SYS_setresgid32
#define NR_GETRESUID SYS_getresuid32
#define NR_GETRESGID SYS_getresgid32
#define NR_SETGROUPS SYS_setgroups32
#define NR_GETGROUPS SYS_getgroups32
#else
#define NR_SETRESUID SYS_setresuid
#define NR_SETRESGID SYS_setresgid
#define NR_GETRESUID SYS_getresuid
#define NR_GETRESGID SYS_getresgid
#define NR_SETGROUPS SYS_setgroups
#define NR_GETGROUPS SYS_getgroups
#endif

/* Where the child failed. */
enum stage {
    ST_SIGNALS = 1,
    ST_MOUNT_PRIVATE,
    ST_MOUNT_PROC,
    ST_SETSID,
    ST_READY_FD,
    ST_STDIN,
    ST_LOG,
    ST_STDIO,
    ST_CLOSE_FDS,
    ST_AFFINITY,
    ST_SETGROUPS,
    ST_SETGID,
    ST_SETUID,
    ST_CREDS_CHECK,
    ST_NO_NEW_PRIVS,
    ST_PDEATHSIG,
    ST_SECCOMP,
    ST_EXEC,
};

struct child_report {
    int32_t stage;
    int32_t err;
};

/* Everything the child needs, prepared by the parent. */
struct child_ctx {
    const char *exec;
    char *const *argv;
    char *const *envp;
    const char *log_path; /* NULL: /dev/null */
    int ready_fd;         /* -1: none */
    int errfd;            /* write end of the report pipe, >= 4, CLOEXEC */
    pid_t parent;         /* the caller's pid (not valid inside a PID namespace) */
    bool set_gid;
    bool set_uid;
    gid_t gid;
    uid_t uid;
    const cpu_set_t *cpus;
    const struct sock_fprog *filter; /* NULL: no seccomp */
};

/* ---- messages ---------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* strerror, thread-safe; BUF must hold ERRSTR_LEN bytes. */
#define ERRSTR_LEN 128
static const char *errstr(int e, char *buf)
{
    return strerror_r(e, buf, ERRSTR_LEN);
}

/* ---- the child ----------------------------------------------------------- */

static void __attribute__((noreturn)) child_fail(int errfd, enum stage stage, int e)
{
    struct child_report r = { .stage = (int32_t)stage, .err = e ? e : EIO };
    ssize_t n;
    do
        n = write(errfd, &r, sizeof r);
    while (n < 0 && errno == EINTR);
    _exit(127);
}

/* Open PATH close-on-exec at a descriptor >= 4, out of the way of the fds
 * 0-3 the child is about to set.  -1 with errno on failure. */
static int open_high(const char *path, int flags, mode_t mode)
{
    int fd = open(path, flags | O_CLOEXEC, mode);
    if (fd < 0 || fd >= 4)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    int e = errno;
    close(fd);
    errno = e;
    return high;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Close every fd >= FIRST except KEEP by listing /proc/self/fd (for kernels
 * before close_range, 5.9), or by trying each fd below RLIMIT_NOFILE. */
static int close_from_slow(int first, int keep)
{
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -1;
        rlim_t max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20)
                                                                              : rl.rlim_cur;
        for (rlim_t fd = (rlim_t)first; fd < max; fd++)
            if ((int)fd != keep)
                close((int)fd);
        return 0;
    }
    /* Closing while reading may skip entries: repeat until a pass closes
     * nothing. */
    for (;;) {
        bool closed = false;
        if (lseek(dfd, 0, SEEK_SET) < 0)
            goto fail;
        for (;;) {
            char buf[4096] __attribute__((aligned(8)));
            long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                goto fail;
            if (n == 0)
                break;
            for (long off = 0; off < n;) {
                const struct linux_dirent64 *d = (const void *)(buf + off);
                off += d->d_reclen;
                int fd = 0;
                const char *p = d->d_name;
                if (*p < '0' || *p > '9')
                    continue; /* "." and ".." */
                for (; *p >= '0' && *p <= '9' && fd < (1 << 24); p++)
                    fd = fd * 10 + (*p - '0');
                if (fd >= first && fd != keep && fd != dfd) {
                    close(fd);
                    closed = true;
                }
            }
        }
        if (!closed)
            break;
    }
    close(dfd);
    return 0;
fail:;
    int e = errno;
    close(dfd);
    errno = e;
    return -1;
}

/* Close every fd >= FIRST except KEEP (KEEP >= FIRST). */
static int close_from(int first, int keep)
{
#ifdef SYS_close_range
    long rc = 0;
    if (keep > first)
        rc = syscall(SYS_close_range, (unsigned)first, (unsigned)keep - 1, 0u);
    if (rc == 0)
        rc = syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
    if (rc == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
#endif
    return close_from_slow(first, keep);
}

/* Set the credentials with the raw system calls (see the top of the file)
 * and check that they took. */
static void child_credentials(const struct child_ctx *c)
{
    if (c->set_gid) {
        gid_t g = c->gid;
        if (syscall(NR_SETGROUPS, 1, &g) < 0)
            child_fail(c->errfd, ST_SETGROUPS, errno);
        if (syscall(NR_SETRESGID, (unsigned long)g, (unsigned long)g, (unsigned long)g) < 0)
            child_fail(c->errfd, ST_SETGID, errno);
    }
    if (c->set_uid) {
        uid_t u = c->uid;
        if (syscall(NR_SETRESUID, (unsigned long)u, (unsigned long)u, (unsigned long)u) < 0)
            child_fail(c->errfd, ST_SETUID, errno);
    }
    if (c->set_gid) {
        gid_t r, e, s, list[2];
        if (syscall(NR_GETRESGID, &r, &e, &s) < 0 || r != c->gid || e != c->gid || s != c->gid)
            child_fail(c->errfd, ST_CREDS_CHECK, EPERM);
        long n = syscall(NR_GETGROUPS, 2, list);
        if (n != 1 || list[0] != c->gid)
            child_fail(c->errfd, ST_CREDS_CHECK, EPERM);
    }
    if (c->set_uid) {
        uid_t r, e, s;
        if (syscall(NR_GETRESUID, &r, &e, &s) < 0 || r != c->uid || e != c->uid || s != c->uid)
            child_fail(c->errfd, ST_CREDS_CHECK, EPERM);
    }
}

/* Runs in the forked child; execs or _exits.  IN_PIDNS: forked into new
 * namespaces (the raw clone path). */
static void __attribute__((noreturn)) child_main(const struct child_ctx *c, bool in_pidns)
{
    int errfd = c->errfd;

    /* 1. Signals.  The parent forked with every signal blocked, so none of
     * its handlers can run here; reset them, then unblock. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &sa, NULL); /* EINVAL for libc-internal signals */
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        child_fail(errfd, ST_SIGNALS, errno);

    /* 2. The mount namespace: private, with a /proc of the new PID
     * namespace (a container may forbid mounting proc: keep the old one). */
    if (in_pidns) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            child_fail(errfd, ST_MOUNT_PRIVATE, errno);
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
            errno != EPERM)
            child_fail(errfd, ST_MOUNT_PROC, errno);
    }

    /* 3. Own session and process group. */
    if (setsid() < 0)
        child_fail(errfd, ST_SETSID, errno);

    /* 4. File descriptors.  Everything is first opened or copied at fds >= 4
     * so that setting 0-3 cannot overwrite a source (the caller may have
     * closed its stdio, or pass a ready_fd below 4). */
    int ready = -1;
    if (c->ready_fd >= 0) {
        ready = fcntl(c->ready_fd, F_DUPFD_CLOEXEC, 4);
        if (ready < 0)
            child_fail(errfd, ST_READY_FD, errno);
    }
    int in = open_high("/dev/null", O_RDONLY | O_NOCTTY, 0);
    if (in < 0)
        child_fail(errfd, ST_STDIN, errno);
    int out = c->log_path
                  ? open_high(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY, 0640)
                  : open_high("/dev/null", O_WRONLY | O_NOCTTY, 0);
    if (out < 0)
        child_fail(errfd, ST_LOG, errno);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        child_fail(errfd, ST_STDIO, errno);
    if (ready >= 0 && dup2(ready, ISOLATE_READY_FD) < 0) /* dup2 clears CLOEXEC */
        child_fail(errfd, ST_READY_FD, errno);
    /* errfd (>= 4, CLOEXEC) stays until execve. */
    if (close_from(ready >= 0 ? ISOLATE_READY_FD + 1 : ISOLATE_READY_FD, errfd) < 0)
        child_fail(errfd, ST_CLOSE_FDS, errno);

    /* 5. CPU affinity. */
    if (c->cpus && sched_setaffinity(0, sizeof(cpu_set_t), c->cpus) < 0)
        child_fail(errfd, ST_AFFINITY, errno);

    /* 6. Credentials. */
    child_credentials(c);

    /* 7. No privilege gain through execve, ever. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(errfd, ST_NO_NEW_PRIVS, errno);

    /* 8. Die with the caller.  After the credential change, which clears it.
     * If the caller died before this point the signal will never come: look.
     * Inside a PID namespace getppid() is 0, so also look at the report pipe,
     * whose read end only the caller holds: no reader left means it is gone. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        child_fail(errfd, ST_PDEATHSIG, errno);
    if (!in_pidns && getppid() != c->parent)
        _exit(127);
    struct pollfd pfd = { .fd = errfd, .events = POLLOUT };
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLERR))
        _exit(127);

    /* 9. Seccomp, last before execve (which it allows). */
    if (c->filter && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->filter, 0, 0) < 0)
        child_fail(errfd, ST_SECCOMP, errno);

    execve(c->exec, c->argv, c->envp);
    child_fail(errfd, ST_EXEC, errno);
}

/* ---- user and group ---------------------------------------------------- */

static int resolve_credentials(const struct isolate_spec *spec, struct child_ctx *c, char *err,
                               size_t errlen)
{
    char eb[ERRSTR_LEN];
    bool have_primary = false;
    gid_t primary = 0;

    if (spec->user) {
        unsigned id;
        int rc = account_parse_id(spec->user, &id);
        if (rc < 0 || (rc == 0 && !*spec->user)) {
            set_err(err, errlen, "user '%s' is not a valid name or number", spec->user);
            return -EINVAL;
        }
        if (rc == 1) {
            c->uid = (uid_t)id;
            rc = account_user_by_uid(c->uid, &primary, NULL);
        } else {
            rc = account_user_by_name(spec->user, &c->uid, &primary);
            if (rc == 0) {
                set_err(err, errlen, "user '%s' does not exist", spec->user);
                return -ENOENT;
            }
        }
        if (rc < 0) {
            set_err(err, errlen, "looking up user '%s': %s", spec->user, errstr(-rc, eb));
            return rc;
        }
        have_primary = rc == 1;
        c->set_uid = true;
    }

    if (spec->group) {
        unsigned id;
        int rc = account_parse_id(spec->group, &id);
        if (rc < 0 || (rc == 0 && !*spec->group)) {
            set_err(err, errlen, "group '%s' is not a valid name or number", spec->group);
            return -EINVAL;
        }
        if (rc == 1) {
            c->gid = (gid_t)id;
        } else {
            rc = account_group_by_name(spec->group, &c->gid);
            if (rc == 0) {
                set_err(err, errlen, "group '%s' does not exist", spec->group);
                return -ENOENT;
            }
            if (rc < 0) {
                set_err(err, errlen, "looking up group '%s': %s", spec->group,
                        errstr(-rc, eb));
                return rc;
            }
        }
        c->set_gid = true;
    } else if (spec->user) {
        if (!have_primary) {
            set_err(err, errlen, "user '%s' has no passwd entry, so no primary group: give a group",
                    spec->user);
            return -ENOENT;
        }
        c->gid = primary;
        c->set_gid = true;
    }
    return 0;
}

/* ---- the parent ------------------------------------------------------------ */

static void reap(pid_t pid)
{
    /* ECHILD: a SIGCHLD handler of the caller's reaped it first. */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void describe_failure(const struct isolate_spec *spec, const struct child_ctx *c,
                             const struct child_report *r, char *err, size_t errlen)
{
    char eb[ERRSTR_LEN];
    const char *es = errstr(r->err, eb);
    switch ((enum stage)r->stage) {
    case ST_SIGNALS:
        set_err(err, errlen, "resetting the signal mask: %s", es);
        break;
    case ST_MOUNT_PRIVATE:
        set_err(err, errlen, "making the mount tree private: %s", es);
        break;
    case ST_MOUNT_PROC:
        set_err(err, errlen, "mounting proc on /proc: %s", es);
        break;
    case ST_SETSID:
        set_err(err, errlen, "setsid: %s", es);
        break;
    case ST_READY_FD:
        set_err(err, errlen, "ready fd %d to fd %d: %s", spec->ready_fd, ISOLATE_READY_FD, es);
        break;
    case ST_STDIN:
        set_err(err, errlen, "open /dev/null: %s", es);
        break;
    case ST_LOG:
        set_err(err, errlen, "open log %s: %s", spec->log_path ? spec->log_path : "/dev/null",
                es);
        break;
    case ST_STDIO:
        set_err(err, errlen, "setting up stdin/stdout/stderr: %s", es);
        break;
    case ST_CLOSE_FDS:
        set_err(err, errlen, "closing inherited fds: %s", es);
        break;
    case ST_AFFINITY:
        set_err(err, errlen, "sched_setaffinity: %s", es);
        break;
    case ST_SETGROUPS:
        set_err(err, errlen, "setgroups(%u): %s", (unsigned)c->gid, es);
        break;
    case ST_SETGID:
        set_err(err, errlen, "setgid(%u): %s", (unsigned)c->gid, es);
        break;
    case ST_SETUID:
        set_err(err, errlen, "setuid(%u): %s", (unsigned)c->uid, es);
        break;
    case ST_CREDS_CHECK:
        set_err(err, errlen, "credentials did not take (uid %u, gid %u)", (unsigned)c->uid,
                (unsigned)c->gid);
        break;
    case ST_NO_NEW_PRIVS:
        set_err(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", es);
        break;
    case ST_PDEATHSIG:
        set_err(err, errlen, "prctl(PR_SET_PDEATHSIG): %s", es);
        break;
    case ST_SECCOMP:
        set_err(err, errlen, "installing the seccomp filter: %s", es);
        break;
    case ST_EXEC:
        set_err(err, errlen, "exec %s: %s", spec->exec, es);
        break;
    default:
        set_err(err, errlen, "child failed at unknown stage %d: %s", (int)r->stage, es);
        break;
    }
}

static bool clone_fallback_errno(int e)
{
    return e == EPERM || e == EINVAL || e == ENOSPC || e == EUSERS;
}

int isolate_spawn(const struct isolate_spec *spec, struct isolate_result *res, char *err,
                  size_t errlen)
{
    char eb[ERRSTR_LEN];
    if (err && errlen)
        err[0] = '\0';
    if (res) {
        res->pid = -1;
        res->namespaces_applied = false;
    }
    if (!spec || !res) {
        set_err(err, errlen, "isolate_spawn: spec and res are required");
        return -EINVAL;
    }
    if (!spec->exec || spec->exec[0] != '/') {
        set_err(err, errlen, "exec '%s' is not an absolute path",
                spec->exec ? spec->exec : "(null)");
        return -EINVAL;
    }
    if (!spec->argv || !spec->argv[0]) {
        set_err(err, errlen, "exec %s: argv is empty (argv[0] is required)", spec->exec);
        return -EINVAL;
    }
    if (spec->log_path && !*spec->log_path) {
        set_err(err, errlen, "log path is empty");
        return -EINVAL;
    }
    if (spec->ready_fd < -1 || (spec->ready_fd >= 0 && fcntl(spec->ready_fd, F_GETFD) < 0)) {
        set_err(err, errlen, "ready fd %d: %s", spec->ready_fd, errstr(EBADF, eb));
        return -EBADF;
    }

    struct child_ctx c = {
        .exec = spec->exec,
        .argv = spec->argv,
        .envp = spec->envp ? spec->envp : environ,
        .log_path = spec->log_path,
        .ready_fd = spec->ready_fd,
        .errfd = -1,
        .parent = getpid(),
        .cpus = spec->cpus,
    };
    int rc = resolve_credentials(spec, &c, err, errlen);
    if (rc < 0)
        return rc;

    struct sock_fprog filter = { 0 };
    if (spec->seccomp) {
        rc = isolate_seccomp_build(&filter, err, errlen);
        if (rc < 0)
            return rc;
        c.filter = &filter;
    }

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = -errno;
        set_err(err, errlen, "pipe2: %s", errstr(-rc, eb));
        isolate_seccomp_release(&filter);
        return rc;
    }
    /* The child sets fds 0-3; keep the report pipe's write end above. */
    if (pipefd[1] < 4) {
        int high = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 4);
        if (high < 0) {
            rc = -errno;
            set_err(err, errlen, "fcntl(F_DUPFD_CLOEXEC): %s", errstr(-rc, eb));
            close(pipefd[0]);
            close(pipefd[1]);
            isolate_seccomp_release(&filter);
            return rc;
        }
        close(pipefd[1]);
        pipefd[1] = high;
    }
    c.errfd = pipefd[1];

    /* Fork with every signal blocked: no handler of the caller's may run in
     * the child before it has reset them. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);

    pid_t pid = -1;
    int fork_errno = 0;
    const char *how = "fork";
    if (spec->namespaces) {
        /* fork semantics (NULL stack), so the child is ours to waitpid. */
        long r = syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | SIGCHLD),
                         NULL, NULL, NULL, NULL);
        if (r == 0)
            child_main(&c, true);
        if (r > 0) {
            pid = (pid_t)r;
            res->namespaces_applied = true;
        } else if (!clone_fallback_errno(errno)) {
            fork_errno = errno;
            how = "clone";
        }
    }
    if (pid < 0 && fork_errno == 0) {
        pid = fork();
        if (pid == 0)
            child_main(&c, false);
        if (pid < 0)
            fork_errno = errno;
    }

    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    close(pipefd[1]);
    isolate_seccomp_release(&filter);

    if (pid < 0) {
        close(pipefd[0]);
        res->namespaces_applied = false;
        set_err(err, errlen, "%s: %s", how, errstr(fork_errno, eb));
        return -fork_errno;
    }

    struct child_report report;
    ssize_t n;
    do
        n = read(pipefd[0], &report, sizeof report);
    while (n < 0 && errno == EINTR);
    int read_errno = errno;
    close(pipefd[0]);

    if (n == 0) {
        res->pid = pid;
        return 0;
    }
    res->namespaces_applied = false;
    if (n == (ssize_t)sizeof report) {
        reap(pid);
        describe_failure(spec, &c, &report, err, errlen);
        return -report.err;
    }
    /* Cannot happen with a pipe and an 8-byte write; do not leave the child
     * in an unknown state. */
    kill(pid, SIGKILL);
    reap(pid);
    if (n < 0) {
        set_err(err, errlen, "reading the child's status: %s", errstr(read_errno, eb));
        return -read_errno;
    }
    set_err(err, errlen, "reading the child's status: short read");
    return -EIO;
}
