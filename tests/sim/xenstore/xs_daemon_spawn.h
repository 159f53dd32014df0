/*
 * Start xenstored-sim on a socket in a fresh temporary directory and stop
 * it again.  Header-only so the tests that use it link nothing of ours.
 */
#ifndef XS_DAEMON_SPAWN_H
#define XS_DAEMON_SPAWN_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct xs_daemon {
    pid_t pid;
    char dir[64];
    char sock[128];
};

static inline void xs_daemon_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A connected stream socket to path, or -1. */
static inline int xs_daemon_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    int fd;

    if (len >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, len + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 0 once the daemon answers on its socket (within 10 s), -1 otherwise. */
static inline int xs_daemon_start(struct xs_daemon *d, const char *binary)
{
    snprintf(d->dir, sizeof(d->dir), "/tmp/xs-test-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    snprintf(d->sock, sizeof(d->sock), "%s/socket", d->dir);
    d->pid = fork();
    if (d->pid < 0)
        return -1;
    if (d->pid == 0) {
        execl(binary, binary, d->sock, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        int fd = xs_daemon_connect(d->sock);
        int status;

        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = -1;
            return -1;
        }
        xs_daemon_sleep_ms(10);
    }
    return -1;
}

/* Is the daemon process still running? */
static inline int xs_daemon_alive(const struct xs_daemon *d)
{
    int status;

    return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

/*
 * SIGTERM, wait up to 10 s (then SIGKILL).  Returns 0 if it exited with
 * status 0 and removed its socket, -1 otherwise.  Removes the directory.
 */
static inline int xs_daemon_stop(struct xs_daemon *d)
{
    int status = 0, rc = -1;
    struct stat st;

    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        for (int i = 0; i < 1000; i++) {
            pid_t r = waitpid(d->pid, &status, WNOHANG);

            if (r == d->pid) {
                rc = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
                break;
            }
            xs_daemon_sleep_ms(10);
        }
        if (rc < 0 && waitpid(d->pid, &status, WNOHANG) == 0) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &status, 0);
        }
        d->pid = -1;
    }
    if (stat(d->sock, &st) == 0) {
        rc = -1;  /* the daemon should have removed it */
        unlink(d->sock);
    }
    rmdir(d->dir);
    return rc;
}

#endif
