/*
 * xenstored-sim SOCKET_PATH: serve a fresh store (domain 0 introduced) on
 * SOCKET_PATH until SIGTERM or SIGINT, then remove the socket.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "xenstore_sim.h"

int main(int argc, char **argv)
{
    struct xs_sim *xs;
    sigset_t set;
    int sig, rc;

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
        return 2;
    }
    /* Block before the store's thread exists so only sigwait sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);

    rc = xs_sim_start(argv[1], &xs);
    if (rc < 0) {
        fprintf(stderr, "xenstored-sim: %s: %s\n", argv[1], strerror(-rc));
        return 1;
    }
    do
        rc = sigwait(&set, &sig);
    while (rc != 0);
    xs_sim_stop(xs);
    return 0;
}
