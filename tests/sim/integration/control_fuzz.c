/*
 * control_fuzz: hostile traffic at the xensim daemon's protocol socket
 * ($XENSIM_SOCKET), using only libc and the protocol header (for framing
 * that is well-formed where a batch wants it to be).
 *
 *   control_fuzz [--seed N] [--only NAME[,NAME...]]
 *
 * Batches: random bytes; truncated headers; len fields that lie; every
 * message type before HELLO; bad HELLOs; oversized messages; fds attached
 * to requests; DM_OP with bad buffer counts and sizes and random ops;
 * FMEM_MAP with bad frame counts; MAP_RESOURCE / RESOURCE_SIZE with bad
 * frames and ids; event channel ops on bad and foreign ports, and garbage
 * on the event socket; GUEST_RUN with inconsistent records; domain
 * create/destroy with bad arguments and with clients attached; domain
 * pause/unpause/getinfo from control and libxenctrl clients; many
 * connections closed mid-request; a client that never reads its replies.
 *
 * After every batch a fresh connection must get answers to a well-formed
 * HELLO and DOMAIN_LIST, or the program stops with exit status 1.  At the
 * end the daemon must hold no more file descriptors than before (give or
 * take a few).  Deterministic for a seed; the whole run is bounded (about
 * 5 s, a hard limit of 20 s).  FUZZ_DEBUG=1 in the environment: one line
 * per request and reply on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xensim_proto.h"

#define REPLY_TIMEOUT_MS 5000
#define TIME_LIMIT_S 20
#define DOMID_RESERVED 0x7ff0u /* DOMID_FIRST_RESERVED */
#define EVTCHN_PORTS 4096u

/* From <xen/hvm/dm_op.h>, which this program does not include. */
#define DMOP_CREATE_IOREQ_SERVER 1
#define DMOP_MAP_IO_RANGE 3
#define DMOP_SET_IOREQ_SERVER_STATE 5
#define DMOP_NR_OPS 21
#define DMOP_HEADER 8   /* op, pad */
#define DMOP_MAX_SIZE 64 /* the union's largest member is smaller */

static const char *sock_path;
static uint64_t rng;
static uint32_t seq;
static uint32_t guest;     /* an HVM guest with 2 vCPUs the batches aim at */
static uint32_t pvh_guest; /* a PVH guest */
static const char *batch = "start";
static struct timespec t0;
static unsigned long nr_sent, nr_replies, nr_closed;

static uint8_t *msgbuf;   /* XENSIM_MSG_MAX * 4: what we send */
static uint8_t *replybuf; /* XENSIM_MSG_MAX + 1: what we receive */

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "control_fuzz: FAIL in batch '%s': ", batch);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double elapsed(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ---- randomness (xorshift64*, fixed seed) ---- */

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

static void rnd_fill(void *buf, size_t len)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)rnd();
}

/* Mostly interesting 32-bit values, sometimes random ones. */
static uint32_t edge32(void)
{
    static const uint32_t v[] = { 0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 127, 128, 255, 4095,
                                  4096, 4097, 32751, 32752, 32767, 65535, 65536,
                                  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };

    return below(4) ? v[below(sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd();
}

static uint32_t any_domid(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return guest;
    case 2: return pvh_guest;
    case 3: return 1000 + below(5); /* no such domain */
    case 4: return DOMID_RESERVED + below(16);
    default: return edge32();
    }
}

/* ---- connections ---- */

static int conn_open(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int bufsize = 1 << 20;
    struct timeval tv = { 2, 0 };

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0)
            die("socket: %s", strerror(errno));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        int err = errno;
        close(fd);
        if (err != EAGAIN && err != ECONNREFUSED)
            die("connect %s: %s", sock_path, strerror(err));
        usleep(10000); /* the backlog is full: let the daemon accept */
    }
    die("cannot connect to %s: the daemon does not accept", sock_path);
}

/* Send one message with optional fds; 0 or -errno (errors are expected). */
static int send_fds(int fd, const void *buf, size_t len, const int *fds, unsigned int nr)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 16)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (nr) {
        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nr);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr);
    }
    nr_sent++;
    return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int send_raw(int fd, const void *buf, size_t len)
{
    return send_fds(fd, buf, len, NULL, 0);
}

/*
 * Receive one message within timeout_ms into replybuf; received fds are
 * closed, except the first, which goes to *keep_fd if given (else -1).
 * Returns its length, 0 when the daemon closed the connection, -ETIMEDOUT.
 */
static long recv_keep(int fd, int timeout_ms, int *keep_fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 16)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = replybuf, .iov_len = XENSIM_MSG_MAX + 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    if (keep_fd)
        *keep_fd = -1;
    int n = poll(&pfd, 1, timeout_ms);
    if (n == 0)
        return -ETIMEDOUT;
    if (n < 0)
        return -errno;
    ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (len < 0)
        return errno == EAGAIN ? -ETIMEDOUT : 0; /* ECONNRESET: closed */
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int got;

            memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (keep_fd && *keep_fd < 0)
                *keep_fd = got;
            else
                close(got);
        }
    }
    if (len == 0)
        nr_closed++;
    else
        nr_replies++;
    return len;
}

static long recv_one(int fd, int timeout_ms)
{
    return recv_keep(fd, timeout_ms, NULL);
}

/* Read whatever replies are queued. */
static void drain(int fd)
{
    while (recv_one(fd, 0) > 0)
        ;
}

static void *msg_init(uint32_t type, size_t len)
{
    struct xensim_hdr *h = (struct xensim_hdr *)msgbuf;

    memset(msgbuf, 0, len);
    h->type = type;
    h->len = (uint32_t)len;
    h->seq = ++seq;
    return msgbuf;
}

/*
 * Send msgbuf[0..len) and wait for the reply: its err (>= 0), -1 when the
 * daemon closed the connection, -2 when no reply came in time.
 */
static int call_keep(int fd, size_t len, int *keep_fd)
{
    if (keep_fd)
        *keep_fd = -1;
    if (send_raw(fd, msgbuf, len) < 0)
        return -1;
    long n = recv_keep(fd, REPLY_TIMEOUT_MS, keep_fd);
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "[%s] sent type 0x%x seq %u len %zu -> n %ld type 0x%x seq %u err %d\n", batch,
                ((struct xensim_hdr *)msgbuf)->type, ((struct xensim_hdr *)msgbuf)->seq, len, n,
                ((struct xensim_hdr *)replybuf)->type, ((struct xensim_hdr *)replybuf)->seq,
                ((struct xensim_hdr *)replybuf)->err);
    if (n == -ETIMEDOUT)
        return -2;
    if (n < (long)sizeof(struct xensim_hdr))
        return -1;
    return ((struct xensim_hdr *)replybuf)->err;
}

static int call(int fd, size_t len)
{
    return call_keep(fd, len, NULL);
}

/* A well-formed request must be answered: die if it is not. */
static int must_call(int fd, size_t len, const char *what)
{
    int rc = call(fd, len);

    if (rc == -2)
        die("%s: no reply within %d ms", what, REPLY_TIMEOUT_MS);
    if (rc == -1)
        die("%s: the daemon closed the connection", what);
    return rc;
}

static size_t hello_msg(uint32_t kind, uint32_t domid)
{
    struct xensim_hello *h = msg_init(XENSIM_HELLO, sizeof(*h));

    h->version = XENSIM_PROTO_VERSION;
    h->kind = kind;
    h->domid = domid;
    h->pid = (uint32_t)getpid();
    return sizeof(*h);
}

/* A greeted connection; for an evtchn client *events gets the event socket. */
static int client(uint32_t kind, int *events)
{
    int fd = conn_open(), ev = -1;
    int rc = call_keep(fd, hello_msg(kind, 0), &ev);

    if (rc != 0)
        die("HELLO (kind %u) refused: %d", kind, rc);
    if (events)
        *events = ev;
    else if (ev >= 0)
        close(ev);
    return fd;
}

/* ---- the health check ---- */

static pid_t daemon_pid = -1;

static void health(void)
{
    int fd = conn_open();
    int rc = call(fd, hello_msg(XENSIM_CLIENT_CONTROL, 0));

    if (rc != 0)
        die("health check: HELLO got %d (-1 closed, -2 no reply)", rc);
    msg_init(XENSIM_DOMAIN_LIST, sizeof(struct xensim_hdr));
    long n;
    if (send_raw(fd, msgbuf, sizeof(struct xensim_hdr)) < 0 ||
        (n = recv_one(fd, REPLY_TIMEOUT_MS)) < (long)(sizeof(struct xensim_hdr) + 4))
        die("health check: DOMAIN_LIST not answered");
    uint32_t count;
    memcpy(&count, replybuf + sizeof(struct xensim_hdr), sizeof(count));
    if (((struct xensim_hdr *)replybuf)->err != 0 || count < 1)
        die("health check: DOMAIN_LIST failed (err %d, %u domains)",
            ((struct xensim_hdr *)replybuf)->err, count);
    if (daemon_pid < 0) {
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
            daemon_pid = cred.pid;
    }
    close(fd);
    if (elapsed() > TIME_LIMIT_S)
        die("over the time limit (%d s)", TIME_LIMIT_S);
}

static const char *only; /* --only: the batches to run, comma-separated */

static void run_batch(const char *name, void (*fn)(void))
{
    unsigned long sent = nr_sent;

    if (only) {
        size_t n = strlen(name);
        const char *p = only;
        while ((p = strstr(p, name)) && ((p != only && p[-1] != ',') || (p[n] && p[n] != ',')))
            p += n;
        if (!p)
            return;
    }

    batch = name;
    fn();
    health();
    printf("batch %-16s ok: %6lu messages (%.2f s)\n", name, nr_sent - sent, elapsed());
    fflush(stdout);
}

/* The daemon's open fds, or -1 when /proc does not tell. */
static int daemon_fds(void)
{
    char path[64];
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
    DIR *d = daemon_pid > 0 ? opendir(path) : NULL;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- helpers for well-formed requests ---- */

static size_t dm_op_msg(uint32_t domid, const void *op, uint32_t op_len)
{
    struct xensim_dm_op *m = msg_init(XENSIM_DM_OP, sizeof(struct xensim_dm_op) + op_len);

    m->domid = domid;
    m->nr_bufs = 1;
    m->buf_size[0] = op_len;
    memcpy(m + 1, op, op_len);
    return sizeof(*m) + op_len;
}

/* Create an ioreq server on `domid` over `fd` (a devicemodel client): its id. */
static uint32_t create_server(int fd, uint32_t domid, uint8_t bufioreq)
{
    uint8_t op[DMOP_HEADER + 8] = { 0 };
    uint32_t opcode = DMOP_CREATE_IOREQ_SERVER;

    memcpy(op, &opcode, 4);
    op[DMOP_HEADER] = bufioreq; /* handle_bufioreq, pad[3], then the id (16 bits) */
    if (must_call(fd, dm_op_msg(domid, op, sizeof(op)), "create_ioreq_server") != 0)
        die("create_ioreq_server on domain %u failed", domid);
    uint16_t id;
    memcpy(&id, replybuf + sizeof(struct xensim_dm_op) + DMOP_HEADER + 4, sizeof(id));
    return id;
}

/* A well-formed dm_op that must succeed. */
static void server_op(int fd, uint32_t domid, uint32_t opcode, const void *args, size_t len)
{
    uint8_t op[DMOP_HEADER + 32] = { 0 };

    memcpy(op, &opcode, 4);
    memcpy(op + DMOP_HEADER, args, len);
    int rc = must_call(fd, dm_op_msg(domid, op, (uint32_t)(DMOP_HEADER + 32)), "dm_op");
    if (rc)
        die("dm_op %u on domain %u failed: %d", opcode, domid, rc);
}

static size_t evtchn_msg(uint32_t type, uint32_t domid, uint32_t port)
{
    struct xensim_evtchn *m = msg_init(type, sizeof(*m));

    m->domid = domid;
    m->port = port;
    return sizeof(*m);
}

static size_t list_msg(void)
{
    msg_init(XENSIM_DOMAIN_LIST, sizeof(struct xensim_hdr));
    return sizeof(struct xensim_hdr);
}

/* FMEM_MAP of one frame. */
static size_t fmem_map_msg(uint32_t domid, uint64_t gfn)
{
    struct xensim_fmem_map *m = msg_init(XENSIM_FMEM_MAP, sizeof(*m) + 8);

    m->domid = domid;
    m->prot = 3;
    m->nr = 1;
    m->gfn[0] = gfn;
    return sizeof(*m) + 8;
}

static size_t domain_create_msg(const char *name, uint32_t type, uint32_t vcpus,
                                uint64_t mem, uint32_t domid)
{
    struct xensim_domain_create *m = msg_init(XENSIM_DOMAIN_CREATE, sizeof(*m));

    snprintf(m->name, sizeof(m->name), "%s", name);
    m->type = type;
    m->vcpus = vcpus;
    m->memory_bytes = mem;
    m->domid = domid;
    return sizeof(*m);
}

static size_t domain_ref_msg(uint32_t type, uint32_t domid)
{
    struct xensim_domain_ref *m = msg_init(type, sizeof(*m));

    m->domid = domid;
    return sizeof(*m);
}

/* Create a domain over a control connection: its domid. */
static uint32_t make_domain(int ctl, const char *name, uint32_t type, uint32_t vcpus)
{
    int rc = must_call(ctl, domain_create_msg(name, type, vcpus, 16u << 20, 0), "domain create");
    if (rc)
        die("cannot create domain %s: %s", name, strerror(rc));
    return ((struct xensim_domain_info *)replybuf)->domid;
}

static void destroy_domain(int ctl, uint32_t domid)
{
    int rc = must_call(ctl, domain_ref_msg(XENSIM_DOMAIN_DESTROY, domid), "domain destroy");

    if (rc)
        die("cannot destroy domain %u: %d", domid, rc);
}

/* A GUEST_RUN request with the given scripts (names "fuzzN"). */
static size_t guest_run_msg(uint32_t domid, uint32_t timeout_ms, unsigned int nr,
                            const char *const *texts)
{
    struct xensim_guest_run *m = msg_init(XENSIM_GUEST_RUN, sizeof(*m));
    size_t off = sizeof(*m);

    m->domid = domid;
    m->nr_scripts = nr;
    m->timeout_ms = timeout_ms;
    for (unsigned int i = 0; i < nr; i++) {
        char name[16];
        uint32_t nl = (uint32_t)snprintf(name, sizeof(name), "fuzz%u", i);
        uint32_t tl = (uint32_t)strlen(texts[i]);

        memcpy(msgbuf + off, &nl, 4);
        memcpy(msgbuf + off + 4, &tl, 4);
        memcpy(msgbuf + off + 8, name, nl);
        memcpy(msgbuf + off + 8 + nl, texts[i], tl);
        off += 8 + nl + tl;
    }
    ((struct xensim_hdr *)msgbuf)->len = (uint32_t)off;
    return off;
}

/* ---- the message types, with plausible body sizes ---- */

struct type_info {
    uint32_t type;
    uint32_t kind; /* the client kind that may send it */
    size_t size;   /* the well-formed size (0: variable) */
};

static const struct type_info types[] = {
    { XENSIM_HELLO, 0, sizeof(struct xensim_hello) },
    { XENSIM_DM_OP, XENSIM_CLIENT_DEVICEMODEL, 0 },
    { XENSIM_DM_RESTRICT, XENSIM_CLIENT_DEVICEMODEL, sizeof(struct xensim_restrict) },
    { XENSIM_FMEM_MAP, XENSIM_CLIENT_FOREIGNMEMORY, 0 },
    { XENSIM_FMEM_MAP_RESOURCE, XENSIM_CLIENT_FOREIGNMEMORY, sizeof(struct xensim_fmem_resource) },
    { XENSIM_FMEM_RESOURCE_SIZE, XENSIM_CLIENT_FOREIGNMEMORY, sizeof(struct xensim_fmem_resource) },
    { XENSIM_FMEM_RESTRICT, XENSIM_CLIENT_FOREIGNMEMORY, sizeof(struct xensim_restrict) },
    { XENSIM_EVTCHN_BIND_INTERDOMAIN, XENSIM_CLIENT_EVTCHN, sizeof(struct xensim_evtchn) },
    { XENSIM_EVTCHN_BIND_UNBOUND, XENSIM_CLIENT_EVTCHN, sizeof(struct xensim_evtchn) },
    { XENSIM_EVTCHN_UNBIND, XENSIM_CLIENT_EVTCHN, sizeof(struct xensim_evtchn) },
    { XENSIM_EVTCHN_NOTIFY, XENSIM_CLIENT_EVTCHN, sizeof(struct xensim_evtchn) },
    { XENSIM_EVTCHN_RESTRICT, XENSIM_CLIENT_EVTCHN, sizeof(struct xensim_restrict) },
    { XENSIM_DOMAIN_CREATE, XENSIM_CLIENT_CONTROL, sizeof(struct xensim_domain_create) },
    { XENSIM_DOMAIN_DESTROY, XENSIM_CLIENT_CONTROL, sizeof(struct xensim_domain_ref) },
    { XENSIM_DOMAIN_LIST, XENSIM_CLIENT_CONTROL, sizeof(struct xensim_hdr) },
    { XENSIM_GUEST_RUN, XENSIM_CLIENT_CONTROL, 0 },
    { XENSIM_IRQ_LOG, XENSIM_CLIENT_CONTROL, sizeof(struct xensim_domain_ref) },
    { XENSIM_SHUTDOWN, XENSIM_CLIENT_CONTROL, sizeof(struct xensim_hdr) },
    { XENSIM_DOMAIN_PAUSE, XENSIM_CLIENT_XENCTRL, sizeof(struct xensim_domain_ref) },
    { XENSIM_DOMAIN_UNPAUSE, XENSIM_CLIENT_XENCTRL, sizeof(struct xensim_domain_ref) },
    { XENSIM_DOMAIN_GETINFO, XENSIM_CLIENT_XENCTRL, sizeof(struct xensim_domain_getinfo) },
};
#define NR_TYPES (sizeof(types) / sizeof(types[0]))

/*
 * A request that must not take the daemon (or our guests) away: no
 * SHUTDOWN, no destroy of the batches' guests, no pause of them (their
 * guest runs would wait).
 */
static void defuse(size_t len)
{
    struct xensim_hdr *h = (struct xensim_hdr *)msgbuf;

    if (h->type == XENSIM_SHUTDOWN)
        h->type = XENSIM_DOMAIN_LIST;
    if (h->type == XENSIM_DOMAIN_DESTROY && len >= sizeof(struct xensim_domain_ref)) {
        struct xensim_domain_ref *r = (struct xensim_domain_ref *)msgbuf;
        if (r->domid == guest || r->domid == pvh_guest)
            r->domid = 0;
    }
    if (h->type == XENSIM_DOMAIN_PAUSE && len >= sizeof(struct xensim_domain_ref)) {
        struct xensim_domain_ref *r = (struct xensim_domain_ref *)msgbuf;
        if (r->domid == guest || r->domid == pvh_guest)
            r->domid = 0; /* pausing dom0, the caller: EINVAL */
    }
}

/* A random well-framed message of a random known type: its length. */
static size_t random_framed(void)
{
    const struct type_info *t = &types[below(NR_TYPES)];
    size_t len;

    switch (below(4)) {
    case 0:
        len = sizeof(struct xensim_hdr) + below(64);
        break;
    case 1:
        len = t->size ? t->size : sizeof(struct xensim_hdr) + 24 + 8 * below(12);
        break;
    case 2:
        len = sizeof(struct xensim_hdr) + below(4096);
        break;
    default:
        len = t->size ? t->size + below(3) - 1u : sizeof(struct xensim_hdr) + below(600);
        break;
    }
    if (len < sizeof(struct xensim_hdr))
        len = sizeof(struct xensim_hdr);
    rnd_fill(msgbuf, len);
    struct xensim_hdr *h = (struct xensim_hdr *)msgbuf;
    h->type = t->type;
    h->len = (uint32_t)len;
    h->seq = ++seq;
    h->err = below(2) ? 0 : (int32_t)rnd();
    /* Keep domids plausible half the time: reach past the first checks. */
    if (len >= sizeof(struct xensim_hdr) + 4 && below(2)) {
        uint32_t d = any_domid();
        memcpy(msgbuf + sizeof(struct xensim_hdr), &d, 4);
    }
    defuse(len);
    return len;
}

/* ---- batches ---- */

static void batch_random_bytes(void)
{
    for (int c = 0; c < 150; c++) {
        int fd = conn_open();

        if (below(3) == 0)
            send_raw(fd, msgbuf, hello_msg(1 + below(4), 0));
        for (unsigned int m = 0, nr = 1 + below(6); m < nr; m++) {
            size_t len;
            switch (below(5)) {
            case 0: len = below(16); break;
            case 1: len = 16 + below(200); break;
            case 2: len = below(XENSIM_MSG_MAX); break;
            case 3: len = XENSIM_MSG_MAX + 1 + below(5000); break;
            default: len = sizeof(struct xensim_hdr) + below(64); break;
            }
            rnd_fill(msgbuf, len);
            send_raw(fd, msgbuf, len);
            if (below(2))
                drain(fd);
        }
        close(fd);
    }
}

/* Well-framed random messages of every type, on clients of every kind. */
static void batch_random_framed(void)
{
    for (int c = 0; c < 60; c++) {
        uint32_t kind = 1 + below(5);
        int fd = conn_open(), ev = -1;

        if (call_keep(fd, hello_msg(kind, 0), &ev) != 0)
            die("HELLO refused");
        for (int m = 0; m < 40; m++) {
            size_t len = random_framed();
            int rc = call(fd, len);
            if (rc == -2)
                die("no reply to a well-framed type 0x%x (len %zu) on a kind %u client",
                    ((struct xensim_hdr *)msgbuf)->type, len, kind);
            if (rc == -1)
                break;
            if (ev >= 0 && below(4) == 0) {
                uint8_t junk[12];
                rnd_fill(junk, sizeof(junk));
                if (write(ev, junk, 1 + below(sizeof(junk))) < 0)
                    break;
            }
        }
        if (ev >= 0)
            close(ev);
        close(fd);
    }
}

static void batch_truncated(void)
{
    for (size_t len = 1; len < sizeof(struct xensim_hdr); len++) {
        for (int greeted = 0; greeted < 2; greeted++) {
            int fd = greeted ? client(XENSIM_CLIENT_CONTROL, NULL) : conn_open();

            msg_init(XENSIM_DOMAIN_LIST, sizeof(struct xensim_hdr));
            send_raw(fd, msgbuf, len);
            long n = recv_one(fd, REPLY_TIMEOUT_MS);
            if (n == -ETIMEDOUT)
                die("a %zu-byte message got neither a reply nor a close", len);
            if (n > 0 && ((struct xensim_hdr *)replybuf)->err == 0)
                die("a %zu-byte message was accepted", len);
            close(fd);
        }
    }
}

static void batch_lying_len(void)
{
    static const int64_t deltas[] = { -1, 1, -8, 8, -16, 4096 };
    static const uint32_t absolute[] = { 0, 1, 15, 16, 0x10000, 0x10001, 0x7fffffff, 0xffffffff };

    for (int greeted = 0; greeted < 2; greeted++) {
        for (size_t i = 0; i < 6 + 8; i++) {
            int fd = greeted ? client(XENSIM_CLIENT_CONTROL, NULL) : conn_open();
            size_t len = greeted ? domain_ref_msg(XENSIM_IRQ_LOG, guest)
                                 : hello_msg(XENSIM_CLIENT_CONTROL, 0);
            struct xensim_hdr *h = (struct xensim_hdr *)msgbuf;

            h->len = i < 6 ? (uint32_t)((int64_t)len + deltas[i]) : absolute[i - 6];
            if (h->len == len)
                h->len++;
            int rc = call(fd, len);
            if (rc == -2)
                die("len %u for a %zu-byte message: no reply, no close", h->len, len);
            if (rc == 0)
                die("len %u for a %zu-byte message: accepted", h->len, len);
            close(fd);
        }
    }
    /* A message claiming more than it carries, then the rest as a second one. */
    int fd = conn_open();
    size_t len = hello_msg(XENSIM_CLIENT_CONTROL, 0);
    ((struct xensim_hdr *)msgbuf)->len = (uint32_t)len * 2;
    send_raw(fd, msgbuf, len);
    send_raw(fd, msgbuf, len);
    drain(fd);
    close(fd);
}

static void batch_before_hello(void)
{
    for (size_t i = 0; i < NR_TYPES + 20; i++) {
        uint32_t type = i < NR_TYPES ? types[i].type : (uint32_t)rnd();
        size_t len = i < NR_TYPES && types[i].size ? types[i].size : sizeof(struct xensim_hdr) + 64;

        if (type == XENSIM_HELLO)
            continue;
        int fd = conn_open();
        msg_init(type, len);
        rnd_fill(msgbuf + sizeof(struct xensim_hdr), len - sizeof(struct xensim_hdr));
        int rc = call(fd, len);
        if (rc != EPROTO)
            die("type 0x%x before HELLO: got %d, want EPROTO", type, rc);
        /* The connection is still waiting for its HELLO. */
        if (call(fd, hello_msg(XENSIM_CLIENT_CONTROL, 0)) != 0)
            die("HELLO after a refused type 0x%x was not accepted", type);
        close(fd);
    }
}

static void batch_bad_hello(void)
{
    static const uint32_t versions[] = { 0, XENSIM_PROTO_VERSION - 1, XENSIM_PROTO_VERSION + 1,
                                         0x100, 0xffffffff };
    static const uint32_t kinds[] = { 0, 6, 7, 0x80000001, 0xffffffff };
    static const uint32_t domids[] = { 1000, DOMID_RESERVED, 0x7ff4, 0xffff, 0x10000,
                                       0x12345, 0xffffffff };
    int fd = conn_open();

    const size_t nv = sizeof(versions) / sizeof(versions[0]);
    const size_t nk = nv + sizeof(kinds) / sizeof(kinds[0]);
    const size_t nd = nk + sizeof(domids) / sizeof(domids[0]);

    for (size_t i = 0; i < nd + 3; i++) {
        size_t len = hello_msg(XENSIM_CLIENT_DEVICEMODEL, 0);
        struct xensim_hello *h = (struct xensim_hello *)msgbuf;
        int want = EPROTO;

        if (i < nv) {
            h->version = versions[i];
        } else if (i < nk) {
            h->kind = kinds[i - nv];
        } else if (i < nd) {
            h->domid = domids[i - nk];
            want = ESRCH;
        } else {
            len = i == nd ? len - 4 : i == nd + 1 ? len + 4 : sizeof(struct xensim_hdr);
            h->hdr.len = (uint32_t)len;
        }
        int rc = call(fd, len);
        if (rc != want)
            die("bad HELLO %zu: got %d, want %d", i, rc, want);
    }
    /* Still ungreeted: a good HELLO works; a second HELLO is refused. */
    if (call(fd, hello_msg(XENSIM_CLIENT_CONTROL, 0)) != 0)
        die("HELLO after bad ones refused");
    for (uint32_t kind = 1; kind <= 5; kind++)
        if (call(fd, hello_msg(kind, 0)) <= 0)
            die("a second HELLO (kind %u) was accepted", kind);
    if (must_call(fd, list_msg(), "DOMAIN_LIST after a second HELLO"))
        die("DOMAIN_LIST after a second HELLO failed");
    close(fd);
    /* Acting as a guest domain: accepted or refused, never a crash. */
    for (int i = 0; i < 8; i++) {
        fd = conn_open();
        call(fd, hello_msg(1 + below(4), i & 1 ? guest : pvh_guest));
        size_t len = random_framed();
        call(fd, len);
        close(fd);
    }
}

static void batch_oversized(void)
{
    static const size_t sizes[] = { XENSIM_MSG_MAX + 1, XENSIM_MSG_MAX + 8, 100000, 200000 };

    for (int greeted = 0; greeted < 2; greeted++) {
        for (size_t i = 0; i < 4; i++) {
            int fd = greeted ? client(1 + (uint32_t)i % 4, NULL) : conn_open();

            msg_init(greeted ? XENSIM_DM_OP : XENSIM_HELLO, sizes[i]);
            rnd_fill(msgbuf + sizeof(struct xensim_hdr), 64);
            if (send_raw(fd, msgbuf, sizes[i]) == 0) {
                long n = recv_one(fd, REPLY_TIMEOUT_MS);
                if (n == -ETIMEDOUT)
                    die("%zu-byte message: no reply, no close", sizes[i]);
                if (n > 0 && ((struct xensim_hdr *)replybuf)->err == 0)
                    die("%zu-byte message accepted", sizes[i]);
            }
            close(fd);
        }
    }
    /* Exactly the maximum is fine (an unknown dm_op, well framed). */
    int fd = client(XENSIM_CLIENT_DEVICEMODEL, NULL);
    struct xensim_dm_op *m = msg_init(XENSIM_DM_OP, XENSIM_MSG_MAX);
    m->domid = guest;
    m->nr_bufs = 1;
    m->buf_size[0] = XENSIM_MSG_MAX - sizeof(*m);
    uint32_t op = 999;
    memcpy(m + 1, &op, 4);
    if (must_call(fd, XENSIM_MSG_MAX, "a maximum-size dm_op") == 0)
        die("dm_op 999 accepted");
    close(fd);
}

static void batch_fds(void)
{
    for (int round = 0; round < 40; round++) {
        int fds[12], nr = 1 + (int)below(12);

        for (int i = 0; i < nr; i++) {
            switch (below(3)) {
            case 0:
                fds[i] = memfd_create("fuzz", MFD_CLOEXEC);
                break;
            case 1:
                fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
                break;
            default: {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                    die("pipe: %s", strerror(errno));
                close(p[1]);
                fds[i] = p[0];
            }
            }
            if (fds[i] < 0)
                die("fd: %s", strerror(errno));
        }
        int fd = conn_open();
        size_t len = hello_msg(1 + below(4), 0);
        int ev = -1;
        /* With the HELLO (which must still work), or with a later request. */
        if (round % 2 == 0) {
            send_fds(fd, msgbuf, len, fds, (unsigned int)nr);
            long n = recv_keep(fd, REPLY_TIMEOUT_MS, &ev);
            /* More fds than the daemon's control buffer takes: it may hang up. */
            if (n == -ETIMEDOUT || (nr <= 2 * XENSIM_MAX_FDS &&
                                    (n <= 0 || ((struct xensim_hdr *)replybuf)->err != 0)))
                die("HELLO with %d fds attached was not answered", nr);
        } else {
            if (call_keep(fd, len, &ev) != 0)
                die("HELLO refused");
            len = round % 4 == 1 ? random_framed() : below(20);
            send_fds(fd, msgbuf, len, fds, (unsigned int)nr);
            drain(fd);
        }
        for (int i = 0; i < nr; i++)
            close(fds[i]);
        if (ev >= 0)
            close(ev);
        close(fd);
    }
}

static void batch_dm_op(void)
{
    int fd = client(XENSIM_CLIENT_DEVICEMODEL, NULL);

    /* The frame: bufs, sizes, payload. */
    for (int i = 0; i < 400; i++) {
        struct xensim_dm_op *m = msg_init(XENSIM_DM_OP, sizeof(*m));
        size_t len = sizeof(*m);
        uint32_t sum = 0;

        m->domid = any_domid();
        switch (i % 8) {
        case 0: m->nr_bufs = 0; break;
        case 1: m->nr_bufs = 5; break;
        case 2: m->nr_bufs = edge32(); break;
        default: m->nr_bufs = 1 + below(XENSIM_DM_MAX_BUFS); break;
        }
        for (unsigned int b = 0; b < XENSIM_DM_MAX_BUFS; b++) {
            m->buf_size[b] = below(3) ? below(80) : edge32();
            if (b < m->nr_bufs)
                sum += m->buf_size[b];
        }
        if (i % 8 >= 3 && below(2)) {
            /* buffer 0: a dm_op header with a random op */
            m->buf_size[0] = DMOP_HEADER + below(DMOP_MAX_SIZE);
            sum = 0;
            for (unsigned int b = 0; b < m->nr_bufs; b++) {
                if (b)
                    m->buf_size[b] = below(64);
                sum += m->buf_size[b];
            }
        }
        /* The payload matches the sizes, or is off by a little or a lot. */
        size_t payload = sum;
        switch (below(4)) {
        case 0: payload = below(256); break;
        case 1: payload = sum + 1; break;
        case 2: payload = sum ? sum - 1 : 0; break;
        default: break;
        }
        if (payload > XENSIM_MSG_MAX - sizeof(*m))
            payload = below(512);
        len = sizeof(*m) + payload;
        rnd_fill(m + 1, payload);
        if (payload >= 4) {
            uint32_t op = below(4) ? below(DMOP_NR_OPS + 3) : (uint32_t)rnd();
            memcpy(m + 1, &op, 4);
        }
        m->hdr.len = (uint32_t)len;
        if (call(fd, len) < 0)
            die("dm_op frame %d (nr_bufs %u, payload %zu): no reply", i, m->nr_bufs, payload);
    }
    /* Short messages. */
    for (size_t len = sizeof(struct xensim_hdr); len < sizeof(struct xensim_dm_op); len += 4) {
        msg_init(XENSIM_DM_OP, len);
        if (call(fd, len) <= 0)
            die("a %zu-byte dm_op was not refused", len);
    }
    /* Well-framed random dm_ops, mostly at our guests. */
    for (int i = 0; i < 3000; i++) {
        uint8_t op[DMOP_HEADER + DMOP_MAX_SIZE];
        uint32_t opcode = below(8) ? below(DMOP_NR_OPS + 2) : edge32();
        uint32_t op_len = below(8) ? sizeof(op) : below(sizeof(op) + 1);

        rnd_fill(op, sizeof(op));
        memcpy(op, &opcode, 4);
        if (below(2))
            memset(op + 4, 0, 4); /* pad */
        if (below(2))
            memset(op + DMOP_HEADER + 8, 0, sizeof(op) - DMOP_HEADER - 8);
        uint32_t domid = below(4) ? (below(2) ? guest : pvh_guest) : any_domid();
        size_t len = dm_op_msg(domid, op, op_len);
        if (below(8) == 0) { /* more buffers */
            struct xensim_dm_op *m = (struct xensim_dm_op *)msgbuf;
            m->nr_bufs = 2 + below(3);
            for (unsigned int b = 1; b < m->nr_bufs; b++) {
                m->buf_size[b] = below(64);
                rnd_fill(msgbuf + len, m->buf_size[b]);
                len += m->buf_size[b];
            }
            m->hdr.len = (uint32_t)len;
        }
        int rc = call(fd, len);
        if (rc < 0)
            die("dm_op %u (len %u) at domain %u: no reply", opcode, op_len, domid);
    }
    /* Valid servers on both guests, ranges, enable; then restriction. */
    for (int i = 0; i < 4; i++) {
        uint32_t d = i & 1 ? pvh_guest : guest;
        uint32_t id = create_server(fd, d, (uint8_t)(i % 3));
        uint8_t range[24] = { 0 };
        uint64_t start = 0x1000u * (uint64_t)(i + 1), end = start + 0xff;

        uint32_t type = (uint32_t)i % 2; /* port, memory */
        memcpy(range, &id, 2);
        memcpy(range + 4, &type, 4);
        memcpy(range + 8, &start, 8);
        memcpy(range + 16, &end, 8);
        server_op(fd, d, DMOP_MAP_IO_RANGE, range, sizeof(range));
        uint8_t state[4] = { 0 };
        memcpy(state, &id, 2);
        state[2] = 1;
        server_op(fd, d, DMOP_SET_IOREQ_SERVER_STATE, state, sizeof(state));
    }
    for (int i = 0; i < 20; i++) {
        struct xensim_restrict *r = msg_init(below(2) ? XENSIM_DM_RESTRICT : XENSIM_FMEM_RESTRICT,
                                             sizeof(*r));
        r->domid = any_domid();
        size_t len = below(4) ? sizeof(*r) : sizeof(struct xensim_hdr) + below(12);
        r->hdr.len = (uint32_t)len;
        if (call(fd, len) < 0)
            die("restrict: no reply");
    }
    close(fd);
    /* DM_OP from clients of the other kinds: refused. */
    for (uint32_t kind = 2; kind <= 5; kind++) {
        fd = client(kind, NULL);
        uint8_t op[DMOP_HEADER + 8] = { 0 };
        if (call(fd, dm_op_msg(guest, op, sizeof(op))) != EOPNOTSUPP)
            die("DM_OP on a kind %u client was not refused with EOPNOTSUPP", kind);
        close(fd);
    }
}

static void batch_fmem_map(void)
{
    int fd = client(XENSIM_CLIENT_FOREIGNMEMORY, NULL);

    for (int i = 0; i < 600; i++) {
        struct xensim_fmem_map *m = msg_init(XENSIM_FMEM_MAP, sizeof(*m));
        uint32_t nr;

        switch (i % 6) {
        case 0: nr = 0; break;
        case 1: nr = XENSIM_FMEM_MAX_PAGES + below(3); break;
        case 2: nr = edge32(); break;
        case 3: nr = XENSIM_FMEM_MAX_PAGES - below(2); break;
        default: nr = 1 + below(40); break;
        }
        m->domid = below(3) ? guest : any_domid();
        m->prot = below(2) ? 3 : (uint32_t)rnd();
        m->nr = nr;
        uint32_t carried = nr <= XENSIM_FMEM_MAX_PAGES ? nr : below(100);
        if (below(3) == 0)
            carried = carried + below(3) - 1;
        if (carried > XENSIM_FMEM_MAX_PAGES)
            carried = XENSIM_FMEM_MAX_PAGES;
        for (uint32_t g = 0; g < carried; g++) {
            switch (below(6)) {
            case 0: m->gfn[g] = rnd(); break;
            case 1: m->gfn[g] = (16u << 20) / 4096 + below(12); /* the ioreq pages */
                break;
            case 2: m->gfn[g] = ~0ull - below(4); break;
            default: m->gfn[g] = below(4096 + 16); break; /* RAM, and just past it */
            }
        }
        size_t len = sizeof(*m) + (size_t)carried * 8;
        m->hdr.len = (uint32_t)len;
        if (call(fd, len) < 0)
            die("FMEM_MAP nr %u carrying %u frames: no reply", nr, carried);
    }
    for (size_t len = sizeof(struct xensim_hdr); len < sizeof(struct xensim_fmem_map); len += 4) {
        msg_init(XENSIM_FMEM_MAP, len);
        if (call(fd, len) <= 0)
            die("a %zu-byte FMEM_MAP was not refused", len);
    }
    close(fd);
}

static void batch_map_resource(void)
{
    int dm = client(XENSIM_CLIENT_DEVICEMODEL, NULL);
    int fm = client(XENSIM_CLIENT_FOREIGNMEMORY, NULL);
    uint32_t id = create_server(dm, guest, 2);
    static const uint64_t frames[] = { 0, 1, 2, 3, 4, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                       0xfffffffffffffffeull, 0xffffffffffffffffull };

    for (int i = 0; i < 800; i++) {
        struct xensim_fmem_resource *m =
            msg_init(below(4) ? XENSIM_FMEM_MAP_RESOURCE : XENSIM_FMEM_RESOURCE_SIZE, sizeof(*m));

        m->domid = below(2) ? guest : any_domid();
        m->type = below(2) ? 0 : edge32(); /* XENMEM_resource_ioreq_server is 0 */
        switch (below(4)) {
        case 0: m->id = id; break;
        case 1: m->id = id + 1 + below(3); break;
        default: m->id = edge32(); break;
        }
        m->frame = frames[below(9)];
        m->nr_frames = below(2) ? below(6) : frames[below(9)];
        m->pad = below(4) ? 0 : (uint32_t)rnd();
        size_t len = below(6) ? sizeof(*m) : sizeof(struct xensim_hdr) + below(64);
        m->hdr.len = (uint32_t)len;
        if (call(fm, len) < 0)
            die("MAP_RESOURCE %d: no reply", i);
    }
    /* A valid mapping, then the server goes while mapped, then map again. */
    struct xensim_fmem_resource *m = msg_init(XENSIM_FMEM_MAP_RESOURCE, sizeof(*m));
    m->domid = guest;
    m->id = id;
    m->frame = 0;
    m->nr_frames = 2;
    if (must_call(fm, sizeof(*m), "MAP_RESOURCE of a server's pages"))
        die("mapping server %u's pages failed", id);
    uint8_t op[DMOP_HEADER + 8] = { 0 };
    uint32_t destroy = 6; /* XEN_DMOP_destroy_ioreq_server */
    memcpy(op, &destroy, 4);
    memcpy(op + DMOP_HEADER, &id, 2);
    if (must_call(dm, dm_op_msg(guest, op, sizeof(op)), "destroy_ioreq_server"))
        die("destroy_ioreq_server %u failed", id);
    m = msg_init(XENSIM_FMEM_MAP_RESOURCE, sizeof(*m));
    m->domid = guest;
    m->id = id;
    m->nr_frames = 1;
    if (must_call(fm, sizeof(*m), "MAP_RESOURCE of a destroyed server") == 0)
        die("a destroyed server's page could be mapped");
    close(fm);
    close(dm);
}

static void batch_evtchn(void)
{
    int ev_a, ev_b;
    int a = client(XENSIM_CLIENT_EVTCHN, &ev_a);
    int b = client(XENSIM_CLIENT_EVTCHN, &ev_b);
    static const uint32_t ports[] = { 0, 1, 2, 3, 4095, 4096, 65535, 65536, 0xffffffff };
    uint32_t own[8] = { 0 }, nr_own = 0;

    if (ev_a < 0 || ev_b < 0)
        die("no event socket with an evtchn HELLO");
    fcntl(ev_a, F_SETFL, O_NONBLOCK);
    fcntl(ev_b, F_SETFL, O_NONBLOCK);
    /* Ports of our own (unbound, for dom0 or the guest). */
    for (int i = 0; i < 8; i++) {
        int rc = call(a, evtchn_msg(XENSIM_EVTCHN_BIND_UNBOUND, i & 1 ? guest : 0, 0));
        if (rc == 0)
            memcpy(&own[nr_own++], replybuf + sizeof(struct xensim_hdr), 4);
        else if (rc < 0)
            die("BIND_UNBOUND: no reply");
    }
    if (nr_own == 0)
        die("no port could be bound");
    /* b connects to one of a's dom0 ports: an interdomain pair inside dom0. */
    int rc = call(b, evtchn_msg(XENSIM_EVTCHN_BIND_INTERDOMAIN, 0, own[0]));
    uint32_t b_port = 0;
    if (rc == 0)
        memcpy(&b_port, replybuf + sizeof(struct xensim_hdr), 4);

    /* Bad, foreign and random ports, every op, from both clients. */
    for (int i = 0; i < 1500; i++) {
        static const uint32_t ops[] = { XENSIM_EVTCHN_BIND_INTERDOMAIN, XENSIM_EVTCHN_BIND_UNBOUND,
                                        XENSIM_EVTCHN_UNBIND, XENSIM_EVTCHN_NOTIFY,
                                        XENSIM_EVTCHN_RESTRICT };
        uint32_t port;

        switch (below(4)) {
        case 0: port = ports[below(9)]; break;
        case 1: port = own[below(nr_own)]; break;
        case 2: port = b_port; break;
        default: port = below(64); break;
        }
        uint32_t type = ops[below(4)];
        if (type == XENSIM_EVTCHN_RESTRICT && below(4))
            type = XENSIM_EVTCHN_NOTIFY; /* rarely: a restricted handle stays so */
        if (type == XENSIM_EVTCHN_BIND_UNBOUND && below(4))
            type = XENSIM_EVTCHN_UNBIND; /* do not fill the port space here */
        size_t len = evtchn_msg(type, below(3) ? (below(2) ? guest : 0) : any_domid(), port);
        if (below(10) == 0) {
            len = sizeof(struct xensim_hdr) + below(16);
            ((struct xensim_hdr *)msgbuf)->len = (uint32_t)len;
        }
        int fd = below(2) ? a : b;
        if (call(fd, len) < 0)
            die("evtchn op 0x%x port %u: no reply", type, port);
        /* Garbage and odd ports on the event sockets. */
        if (below(8) == 0) {
            uint32_t w[3] = { ports[below(9)], own[below(nr_own)], (uint32_t)rnd() };
            if (write(below(2) ? ev_a : ev_b, w, 1 + below(sizeof(w))) < 0 && errno != EAGAIN)
                die("event socket write: %s", strerror(errno));
        }
        if (below(4) == 0) {
            uint8_t sink[256];
            while (read(ev_a, sink, sizeof(sink)) > 0 || read(ev_b, sink, sizeof(sink)) > 0)
                ;
        }
        if (i == 700) {
            /* a closes its event socket: deliveries to it must not hurt. */
            close(ev_a);
            ev_a = open("/dev/null", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        }
    }
    close(ev_a);
    close(a); /* abrupt: its ports go back, b's peer becomes unbound */
    call(b, evtchn_msg(XENSIM_EVTCHN_NOTIFY, 0, b_port));
    close(ev_b);
    close(b);

    /* Fill a domain's port space, then let go; the ports come back. */
    for (int round = 0; round < 2; round++) {
        int c = client(XENSIM_CLIENT_EVTCHN, NULL);
        unsigned int bound = 0;
        for (unsigned int i = 0; i < EVTCHN_PORTS + 4; i++) {
            rc = call(c, evtchn_msg(XENSIM_EVTCHN_BIND_UNBOUND, guest, 0));
            if (rc < 0)
                die("BIND_UNBOUND %u: no reply", i);
            if (rc)
                break;
            bound++;
        }
        if (rc != ENOSPC && rc != 0)
            die("a full port space gave %d, not ENOSPC", rc);
        if (round == 1 && bound < EVTCHN_PORTS / 2)
            die("only %u ports after the first client let go", bound);
        close(c);
    }
}

static void batch_guest_run(void)
{
    int ctl = client(XENSIM_CLIENT_CONTROL, NULL);
    const char *ok[] = { "in 0x80 1 expect 0xff\n", "out 0x80 1 0\n" };
    const char *fail1[] = { "in 0x80 1 expect 0x12\n" };
    const char *syntax[] = { "frobnicate 0x80\n" };

    if (must_call(ctl, guest_run_msg(guest, 0, 2, ok), "a good guest run"))
        die("a good guest run failed: %s", replybuf + sizeof(struct xensim_hdr));
    if (must_call(ctl, guest_run_msg(guest, 0, 1, fail1), "a failing guest run") == 0)
        die("a failing guest run succeeded");
    if (must_call(ctl, guest_run_msg(guest, 0, 1, syntax), "a bad script") == 0)
        die("a bad script was run");

    /* first_vcpu: scripts on vCPUs the guest (2 vCPUs) lacks are refused. */
    static const struct { uint32_t first, nr; int err; } firsts[] = {
        { 1, 1, 0 }, { 1, 2, EINVAL }, { 2, 1, EINVAL }, { UINT32_MAX, 1, EINVAL },
        { UINT32_MAX, 2, EINVAL },
    };
    for (unsigned int i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
        size_t len = guest_run_msg(guest, 0, firsts[i].nr, ok);
        ((struct xensim_guest_run *)msgbuf)->first_vcpu = firsts[i].first;
        int err = must_call(ctl, len, "a run from first_vcpu");
        if (err != firsts[i].err)
            die("a run of %u scripts from vCPU %u: error %d, want %d", firsts[i].nr,
                firsts[i].first, err, firsts[i].err);
    }

    /* Inconsistent records. */
    for (int i = 0; i < 300; i++) {
        struct xensim_guest_run *m = msg_init(XENSIM_GUEST_RUN, sizeof(*m));
        size_t off = sizeof(*m);

        m->domid = below(4) ? guest : any_domid();
        m->nr_scripts = below(3) ? 1 + below(3) : edge32();
        m->first_vcpu = below(3) ? below(3) : edge32();
        m->timeout_ms = 2000;
        for (unsigned int r = 0, nr = below(4); r < nr; r++) {
            uint32_t nl = below(3) ? 1 + below(8) : edge32();
            uint32_t tl = below(3) ? below(40) : edge32();
            uint32_t real_nl = nl < 64 ? nl : below(64), real_tl = tl < 64 ? tl : below(64);

            memcpy(msgbuf + off, &nl, 4);
            memcpy(msgbuf + off + 4, &tl, 4);
            off += 8;
            rnd_fill(msgbuf + off, real_nl + real_tl);
            if (below(2) && real_tl >= 16)
                memcpy(msgbuf + off + real_nl, "in 0x80 1\nsleep 1", 16); /* mostly text */
            off += real_nl + real_tl;
        }
        if (below(4) == 0)
            off -= below((uint32_t)(off - sizeof(struct xensim_hdr)) + 1); /* cut anywhere */
        if (below(4) == 0)
            off += below(8); /* trailing bytes */
        ((struct xensim_hdr *)msgbuf)->len = (uint32_t)off;
        if (call(ctl, off) < 0)
            die("GUEST_RUN %d (len %zu): no reply", i, off);
    }

    /* Embedded NUL, long lines, binary. */
    static const char nul_text[] = "in 0x80 1\0garbage";
    struct xensim_guest_run *m = msg_init(XENSIM_GUEST_RUN, sizeof(*m));
    m->domid = guest;
    m->nr_scripts = 1;
    uint32_t nl = 3, tl = sizeof(nul_text);
    memcpy(msgbuf + sizeof(*m), &nl, 4);
    memcpy(msgbuf + sizeof(*m) + 4, &tl, 4);
    memcpy(msgbuf + sizeof(*m) + 8, "nul", 3);
    memcpy(msgbuf + sizeof(*m) + 11, nul_text, tl);
    m->hdr.len = (uint32_t)(sizeof(*m) + 11 + tl);
    must_call(ctl, m->hdr.len, "a script with a NUL");
    char *big = malloc(XENSIM_MSG_MAX / 2);
    memset(big, 'x', XENSIM_MSG_MAX / 2 - 1);
    big[XENSIM_MSG_MAX / 2 - 1] = '\0';
    const char *bigs[] = { big };
    must_call(ctl, guest_run_msg(guest, 0, 1, bigs), "a 32 KiB line");
    free(big);

    /* Busy: a second request while a run is going gets EBUSY, then the run's reply. */
    const char *slow[] = { "sleep 1000\nin 0x80 1 expect 0xff\n" };
    send_raw(ctl, msgbuf, guest_run_msg(guest, 0, 1, slow));
    if (must_call(ctl, list_msg(), "a request during a run") != EBUSY)
        die("a request during a run was not refused with EBUSY");
    long n = recv_one(ctl, REPLY_TIMEOUT_MS);
    if (n < (long)sizeof(struct xensim_hdr) || ((struct xensim_hdr *)replybuf)->type != XENSIM_GUEST_RUN)
        die("the slow run's reply did not come");

    /* Runs on vCPU 0 and 1 from two clients at once; one closes mid-run. */
    int other = client(XENSIM_CLIENT_CONTROL, NULL);
    const char *brief[] = { "sleep 100\nin 0x80 1 expect 0xff\n" };
    send_raw(ctl, msgbuf, guest_run_msg(guest, 0, 1, brief));
    size_t len = guest_run_msg(guest, 0, 1, brief);
    ((struct xensim_guest_run *)msgbuf)->first_vcpu = 1;
    send_raw(other, msgbuf, len);
    close(other);
    recv_one(ctl, REPLY_TIMEOUT_MS);

    /* Clients that go away in the middle of a run. */
    for (int i = 0; i < 10; i++) {
        int c = client(XENSIM_CLIENT_CONTROL, NULL);
        const char *two[] = { "sleep 50\nin 0x80 1\n", "in 0x81 1\nsleep 20\n" };
        send_raw(c, msgbuf, guest_run_msg(guest, 0, 1 + (unsigned int)i % 2, two));
        if (i % 3 == 0)
            shutdown(c, SHUT_RDWR);
        close(c);
        usleep(70000); /* the run ends before the next wants its vCPUs (else EBUSY) */
    }

    /* The watchdog crashes a domain whose run takes too long: a throwaway one. */
    uint32_t doomed = make_domain(ctl, "fuzz-doomed", XENSIM_DOMAIN_HVM, 2);
    const char *forever[] = { "wait-irq isa 3 timeout 100000\n", "sleep 100000\n" };
    if (must_call(ctl, guest_run_msg(doomed, 100, 2, forever), "a run that times out") == 0)
        die("a timed-out run succeeded");
    must_call(ctl, guest_run_msg(doomed, 0, 1, ok), "a run on a crashed domain");
    /* A run in progress when its domain is destroyed. */
    int c = client(XENSIM_CLIENT_CONTROL, NULL);
    uint32_t victim = make_domain(ctl, "fuzz-victim", XENSIM_DOMAIN_PVH, 2);
    send_raw(c, msgbuf, guest_run_msg(victim, 20000, 2, forever));
    usleep(50000);
    destroy_domain(ctl, victim);
    n = recv_one(c, REPLY_TIMEOUT_MS);
    if (n < (long)sizeof(struct xensim_hdr) || ((struct xensim_hdr *)replybuf)->err == 0)
        die("a run whose domain was destroyed did not end with an error");
    close(c);
    destroy_domain(ctl, doomed);
    close(ctl);
}

static void batch_domains(void)
{
    int ctl = client(XENSIM_CLIENT_CONTROL, NULL);
    static const uint64_t mems[] = { 0, 1, 4095, 4097, 1ull << 62, ~0ull };

    for (int i = 0; i < 200; i++) {
        size_t len = domain_create_msg("fuzzdom", 1 + below(2), 1 + below(4), 1u << 20, 0);
        struct xensim_domain_create *m = (struct xensim_domain_create *)msgbuf;

        switch (i % 8) {
        case 0: memset(m->name, 'n', sizeof(m->name)); break; /* no NUL */
        case 1: m->name[0] = '\0'; break;
        case 2: m->type = edge32(); break;
        case 3: m->vcpus = below(2) ? 0 : 129 + below(1000); break;
        case 4: m->memory_bytes = mems[below(6)]; break;
        case 5: m->domid = below(2) ? guest : DOMID_RESERVED + below(100); break;
        case 6: rnd_fill(m->name, sizeof(m->name)); break;
        default: len = sizeof(struct xensim_hdr) + below((uint32_t)sizeof(*m) * 2); m->hdr.len = (uint32_t)len; break;
        }
        int rc = call(ctl, len);
        if (rc < 0)
            die("bad DOMAIN_CREATE %d: no reply", i);
        if (rc == 0) /* it was acceptable after all: take it away again */
            destroy_domain(ctl, ((struct xensim_domain_info *)replybuf)->domid);
    }
    /* Many domains, created and destroyed; explicit domids. */
    for (int round = 0; round < 3; round++) {
        uint32_t ids[16];
        for (int i = 0; i < 16; i++) {
            char name[32];
            snprintf(name, sizeof(name), "fz%d-%d", round, i);
            if (must_call(ctl, domain_create_msg(name, 1 + (uint32_t)i % 2, 1 + (uint32_t)i % 3,
                                                 64u << 10, i % 2 ? 0 : 3000 + (uint32_t)i),
                          "DOMAIN_CREATE"))
                die("cannot create %s", name);
            ids[i] = ((struct xensim_domain_info *)replybuf)->domid;
        }
        if (must_call(ctl, domain_create_msg("fz-dup", 1, 1, 64u << 10, ids[0]), "duplicate domid") == 0)
            die("a duplicate domid was accepted");
        for (int i = 15; i >= 0; i--)
            destroy_domain(ctl, ids[i]);
    }
    for (int i = 0; i < 100; i++) {
        uint32_t type = below(2) ? XENSIM_DOMAIN_DESTROY : XENSIM_IRQ_LOG;
        size_t len = domain_ref_msg(type, any_domid());
        defuse(len);
        if (below(5) == 0) {
            len = sizeof(struct xensim_hdr) + below(16);
            ((struct xensim_hdr *)msgbuf)->len = (uint32_t)len;
        }
        if (call(ctl, len) < 0)
            die("DESTROY/IRQ_LOG: no reply");
    }

    /* Destroy a domain with clients of every kind attached to it. */
    uint32_t d = make_domain(ctl, "fuzz-attached", XENSIM_DOMAIN_HVM, 2);
    int dm = client(XENSIM_CLIENT_DEVICEMODEL, NULL), ev_fd;
    int ec = client(XENSIM_CLIENT_EVTCHN, &ev_fd), fm = client(XENSIM_CLIENT_FOREIGNMEMORY, NULL);
    uint32_t id = create_server(dm, d, 1);
    uint8_t state[4] = { 0 };
    memcpy(state, &id, 2);
    state[2] = 1;
    server_op(dm, d, DMOP_SET_IOREQ_SERVER_STATE, state, sizeof(state));
    struct xensim_fmem_resource *r = msg_init(XENSIM_FMEM_MAP_RESOURCE, sizeof(*r));
    r->domid = d;
    r->id = id;
    r->nr_frames = 2;
    must_call(fm, sizeof(*r), "MAP_RESOURCE");
    if (must_call(fm, fmem_map_msg(d, 0), "FMEM_MAP"))
        die("FMEM_MAP of a guest frame failed");
    for (uint32_t p = 1; p < 8; p++)
        call(ec, evtchn_msg(XENSIM_EVTCHN_BIND_INTERDOMAIN, d, p));
    call(ec, evtchn_msg(XENSIM_EVTCHN_BIND_UNBOUND, d, 0));
    destroy_domain(ctl, d);
    uint8_t op[DMOP_HEADER + 8] = { 0 };
    uint32_t info = 2; /* XEN_DMOP_get_ioreq_server_info */
    memcpy(op, &info, 4);
    memcpy(op + DMOP_HEADER, &id, 2);
    if (must_call(dm, dm_op_msg(d, op, sizeof(op)), "dm_op after destroy") != ESRCH)
        die("a dm_op on a destroyed domain did not fail with ESRCH");
    for (uint32_t p = 0; p < 8; p++) {
        call(ec, evtchn_msg(XENSIM_EVTCHN_NOTIFY, 0, p));
        call(ec, evtchn_msg(XENSIM_EVTCHN_UNBIND, 0, p));
    }
    if (must_call(fm, fmem_map_msg(d, 0), "FMEM_MAP after destroy") != ESRCH)
        die("FMEM_MAP on a destroyed domain did not fail with ESRCH");
    close(ev_fd);
    close(ec);
    close(fm);
    close(dm);
    close(ctl);
}

/* A GETINFO request; the reply must be well-formed: its count, or die. */
static uint32_t getinfo(int fd, uint32_t first, uint32_t max)
{
    struct xensim_domain_getinfo *m = msg_init(XENSIM_DOMAIN_GETINFO, sizeof(*m));

    m->first_domid = first;
    m->max = max;
    long n;
    if (send_raw(fd, msgbuf, sizeof(*m)) < 0 || (n = recv_one(fd, REPLY_TIMEOUT_MS)) <= 0)
        die("GETINFO %u %u: no reply", first, max);
    const struct xensim_domain_getinfo_reply *r = (const void *)replybuf;
    if (r->hdr.err)
        die("GETINFO %u %u: error %d", first, max, r->hdr.err);
    if ((size_t)n < sizeof(*r) || r->count > max || r->count > XENSIM_GETINFO_MAX ||
        (size_t)n != sizeof(*r) + r->count * sizeof(r->info[0]))
        die("GETINFO %u %u: malformed reply (len %ld, count %u)", first, max, n, r->count);
    for (uint32_t i = 0; i < r->count; i++)
        if (r->info[i].domid < (i ? r->info[i - 1].domid + 1 : first) ||
            r->info[i].domid >= DOMID_RESERVED)
            die("GETINFO %u %u: domid %u out of order", first, max, r->info[i].domid);
    return r->count;
}

/* The toolstack's pause count of `domid`, from GETINFO. */
static uint32_t pause_count(int fd, uint32_t domid)
{
    if (getinfo(fd, domid, 1) != 1 ||
        ((const struct xensim_domain_getinfo_reply *)replybuf)->info[0].domid != domid)
        die("GETINFO: domain %u is not there", domid);
    return ((const struct xensim_domain_getinfo_reply *)replybuf)->info[0].pause_count;
}

static int pause_call(int fd, uint32_t type, uint32_t domid)
{
    return must_call(fd, domain_ref_msg(type, domid), type == XENSIM_DOMAIN_PAUSE ? "PAUSE"
                                                                                  : "UNPAUSE");
}

/* Pause, unpause and getinfo, from control and libxenctrl clients. */
static void batch_pause(void)
{
    int ctl = client(XENSIM_CLIENT_CONTROL, NULL), xc = client(XENSIM_CLIENT_XENCTRL, NULL);
    static const uint32_t others[] = { XENSIM_DOMAIN_CREATE, XENSIM_DOMAIN_DESTROY,
                                       XENSIM_DOMAIN_LIST, XENSIM_GUEST_RUN, XENSIM_IRQ_LOG,
                                       XENSIM_SHUTDOWN, XENSIM_DM_OP, XENSIM_FMEM_MAP,
                                       XENSIM_EVTCHN_NOTIFY, XENSIM_DM_RESTRICT };

    /* A libxenctrl client may send nothing else. */
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        size_t len = domain_ref_msg(others[i], guest);
        if (must_call(xc, len, "other on xenctrl") != EOPNOTSUPP)
            die("type 0x%x on a xenctrl client was not refused with EOPNOTSUPP", others[i]);
    }
    /* Xen's errors. */
    for (int fd = ctl, round = 0; round < 2; round++, fd = xc) {
        if (pause_call(fd, XENSIM_DOMAIN_PAUSE, 1000) != ESRCH ||
            pause_call(fd, XENSIM_DOMAIN_UNPAUSE, 1000) != ESRCH ||
            pause_call(fd, XENSIM_DOMAIN_PAUSE, DOMID_RESERVED) != ESRCH ||
            pause_call(fd, XENSIM_DOMAIN_PAUSE, 0xffffffff) != ESRCH)
            die("pause/unpause of no domain: not ESRCH");
        if (pause_call(fd, XENSIM_DOMAIN_PAUSE, 0) != EINVAL)
            die("pausing the caller (dom0): not EINVAL");
        if (pause_call(fd, XENSIM_DOMAIN_UNPAUSE, guest) != EINVAL)
            die("unpausing at 0: not EINVAL");
        if (pause_call(fd, XENSIM_DOMAIN_PAUSE, guest) || pause_count(fd, guest) != 1 ||
            pause_call(fd, XENSIM_DOMAIN_UNPAUSE, guest) || pause_count(fd, guest) != 0)
            die("pause, unpause: the count is wrong");
    }
    /* Bad lengths. */
    for (int i = 0; i < 40; i++) {
        uint32_t type = XENSIM_DOMAIN_PAUSE + below(3);
        size_t good = type == XENSIM_DOMAIN_GETINFO ? sizeof(struct xensim_domain_getinfo)
                                                    : sizeof(struct xensim_domain_ref);
        size_t len = sizeof(struct xensim_hdr) + below(40);
        if (len == good)
            len++;
        struct xensim_domain_ref *r = msg_init(type, len);
        r->domid = 0;
        if (must_call(below(2) ? ctl : xc, len, "bad length") != EINVAL)
            die("type 0x%x of %zu bytes: not EINVAL", type, len);
    }
    /* GETINFO: any range gives a well-formed, ordered reply. */
    if (getinfo(xc, 0, 0xffffffff) < 3 || getinfo(ctl, 0, 0) != 0 ||
        getinfo(xc, DOMID_RESERVED, 100) != 0 || getinfo(xc, 0xffffffff, 0xffffffff) != 0)
        die("GETINFO: unexpected counts");
    for (int i = 0; i < 200; i++)
        getinfo(below(2) ? ctl : xc, any_domid(), edge32());
    /* Acting as a guest: EPERM (after ESRCH for no such domain). */
    int as_guest = conn_open();
    if (call(as_guest, hello_msg(XENSIM_CLIENT_XENCTRL, guest)) != 0)
        die("HELLO as the guest refused");
    struct xensim_domain_getinfo *g = msg_init(XENSIM_DOMAIN_GETINFO, sizeof(*g));
    g->max = 10;
    if (must_call(as_guest, sizeof(*g), "GETINFO as a guest") != EPERM ||
        pause_call(as_guest, XENSIM_DOMAIN_PAUSE, pvh_guest) != EPERM ||
        pause_call(as_guest, XENSIM_DOMAIN_UNPAUSE, pvh_guest) != EPERM ||
        pause_call(as_guest, XENSIM_DOMAIN_PAUSE, 1000) != ESRCH)
        die("a guest's libxenctrl client was not refused");
    close(as_guest);
    /* 255 pauses, then EOVERFLOW; a paused domain can be destroyed. */
    uint32_t d = make_domain(ctl, "fuzz-paused", XENSIM_DOMAIN_PVH, 1);
    for (int i = 0; i < 255; i++)
        if (pause_call(xc, XENSIM_DOMAIN_PAUSE, d))
            die("pause %d failed", i + 1);
    if (pause_call(xc, XENSIM_DOMAIN_PAUSE, d) != EOVERFLOW || pause_count(ctl, d) != 255)
        die("the 256th pause was not refused with EOVERFLOW");
    destroy_domain(ctl, d);
    if (pause_call(xc, XENSIM_DOMAIN_UNPAUSE, d) != ESRCH)
        die("unpausing a destroyed domain: not ESRCH");
    if (pause_count(ctl, guest) != 0 || pause_count(ctl, pvh_guest) != 0)
        die("the batch left a guest paused");
    close(xc);
    close(ctl);
}

static void batch_abrupt(void)
{
    enum { N = 300 };
    static int fds[N];

    /* Connect, send something, vanish without reading. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            fds[i] = conn_open();
            if (i % 5 == 0)
                continue; /* not a word */
            send_raw(fds[i], msgbuf, hello_msg(1 + below(4), below(4) ? 0 : guest));
            if (i % 2) {
                size_t len = random_framed();
                send_raw(fds[i], msgbuf, below(4) ? len : below((uint32_t)len + 1));
            }
            if (i % 7 == 0)
                shutdown(fds[i], below(2) ? SHUT_WR : SHUT_RDWR);
        }
        for (int i = 0; i < N; i++) {
            int j = (int)below(N);
            int t = fds[i];
            fds[i] = fds[j];
            fds[j] = t;
        }
        for (int i = 0; i < N; i++)
            close(fds[i]);
    }
    /* Close during requests that take a while: guest runs, bindings, servers. */
    for (int i = 0; i < 50; i++) {
        int c = client(1 + (uint32_t)i % 4, NULL);
        switch (i % 4) {
        case 0: { /* devicemodel: a server, then gone */
            uint8_t op[DMOP_HEADER + 8] = { 0 };
            uint32_t create = DMOP_CREATE_IOREQ_SERVER;
            memcpy(op, &create, 4);
            send_raw(c, msgbuf, dm_op_msg(guest, op, sizeof(op)));
            break;
        }
        case 2: /* evtchn: a binding, then gone */
            send_raw(c, msgbuf, evtchn_msg(XENSIM_EVTCHN_BIND_UNBOUND, guest, 0));
            break;
        case 3: {
            const char *s[] = { "sleep 10\nin 0x80 1\n" };
            send_raw(c, msgbuf, guest_run_msg(guest, 0, 1, s));
            usleep(15000); /* over before the next run wants vCPU 0 (else EBUSY) */
            break;
        }
        default:
            send_raw(c, msgbuf, domain_ref_msg(XENSIM_IRQ_LOG, guest));
            break;
        }
        close(c);
    }
}

/* A client that sends requests and never reads the replies. */
static void batch_no_reader(void)
{
    int lazy = client(XENSIM_CLIENT_CONTROL, NULL);
    int sent = 0;

    /* Far more unread replies than the daemon's socket buffer holds. */
    for (; sent < 5000; sent++)
        if (send_raw(lazy, msgbuf, domain_ref_msg(XENSIM_IRQ_LOG, guest)) < 0)
            break; /* the daemon hung up on us: fine */
    health(); /* others are still served while it sits there */
    int replies = 0;
    while (recv_one(lazy, 500) > 0)
        replies++;
    printf("no-reader: %d requests sent, %d replies queued before the daemon hung up\n",
           sent, replies);
    close(lazy);
}

/* A hang (ours or the daemon's) ends the run, naming the batch. */
static void on_alarm(int sig)
{
    static const char msg[] = "control_fuzz: FAIL: hung in batch '";
    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
        write(STDERR_FILENO, batch, strlen(batch)) < 0 || write(STDERR_FILENO, "'\n", 2) < 0)
        _exit(1);
    _exit(1);
}

int main(int argc, char **argv)
{
    uint64_t seed = 20240611;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: control_fuzz [--seed N] [--only NAME[,NAME...]]\n");
            return 2;
        }
    }
    sock_path = getenv(XENSIM_SOCKET_ENV);
    if (!sock_path || !sock_path[0]) {
        fprintf(stderr, "control_fuzz: $%s is not set (run under xensim run)\n", XENSIM_SOCKET_ENV);
        return 2;
    }
    rng = seed ? seed : 1;
    msgbuf = calloc(4, XENSIM_MSG_MAX);
    replybuf = calloc(1, XENSIM_MSG_MAX + 1);
    if (!msgbuf || !replybuf)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    signal(SIGALRM, on_alarm);
    alarm(TIME_LIMIT_S + 5);
    printf("control_fuzz: seed %llu\n", (unsigned long long)seed);

    health();
    int fds_before = daemon_fds();
    int ctl = client(XENSIM_CLIENT_CONTROL, NULL);
    guest = make_domain(ctl, "fuzz-hvm", XENSIM_DOMAIN_HVM, 2);
    pvh_guest = make_domain(ctl, "fuzz-pvh", XENSIM_DOMAIN_PVH, 1);
    close(ctl);
    health();

    run_batch("random-bytes", batch_random_bytes);
    run_batch("truncated", batch_truncated);
    run_batch("lying-len", batch_lying_len);
    run_batch("before-hello", batch_before_hello);
    run_batch("bad-hello", batch_bad_hello);
    run_batch("oversized", batch_oversized);
    run_batch("fds", batch_fds);
    run_batch("dm-op", batch_dm_op);
    run_batch("fmem-map", batch_fmem_map);
    run_batch("map-resource", batch_map_resource);
    run_batch("evtchn", batch_evtchn);
    run_batch("guest-run", batch_guest_run);
    run_batch("domains", batch_domains);
    run_batch("pause", batch_pause);
    run_batch("random-framed", batch_random_framed);
    run_batch("abrupt", batch_abrupt);
    run_batch("no-reader", batch_no_reader);

    /*
     * Everything we opened is closed and the guests (with the servers the
     * batches left on them) are destroyed: the daemon's fds settle back.
     * Then guests for the test script to see.
     */
    batch = "fd-leak";
    ctl = client(XENSIM_CLIENT_CONTROL, NULL);
    destroy_domain(ctl, guest);
    destroy_domain(ctl, pvh_guest);
    close(ctl);
    int fds_after = daemon_fds();
    for (int i = 0; i < 250 && fds_before >= 0 && fds_after > fds_before + 4; i++) {
        usleep(20000);
        health();
        fds_after = daemon_fds();
    }
    if (fds_before >= 0 && fds_after > fds_before + 4) {
        char path[64], target[256];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
            char link[320];
            snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n > 0)
                fprintf(stderr, "  daemon fd %s -> %.*s\n", e->d_name, (int)n, target);
        }
        if (d)
            closedir(d);
        die("the daemon held %d fds before the batches and %d after", fds_before, fds_after);
    }
    ctl = client(XENSIM_CLIENT_CONTROL, NULL);
    make_domain(ctl, "fuzz-hvm", XENSIM_DOMAIN_HVM, 2);
    close(ctl);
    printf("control_fuzz: %lu messages, %lu replies, %lu closes; daemon fds %d -> %d; %.2f s\n",
           nr_sent, nr_replies, nr_closed, fds_before, fds_after, elapsed());
    free(msgbuf);
    free(replybuf);
    return 0;
}
