/*
 * xensim-daemon: hosts the hypervisor core, the simulated domains and the
 * xenstore, and serves the drop-in libraries and the CLI on a unix socket.
 *
 *   xensim-daemon --dir DIR [--ready-fd N]
 *
 * DIR/control.sock is the protocol socket, DIR/xenstored.sock the store.
 * One byte is written to fd N once both are listening.  SIGTERM, SIGINT or
 * XENSIM_SHUTDOWN stop it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "proto_io.h"

struct daemon {
    struct sim sim;
    int epoll;
    int listen_fd;
    int signal_fd;
    struct watch watch_listen, watch_signal, watch_wake;
    struct client *clients;
    char *msg; /* receive buffer */
};

static int listen_on(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

static int watch(struct daemon *dm, int fd, struct watch *w)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

    return epoll_ctl(dm->epoll, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/*
 * Stop listening to a client.  It is freed later, by reap_closed(), so that
 * events already fetched in this epoll batch never reach freed memory.
 */
static void drop_client(struct daemon *dm, struct client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    epoll_ctl(dm->epoll, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->events >= 0)
        epoll_ctl(dm->epoll, EPOLL_CTL_DEL, c->events, NULL);
}

/* Free closed clients, except those whose guest run has yet to reply. */
static void reap_closed(struct daemon *dm)
{
    for (struct client **p = &dm->clients; *p;) {
        struct client *c = *p;

        if (c->closing && !__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE)) {
            *p = c->next;
            client_free(c);
        } else {
            p = &c->next;
        }
    }
}

static void drain_wake(struct daemon *dm)
{
    uint64_t count;

    if (read(dm->sim.wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        perror("xensim: wake fd");
}

static void accept_client(struct daemon *dm)
{
    /* Non-blocking: a client that stops reading must not stall the loop (see reply()). */
    int fd = accept4(dm->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0)
        return;
    struct client *c = client_new(&dm->sim, fd);
    if (!c || watch(dm, fd, &c->watch_fd) < 0) {
        free(c);
        close(fd);
        return;
    }
    c->next = dm->clients;
    dm->clients = c;
}

static void serve_client(struct daemon *dm, struct client *c)
{
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;
    bool had_events = c->events >= 0;
    long n = proto_recv(c->fd, dm->msg, XENSIM_MSG_MAX, fds, &nr_fds, false);

    /* Clients never send fds: refuse them quietly. */
    for (unsigned int i = 0; i < nr_fds; i++)
        close(fds[i]);
    if (n == -EAGAIN)
        return; /* nothing after all */
    if (n <= 0) {
        drop_client(dm, c); /* closed, broken, or a malformed message */
        return;
    }
    client_dispatch(c, dm->msg, (size_t)n);
    if (!had_events && c->events >= 0 && watch(dm, c->events, &c->watch_events) < 0)
        drop_client(dm, c);
}

static void run(struct daemon *dm)
{
    struct epoll_event ev[32];

    while (!dm->sim.stopping) {
        int n = epoll_wait(dm->epoll, ev, 32, -1);

        for (int i = 0; i < n && !dm->sim.stopping; i++) {
            struct watch *w = ev[i].data.ptr;

            if (w == &dm->watch_listen)
                accept_client(dm);
            else if (w == &dm->watch_signal)
                dm->sim.stopping = true;
            else if (w == &dm->watch_wake)
                drain_wake(dm);
            else if (w->client->closing)
                continue;
            else if (w->kind == WATCH_CLIENT)
                serve_client(dm, w->client);
            else if (w->kind == WATCH_EVENTS)
                client_unmask_events(w->client);
        }
        reap_closed(dm);
    }
}

static int setup(struct daemon *dm, const char *dir)
{
    char control[4096], store[4096];

    snprintf(control, sizeof(control), "%s/control.sock", dir);
    snprintf(store, sizeof(store), "%s/xenstored.sock", dir);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);

    int rc = sim_init(&dm->sim, store);
    if (rc) {
        fprintf(stderr, "xensim-daemon: cannot start: %s\n", strerror(-rc));
        return rc;
    }
    dm->msg = malloc(XENSIM_MSG_MAX);
    dm->sim.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    dm->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    dm->epoll = epoll_create1(EPOLL_CLOEXEC);
    dm->sim.epoll = dm->epoll;
    dm->listen_fd = listen_on(control);
    dm->watch_listen = (struct watch){ WATCH_LISTEN, NULL };
    dm->watch_signal = (struct watch){ WATCH_LISTEN, NULL };
    dm->watch_wake = (struct watch){ WATCH_LISTEN, NULL };
    if (!dm->msg || dm->sim.wake_fd < 0 || dm->signal_fd < 0 || dm->epoll < 0 ||
        dm->listen_fd < 0 || watch(dm, dm->listen_fd, &dm->watch_listen) ||
        watch(dm, dm->signal_fd, &dm->watch_signal) ||
        watch(dm, dm->sim.wake_fd, &dm->watch_wake)) {
        fprintf(stderr, "xensim-daemon: cannot listen on %s: %s\n", control,
                strerror(dm->listen_fd < 0 ? -dm->listen_fd : errno));
        return -EIO;
    }
    return 0;
}

static void teardown(struct daemon *dm)
{
    /* Guests first: that ends every guest run, which may still reply. */
    for (unsigned int id = DOMID_FIRST_RESERVED; id-- > 1;)
        if (sim_domain_get(&dm->sim, (domid_t)id))
            sim_domain_destroy(&dm->sim, (domid_t)id);
    while (dm->clients) {
        struct client *c = dm->clients;

        dm->clients = c->next;
        client_free(c);
    }
    sim_fini(&dm->sim);
    free(dm->msg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "ready-fd", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL;
    int ready_fd = -1, opt;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;

        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'r':
            ready_fd = (int)strtol(optarg, &end, 10);
            if (*end || ready_fd < 0) {
                fprintf(stderr, "xensim-daemon: --ready-fd needs a file descriptor number\n");
                return 2;
            }
            break;
        case 'h':
            printf("usage: xensim-daemon --dir DIR [--ready-fd N]\n");
            return 0;
        default:
            return 2;
        }
    }
    if (!dir || optind != argc) {
        fprintf(stderr, "usage: xensim-daemon --dir DIR [--ready-fd N]\n");
        return 2;
    }

    struct daemon *dm = calloc(1, sizeof(*dm));
    if (!dm || setup(dm, dir) != 0)
        return 1;
    if (ready_fd >= 0) {
        if (write(ready_fd, "R", 1) != 1)
            perror("xensim-daemon: ready fd");
        close(ready_fd);
    }
    run(dm);
    teardown(dm);
    free(dm);
    return 0;
}
