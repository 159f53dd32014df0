/*
 * A stand-in for xensim-daemon in the CLI tests: same command line
 * (--dir DIR --ready-fd N), the control requests of the xensim protocol
 * with canned behaviour, and misbehaviour on demand through
 * $FAKE_XENSIMD_MODE:
 *   (unset)        serve until SIGTERM or XENSIM_SHUTDOWN
 *   never-ready    never write the ready byte
 *   exit-early     exit 3 without writing it
 *   ignore-term    ignore SIGTERM
 * GUEST_RUN: every script whose text contains "FAIL" fails at line 1; each
 * request's script names and texts are appended to DIR/guest-run.log.
 * DOMAIN_PAUSE / UNPAUSE keep a pause count per domain (EINVAL unpausing at
 * 0, ESRCH for an unknown domain); DOMAIN_GETINFO reports it, with
 * refused_irqs = domid + 10, busy_vcpus = vcpus - 1 and the emulation flags
 * of the domain's type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvio.h"
#include "xensim_proto.h"

#define MAX_CLIENTS 16
#define MAX_DOMAINS 16

struct fake {
    const char *dir;
    struct xensim_domain_info dom[MAX_DOMAINS]; /* domid 0: free slot */
    uint32_t pause_count[MAX_DOMAINS];          /* of dom[i] */
    uint8_t reply[XENSIM_MSG_MAX];
    size_t reply_len;
};

static void die(const char *what)
{
    fprintf(stderr, "fake_xensimd: %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct xensim_domain_info *find(struct fake *f, uint32_t domid)
{
    for (int i = 0; i < MAX_DOMAINS; i++)
        if (domid && f->dom[i].domid == domid)
            return &f->dom[i];
    return NULL;
}

/* Start a reply of `len` bytes echoing `req`. */
static void *reply(struct fake *f, const struct xensim_hdr *req, size_t len, int err)
{
    struct xensim_hdr *h = (struct xensim_hdr *)f->reply;

    memset(f->reply, 0, len);
    h->type = req->type;
    h->seq = req->seq;
    h->len = (uint32_t)len;
    h->err = err;
    f->reply_len = len;
    return f->reply;
}

static void domain_create(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_domain_create *rq = (const void *)h;
    struct xensim_domain_info *slot = NULL;
    uint32_t domid = 1;

    if (n != sizeof(*rq) || !memchr(rq->name, '\0', sizeof(rq->name))) {
        reply(f, h, sizeof(*h), EINVAL);
        return;
    }
    for (int i = 0; i < MAX_DOMAINS; i++) {
        if (f->dom[i].domid && strcmp(f->dom[i].name, rq->name) == 0) {
            reply(f, h, sizeof(*h), EEXIST);
            return;
        }
        if (!f->dom[i].domid && !slot)
            slot = &f->dom[i];
    }
    if (rq->domid && find(f, rq->domid)) {
        reply(f, h, sizeof(*h), EEXIST);
        return;
    }
    while (!rq->domid && find(f, domid))
        domid++;
    if (!slot) {
        reply(f, h, sizeof(*h), ENOSPC);
        return;
    }
    memcpy(slot->name, rq->name, sizeof(slot->name));
    slot->domid = rq->domid ? rq->domid : domid;
    slot->type = rq->type;
    slot->vcpus = rq->vcpus;
    slot->memory_bytes = rq->memory_bytes;
    slot->nr_servers = slot->domid % 3;
    f->pause_count[slot - f->dom] = rq->flags & XENSIM_CREATE_PAUSED ? 1 : 0;
    struct xensim_domain_info *out = reply(f, h, sizeof(*out), 0);
    memcpy((uint8_t *)out + sizeof(*h), (uint8_t *)slot + sizeof(*h), sizeof(*out) - sizeof(*h));
}

static void domain_destroy(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_domain_ref *rq = (const void *)h;
    struct xensim_domain_info *d = n == sizeof(*rq) ? find(f, rq->domid) : NULL;

    if (d)
        memset(d, 0, sizeof(*d));
    reply(f, h, sizeof(*h), d ? 0 : ESRCH);
}

static void domain_pause(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_domain_ref *rq = (const void *)h;
    struct xensim_domain_info *d = n == sizeof(*rq) ? find(f, rq->domid) : NULL;
    int err = d ? 0 : ESRCH;

    if (d && h->type == XENSIM_DOMAIN_PAUSE)
        f->pause_count[d - f->dom]++;
    else if (d && f->pause_count[d - f->dom] == 0)
        err = EINVAL;
    else if (d)
        f->pause_count[d - f->dom]--;
    reply(f, h, sizeof(*h), err);
}

/* The domains from first_domid up, ascending (the slots are in no order). */
static void domain_getinfo(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_domain_getinfo *rq = (const void *)h;
    struct xensim_domain_getinfo_reply *out;
    uint32_t count = 0, next;

    if (n != sizeof(*rq)) {
        reply(f, h, sizeof(*h), EINVAL);
        return;
    }
    out = reply(f, h, sizeof(*out) + MAX_DOMAINS * sizeof(out->info[0]), 0);
    for (next = rq->first_domid; count < rq->max && count < MAX_DOMAINS;) {
        const struct xensim_domain_info *best = NULL;
        for (int i = 0; i < MAX_DOMAINS; i++)
            if (f->dom[i].domid && f->dom[i].domid >= next &&
                (!best || f->dom[i].domid < best->domid))
                best = &f->dom[i];
        if (!best)
            break;
        struct xensim_dominfo *o = &out->info[count++];
        memcpy(o->name, best->name, sizeof(o->name));
        o->domid = best->domid;
        o->type = best->type;
        o->nr_online_vcpus = best->vcpus;
        o->max_vcpu_id = best->vcpus - 1;
        o->tot_pages = o->max_pages = best->memory_bytes / 4096;
        o->pause_count = f->pause_count[best - f->dom];
        o->flags = 0x2 | (o->pause_count ? 0x8 : 0); /* hvm_guest, paused */
        o->emulation_flags = best->type == XENSIM_DOMAIN_HVM ? 0x3ff : 0x1;
        o->nr_servers = best->nr_servers;
        o->refused_irqs = best->domid + 10;
        o->busy_vcpus = best->vcpus - 1;
        next = best->domid + 1;
    }
    out->count = count;
    f->reply_len = sizeof(*out) + count * sizeof(out->info[0]);
    out->hdr.len = (uint32_t)f->reply_len;
}

static void irq_log(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_domain_ref *rq = (const void *)h;
    const struct xensim_irq_record rec[4] = {
        { .kind = HVIO_IRQ_ISA, .line = 4, .level = 1 },
        { .kind = HVIO_IRQ_PCI_INTX, .line = 5 << 2 | 1, .level = 0 },
        { .kind = HVIO_IRQ_MSI, .msi_addr = 0xfee00000, .msi_data = 0x4041 },
        { .kind = 9, .line = 1, .level = 1 },
    };
    uint32_t count = 4;

    if (n != sizeof(*rq) || !find(f, rq->domid)) {
        reply(f, h, sizeof(*h), ESRCH);
        return;
    }
    uint8_t *p = reply(f, h, sizeof(*h) + 4 + sizeof(rec), 0);
    memcpy(p + sizeof(*h), &count, 4);
    memcpy(p + sizeof(*h) + 4, rec, sizeof(rec));
}

static void guest_run(struct fake *f, const struct xensim_hdr *h, size_t n)
{
    const struct xensim_guest_run *rq = (const void *)h;
    const uint8_t *p = (const uint8_t *)(rq + 1), *end = (const uint8_t *)h + n;
    char report[4096] = "", path[4200];
    struct xensim_domain_info *d = n >= sizeof(*rq) ? find(f, rq->domid) : NULL;

    if (!d || rq->nr_scripts == 0 || rq->first_vcpu >= d->vcpus ||
        rq->nr_scripts > d->vcpus - rq->first_vcpu) {
        reply(f, h, sizeof(*h), d ? EINVAL : ESRCH);
        return;
    }
    snprintf(path, sizeof(path), "%s/guest-run.log", f->dir);
    FILE *log = fopen(path, "a");
    if (log)
        fprintf(log, "domid %u scripts %u timeout %u first %u\n", rq->domid, rq->nr_scripts,
                rq->timeout_ms, rq->first_vcpu);
    for (uint32_t i = 0; i < rq->nr_scripts; i++) {
        uint32_t len[2];
        if ((size_t)(end - p) < sizeof(len))
            break;
        memcpy(len, p, sizeof(len));
        p += sizeof(len);
        if ((size_t)(end - p) < (size_t)len[0] + len[1])
            break;
        const char *name = (const char *)p, *text = name + len[0];
        if (log)
            fprintf(log, "[%.*s]\n%.*s[end]\n", (int)len[0], name, (int)len[1], text);
        if (memmem(text, len[1], "FAIL", 4))
            snprintf(report + strlen(report), sizeof(report) - strlen(report),
                     "%.*s:1: expected 0x1, got 0x2\n", (int)len[0], name);
        p += len[0] + len[1];
    }
    if (log)
        fclose(log);
    if (p != end) {
        reply(f, h, sizeof(*h), EINVAL);
        return;
    }
    char *out = reply(f, h, sizeof(*h) + strlen(report) + 1, report[0] ? EIO : 0);
    memcpy(out + sizeof(*h), report, strlen(report) + 1);
}

/* One request; 1 to shut down. */
static int handle(struct fake *f, int fd, bool *hello, const uint8_t *msg, size_t n)
{
    const struct xensim_hdr *h = (const void *)msg;
    int stop = 0;

    f->reply_len = 0;
    if (n < sizeof(*h) || h->len != n) {
        return -1;
    } else if (!*hello) {
        const struct xensim_hello *rq = (const void *)msg;
        bool ok = h->type == XENSIM_HELLO && n == sizeof(*rq) &&
                  rq->version == XENSIM_PROTO_VERSION && rq->kind == XENSIM_CLIENT_CONTROL;
        *hello = ok;
        reply(f, h, sizeof(*h), ok ? 0 : EPROTO);
    } else if (h->type == XENSIM_DOMAIN_CREATE) {
        domain_create(f, h, n);
    } else if (h->type == XENSIM_DOMAIN_DESTROY) {
        domain_destroy(f, h, n);
    } else if (h->type == XENSIM_IRQ_LOG) {
        irq_log(f, h, n);
    } else if (h->type == XENSIM_GUEST_RUN) {
        guest_run(f, h, n);
    } else if (h->type == XENSIM_DOMAIN_PAUSE || h->type == XENSIM_DOMAIN_UNPAUSE) {
        domain_pause(f, h, n);
    } else if (h->type == XENSIM_DOMAIN_GETINFO) {
        domain_getinfo(f, h, n);
    } else if (h->type == XENSIM_SHUTDOWN) {
        reply(f, h, sizeof(*h), 0);
        stop = 1;
    } else {
        reply(f, h, sizeof(*h), EINVAL);
    }
    if (send(fd, f->reply, f->reply_len, MSG_NOSIGNAL) < 0)
        return -1;
    return stop;
}

static int listen_on(const char *dir, const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
        die("listen");
    return fd;
}

static void serve(struct fake *f, int lfd)
{
    static uint8_t msg[XENSIM_MSG_MAX];
    struct pollfd pfd[MAX_CLIENTS + 1] = { { .fd = lfd, .events = POLLIN } };
    bool hello[MAX_CLIENTS + 1] = { false };

    for (int i = 1; i <= MAX_CLIENTS; i++)
        pfd[i] = (struct pollfd){ .fd = -1, .events = POLLIN };
    for (;;) {
        if (poll(pfd, MAX_CLIENTS + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int i = 1; i <= MAX_CLIENTS; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            ssize_t n = recv(pfd[i].fd, msg, sizeof(msg), 0);
            int rc = n > 0 ? handle(f, pfd[i].fd, &hello[i], msg, (size_t)n) : -1;
            if (rc == 1)
                return;
            if (rc < 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
            }
        }
        if (pfd[0].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            for (int i = 1; c >= 0 && i <= MAX_CLIENTS; i++) {
                if (pfd[i].fd < 0) {
                    pfd[i].fd = c;
                    hello[i] = false;
                    c = -1;
                }
            }
            if (c >= 0)
                close(c);
        }
    }
}

int main(int argc, char **argv)
{
    static struct fake f;
    const char *mode = getenv("FAKE_XENSIMD_MODE");
    int ready_fd;

    if (argc != 5 || strcmp(argv[1], "--dir") != 0 || strcmp(argv[3], "--ready-fd") != 0) {
        fprintf(stderr, "usage: %s --dir DIR --ready-fd N\n", argv[0]);
        return 2;
    }
    f.dir = argv[2];
    ready_fd = atoi(argv[4]);
    mode = mode ? mode : "";
    if (strcmp(mode, "exit-early") == 0)
        return 3;
    if (strcmp(mode, "ignore-term") == 0)
        signal(SIGTERM, SIG_IGN);

    int lfd = listen_on(f.dir, "control.sock");
    int xs = listen_on(f.dir, "xenstored.sock"); /* only so that the path exists */
    if (strcmp(mode, "never-ready") == 0)
        for (;;)
            pause();
    if (write(ready_fd, "R", 1) != 1)
        die("ready-fd");
    close(ready_fd);
    serve(&f, lfd);
    close(xs);
    close(lfd);
    return 0;
}
