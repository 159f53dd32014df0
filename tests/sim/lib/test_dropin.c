/*
 * The xensim drop-in Xen libraries against a small fake daemon.
 *
 * Built against Debian's headers and linked with plain -lxendevicemodel
 * -lxenforeignmemory -lxenevtchn -lxenctrl -lxentoolcore; run with LD_LIBRARY_PATH
 * pointing at the drop-ins (usage: test_dropin EXPECTED_LIB_DIR).  A thread
 * plays the daemon on a private SOCK_SEQPACKET socket: it answers HELLO
 * (with an event socket and an event page for evtchn handles), echoes
 * DM_OPs with a few outputs filled in, serves frames from memfds, binds
 * ports (handing out an eventfd doorbell for remote port 5) and loops
 * notifications back to the handle as events, with the daemon's half of the
 * event page protocol (xensim_proto.h); it never reads unmask records, the
 * checks do.  For libxenctrl it lists a fixed set of domains and records
 * pause requests.  The checks cover the wire format the libraries
 * produce and the API behaviour on top of it.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xen/memory.h>
#include <xen/sched.h>
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoolcore.h>
#include <xentoollog.h>

#include "xensim_proto.h"

#define PAGE 4096u
#define RAM_PAGES 16u
#define EXTRA_FDS 6u      /* gfns 100..105: one memfd each */
#define GFN_EXTRA 100u
#define GFN_MISSING 0xdeadu
#define DOMID_BAD 0xbad   /* dm_op: ESRCH */
#define DOMID_HANGUP 0x777 /* dm_op: the daemon drops the connection */
#define DOMID_HALF 9      /* fmem map: the daemon answers half of each request */
#define SERVER_ID 7
#define REMOTE_DOORBELL 5 /* bind_interdomain to this remote port gets a doorbell */
#define FAKE_NR_DOMAINS 1200u /* GETINFO: even domids 0..FAKE_LAST_DOMID */
#define FAKE_LAST_DOMID (2 * (FAKE_NR_DOMAINS - 1))
#define FAKE_BAD_LEN 1001u   /* GETINFO from here: a count the reply does not hold */
#define FAKE_BAD_ORDER 1003u /* GETINFO from here: domids out of order */

#include "checks.h"

/* ------------------------------------------------------------------------ */
/* The fake daemon                                                          */

static struct {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lsock;
    int ram_fd;
    int extra_fd[EXTRA_FDS];
    int res_fd[2];
    int doorbell;             /* the eventfd handed out for REMOTE_DOORBELL */
    pthread_mutex_t lock;     /* guards the records below */
    uint32_t hello_kind, hello_domid, hello_pid, hello_version;
    struct xen_dm_op last_op;
    uint32_t last_op_domid, last_op_nr_bufs, last_op_size;
    uint32_t last_restrict[4]; /* by client kind */
    uint32_t fmem_last_prot;
    int evsock;               /* daemon end of the latest evtchn handle's event socket */
    struct xensim_evtchn_page *evpage; /* and its event page */
    atomic_bool evtchn_no_page; /* HELLO hands out the event socket only */
    atomic_uint nr_dm_ops, nr_notify, nr_restrict, nr_fmem_map, nr_max_map;
    atomic_uint nr_getinfo;
    uint32_t last_getinfo_first, last_getinfo_max;
    uint32_t last_pause_type, last_pause_domid;
} F = { .lock = PTHREAD_MUTEX_INITIALIZER, .evsock = -1 };

struct fconn {
    int fd;
    uint32_t kind;
    int restricted;   /* -1: not restricted */
    int evsock;
    struct xensim_evtchn_page *evpage;
    uint32_t next_port;
};

static ssize_t fake_recv(int fd, void *buf, size_t size, int *fds, unsigned int *nr_fds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * XENSIM_MAX_FDS)];
    struct iovec iov = { .iov_base = buf, .iov_len = size };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    ssize_t n;

    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *nr_fds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                memcpy(&fds[(*nr_fds)++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
    return n;
}

static void fake_reply(int fd, const struct xensim_hdr *rq, void *msg, size_t len, int err,
                       const int *fds, unsigned int nr_fds)
{
    struct xensim_hdr *h = msg;
    char cbuf[CMSG_SPACE(sizeof(int) * XENSIM_MAX_FDS)];
    struct iovec iov = { .iov_base = msg, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    h->type = rq->type;
    h->seq = rq->seq;
    h->len = (uint32_t)len;
    h->err = err;
    if (nr_fds) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
    }
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
        perror("fake daemon: sendmsg");
}

static void fake_error(int fd, const struct xensim_hdr *rq, int err)
{
    struct xensim_hdr h;
    fake_reply(fd, rq, &h, sizeof(h), err, NULL, 0);
}

static int fd_slot(int *fds, unsigned int *nr, int fd)
{
    for (unsigned int i = 0; i < *nr; i++)
        if (fds[i] == fd)
            return (int)i;
    if (*nr == XENSIM_MAX_FDS)
        return -1;
    fds[*nr] = fd;
    return (int)(*nr)++;
}

/* Returns false to drop the connection. */
static bool fake_dm_op(struct fconn *c, void *buf, size_t len)
{
    struct xensim_dm_op *m = buf;
    struct xen_dm_op *op = (struct xen_dm_op *)(m + 1);

    if (len < sizeof(*m) + sizeof(*op) || m->nr_bufs != 1 || m->buf_size[0] != sizeof(*op)) {
        fake_error(c->fd, &m->hdr, EINVAL);
        return true;
    }
    atomic_fetch_add(&F.nr_dm_ops, 1);
    pthread_mutex_lock(&F.lock);
    F.last_op = *op;
    F.last_op_domid = m->domid;
    F.last_op_nr_bufs = m->nr_bufs;
    F.last_op_size = m->buf_size[0];
    pthread_mutex_unlock(&F.lock);

    if (m->domid == DOMID_HANGUP)
        return false;
    if (c->restricted >= 0 && m->domid != (uint32_t)c->restricted) {
        fake_error(c->fd, &m->hdr, EPERM);
        return true;
    }
    if (m->domid == DOMID_BAD) {
        fake_error(c->fd, &m->hdr, ESRCH);
        return true;
    }
    switch (op->op) {
    case XEN_DMOP_create_ioreq_server:
        op->u.create_ioreq_server.id = SERVER_ID;
        break;
    case XEN_DMOP_get_ioreq_server_info:
        if (!(op->u.get_ioreq_server_info.flags & XEN_DMOP_no_gfns)) {
            op->u.get_ioreq_server_info.ioreq_gfn = 0x1000;
            op->u.get_ioreq_server_info.bufioreq_gfn = 0x1001;
        }
        op->u.get_ioreq_server_info.bufioreq_port = 33;
        break;
    case XEN_DMOP_nr_vcpus:
        op->u.nr_vcpus.vcpus = 3;
        break;
    case XEN_DMOP_set_pci_link_route:
        fake_error(c->fd, &m->hdr, EOPNOTSUPP);
        return true;
    default:
        break;
    }
    fake_reply(c->fd, &m->hdr, buf, len, 0, NULL, 0);
    return true;
}

static void fake_fmem_map(struct fconn *c, void *buf, size_t len)
{
    const struct xensim_fmem_map *rq = buf;
    static _Thread_local unsigned char out_buf[XENSIM_MSG_MAX];
    struct xensim_fmem_map_reply *out = (void *)out_buf;
    int fds[XENSIM_MAX_FDS];
    unsigned int nr_fds = 0;

    if (len < sizeof(*rq) || rq->nr == 0 || len != sizeof(*rq) + rq->nr * sizeof(uint64_t) ||
        sizeof(*out) + rq->nr * sizeof(struct xensim_frame) > XENSIM_MSG_MAX) {
        fprintf(stderr, "fake daemon: bad FMEM_MAP (len %zu nr %u)\n", len, rq->nr);
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    atomic_fetch_add(&F.nr_fmem_map, 1);
    unsigned int prev = atomic_load(&F.nr_max_map);
    while (rq->nr > prev && !atomic_compare_exchange_weak(&F.nr_max_map, &prev, rq->nr))
        ;
    pthread_mutex_lock(&F.lock);
    F.fmem_last_prot = rq->prot;
    pthread_mutex_unlock(&F.lock);
    if (c->restricted >= 0 && rq->domid != (uint32_t)c->restricted) {
        fake_error(c->fd, &rq->hdr, EPERM);
        return;
    }

    uint32_t nr = rq->domid == DOMID_HALF && rq->nr > 1 ? rq->nr / 2 : rq->nr;
    memset(out, 0, sizeof(*out) + nr * sizeof(struct xensim_frame));
    out->nr = nr;
    for (uint32_t i = 0; i < nr; i++) {
        struct xensim_frame *f = &out->frame[i];
        uint64_t gfn = rq->gfn[i];
        int fd = -1;
        if (gfn < RAM_PAGES) {
            fd = F.ram_fd;
            f->offset = gfn * PAGE;
        } else if (gfn >= GFN_EXTRA && gfn < GFN_EXTRA + EXTRA_FDS) {
            fd = F.extra_fd[gfn - GFN_EXTRA];
        }
        int slot = fd >= 0 ? fd_slot(fds, &nr_fds, fd) : -1;
        if (fd < 0)
            f->err = ENOENT;
        else if (slot < 0)
            f->err = E2BIG;
        else
            f->fd_index = (uint32_t)slot;
    }
    out->nr_fds = nr_fds;
    fake_reply(c->fd, &rq->hdr, out, sizeof(*out) + nr * sizeof(struct xensim_frame), 0, fds,
               nr_fds);
}

static void fake_fmem_resource(struct fconn *c, void *buf, size_t len)
{
    const struct xensim_fmem_resource *rq = buf;
    struct xensim_fmem_resource_reply out;
    int fds[XENSIM_MAX_FDS];

    memset(&out, 0, sizeof(out));
    if (len != sizeof(*rq)) {
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    if (rq->type != XENMEM_resource_ioreq_server) {
        fake_error(c->fd, &rq->hdr, EOPNOTSUPP);
        return;
    }
    if (rq->hdr.type == XENSIM_FMEM_RESOURCE_SIZE) {
        out.size = 2 * PAGE;
        fake_reply(c->fd, &rq->hdr, &out, sizeof(out), 0, NULL, 0);
        return;
    }
    if (rq->id != SERVER_ID) {
        fake_error(c->fd, &rq->hdr, ENOENT);
        return;
    }
    if (rq->nr_frames == 0 || rq->nr_frames > XENSIM_MAX_FDS || rq->frame >= 2 ||
        rq->nr_frames > 2 - rq->frame) {
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    for (uint32_t i = 0; i < rq->nr_frames; i++) {
        fds[i] = F.res_fd[rq->frame + i];
        out.frame[i].fd_index = i;
    }
    out.nr_frames = (uint32_t)rq->nr_frames;
    fake_reply(c->fd, &rq->hdr, &out, sizeof(out), 0, fds, out.nr_frames);
}

static void fake_evtchn(struct fconn *c, void *buf, size_t len)
{
    const struct xensim_evtchn *rq = buf;
    struct xensim_evtchn_reply out = { .port = 0 };

    if (len != sizeof(*rq)) {
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    switch (rq->hdr.type) {
    case XENSIM_EVTCHN_BIND_INTERDOMAIN:
        out.port = c->next_port++;
        if (rq->port == REMOTE_DOORBELL) {
            out.has_doorbell = 1;
            fake_reply(c->fd, &rq->hdr, &out, sizeof(out), 0, &F.doorbell, 1);
            return;
        }
        break;
    case XENSIM_EVTCHN_BIND_UNBOUND:
        out.port = c->next_port++;
        break;
    case XENSIM_EVTCHN_NOTIFY: {
        /* Loop back: an event on this very handle's port, delivered or latched. */
        uint32_t port = rq->port;
        atomic_fetch_add(&F.nr_notify, 1);
        if (port < XENSIM_EVTCHN_PORTS && xensim_evtchn_raise(c->evpage, port) &&
            write(c->evsock, &port, sizeof(port)) != sizeof(port))
            perror("fake daemon: event write");
        break;
    }
    case XENSIM_EVTCHN_UNBIND:
        if (rq->port >= c->next_port) {
            fake_error(c->fd, &rq->hdr, EINVAL);
            return;
        }
        break;
    default:
        fake_error(c->fd, &rq->hdr, EOPNOTSUPP);
        return;
    }
    fake_reply(c->fd, &rq->hdr, &out, sizeof(out), 0, NULL, 0);
}

/*
 * The domains of the fake: even domids 0..FAKE_LAST_DOMID.  Their fields
 * derive from the domid (fake_dominfo()); a domid divisible by 4 is a paused
 * HVM guest, any other one crashed.
 */
static void fake_dominfo(uint32_t d, struct xensim_dominfo *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->name, sizeof(o->name), "d%u", d);
    o->domid = d;
    o->type = XENSIM_DOMAIN_HVM;
    o->flags = d % 4 == 0 ? XEN_DOMINF_hvm_guest | XEN_DOMINF_paused | XEN_DOMINF_blocked
                          : XEN_DOMINF_hvm_guest | XEN_DOMINF_shutdown |
                                (uint32_t)SHUTDOWN_crash << XEN_DOMINF_shutdownshift;
    o->emulation_flags = d * 3;
    o->nr_online_vcpus = d % 7 + 1;
    o->max_vcpu_id = d % 7;
    o->tot_pages = d * 10ull;
    o->max_pages = d * 10ull + 1;
}

static void fake_getinfo(struct fconn *c, void *buf, size_t len)
{
    struct xensim_domain_getinfo *rq = buf;
    static struct xensim_domain_getinfo_reply *out;

    if (!out)
        out = malloc(XENSIM_MSG_MAX);
    if (len != sizeof(*rq)) {
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    atomic_fetch_add(&F.nr_getinfo, 1);
    pthread_mutex_lock(&F.lock);
    F.last_getinfo_first = rq->first_domid;
    F.last_getinfo_max = rq->max;
    pthread_mutex_unlock(&F.lock);
    uint32_t count = 0;
    for (uint32_t d = rq->first_domid + (rq->first_domid & 1);
         d <= FAKE_LAST_DOMID && count < rq->max && count < XENSIM_GETINFO_MAX; d += 2)
        fake_dominfo(d, &out->info[count++]);
    out->count = count;
    size_t n = sizeof(*out) + count * sizeof(out->info[0]);
    if (rq->first_domid == FAKE_BAD_LEN) /* a count the length does not hold */
        out->count = count + 1;
    if (rq->first_domid == FAKE_BAD_ORDER && count >= 2) /* descending */
        out->info[1].domid = out->info[0].domid - 2;
    fake_reply(c->fd, &rq->hdr, out, n, 0, NULL, 0);
}

static void fake_pause(struct fconn *c, void *buf, size_t len)
{
    struct xensim_domain_ref *rq = buf;

    if (len != sizeof(*rq)) {
        fake_error(c->fd, &rq->hdr, EINVAL);
        return;
    }
    pthread_mutex_lock(&F.lock);
    F.last_pause_type = rq->hdr.type;
    F.last_pause_domid = rq->domid;
    pthread_mutex_unlock(&F.lock);
    fake_error(c->fd, &rq->hdr, rq->domid == DOMID_BAD ? ESRCH : 0);
}

static void *fake_conn_main(void *arg)
{
    struct fconn *c = arg;
    unsigned char *buf = malloc(XENSIM_MSG_MAX);
    bool hello = false;

    for (;;) {
        int fds[XENSIM_MAX_FDS];
        unsigned int nr_fds = 0;
        ssize_t n = fake_recv(c->fd, buf, XENSIM_MSG_MAX, fds, &nr_fds);
        if (n <= 0)
            break;
        for (unsigned int i = 0; i < nr_fds; i++)
            close(fds[i]);
        struct xensim_hdr *h = (void *)buf;
        if ((size_t)n < sizeof(*h) || h->len != (uint32_t)n) {
            fprintf(stderr, "fake daemon: malformed message\n");
            break;
        }
        if (!hello && h->type != XENSIM_HELLO) {
            fake_error(c->fd, h, EPROTO);
            continue;
        }
        switch (h->type) {
        case XENSIM_HELLO: {
            struct xensim_hello *rq = (void *)buf;
            struct xensim_hdr out;
            hello = true;
            c->kind = rq->kind;
            pthread_mutex_lock(&F.lock);
            F.hello_kind = rq->kind;
            F.hello_domid = rq->domid;
            F.hello_pid = rq->pid;
            F.hello_version = rq->version;
            pthread_mutex_unlock(&F.lock);
            if (rq->kind == XENSIM_CLIENT_EVTCHN) {
                int sp[3];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                    abort();
                sp[2] = memfd_create("fake-evtchn-page", MFD_CLOEXEC);
                if (sp[2] < 0 || ftruncate(sp[2], XENSIM_EVTCHN_PAGE_SIZE) < 0)
                    abort();
                c->evpage = mmap(NULL, XENSIM_EVTCHN_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_SHARED, sp[2], 0);
                if (c->evpage == MAP_FAILED)
                    abort();
                c->evsock = sp[0];
                pthread_mutex_lock(&F.lock);
                F.evsock = sp[0];
                F.evpage = c->evpage;
                pthread_mutex_unlock(&F.lock);
                fake_reply(c->fd, h, &out, sizeof(out), 0, &sp[1],
                           atomic_load(&F.evtchn_no_page) ? 1 : 2);
                close(sp[1]);
                close(sp[2]);
            } else {
                fake_reply(c->fd, h, &out, sizeof(out), 0, NULL, 0);
            }
            break;
        }
        case XENSIM_DM_OP:
            if (!fake_dm_op(c, buf, (size_t)n))
                goto out;
            break;
        case XENSIM_DM_RESTRICT:
        case XENSIM_FMEM_RESTRICT:
        case XENSIM_EVTCHN_RESTRICT: {
            struct xensim_restrict *rq = (void *)buf;
            c->restricted = (int)rq->domid;
            atomic_fetch_add(&F.nr_restrict, 1);
            pthread_mutex_lock(&F.lock);
            if (c->kind < 4)
                F.last_restrict[c->kind] = rq->domid;
            pthread_mutex_unlock(&F.lock);
            fake_error(c->fd, h, 0);
            break;
        }
        case XENSIM_FMEM_MAP:
            fake_fmem_map(c, buf, (size_t)n);
            break;
        case XENSIM_FMEM_MAP_RESOURCE:
        case XENSIM_FMEM_RESOURCE_SIZE:
            fake_fmem_resource(c, buf, (size_t)n);
            break;
        case XENSIM_EVTCHN_BIND_INTERDOMAIN:
        case XENSIM_EVTCHN_BIND_UNBOUND:
        case XENSIM_EVTCHN_UNBIND:
        case XENSIM_EVTCHN_NOTIFY:
            fake_evtchn(c, buf, (size_t)n);
            break;
        case XENSIM_DOMAIN_GETINFO:
            fake_getinfo(c, buf, (size_t)n);
            break;
        case XENSIM_DOMAIN_PAUSE:
        case XENSIM_DOMAIN_UNPAUSE:
            fake_pause(c, buf, (size_t)n);
            break;
        default:
            fake_error(c->fd, h, EOPNOTSUPP);
        }
    }
out:
    /* The event socket and page stay: the checks may look at them after the handle is gone. */
    close(c->fd);
    free(buf);
    free(c);
    return NULL;
}

static void *fake_accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept4(F.lsock, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        struct fconn *c = calloc(1, sizeof(*c));
        c->fd = fd;
        c->restricted = -1;
        c->evsock = -1;
        c->next_port = 10;
        pthread_t t;
        pthread_create(&t, NULL, fake_conn_main, c);
        pthread_detach(t);
    }
}

static int page_memfd(const char *name, size_t pages, unsigned char fill)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)(pages * PAGE)) < 0)
        abort();
    unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        abort();
    for (size_t i = 0; i < pages; i++)
        memset(p + i * PAGE, fill + (int)i, PAGE);
    munmap(p, pages * PAGE);
    return fd;
}

static void fake_start(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    pthread_t t;

    snprintf(F.path, sizeof(F.path), "/tmp/xensim-dropin-test.%d.sock", (int)getpid());
    unlink(F.path);
    memcpy(sa.sun_path, F.path, sizeof(F.path));
    F.lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (F.lsock < 0 || bind(F.lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(F.lsock, 16) < 0) {
        perror("fake daemon: listen");
        exit(2);
    }
    F.ram_fd = page_memfd("ram", RAM_PAGES, 0x00);  /* page i is all bytes i */
    for (unsigned int i = 0; i < EXTRA_FDS; i++)
        F.extra_fd[i] = page_memfd("extra", 1, (unsigned char)(0x80 + i));
    F.res_fd[0] = page_memfd("bufioreq", 1, 0xb0);
    F.res_fd[1] = page_memfd("ioreq", 1, 0xc0);
    F.doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_create(&t, NULL, fake_accept_main, NULL);
    pthread_detach(t);
    setenv(XENSIM_SOCKET_ENV, F.path, 1);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Is [p, p+1) readable?  write(2) says EFAULT rather than faulting. */
static bool readable(const void *p)
{
    int fds[2];
    bool ok;

    if (pipe(fds) < 0)
        abort();
    ok = write(fds[1], p, 1) == 1;
    close(fds[0]);
    close(fds[1]);
    return ok;
}

static struct xen_dm_op last_op(uint32_t *domid)
{
    pthread_mutex_lock(&F.lock);
    struct xen_dm_op op = F.last_op;
    if (domid)
        *domid = F.last_op_domid;
    pthread_mutex_unlock(&F.lock);
    return op;
}

struct counting_logger {
    xentoollog_logger lg;
    int messages;
    int last_errno;
};

static void counting_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                              const char *context, const char *format, va_list al)
{
    struct counting_logger *cl = (struct counting_logger *)lg;
    (void)level, (void)context, (void)format, (void)al;
    cl->messages++;
    cl->last_errno = errnoval;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void test_devicemodel(void)
{
    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    CHECK(dm != NULL);
    if (!dm)
        return;
    pthread_mutex_lock(&F.lock);
    CHECK(F.hello_kind == XENSIM_CLIENT_DEVICEMODEL);
    CHECK(F.hello_domid == 0);
    CHECK(F.hello_version == XENSIM_PROTO_VERSION);
    CHECK(F.hello_pid == (uint32_t)getpid());
    pthread_mutex_unlock(&F.lock);

    ioservid_t id = 0;
    uint32_t domid;
    CHECK(xendevicemodel_create_ioreq_server(dm, 1, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id) == 0);
    CHECK(id == SERVER_ID);
    struct xen_dm_op op = last_op(&domid);
    CHECK(domid == 1);
    CHECK(op.op == XEN_DMOP_create_ioreq_server);
    CHECK(op.u.create_ioreq_server.handle_bufioreq == HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_op_nr_bufs == 1 && F.last_op_size == sizeof(struct xen_dm_op));
    pthread_mutex_unlock(&F.lock);

    /* get_ioreq_server_info: no gfn pointers -> XEN_DMOP_no_gfns. */
    evtchn_port_t port = 0;
    CHECK(xendevicemodel_get_ioreq_server_info(dm, 1, id, NULL, NULL, &port) == 0);
    CHECK(port == 33);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_get_ioreq_server_info);
    CHECK(op.u.get_ioreq_server_info.id == SERVER_ID);
    CHECK(op.u.get_ioreq_server_info.flags == XEN_DMOP_no_gfns);
    xen_pfn_t ioreq_gfn = 0, bufioreq_gfn = 0;
    CHECK(xendevicemodel_get_ioreq_server_info(dm, 1, id, &ioreq_gfn, &bufioreq_gfn, NULL) == 0);
    CHECK(ioreq_gfn == 0x1000 && bufioreq_gfn == 0x1001);
    CHECK(last_op(NULL).u.get_ioreq_server_info.flags == 0);

    CHECK(xendevicemodel_map_io_range_to_ioreq_server(dm, 1, id, 1, 0xfe000000, 0xfe000fff) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_map_io_range_to_ioreq_server);
    CHECK(op.u.map_io_range_to_ioreq_server.type == XEN_DMOP_IO_RANGE_MEMORY);
    CHECK(op.u.map_io_range_to_ioreq_server.start == 0xfe000000);
    CHECK(op.u.map_io_range_to_ioreq_server.end == 0xfe000fff);
    CHECK(xendevicemodel_unmap_io_range_from_ioreq_server(dm, 1, id, 0, 0x3f8, 0x3ff) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_unmap_io_range_from_ioreq_server);
    CHECK(op.u.unmap_io_range_from_ioreq_server.type == XEN_DMOP_IO_RANGE_PORT);
    CHECK(op.u.unmap_io_range_from_ioreq_server.start == 0x3f8);

    CHECK(xendevicemodel_map_pcidev_to_ioreq_server(dm, 1, id, 0, 0, 5, 0) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_map_io_range_to_ioreq_server);
    CHECK(op.u.map_io_range_to_ioreq_server.type == XEN_DMOP_IO_RANGE_PCI);
    CHECK(op.u.map_io_range_to_ioreq_server.start == XEN_DMOP_PCI_SBDF(0, 0, 5, 0));
    CHECK(op.u.map_io_range_to_ioreq_server.end == XEN_DMOP_PCI_SBDF(0, 0, 5, 0));
    CHECK(xendevicemodel_unmap_pcidev_from_ioreq_server(dm, 1, id, 1, 2, 3, 4) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_unmap_io_range_from_ioreq_server);
    CHECK(op.u.unmap_io_range_from_ioreq_server.start == XEN_DMOP_PCI_SBDF(1, 2, 3, 4));

    CHECK(xendevicemodel_set_ioreq_server_state(dm, 1, id, 42) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_set_ioreq_server_state && op.u.set_ioreq_server_state.enabled == 1);

    CHECK(xendevicemodel_set_pci_intx_level(dm, 1, 0, 0, 5, 1, 1) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_set_pci_intx_level && op.u.set_pci_intx_level.device == 5 &&
          op.u.set_pci_intx_level.intx == 1 && op.u.set_pci_intx_level.level == 1);
    CHECK(xendevicemodel_set_isa_irq_level(dm, 1, 4, 1) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_set_isa_irq_level && op.u.set_isa_irq_level.isa_irq == 4 &&
          op.u.set_isa_irq_level.level == 1);
    CHECK(xendevicemodel_inject_msi(dm, 1, 0xfee00000, 0x4041) == 0);
    op = last_op(NULL);
    CHECK(op.op == XEN_DMOP_inject_msi && op.u.inject_msi.addr == 0xfee00000 &&
          op.u.inject_msi.data == 0x4041);
    CHECK_ERR(xendevicemodel_set_pci_link_route(dm, 1, 0, 5), EOPNOTSUPP);
    CHECK(last_op(NULL).op == XEN_DMOP_set_pci_link_route);

    unsigned int vcpus = 0;
    CHECK(xendevicemodel_nr_vcpus(dm, 1, &vcpus) == 0 && vcpus == 3);
    CHECK(xendevicemodel_destroy_ioreq_server(dm, 1, id) == 0);
    CHECK(last_op(NULL).op == XEN_DMOP_destroy_ioreq_server);

    /* Daemon errors come back as errno. */
    CHECK_ERR(xendevicemodel_nr_vcpus(dm, DOMID_BAD, &vcpus), ESRCH);
    CHECK(xendevicemodel_nr_vcpus(dm, 1, &vcpus) == 0);

    /* Unmodelled calls do not reach the daemon. */
    unsigned int before = atomic_load(&F.nr_dm_ops);
    CHECK_ERR(xendevicemodel_modified_memory(dm, 1, 0, 1), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_shutdown(dm, 1, 0), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_set_irq_level(dm, 1, 0, 1), EOPNOTSUPP);
    CHECK(atomic_load(&F.nr_dm_ops) == before);

    CHECK(xendevicemodel_close(dm) == 0);

    /* $XENSIM_DOMID */
    setenv(XENSIM_DOMID_ENV, "3", 1);
    dm = xendevicemodel_open(NULL, 0);
    CHECK(dm != NULL);
    pthread_mutex_lock(&F.lock);
    CHECK(F.hello_domid == 3);
    pthread_mutex_unlock(&F.lock);
    xendevicemodel_close(dm);
    struct counting_logger cl = { .lg = { .vmessage = counting_vmessage } };
    setenv(XENSIM_DOMID_ENV, "three", 1);
    errno = 0;
    CHECK(xendevicemodel_open(&cl.lg, 0) == NULL && errno == EINVAL);
    CHECK(cl.messages == 1 && cl.last_errno == EINVAL);
    unsetenv(XENSIM_DOMID_ENV);
}

struct hammer {
    xendevicemodel_handle *dm;
    int bad;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 2000; i++) {
        unsigned int vcpus = 0;
        if (xendevicemodel_nr_vcpus(h->dm, 1, &vcpus) != 0 || vcpus != 3)
            h->bad++;
    }
    return NULL;
}

static void test_concurrent_calls(void)
{
    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    struct hammer h[4];
    pthread_t t[4];

    CHECK(dm != NULL);
    if (!dm)
        return;
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){ .dm = dm };
        pthread_create(&t[i], NULL, hammer_main, &h[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(h[i].bad == 0);
    }
    xendevicemodel_close(dm);
}

static void test_hangup(void)
{
    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    unsigned int vcpus;

    CHECK(dm != NULL);
    if (!dm)
        return;
    CHECK_ERR(xendevicemodel_nr_vcpus(dm, DOMID_HANGUP, &vcpus), EIO);
    CHECK_ERR(xendevicemodel_nr_vcpus(dm, 1, &vcpus), EIO);
    CHECK(xendevicemodel_close(dm) == 0);
}

static void test_open_failures(void)
{
    struct counting_logger cl = { .lg = { .vmessage = counting_vmessage } };

    setenv(XENSIM_SOCKET_ENV, "/nonexistent/xensim.sock", 1);
    errno = 0;
    CHECK(xenforeignmemory_open(&cl.lg, 0) == NULL && errno == ENOENT);
    CHECK(cl.messages == 1 && cl.last_errno == ENOENT);
    setenv(XENSIM_SOCKET_ENV, F.path, 1);
    errno = 0;
    CHECK(xenevtchn_open(&cl.lg, 0x80) == NULL && errno == EINVAL);
}

static void test_foreignmemory(void)
{
    xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
    CHECK(fm != NULL);
    if (!fm)
        return;
    pthread_mutex_lock(&F.lock);
    CHECK(F.hello_kind == XENSIM_CLIENT_FOREIGNMEMORY);
    pthread_mutex_unlock(&F.lock);

    /* Contiguous RAM frames, read-write and shared with the daemon's memfd. */
    xen_pfn_t gfns[8] = { 2, 3, 4, 5 };
    int err[8];
    unsigned char *p = xenforeignmemory_map(fm, 1, PROT_READ | PROT_WRITE, 4, gfns, err);
    CHECK(p != NULL);
    if (p) {
        for (int i = 0; i < 4; i++)
            CHECK(err[i] == 0 && p[i * PAGE] == 2 + i && p[i * PAGE + PAGE - 1] == 2 + i);
        p[PAGE + 7] = 0x5a; /* gfn 3 */
        unsigned char byte = 0;
        CHECK(pread(F.ram_fd, &byte, 1, 3 * PAGE + 7) == 1 && byte == 0x5a);
        CHECK(xenforeignmemory_unmap(fm, p, 4) == 0);
    }
    pthread_mutex_lock(&F.lock);
    CHECK(F.fmem_last_prot == (PROT_READ | PROT_WRITE));
    pthread_mutex_unlock(&F.lock);

    /* A missing frame: with err[], that page fails and stays inaccessible. */
    xen_pfn_t mixed[3] = { 1, GFN_MISSING, 7 };
    p = xenforeignmemory_map(fm, 1, PROT_READ, 3, mixed, err);
    CHECK(p != NULL);
    if (p) {
        CHECK(err[0] == 0 && err[1] == -ENOENT && err[2] == 0);
        CHECK(p[0] == 1 && p[2 * PAGE] == 7);
        CHECK(readable(p) && !readable(p + PAGE) && readable(p + 2 * PAGE));
        CHECK(xenforeignmemory_unmap(fm, p, 3) == 0);
    }
    /* ...without err[], the whole map fails with that errno. */
    errno = 0;
    CHECK(xenforeignmemory_map(fm, 1, PROT_READ, 3, mixed, NULL) == NULL && errno == ENOENT);

    /* Frames in more memfds than one reply can carry: the library asks again. */
    xen_pfn_t spread[8] = { 0, 100, 101, 102, 103, 104, 105, 1 };
    p = xenforeignmemory_map(fm, 1, PROT_READ, 8, spread, NULL);
    CHECK(p != NULL);
    if (p) {
        CHECK(p[0] == 0 && p[7 * PAGE] == 1);
        for (int i = 0; i < 6; i++)
            CHECK(p[(1 + i) * PAGE] == 0x80 + i);
        CHECK(xenforeignmemory_unmap(fm, p, 8) == 0);
    }

    /* A daemon answering only part of each request. */
    p = xenforeignmemory_map(fm, DOMID_HALF, PROT_READ, 8, spread, err);
    CHECK(p != NULL);
    if (p) {
        for (int i = 0; i < 8; i++)
            CHECK(err[i] == 0);
        CHECK(p[0] == 0 && p[6 * PAGE] == 0x85 && p[7 * PAGE] == 1);
        CHECK(xenforeignmemory_unmap(fm, p, 8) == 0);
    }

    /* A map larger than one request: split, each request within one message. */
    size_t big = 10000;
    xen_pfn_t *many = malloc(big * sizeof(*many));
    for (size_t i = 0; i < big; i++)
        many[i] = i % RAM_PAGES;
    atomic_store(&F.nr_max_map, 0);
    unsigned int maps_before = atomic_load(&F.nr_fmem_map);
    p = xenforeignmemory_map(fm, 1, PROT_READ, big, many, NULL);
    CHECK(p != NULL);
    if (p) {
        bool ok = true;
        for (size_t i = 0; i < big; i++)
            ok &= p[i * PAGE + 100] == (unsigned char)(i % RAM_PAGES);
        CHECK(ok);
        CHECK(xenforeignmemory_unmap(fm, p, big) == 0);
    }
    CHECK(atomic_load(&F.nr_fmem_map) - maps_before == 3);
    CHECK(atomic_load(&F.nr_max_map) <= XENSIM_FMEM_MAX_PAGES);
    free(many);

    /* map2 with MAP_FIXED over a range of our own. */
    unsigned char *where = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p = xenforeignmemory_map2(fm, 1, where + PAGE, PROT_READ, MAP_FIXED, 2, gfns, NULL);
    CHECK(p == where + PAGE);
    if (p == where + PAGE)
        CHECK(p[0] == 2 && p[PAGE] == 3);
    munmap(where, 4 * PAGE);
    errno = 0;
    CHECK(xenforeignmemory_map(fm, 1, PROT_READ, 0, gfns, NULL) == NULL && errno == EINVAL);

    /* Resources: the ioreq server's pages. */
    size_t size = 0;
    CHECK(xenforeignmemory_resource_size(fm, 1, XENMEM_resource_ioreq_server, SERVER_ID,
                                         &size) == 0 &&
          size == 2 * PAGE);
    CHECK_ERR(xenforeignmemory_resource_size(fm, 1, XENMEM_resource_grant_table, 0, &size),
              EOPNOTSUPP);
    void *addr = NULL;
    xenforeignmemory_resource_handle *res = xenforeignmemory_map_resource(
        fm, 1, XENMEM_resource_ioreq_server, SERVER_ID, 0, 2, &addr, PROT_READ | PROT_WRITE, 0);
    CHECK(res != NULL && addr != NULL);
    if (res) {
        unsigned char *r = addr;
        CHECK(r[0] == 0xb0 && r[PAGE] == 0xc0);
        r[PAGE + 1] = 0x11;
        unsigned char byte = 0;
        CHECK(pread(F.res_fd[1], &byte, 1, 1) == 1 && byte == 0x11);
        CHECK(xenforeignmemory_unmap_resource(fm, res) == 0);
    }
    addr = NULL;
    res = xenforeignmemory_map_resource(fm, 1, XENMEM_resource_ioreq_server, SERVER_ID,
                                        XENMEM_resource_ioreq_server_frame_ioreq(0), 1, &addr,
                                        PROT_READ, MAP_SHARED);
    CHECK(res != NULL && addr && ((unsigned char *)addr)[0] == 0xc0);
    CHECK(xenforeignmemory_unmap_resource(fm, res) == 0);
    addr = NULL;
    errno = 0;
    CHECK(xenforeignmemory_map_resource(fm, 1, XENMEM_resource_ioreq_server, 99, 0, 1, &addr,
                                        PROT_READ, 0) == NULL &&
          errno == ENOENT);
    errno = 0;
    CHECK(xenforeignmemory_map_resource(fm, 1, XENMEM_resource_ioreq_server, SERVER_ID, 0, 1,
                                        &addr, PROT_READ, MAP_POPULATE) == NULL &&
          errno == EINVAL);
    CHECK(xenforeignmemory_unmap_resource(fm, NULL) == 0);

    CHECK(xenforeignmemory_close(fm) == 0);
}

static bool has_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC);
}

static bool page_bit(const uint64_t *bitmap, uint32_t port)
{
    return __atomic_load_n(&bitmap[port / 64], __ATOMIC_SEQ_CST) >> (port % 64) & 1;
}

/* Is there something to read on `fd` (after a grace period for stragglers)? */
static bool has_input(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 50) == 1;
}

static void test_evtchn(void)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    CHECK(xce != NULL);
    if (!xce)
        return;
    int fd = xenevtchn_fd(xce);
    CHECK(fd >= 0 && has_cloexec(fd));
    pthread_mutex_lock(&F.lock);
    CHECK(F.hello_kind == XENSIM_CLIENT_EVTCHN);
    int evsock = F.evsock;
    struct xensim_evtchn_page *page = F.evpage;
    pthread_mutex_unlock(&F.lock);

    /* A port with a doorbell: notify writes the eventfd, no message. */
    xenevtchn_port_or_error_t fast = xenevtchn_bind_interdomain(xce, 1, REMOTE_DOORBELL);
    CHECK(fast >= 10);
    uint64_t count = 0;
    unsigned int notifies = atomic_load(&F.nr_notify);
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)fast) == 0);
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)fast) == 0);
    CHECK(read(F.doorbell, &count, sizeof(count)) == sizeof(count) && count == 2);
    CHECK(atomic_load(&F.nr_notify) == notifies);

    /* A port without: notify goes to the daemon, which loops it back as pending. */
    xenevtchn_port_or_error_t slow = xenevtchn_bind_unbound_port(xce, 1);
    CHECK(slow >= 10 && slow != fast);
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)slow) == 0);
    CHECK(atomic_load(&F.nr_notify) == notifies + 1);
    CHECK(xenevtchn_pending(xce) == slow);
    CHECK(page_bit(page->masked, (uint32_t)slow));
    /* Unmasking is a bit in the shared page: nothing reaches the daemon... */
    CHECK(xenevtchn_unmask(xce, (evtchn_port_t)slow) == 0);
    CHECK(!page_bit(page->masked, (uint32_t)slow));
    CHECK(!has_input(evsock));
    /* ...unless an event was latched meanwhile: then an unmask record asks for it. */
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)slow) == 0);
    CHECK(xenevtchn_pending(xce) == slow);
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)slow) == 0);
    CHECK(page_bit(page->pending, (uint32_t)slow));
    CHECK(!has_input(xenevtchn_fd(xce))); /* latched, not delivered */
    CHECK(xenevtchn_unmask(xce, (evtchn_port_t)slow) == 0);
    CHECK(!page_bit(page->masked, (uint32_t)slow));
    uint32_t unmasked = 0;
    CHECK(read(evsock, &unmasked, sizeof(unmasked)) == sizeof(unmasked) &&
          unmasked == (uint32_t)slow);
    /* (This fake leaves the record unanswered.)  Ports out of range: ignored, as Linux does. */
    __atomic_fetch_and(&page->pending[slow / 64], ~((uint64_t)1 << slow % 64), __ATOMIC_SEQ_CST);
    CHECK(xenevtchn_unmask(xce, XENSIM_EVTCHN_PORTS) == 0);
    CHECK(xenevtchn_unmask(xce, 0xffffffffu) == 0);
    CHECK(!has_input(evsock));

    /* Nonblocking fd with nothing pending: EAGAIN. */
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    CHECK_ERR(xenevtchn_pending(xce), EAGAIN);
    /* A port split across two writes still reads as one. */
    uint32_t split = 0x1234;
    CHECK(write(evsock, &split, 1) == 1);
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    CHECK(write(evsock, (unsigned char *)&split + 1, 3) == 3);
    CHECK(xenevtchn_pending(xce) == 0x1234);

    /* Unbinding the doorbell port closes it: notify falls back to the daemon. */
    CHECK(xenevtchn_unbind(xce, (evtchn_port_t)fast) == 0);
    CHECK(xenevtchn_notify(xce, (evtchn_port_t)fast) == 0);
    CHECK(atomic_load(&F.nr_notify) == notifies + 4);
    CHECK(xenevtchn_pending(xce) == fast);
    CHECK_ERR(xenevtchn_unbind(xce, 5000), EINVAL);
    CHECK_ERR(xenevtchn_bind_virq(xce, 0), EOPNOTSUPP);

    CHECK(xenevtchn_close(xce) == 0);

    /* XENEVTCHN_NO_CLOEXEC */
    xce = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);
    CHECK(xce != NULL);
    if (xce) {
        CHECK(!has_cloexec(xenevtchn_fd(xce)));
        xenevtchn_close(xce);
    }

    /*
     * The daemon going away: pending reports EIO; unmask still works on the
     * page, and when it must write a record it fails with EIO, not SIGPIPE.
     */
    xce = xenevtchn_open(NULL, 0);
    CHECK(xce != NULL);
    if (xce) {
        pthread_mutex_lock(&F.lock);
        evsock = F.evsock;
        page = F.evpage;
        pthread_mutex_unlock(&F.lock);
        shutdown(evsock, SHUT_RDWR);
        CHECK_ERR(xenevtchn_pending(xce), EIO);
        CHECK(xenevtchn_unmask(xce, 1) == 0);
        __atomic_fetch_or(&page->pending[0], (uint64_t)1 << 1, __ATOMIC_SEQ_CST);
        CHECK_ERR(xenevtchn_unmask(xce, 1), EIO);
        xenevtchn_close(xce);
    }

    /* No fallback: a daemon that hands out no event page is refused. */
    atomic_store(&F.evtchn_no_page, true);
    errno = 0;
    xce = xenevtchn_open(NULL, 0);
    CHECK(xce == NULL && errno == EIO);
    if (xce)
        xenevtchn_close(xce);
    atomic_store(&F.evtchn_no_page, false);
}

static void test_restrict_all(void)
{
    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    CHECK(dm && fm && xce);
    if (!dm || !fm || !xce)
        return;

    unsigned int before = atomic_load(&F.nr_restrict);
    CHECK(xentoolcore_restrict_all(4) == 0);
    CHECK(atomic_load(&F.nr_restrict) == before + 3);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_restrict[XENSIM_CLIENT_DEVICEMODEL] == 4);
    CHECK(F.last_restrict[XENSIM_CLIENT_FOREIGNMEMORY] == 4);
    CHECK(F.last_restrict[XENSIM_CLIENT_EVTCHN] == 4);
    pthread_mutex_unlock(&F.lock);

    unsigned int vcpus;
    CHECK(xendevicemodel_nr_vcpus(dm, 4, &vcpus) == 0);
    CHECK_ERR(xendevicemodel_nr_vcpus(dm, 1, &vcpus), EPERM);
    xen_pfn_t gfn = 0;
    errno = 0;
    CHECK(xenforeignmemory_map(fm, 1, PROT_READ, 1, &gfn, NULL) == NULL && errno == EPERM);

    /* Closed handles leave xentoolcore's list. */
    xendevicemodel_close(dm);
    xenforeignmemory_close(fm);
    xenevtchn_close(xce);
    before = atomic_load(&F.nr_restrict);
    CHECK(xentoolcore_restrict_all(4) == 0);
    CHECK(atomic_load(&F.nr_restrict) == before);

    xenforeignmemory_handle *fm2 = xenforeignmemory_open(NULL, 0);
    CHECK(fm2 && xenforeignmemory_restrict(fm2, 6) == 0);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_restrict[XENSIM_CLIENT_FOREIGNMEMORY] == 6);
    pthread_mutex_unlock(&F.lock);
    xenforeignmemory_close(fm2);
}

static void test_xenctrl(void)
{
    struct counting_logger cl = { .lg = { .vmessage = counting_vmessage } };
    xc_interface *xch = xc_interface_open(&cl.lg, NULL, 0);
    static xc_domaininfo_t di[FAKE_NR_DOMAINS + 10];
    static xc_dominfo_t info[FAKE_NR_DOMAINS + 10];

    CHECK(xch != NULL && cl.messages == 0);
    if (!xch)
        return;
    pthread_mutex_lock(&F.lock);
    CHECK(F.hello_kind == XENSIM_CLIENT_XENCTRL);
    pthread_mutex_unlock(&F.lock);

    /* getinfolist: every domain, in replies of at most XENSIM_GETINFO_MAX. */
    unsigned int before = atomic_load(&F.nr_getinfo);
    CHECK(xc_domain_getinfolist(xch, 0, FAKE_NR_DOMAINS + 10, di) == FAKE_NR_DOMAINS);
    CHECK(atomic_load(&F.nr_getinfo) - before ==
          (FAKE_NR_DOMAINS + XENSIM_GETINFO_MAX - 1) / XENSIM_GETINFO_MAX);
    bool fields_ok = true;
    for (uint32_t i = 0; i < FAKE_NR_DOMAINS; i++) {
        struct xensim_dominfo want;
        fake_dominfo(2 * i, &want);
        fields_ok = fields_ok && di[i].domain == want.domid && di[i].flags == want.flags &&
                    di[i].tot_pages == want.tot_pages && di[i].max_pages == want.max_pages &&
                    di[i].nr_online_vcpus == want.nr_online_vcpus &&
                    di[i].max_vcpu_id == want.max_vcpu_id &&
                    di[i].arch_config.emulation_flags == want.emulation_flags &&
                    di[i].cpu_time == 0 && di[i].ssidref == 0 && di[i].cpupool == 0;
    }
    CHECK(fields_ok);
    /* first is a domid_t; max is a limit; past the end: 0, no error. */
    CHECK(xc_domain_getinfolist(xch, 0x10000u + 9, 3, di) == 3);
    CHECK(di[0].domain == 10 && di[1].domain == 12 && di[2].domain == 14);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_getinfo_first == 9 && F.last_getinfo_max == 3);
    pthread_mutex_unlock(&F.lock);
    CHECK(xc_domain_getinfolist(xch, FAKE_LAST_DOMID, 5, di) == 1 &&
          di[0].domain == FAKE_LAST_DOMID);
    CHECK(xc_domain_getinfolist(xch, FAKE_LAST_DOMID + 1, 5, di) == 0);
    before = atomic_load(&F.nr_getinfo);
    CHECK(xc_domain_getinfolist(xch, 0, 0, NULL) == 0);
    CHECK(atomic_load(&F.nr_getinfo) == before + 1); /* asked all the same */
    CHECK_ERR(xc_domain_getinfolist(xch, 0, 1, NULL), EFAULT);
    /* Replies that make no sense: EIO. */
    CHECK_ERR(xc_domain_getinfolist(xch, FAKE_BAD_LEN, 5, di), EIO);
    CHECK_ERR(xc_domain_getinfolist(xch, FAKE_BAD_ORDER, 5, di), EIO);

    /* getinfo: the next domain at or after each, as Xen 4.17's domctl. */
    CHECK(xc_domain_getinfo(xch, 1, 3, info) == 3);
    CHECK(info[0].domid == 2 && info[1].domid == 4 && info[2].domid == 6);
    CHECK(info[0].hvm && !info[0].paused && info[0].crashed && !info[0].shutdown &&
          info[0].shutdown_reason == SHUTDOWN_crash);
    CHECK(info[1].hvm && info[1].paused && info[1].blocked && !info[1].crashed &&
          !info[1].shutdown && !info[1].dying);
    CHECK(info[1].nr_pages == 40 && info[1].max_memkb == 41 * 4 &&
          info[1].nr_online_vcpus == 5 && info[1].max_vcpu_id == 4 &&
          info[1].arch_config.emulation_flags == 12);
    CHECK(xc_domain_getinfo(xch, 0, FAKE_NR_DOMAINS + 10, info) == FAKE_NR_DOMAINS);
    CHECK(info[FAKE_NR_DOMAINS - 1].domid == FAKE_LAST_DOMID);
    CHECK(xc_domain_getinfo(xch, FAKE_LAST_DOMID - 2, 5, info) == 2);
    CHECK(info[2].domid == 0); /* the rest is cleared */
    CHECK_ERR(xc_domain_getinfo(xch, FAKE_LAST_DOMID + 1, 2, info), ESRCH);
    before = atomic_load(&F.nr_getinfo);
    CHECK_ERR(xc_domain_getinfo(xch, DOMID_FIRST_RESERVED, 1, info), EINVAL);
    CHECK(xc_domain_getinfo(xch, 0, 0, info) == 0);
    CHECK(atomic_load(&F.nr_getinfo) == before);
    CHECK(xc_domain_getinfo(xch, 0x10000u + 2, 1, info) == 1 && info[0].domid == 2);

    /* pause / unpause: a domid_t on the wire; the daemon's errors. */
    CHECK(xc_domain_pause(xch, 0x10005) == 0);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_pause_type == XENSIM_DOMAIN_PAUSE && F.last_pause_domid == 5);
    pthread_mutex_unlock(&F.lock);
    CHECK(xc_domain_unpause(xch, 7) == 0);
    pthread_mutex_lock(&F.lock);
    CHECK(F.last_pause_type == XENSIM_DOMAIN_UNPAUSE && F.last_pause_domid == 7);
    pthread_mutex_unlock(&F.lock);
    CHECK_ERR(xc_domain_pause(xch, DOMID_BAD), ESRCH);
    CHECK_ERR(xc_domain_unpause(xch, DOMID_BAD), ESRCH);

    /* xentoolcore_restrict_all(): the handle is cut off, as libxencall's. */
    xc_interface *other = xc_interface_open(NULL, NULL, 0);
    CHECK(other != NULL);
    before = atomic_load(&F.nr_getinfo);
    CHECK(xentoolcore_restrict_all(3) == 0);
    CHECK_ERR(xc_domain_getinfolist(xch, 0, 1, di), ENOTTY);
    CHECK_ERR(xc_domain_getinfo(xch, 0, 1, info), ENOTTY);
    CHECK_ERR(xc_domain_pause(xch, 3), ENOTTY);
    CHECK_ERR(xc_domain_unpause(other, 3), ENOTTY);
    CHECK(atomic_load(&F.nr_getinfo) == before);
    CHECK(xc_interface_close(xch) == 0);
    CHECK(xc_interface_close(other) == 0);
    /* A handle opened afterwards works. */
    xch = xc_interface_open(NULL, NULL, 0);
    CHECK(xch && xc_domain_getinfolist(xch, 4, 1, di) == 1 && di[0].domain == 4);
    xc_interface_close(xch);
}

static int check_loaded_from(const char *want, void *fn, const char *name)
{
    Dl_info info;
    char real[PATH_MAX];

    if (!dladdr(fn, &info) || !info.dli_fname || !realpath(info.dli_fname, real))
        return -1;
    char *slash = strrchr(real, '/');
    if (slash)
        *slash = '\0';
    if (strcmp(real, want) != 0) {
        fprintf(stderr, "test_dropin: %s comes from %s, not %s (check LD_LIBRARY_PATH)\n",
                name, real, want);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char want[PATH_MAX];

    if (argc != 2 || !realpath(argv[1], want)) {
        fprintf(stderr, "usage: %s EXPECTED_LIB_DIR\n", argv[0]);
        return 2;
    }
    if (check_loaded_from(want, (void *)xendevicemodel_open, "libxendevicemodel") < 0 ||
        check_loaded_from(want, (void *)xenforeignmemory_open, "libxenforeignmemory") < 0 ||
        check_loaded_from(want, (void *)xenevtchn_open, "libxenevtchn") < 0 ||
        check_loaded_from(want, (void *)xc_interface_open, "libxenctrl") < 0)
        return 1;
    unsetenv(XENSIM_DOMID_ENV);
    fake_start();

    test_devicemodel();
    test_concurrent_calls();
    test_hangup();
    test_open_failures();
    test_foreignmemory();
    test_evtchn();
    test_restrict_all();
    test_xenctrl();

    unlink(F.path);
    if (failures) {
        fprintf(stderr, "test_dropin: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_dropin: OK\n");
    return 0;
}
