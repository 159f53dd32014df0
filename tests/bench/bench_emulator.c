/*
 * bench_emulator: the device model side of bench_roundtrip.  Like any device
 * model it is written only against Debian's Xen libraries and headers
 * (libxendevicemodel, libxenforeignmemory, libxenevtchn) and knows nothing
 * of xensim; under `xensim run` it gets the drop-ins.
 *
 *   bench_emulator --domid D [--port P] [--mmio A-B] [--bufioreq off|atomic]
 *                  [--wait poll|read] [--stats PATH] --ready-file PATH
 *
 * One ioreq server with the port P and the MMIO range A-B, its pages mapped
 * by acquire_resource, its vCPU ports (and buffered port) bound, enabled.
 * Then it blocks for events and answers them, as QEMU's Xen loop does:
 * take the pending port, unmask it, drain the buffered ring, then answer a
 * vCPU's READY slot and notify that vCPU's port.
 *
 * --wait poll (default): poll() the event fd, then xenevtchn_pending(), as
 * a device model whose main loop watches several fds does.  --wait read:
 * block in xenevtchn_pending() itself.  Neither spins.
 *
 * The device: a port read returns 0x5a, port writes are ignored.  An MMIO
 * write adds its value to a counter; an MMIO read returns the counter and
 * clears it, so a script can check that every buffered write arrived.
 *
 * --stats PATH: the emulator's own view of the time between accesses.  It
 * notes (CLOCK_MONOTONIC) the first and last port read and the first MMIO
 * write since the previous MMIO read; each MMIO read rewrites PATH with
 *   port_reads N first_ns T last_ns T mmio_writes N first_ns T read_ns T
 * and starts counting afresh.  Those are the guest's accesses as they reach
 * the device, free of the cost of starting a guest run.
 *
 * The ready file (the server id) is written once everything is bound.
 * SIGTERM/SIGINT: destroy the server and exit 0.
 */
#define _GNU_SOURCE
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1 /* ioreq server constants, as device models build */
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#define MAX_VCPUS 64
#define PORT_READ_VALUE 0x5a

struct emu {
    domid_t domid;
    ioservid_t id;
    xendevicemodel_handle *dm;
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;
    xenforeignmemory_resource_handle *res;
    shared_iopage_t *iopage;
    buffered_iopage_t *bufpage; /* NULL without a ring */
    unsigned int nr_vcpus;
    evtchn_port_t vcpu_port[MAX_VCPUS]; /* local ports, 0: none */
    evtchn_port_t buf_port;
    uint64_t counter; /* the MMIO device */
    uint64_t served, buffered;
    const char *stats;  /* --stats */
    uint64_t port_reads, port_first, port_last, mmio_writes, mmio_first;
};

static volatile sig_atomic_t stop;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An MMIO read ends a measurement: report it and start again. */
static void write_stats(struct emu *e)
{
    uint64_t t = now_ns();
    char tmp[4096];

    snprintf(tmp, sizeof(tmp), "%s.tmp", e->stats);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "port_reads %" PRIu64 " first_ns %" PRIu64 " last_ns %" PRIu64
                              " mmio_writes %" PRIu64 " first_ns %" PRIu64 " read_ns %" PRIu64
                              "\n", e->port_reads, e->port_first, e->port_last,
                           e->mmio_writes, e->mmio_first, t) > 0;
    if (f && fclose(f))
        ok = false;
    if (!ok || rename(tmp, e->stats))
        fprintf(stderr, "bench_emulator: cannot write %s: %s\n", e->stats, strerror(errno));
    e->port_reads = e->mmio_writes = 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t device_access(struct emu *e, uint8_t type, uint8_t dir, uint64_t data)
{
    if (type == IOREQ_TYPE_PIO) {
        if (dir == IOREQ_WRITE)
            return data;
        if (e->stats) {
            e->port_last = now_ns();
            if (e->port_reads++ == 0)
                e->port_first = e->port_last;
        }
        return PORT_READ_VALUE;
    }
    if (dir == IOREQ_WRITE) {
        if (e->stats && e->mmio_writes++ == 0)
            e->mmio_first = now_ns();
        e->counter += data;
        return data;
    }
    if (e->stats)
        write_stats(e);
    uint64_t v = e->counter;
    e->counter = 0;
    return v;
}

/* Apply every buffered write the core has published, in ring order. */
static void drain_ring(struct emu *e)
{
    buffered_iopage_t *pg = e->bufpage;

    for (;;) {
        uint32_t rp = __atomic_load_n(&pg->read_pointer, __ATOMIC_ACQUIRE);
        uint32_t wp = __atomic_load_n(&pg->write_pointer, __ATOMIC_ACQUIRE);

        if (rp == wp)
            return;
        buf_ioreq_t b = pg->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
        uint64_t data = b.data;
        uint32_t used = 1;

        if (b.size == 3) { /* 8 bytes: the high half is in the next slot */
            data |= (uint64_t)pg->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM].data << 32;
            used = 2;
        }
        device_access(e, b.type, b.dir, data);
        e->buffered++;
        /* Atomic rings: the core may rebase both pointers at any time. */
        __atomic_fetch_add(&pg->read_pointer, used, __ATOMIC_RELEASE);
    }
}

static void serve_vcpu(struct emu *e, unsigned int v)
{
    ioreq_t *slot = &e->iopage->vcpu_ioreq[v];

    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (((volatile ioreq_t *)slot)->state != STATE_IOREQ_READY)
        return;
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the body after the state */
    slot->state = STATE_IOREQ_INPROCESS;
    if (!slot->data_is_ptr && slot->count == 1)
        slot->data = device_access(e, slot->type, slot->dir, slot->data);
    /* String I/O is not part of the benchmark: reads see all ones. */
    else if (slot->dir == IOREQ_READ && !slot->data_is_ptr)
        slot->data = ~0ull;
    e->served++;
    __atomic_thread_fence(__ATOMIC_RELEASE); /* data before the state */
    slot->state = STATE_IORESP_READY;
    xenevtchn_notify(e->xce, e->vcpu_port[v]);
}

static int parse_range(const char *s, uint64_t *a, uint64_t *b)
{
    char *end;

    *a = strtoull(s, &end, 0);
    if (*end != '-')
        return -1;
    *b = strtoull(end + 1, &end, 0);
    return *end || *a > *b ? -1 : 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_emulator: %s: %s\n", what, strerror(errno));
    return 1;
}

static int setup(struct emu *e, int bufioreq, bool have_port, uint64_t port,
                 bool have_mmio, uint64_t mmio_first, uint64_t mmio_last)
{
    e->dm = xendevicemodel_open(NULL, 0);
    e->fmem = xenforeignmemory_open(NULL, 0);
    e->xce = xenevtchn_open(NULL, 0);
    if (!e->dm || !e->fmem || !e->xce)
        return fail("open");
    if (xendevicemodel_create_ioreq_server(e->dm, e->domid, bufioreq, &e->id))
        return fail("create_ioreq_server");
    if (have_port && xendevicemodel_map_io_range_to_ioreq_server(e->dm, e->domid, e->id, 0,
                                                                 port, port))
        return fail("map port");
    if (have_mmio && xendevicemodel_map_io_range_to_ioreq_server(e->dm, e->domid, e->id, 1,
                                                                 mmio_first, mmio_last))
        return fail("map MMIO range");

    /* Frame 0 is the buffered page, frame 1 the synchronous one. */
    void *pages = NULL;
    unsigned long first = bufioreq ? 0 : 1, count = bufioreq ? 2 : 1;
    e->res = xenforeignmemory_map_resource(e->fmem, e->domid, XENMEM_resource_ioreq_server,
                                           e->id, first, count, &pages,
                                           PROT_READ | PROT_WRITE, 0);
    if (!e->res)
        return fail("map_resource");
    e->bufpage = bufioreq ? pages : NULL;
    e->iopage = (shared_iopage_t *)((char *)pages + (bufioreq ? 4096 : 0));

    if (xendevicemodel_set_ioreq_server_state(e->dm, e->domid, e->id, 1))
        return fail("enable");
    unsigned int vcpus = 0;
    if (xendevicemodel_nr_vcpus(e->dm, e->domid, &vcpus))
        return fail("nr_vcpus");
    e->nr_vcpus = vcpus < MAX_VCPUS ? vcpus : MAX_VCPUS;
    for (unsigned int v = 0; v < e->nr_vcpus; v++) {
        evtchn_port_t remote = e->iopage->vcpu_ioreq[v].vp_eport;
        xenevtchn_port_or_error_t local =
            remote ? xenevtchn_bind_interdomain(e->xce, e->domid, remote) : 0;

        if (local < 0)
            return fail("bind vCPU port");
        e->vcpu_port[v] = (evtchn_port_t)local;
    }
    if (bufioreq) {
        evtchn_port_t remote;
        if (xendevicemodel_get_ioreq_server_info(e->dm, e->domid, e->id, NULL, NULL, &remote))
            return fail("get_ioreq_server_info");
        xenevtchn_port_or_error_t local = xenevtchn_bind_interdomain(e->xce, e->domid, remote);
        if (local < 0)
            return fail("bind buffered port");
        e->buf_port = (evtchn_port_t)local;
    }
    return 0;
}

/* Wait for and handle events until told to stop; 0, or 1 on a broken handle. */
static int serve(struct emu *e, bool use_poll)
{
    struct pollfd pfd = { .fd = xenevtchn_fd(e->xce), .events = POLLIN };

    while (!stop) {
        if (use_poll && poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return fail("poll");
        }
        xenevtchn_port_or_error_t port = xenevtchn_pending(e->xce);
        if (port < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return fail("pending");
        }
        if (xenevtchn_unmask(e->xce, (evtchn_port_t)port) < 0)
            return fail("unmask");
        /* Buffered writes come before any later synchronous access. */
        if (e->bufpage)
            drain_ring(e);
        for (unsigned int v = 0; v < e->nr_vcpus; v++)
            if (e->vcpu_port[v] == (evtchn_port_t)port)
                serve_vcpu(e, v);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "domid", required_argument, NULL, 'd' },
        { "port", required_argument, NULL, 'p' },
        { "mmio", required_argument, NULL, 'm' },
        { "bufioreq", required_argument, NULL, 'b' },
        { "wait", required_argument, NULL, 'w' },
        { "ready-file", required_argument, NULL, 'r' },
        { "verbose", no_argument, NULL, 'v' },
        { "stats", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    static struct emu e;
    uint64_t port = 0, mmio_first = 0, mmio_last = 0;
    bool have_domid = false, have_port = false, have_mmio = false, use_poll = true;
    bool verbose = false;
    int bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF, opt;
    const char *ready = NULL;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;

        switch (opt) {
        case 'd':
            e.domid = (domid_t)strtoul(optarg, &end, 0);
            have_domid = !*end;
            break;
        case 'p':
            port = strtoull(optarg, &end, 0);
            have_port = !*end && port <= 0xffff;
            if (!have_port)
                goto usage;
            break;
        case 'm':
            have_mmio = parse_range(optarg, &mmio_first, &mmio_last) == 0;
            if (!have_mmio)
                goto usage;
            break;
        case 'b':
            if (strcmp(optarg, "off") && strcmp(optarg, "atomic"))
                goto usage;
            bufioreq = strcmp(optarg, "atomic") ? HVM_IOREQSRV_BUFIOREQ_OFF
                                                : HVM_IOREQSRV_BUFIOREQ_ATOMIC;
            break;
        case 'w':
            if (strcmp(optarg, "poll") && strcmp(optarg, "read"))
                goto usage;
            use_poll = strcmp(optarg, "poll") == 0;
            break;
        case 'r':
            ready = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 's':
            e.stats = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!have_domid || !ready || optind != argc)
        goto usage;

    /* No SA_RESTART: a signal interrupts the blocking poll or read. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int rc = setup(&e, bufioreq, have_port, port, have_mmio, mmio_first, mmio_last);
    if (rc)
        return rc;
    FILE *f = fopen(ready, "w");
    if (!f || fprintf(f, "%u\n", e.id) < 0 || fclose(f))
        return fail("ready file");

    rc = serve(&e, use_poll);

    xendevicemodel_destroy_ioreq_server(e.dm, e.domid, e.id);
    xenforeignmemory_unmap_resource(e.fmem, e.res);
    xenevtchn_close(e.xce);
    xenforeignmemory_close(e.fmem);
    xendevicemodel_close(e.dm);
    if (verbose)
        fprintf(stderr, "bench_emulator: domain %u: %" PRIu64 " synchronous, %" PRIu64
                " buffered requests\n", e.domid, e.served, e.buffered);
    return rc;

usage:
    fprintf(stderr, "usage: bench_emulator --domid D [--port P] [--mmio A-B] "
                    "[--bufioreq off|atomic] [--wait poll|read] [--stats PATH] "
                    "[--verbose] --ready-file PATH\n");
    return 2;
}
