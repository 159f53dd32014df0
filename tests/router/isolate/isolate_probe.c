/* isolate_probe: the program test_isolate spawns through isolate_spawn().
 *
 * It writes what it finds about its own process to stdout, one "key=value"
 * per line (stdout is the log file the test reads back), and one line to
 * stderr.  Arguments, any order:
 *   exit=N      exit with status N (default 0)
 *   syscalls    try the system calls the seccomp profile denies, report errno
 *   mountdir=D  also mount a tmpfs on D (and unmount it again)
 *   keepmount   do not unmount it
 *   wait        after reporting (and writing "ready" to fd 3), wait forever
 *
 * It ends with _exit(), never exit(): a sanitizer's leak check at exit would
 * need ptrace, which the seccomp profile denies. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    if (e == 0)
        return "0";
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

/* 0 or errno of the call that returned R. */
static const char *result(long r)
{
    return ename(r < 0 ? errno : 0);
}

static void print_link(const char *key, const char *path)
{
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = '\0';
    printf("%s=%s\n", key, n < 0 ? ename(errno) : buf);
}

static void print_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        printf("fds=%s\n", ename(errno));
        return;
    }
    int fds[256], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    printf("fds=");
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", fds[i]);
    printf("\n");
}

static void print_procpids(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    if (!d) {
        printf("procpids=%s\n", ename(errno));
        return;
    }
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            n++;
    closedir(d);
    printf("procpids=%d\n", n);
}

static void print_status_field(const char *key, const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t len = strlen(field);
    const char *v = "?";
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            v = line + len + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            line[strcspn(line, "\n")] = '\0';
            break;
        }
    }
    printf("%s=%s\n", key, v);
    if (f)
        fclose(f);
}

static void *thread_main(void *arg)
{
    return arg;
}

static void try_syscalls(const char *mountdir, bool keepmount)
{
    long r = mount("none", "/", "isolate-probe-no-such-fs", 0, NULL);
    printf("mount_bogus=%s\n", result(r));
    r = umount2("/isolate-probe-no-such-dir", 0);
    printf("umount2=%s\n", result(r));
    if (mountdir) {
        r = mount("isolate-probe", mountdir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k");
        printf("mount_tmpfs=%s\n", result(r));
        if (r == 0 && !keepmount)
            umount2(mountdir, MNT_DETACH);
    }
    r = unshare(CLONE_NEWUTS);
    printf("unshare=%s\n", result(r));
    /* A pid that cannot exist: ESRCH when allowed, EPERM when filtered. */
    r = ptrace(PTRACE_ATTACH, (pid_t)0x3ffffffe, NULL, NULL);
    printf("ptrace=%s\n", result(r));
    r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUTS | SIGCHLD), NULL, NULL, NULL, NULL);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    printf("clone_newuts=%s\n", result(r));
    r = syscall(SYS_clone3, NULL, 0);
    printf("clone3=%s\n", result(r));

    /* What must keep working under the filter: fork and threads. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(42);
    int st = 0;
    printf("fork=%s\n", pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
                                WEXITSTATUS(st) == 42
                            ? "ok"
                            : "failed");
    pthread_t t;
    int rc = pthread_create(&t, NULL, thread_main, NULL);
    if (rc == 0)
        pthread_join(t, NULL);
    printf("thread=%s\n", ename(rc));
}

int main(int argc, char **argv)
{
    int code = 0;
    bool wait_forever = false, syscalls = false, keepmount = false;
    const char *mountdir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "exit=", 5) == 0)
            code = atoi(argv[i] + 5);
        else if (strcmp(argv[i], "wait") == 0)
            wait_forever = true;
        else if (strcmp(argv[i], "syscalls") == 0)
            syscalls = true;
        else if (strcmp(argv[i], "keepmount") == 0)
            keepmount = true;
        else if (strncmp(argv[i], "mountdir=", 9) == 0)
            mountdir = argv[i] + 9;
    }

    printf("argv0=%s\n", argv[0]);
    printf("pid=%d\n", (int)getpid());
    printf("ppid=%d\n", (int)getppid());
    printf("sid_is_pid=%d\n", getsid(0) == getpid());
    printf("pgid_is_pid=%d\n", getpgid(0) == getpid());
    printf("uid=%u\neuid=%u\ngid=%u\negid=%u\n", (unsigned)getuid(), (unsigned)geteuid(),
           (unsigned)getgid(), (unsigned)getegid());
    gid_t groups[64];
    int ng = getgroups(64, groups);
    printf("groups=");
    for (int i = 0; i < ng; i++)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf("\n");
    printf("nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    int pdeath = -1;
    prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    printf("pdeathsig=%d\n", pdeath);
    print_status_field("seccomp", "Seccomp");
    print_status_field("sigblk", "SigBlk");
    print_status_field("sigign", "SigIgn");
    print_fds();
    print_link("stdin", "/proc/self/fd/0");
    print_link("ns_mnt", "/proc/self/ns/mnt");
    print_link("ns_ipc", "/proc/self/ns/ipc");
    print_link("ns_pid", "/proc/self/ns/pid");
    print_procpids();
    cpu_set_t set;
    CPU_ZERO(&set);
    printf("cpus=");
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int first = 1;
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) {
                printf("%s%d", first ? "" : ",", c);
                first = 0;
            }
    }
    printf("\n");
    const char *env = getenv("ISOLATE_TEST_VAR");
    printf("env=%s\n", env ? env : "(unset)");
    printf("stdout-line\n");

    if (syscalls)
        try_syscalls(mountdir, keepmount);

    /* fd 3: the readiness pipe, if open. */
    int flags = fcntl(3, F_GETFD);
    if (flags < 0) {
        printf("ready=%s\n", ename(errno));
    } else {
        ssize_t n = write(3, "ready\n", 6);
        printf("ready=%s\n", n == 6 ? "ok" : ename(errno));
    }
    printf("end\n");
    fflush(stdout);
    fprintf(stderr, "stderr-line\n");
    fflush(stderr);

    if (wait_forever)
        for (;;)
            pause();
    _exit(code);
}
