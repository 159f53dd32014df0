/* xensim run: start the private daemon, wait until it is ready, stop it. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

int cli_exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len);

    if (n <= 0 || (size_t)n >= len)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "status %#x", status);
}

/* In the child: become the daemon.  Never returns. */
static void exec_daemon(const char *path, const char *dir, int ready_fd,
                        const sigset_t *mask)
{
    char fdnum[16];

    setpgid(0, 0); /* the terminal's ^C is for the command, not the daemon */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (ready_fd <= STDERR_FILENO)
        ready_fd = fcntl(ready_fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    if (ready_fd < 0 || fcntl(ready_fd, F_SETFD, 0) < 0)
        _exit(126);
    snprintf(fdnum, sizeof(fdnum), "%d", ready_fd);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execl(path, DAEMON_NAME, "--dir", dir, "--ready-fd", fdnum, (char *)NULL);
    fprintf(stderr, "xensim run: cannot execute %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* Wait for the ready byte: 1 ready, 0 the daemon closed the pipe, -1 timeout. */
static int wait_ready(int fd)
{
    int64_t deadline = now_ms() + DAEMON_READY_MS;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char byte;

    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        ssize_t r = read(fd, &byte, 1);
        if (r == 1)
            return 1;
        if (r == 0 || errno != EINTR)
            return 0;
    }
}

static bool wait_exit(struct daemon_proc *d, unsigned int ms);

/* SIGTERM, then SIGKILL if it does not go: no messages. */
static void stop_quietly(struct daemon_proc *d)
{
    kill(d->pid, SIGTERM);
    if (!wait_exit(d, DAEMON_STOP_MS)) {
        kill(d->pid, SIGKILL);
        wait_exit(d, UINT_MAX / 2);
    }
}

int daemon_start(const struct cli_ctx *ctx, const char *path, const char *dir,
                 const sigset_t *child_mask, struct daemon_proc *d)
{
    int pipefd[2];

    *d = (struct daemon_proc){ .pid = -1, .reaped = true };
    if (access(path, X_OK) < 0)
        return cli_error(ctx, CLI_SETUP, "cannot find the daemon: %s: %s", path,
                         strerror(errno));
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cli_error(ctx, CLI_SETUP, "pipe: %s", strerror(errno));
    fflush(NULL);
    d->pid = fork();
    if (d->pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return cli_error(ctx, CLI_SETUP, "fork: %s", strerror(errno));
    }
    if (d->pid == 0)
        exec_daemon(path, dir, pipefd[1], child_mask);
    d->reaped = false;
    close(pipefd[1]);
    int ready = wait_ready(pipefd[0]);
    close(pipefd[0]);
    if (ready == 1)
        return CLI_OK;
    if (ready == 0 && wait_exit(d, 1000)) {
        char how[96];
        describe_status(d->status, how, sizeof(how));
        return cli_error(ctx, CLI_SETUP, "the daemon exited before it was ready (%s)", how);
    }
    stop_quietly(d);
    if (ready == 0)
        return cli_error(ctx, CLI_SETUP, "the daemon closed its ready fd without a byte");
    return cli_error(ctx, CLI_SETUP, "the daemon was not ready within %u s",
                     DAEMON_READY_MS / 1000);
}

static bool reap(struct daemon_proc *d)
{
    int status;
    pid_t r;

    if (d->reaped)
        return true;
    do
        r = waitpid(d->pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == d->pid || (r < 0 && errno == ECHILD)) {
        d->reaped = true;
        d->status = r == d->pid ? status : 0;
    }
    return d->reaped;
}

void daemon_poll(const struct cli_ctx *ctx, struct daemon_proc *d)
{
    char how[96];

    if (d->reaped || !reap(d))
        return;
    describe_status(d->status, how, sizeof(how));
    cli_error(ctx, 0, "warning: the daemon exited while the command ran (%s)", how);
}

/* Wait up to `ms` for the daemon to exit; true once reaped. */
static bool wait_exit(struct daemon_proc *d, unsigned int ms)
{
    int64_t deadline = now_ms() + ms;
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (!reap(d)) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
        sigtimedwait(&chld, NULL, &ts);
    }
    return true;
}

void daemon_stop(const struct cli_ctx *ctx, struct daemon_proc *d)
{
    char how[96];

    if (d->reaped)
        return;
    kill(d->pid, SIGTERM);
    if (!wait_exit(d, DAEMON_STOP_MS)) {
        cli_error(ctx, 0, "warning: the daemon did not stop within %u s; killing it",
                  DAEMON_STOP_MS / 1000);
        kill(d->pid, SIGKILL);
        wait_exit(d, UINT_MAX / 2);
        return;
    }
    bool clean = (WIFEXITED(d->status) && WEXITSTATUS(d->status) == 0) ||
                 (WIFSIGNALED(d->status) && WTERMSIG(d->status) == SIGTERM);
    if (!clean) {
        describe_status(d->status, how, sizeof(how));
        cli_error(ctx, 0, "warning: the daemon stopped with %s", how);
    }
}
