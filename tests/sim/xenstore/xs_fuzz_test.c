/*
 * Random, truncated and oversized byte streams at xenstored-sim's socket;
 * after each batch the daemon must still be alive and answer a valid READ.
 * Deterministic: the seed is printed and can be set with XS_FUZZ_SEED.
 *
 * Usage: xs_fuzz_test PATH/TO/xenstored-sim [ROUNDS]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "xs_daemon_spawn.h"

static int passed, failed;
static unsigned int seed;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s (seed %u)\n",          \
                    __FILE__, __LINE__, #cond, seed);                       \
        }                                                                   \
    } while (0)

static unsigned int rnd(unsigned int n)
{
    return n ? (unsigned int)rand_r(&seed) % n : 0;
}

/* Send everything (or until the peer goes away); 0 or -1. */
static int send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        ssize_t n;

        if (poll(&pfd, 1, 5000) <= 0)
            return -1;
        n = send(fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes within ms: 0, or -1 (EOF, error, timeout). */
static int recv_all(int fd, void *p, size_t len, int ms)
{
    uint8_t *b = p;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, ms) <= 0)
            return -1;
        n = recv(fd, b, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read and discard whatever arrives, until EOF or a quiet ms. */
static void drain(int fd, int ms)
{
    uint8_t buf[8192];

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(&pfd, 1, ms) <= 0)
            return;
        if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
            return;
    }
}

/* Does the peer close the connection within ms (discarding data)? */
static int closed_within(int fd, int ms)
{
    uint8_t buf[4096];

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, ms) <= 0)
            return 0;
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
}

/* A fresh connection reads /local/domain/0/name correctly. */
static int healthy(const char *sock)
{
    static const char path[] = "/local/domain/0/name";
    struct xsd_sockmsg h = { XS_READ, 4242, 0, sizeof(path) };
    char body[64];
    int fd = xs_daemon_connect(sock), ok = 0;

    if (fd < 0)
        return 0;
    if (send_all(fd, &h, sizeof(h)) == 0 && send_all(fd, path, sizeof(path)) == 0 &&
        recv_all(fd, &h, sizeof(h), 5000) == 0 && h.type == XS_READ &&
        h.req_id == 4242 && h.len == 8 && recv_all(fd, body, 8, 5000) == 0 &&
        memcmp(body, "Domain-0", 8) == 0)
        ok = 1;
    close(fd);
    return ok;
}

static void fill_random(uint8_t *b, size_t len)
{
    static const char alpha[] = "/local/domain/0@introduceDomain\0\0T F 0123";

    for (size_t i = 0; i < len; i++)
        b[i] = rnd(3) ? (uint8_t)alpha[rnd(sizeof(alpha) - 1)] : (uint8_t)rnd(256);
}

static uint32_t random_type(void)
{
    switch (rnd(6)) {
    case 0: return rnd(UINT32_MAX);
    case 1: return XS_TYPE_COUNT + rnd(10);
    default: return rnd(XS_TYPE_COUNT);
    }
}

/* A run of well-framed messages with random contents. */
static void fuzz_framed(int fd)
{
    uint8_t msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    unsigned int count = 1 + rnd(40);

    for (unsigned int i = 0; i < count; i++) {
        struct xsd_sockmsg h;
        size_t len = rnd(8) ? rnd(80) : rnd(XENSTORE_PAYLOAD_MAX + 1);

        h.type = random_type();
        h.req_id = rnd(UINT32_MAX);
        h.tx_id = rnd(4) ? 0 : rnd(8);
        h.len = (uint32_t)len;
        memcpy(msg, &h, sizeof(h));
        fill_random(msg + sizeof(h), len);
        if (send_all(fd, msg, sizeof(h) + len) < 0)
            return;
        if (rnd(3) == 0)
            drain(fd, 0);
    }
    drain(fd, 50);
}

/* Pure noise. */
static void fuzz_noise(int fd)
{
    uint8_t buf[8192];
    size_t len = rnd(sizeof(buf));

    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd(256);
    send_all(fd, buf, len);
    drain(fd, 20);
}

/* A header, then part of its payload, then close. */
static void fuzz_truncated(int fd)
{
    uint8_t buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg h = { random_type(), 1, 0, 1 + rnd(XENSTORE_PAYLOAD_MAX) };
    size_t cut = rnd((unsigned int)(sizeof(h) + h.len));

    memcpy(buf, &h, sizeof(h));
    fill_random(buf + sizeof(h), h.len);
    send_all(fd, buf, cut);
}

/* A payload length beyond XENSTORE_PAYLOAD_MAX: the daemon hangs up. */
static void fuzz_oversized(int fd)
{
    struct xsd_sockmsg h = { XS_READ, 1, 0,
                             XENSTORE_PAYLOAD_MAX + 1 + rnd(UINT32_MAX - XENSTORE_PAYLOAD_MAX - 1) };

    send_all(fd, &h, sizeof(h));
    CHECK(closed_within(fd, 5000));
}

/* A valid request dribbled a byte at a time still gets its answer. */
static void fuzz_dribble(int fd)
{
    static const char path[] = "/local/domain/0/domid";
    uint8_t buf[sizeof(struct xsd_sockmsg) + sizeof(path)];
    struct xsd_sockmsg h = { XS_READ, 77, 0, sizeof(path) };
    char body[2];

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), path, sizeof(path));
    for (size_t i = 0; i < sizeof(buf); i++)
        if (send_all(fd, buf + i, 1) < 0)
            break;
    CHECK(recv_all(fd, &h, sizeof(h), 5000) == 0 && h.type == XS_READ &&
          h.req_id == 77 && h.len == 1 && recv_all(fd, body, 1, 5000) == 0 &&
          body[0] == '0');
}

int main(int argc, char **argv)
{
    struct xs_daemon d;
    const char *s = getenv("XS_FUZZ_SEED");
    int rounds = argc > 2 ? atoi(argv[2]) : 600;
    int stalled;

    if (argc < 2) {
        fprintf(stderr, "usage: %s XENSTORED_SIM [ROUNDS]\n", argv[0]);
        return 2;
    }
    seed = s ? (unsigned int)strtoul(s, NULL, 0) : 20240601u;
    printf("xs_fuzz_test: seed %u, %d rounds\n", seed, rounds);
    signal(SIGPIPE, SIG_IGN);
    alarm(240);
    if (xs_daemon_start(&d, argv[1]) < 0) {
        fprintf(stderr, "could not start %s\n", argv[1]);
        return 1;
    }

    /* A client stuck in the middle of a message blocks nobody. */
    stalled = xs_daemon_connect(d.sock);
    CHECK(stalled >= 0);
    {
        struct xsd_sockmsg h = { XS_WRITE, 1, 0, 100 };

        CHECK(send_all(stalled, &h, sizeof(h)) == 0 &&
              send_all(stalled, "/half", 5) == 0);
    }
    CHECK(healthy(d.sock));

    for (int r = 0; r < rounds; r++) {
        int fd = xs_daemon_connect(d.sock);

        CHECK(fd >= 0);
        if (fd < 0)
            break;
        switch (rnd(6)) {
        case 0: fuzz_noise(fd); break;
        case 1: fuzz_truncated(fd); break;
        case 2: fuzz_oversized(fd); break;
        case 3: fuzz_dribble(fd); break;
        default: fuzz_framed(fd); break;
        }
        close(fd);
        if (r % 50 == 49) {
            CHECK(xs_daemon_alive(&d));
            CHECK(healthy(d.sock));
        }
    }
    close(stalled);
    CHECK(xs_daemon_alive(&d));
    CHECK(healthy(d.sock));
    CHECK(xs_daemon_stop(&d) == 0);

    printf("xs_fuzz_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
