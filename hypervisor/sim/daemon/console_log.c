/* The debug console's printer thread (console_log.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console_log.h"
#include "hvio.h"

#define CONSOLE_LOG_LINES 512
#define LINE_BYTES (HVIO_CONSOLE_LINE_MAX + sizeof("(d65535) \n"))
#define POLL_MS 100
#define STUCK_POLLS_AT_STOP 10 /* a second without room: give up */
#define WAIT_NS (POLL_MS * 1000000L)

struct console_log {
    int fd;
    pthread_t thread;
    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t changed; /* a line queued, or stopping */
    pthread_cond_t room;    /* a line taken off a full queue */
    bool stuck; /* the output had no room for POLL_MS, and nothing written since */
    bool stopping;
    unsigned int head, count; /* the queue: line[head], then the next count - 1 */
    struct {
        char text[LINE_BYTES];
        unsigned long dropped_after; /* lines lost to a full queue right after it */
    } line[CONSOLE_LOG_LINES];
};

static void set_stuck(struct console_log *log, bool stuck)
{
    pthread_mutex_lock(&log->lock);
    log->stuck = stuck;
    if (stuck) /* waiting lines drop now */
        pthread_cond_broadcast(&log->room);
    pthread_mutex_unlock(&log->lock);
}

static bool is_stopping(struct console_log *log)
{
    pthread_mutex_lock(&log->lock);
    bool stopping = log->stopping;
    pthread_mutex_unlock(&log->lock);
    return stopping;
}

/*
 * Write all of buf, waiting for room with poll() so that a stop is noticed;
 * false when the output failed, or stayed full for a second after the stop.
 */
static bool write_out(struct console_log *log, const char *buf, size_t len)
{
    unsigned int no_room = 0; /* polls in a row that found no room */

    while (len > 0) {
        struct pollfd p = { .fd = log->fd, .events = POLLOUT };
        int n = poll(&p, 1, POLL_MS);

        if (n < 0 && errno != EINTR)
            return false;
        if (n == 0) {
            if (no_room++ == 0)
                set_stuck(log, true);
            if (no_room >= STUCK_POLLS_AT_STOP && is_stopping(log))
                return false;
            continue;
        }
        if (n < 0)
            continue;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
            return false;
        ssize_t w = write(log->fd, buf, len);
        if (w < 0 && errno != EINTR && errno != EAGAIN)
            return false;
        if (w > 0) {
            buf += w;
            len -= (size_t)w;
            if (no_room)
                set_stuck(log, false);
            no_room = 0;
        }
    }
    return true;
}

/* As Xen says "printk: N messages suppressed". */
static bool report_dropped(struct console_log *log, unsigned long dropped)
{
    char note[96];
    int n = snprintf(note, sizeof(note),
                     "xensim: %lu debug console line(s) dropped: stderr did not keep up\n",
                     dropped);

    return write_out(log, note, (size_t)n);
}

static void *printer(void *arg)
{
    struct console_log *log = arg;
    char buf[LINE_BYTES];
    bool broken = false;

    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->count == 0 && !log->stopping)
            pthread_cond_wait(&log->changed, &log->lock);
        if (log->count == 0)
            break;
        memcpy(buf, log->line[log->head].text, sizeof(buf));
        unsigned long dropped = log->line[log->head].dropped_after;
        log->head = (log->head + 1) % CONSOLE_LOG_LINES;
        log->count--;
        pthread_cond_broadcast(&log->room);
        pthread_mutex_unlock(&log->lock);

        if (!broken)
            broken = !write_out(log, buf, strlen(buf));
        if (!broken && dropped)
            broken = !report_dropped(log, dropped);

        pthread_mutex_lock(&log->lock);
        if (broken && log->stopping)
            break; /* stuck at exit: what is left is lost */
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

int console_log_start(int fd, struct console_log **out)
{
    struct console_log *log = calloc(1, sizeof(*log));

    if (!log)
        return -ENOMEM;
    log->fd = fd;
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->changed, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&log->room, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&log->thread, NULL, printer, log);
    if (rc) {
        pthread_cond_destroy(&log->room);
        pthread_cond_destroy(&log->changed);
        pthread_mutex_destroy(&log->lock);
        free(log);
        return -rc;
    }
    *out = log;
    return 0;
}

void console_log_line(struct console_log *log, uint16_t domid, const char *line)
{
    pthread_mutex_lock(&log->lock);
    /*
     * A full queue with the output moving: wait for room, as a guest waits
     * on a slow serial line.  With the output stuck (no room for 100 ms),
     * drop at once: the guest never waits on a reader that is gone.
     */
    while (log->count == CONSOLE_LOG_LINES && !log->stopping && !log->stuck) {
        struct timespec until;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WAIT_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&log->room, &log->lock, &until);
    }
    if (log->count == CONSOLE_LOG_LINES) {
        log->line[(log->head + log->count - 1) % CONSOLE_LOG_LINES].dropped_after++;
    } else {
        unsigned int tail = (log->head + log->count) % CONSOLE_LOG_LINES;

        snprintf(log->line[tail].text, LINE_BYTES, "(d%u) %s\n", (unsigned int)domid, line);
        log->line[tail].dropped_after = 0;
        log->count++;
        pthread_cond_signal(&log->changed);
    }
    pthread_mutex_unlock(&log->lock);
}

void console_log_stop(struct console_log *log)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_signal(&log->changed);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL);
    pthread_cond_destroy(&log->room);
    pthread_cond_destroy(&log->changed);
    pthread_mutex_destroy(&log->lock);
    free(log);
}
