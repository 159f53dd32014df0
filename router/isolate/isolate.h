/* router_isolate: start ONE device-emulator process, isolated.
 *
 * isolate_spawn() forks the emulator and, in the child, stacks these layers
 * before execve() (in this order):
 *
 *   1. Clean process state.  Signal dispositions back to SIG_DFL and an empty
 *      signal mask (the caller may block signals for a signalfd); setsid() so
 *      the emulator is its own session and process group leader; stdin from
 *      /dev/null, stdout and stderr appended to a log file; the readiness
 *      pipe on fd 3 (ISOLATE_READY_FD); every other fd >= 3 closed, so
 *      nothing of the router (control socket, xenstore, other emulators'
 *      pipes) leaks into the emulator.
 *   2. Namespaces (spec->namespaces): own mount, IPC and PID namespaces.  The
 *      emulator is PID 1 of its PID namespace yet a direct child of the
 *      caller, so waitpid() and kill() work on the returned pid.  Its mount
 *      tree is made private and a fresh /proc is mounted that shows only its
 *      own PID namespace; nothing it mounts reaches the host.  When the
 *      kernel refuses (EPERM, EINVAL, ENOSPC, EUSERS: no privilege, nested
 *      too deep, namespace limits) the emulator is started without them and
 *      isolate_result.namespaces_applied says so.
 *   3. CPU affinity (spec->cpus).
 *   4. Credentials (spec->user / spec->group): the supplementary groups are
 *      replaced by the one group, then the real, effective and saved gid and
 *      uid are set, and the child checks that they took.  Names are resolved
 *      in the caller before forking.
 *   5. PR_SET_NO_NEW_PRIVS, always: execve() can never gain privileges
 *      (set-uid binaries, file capabilities).
 *   6. PR_SET_PDEATHSIG(SIGKILL): the emulator dies when the thread that
 *      called isolate_spawn() dies, so emulators do not outlive a killed
 *      router.  Set after the credential change (which would clear it).
 *   7. Seccomp (spec->seccomp): a deny-list filter, last, so the set-up above
 *      is not itself filtered.  It refuses with EPERM the system calls an
 *      emulator never needs and that widen the kernel attack surface or
 *      undo the layers above (mount, namespaces, ptrace, modules, bpf,
 *      keyrings, ...); the table and the reason for each entry are in
 *      seccomp_profile.c.  Everything else is allowed.
 *
 * Any failure in the child before execve() is sent to the caller through a
 * close-on-exec pipe; isolate_spawn() then reaps the child and returns the
 * error.  When execve() succeeds the pipe closes and isolate_spawn() returns
 * 0: from then on the emulator belongs to the caller.
 *
 * The library keeps no global state, never prints and never exits.
 *
 * cpu_set_t needs _GNU_SOURCE defined before the first system header. */
#ifndef ROUTER_ISOLATE_H
#define ROUTER_ISOLATE_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifndef CPU_SETSIZE
#error "isolate.h needs cpu_set_t: #define _GNU_SOURCE before any #include"
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct isolate_spec {
    const char *exec;      /* absolute path of the executable */
    char *const *argv;     /* argv[0] first, NULL-terminated */
    char *const *envp;     /* NULL: inherit the caller's environ */
    const char *log_path;  /* stdout+stderr appended here (O_APPEND|O_CREAT, 0640
                              before the umask); NULL: /dev/null */
    int ready_fd;          /* a pipe write end; in the child it becomes fd 3
                              (ISOLATE_READY_FD); -1: none.  The caller keeps
                              its own copy and should close it after the call */
    const char *user;      /* NULL: keep the caller's uid; a name or a number */
    const char *group;     /* NULL: the user's primary group (or keep, if no
                              user); a name or a number.  A numeric user
                              without a passwd entry needs a group */
    bool namespaces;       /* own mount, IPC and PID namespaces */
    bool seccomp;          /* the default deny-list filter */
    const cpu_set_t *cpus; /* NULL: inherit affinity */
};

#define ISOLATE_READY_FD 3

struct isolate_result {
    pid_t pid;               /* the emulator's pid as seen by the caller;
                                waitpid() works on it */
    bool namespaces_applied; /* false if namespaces were asked but unavailable
                                (EPERM/EINVAL/ENOSPC/EUSERS): spawned without
                                them.  Always false if not asked */
};

/* Start spec->exec isolated as described above.
 *
 * Returns 0 with res->pid set, or a negative errno with a one-line reason in
 * err (when err is not NULL and errlen > 0), e.g.
 *     "setuid(1000): Operation not permitted"
 *     "exec /x/y: No such file or directory"
 *     "user 'nobody2' does not exist"
 * On failure nothing is left running and no zombie is left (the child, if
 * one was forked, has been reaped) and res->pid is -1.
 *
 * The caller must not ignore SIGCHLD (SIG_IGN makes children reap
 * themselves).  Call it from a thread that lives as long as the emulator
 * should: the parent-death signal follows the calling thread. */
int isolate_spawn(const struct isolate_spec *spec, struct isolate_result *res, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* ROUTER_ISOLATE_H */
