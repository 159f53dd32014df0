/*
 * A minimal ioreq emulator written only against Debian's Xen libraries
 * (libxendevicemodel, libxenforeignmemory, libxenevtchn, libxenstore) and
 * headers, the
 * way any device model is: it knows nothing of xensim.  Integration tests
 * run it under `xensim run`; the real-Xen tests can run it on Xen.
 *
 *   mini_emulator --domid D [--port A-B] [--mmio A-B] [--pci BB:DD.F]
 *                 [--bufioreq off|legacy|atomic] [--ready-file PATH]
 *   mini_emulator --domid D --attach ID [--ready-file PATH]   (restart)
 *   --stall-after N: stop answering after N requests (to be killed mid-request);
 *                    "stalled on vCPU V" on stderr, once per vCPU left waiting
 *   --raise-isa-irq N: once enabled, assert ISA IRQ N (set_isa_irq_level N 1)
 *                  and print "mini_emulator: set_isa_irq_level N 1: ok" or
 *                  ": failed: ERRNO_NAME" on stderr; serving goes on either way
 *
 * Device: a register file.  A write stores the value at its address; a read
 * returns what was stored last, or, never written, a value derived from the
 * address: port: 0x40 + (addr & 0x3f); MMIO: low 32 bits of addr ^ 0xa5a5a5a5;
 * PCI config register 0: 0x11e81234 (vendor 1234 device 11e8), others 0.
 * String I/O (data_is_ptr) copies to/from guest memory, each element treated
 * as an access at the same port (PIO) or successive addresses (MMIO).
 * Buffered writes are applied in ring order, and all those queued before a
 * synchronous request first.  SIGTERM/SIGINT: clean exit.
 *
 * With --attach it takes over a server a previous instance created (the
 * server outlives its emulator, as on Xen), binds the vCPU ports again and
 * first finishes any request the previous instance left READY or INPROCESS.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1 /* ioreq server constants, as device models build */
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
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#define MAX_VCPUS 128
#define REGS 4096

struct reg {
    uint8_t type;
    uint64_t addr;
    uint64_t value;
};

struct emu {
    domid_t domid;
    ioservid_t id;
    xendevicemodel_handle *dm;
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;
    xenforeignmemory_resource_handle *res;
    shared_iopage_t *iopage;
    buffered_iopage_t *bufpage;
    unsigned int nr_vcpus;
    evtchn_port_t local_port[MAX_VCPUS];
    evtchn_port_t buf_port;
    struct reg regs[REGS];
    unsigned int nr_regs;
    uint64_t served;
    uint64_t stall_after; /* 0: never */
    bool stall_told[MAX_VCPUS]; /* "stalled on vCPU V" said */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t default_value(uint8_t type, uint64_t addr)
{
    switch (type) {
    case IOREQ_TYPE_PIO:
        return 0x40 + (addr & 0x3f);
    case IOREQ_TYPE_PCI_CONFIG:
        return (addr & 0xfff) == 0 ? 0x11e81234 : 0;
    default:
        return (uint32_t)addr ^ 0xa5a5a5a5u;
    }
}

static struct reg *find_reg(struct emu *e, uint8_t type, uint64_t addr)
{
    for (unsigned int i = 0; i < e->nr_regs; i++)
        if (e->regs[i].type == type && e->regs[i].addr == addr)
            return &e->regs[i];
    return NULL;
}

static uint64_t reg_read(struct emu *e, uint8_t type, uint64_t addr, uint32_t size)
{
    struct reg *r = find_reg(e, type, addr);
    uint64_t v = r ? r->value : default_value(type, addr);

    return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void reg_write(struct emu *e, uint8_t type, uint64_t addr, uint64_t value)
{
    struct reg *r = find_reg(e, type, addr);

    if (!r && e->nr_regs < REGS) {
        r = &e->regs[e->nr_regs++];
        r->type = type;
        r->addr = addr;
    }
    if (r)
        r->value = value;
}

/* rep ins/outs/movs: `count` elements between the device and guest memory. */
static void string_io(struct emu *e, ioreq_t *p)
{
    uint64_t bytes = (uint64_t)p->count * p->size;
    uint64_t first = p->df ? p->data - bytes + p->size : p->data;
    uint64_t first_gfn = first >> 12, last_gfn = (first + bytes - 1) >> 12;
    size_t pages = (size_t)(last_gfn - first_gfn + 1);
    xen_pfn_t gfns[64];
    int err[64];

    if (pages > 64)
        return;
    for (size_t i = 0; i < pages; i++)
        gfns[i] = first_gfn + i;
    uint8_t *map = xenforeignmemory_map(e->fmem, e->domid, PROT_READ | PROT_WRITE,
                                        pages, gfns, err);
    if (!map)
        return;
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t off = (p->df ? first + (uint64_t)(p->count - 1 - i) * p->size
                              : first + (uint64_t)i * p->size) - (first_gfn << 12);
        uint64_t addr = p->type == IOREQ_TYPE_PIO ? p->addr
                        : p->df ? p->addr - (uint64_t)i * p->size
                                : p->addr + (uint64_t)i * p->size;
        uint64_t v = 0;

        if (p->dir == IOREQ_READ) {
            v = reg_read(e, p->type, addr, p->size);
            memcpy(map + off, &v, p->size);
        } else {
            memcpy(&v, map + off, p->size);
            reg_write(e, p->type, addr, v);
        }
    }
    xenforeignmemory_unmap(e->fmem, map, pages);
}

static void handle(struct emu *e, ioreq_t *p)
{
    switch (p->type) {
    case IOREQ_TYPE_PIO:
    case IOREQ_TYPE_COPY:
    case IOREQ_TYPE_PCI_CONFIG:
        if (p->data_is_ptr)
            string_io(e, p);
        else if (p->dir == IOREQ_READ)
            p->data = reg_read(e, p->type, p->addr, p->size);
        else
            reg_write(e, p->type, p->addr, p->data);
        break;
    default: /* INVALIDATE, TIMEOFFSET: nothing cached, nothing to do */
        break;
    }
    e->served++;
}

static void drain_ring(struct emu *e);

static void serve_vcpu(struct emu *e, unsigned int v, bool resume)
{
    ioreq_t *slot = &e->iopage->vcpu_ioreq[v];
    unsigned int state = __atomic_load_n((uint8_t *)slot + 30, __ATOMIC_ACQUIRE) % 16;

    if (state != STATE_IOREQ_READY && !(resume && state == STATE_IOREQ_INPROCESS))
        return;
    if (e->stall_after && e->served >= e->stall_after) {
        /* Play dead: the test kills us now, once it has read this. */
        if (!e->stall_told[v]) {
            fprintf(stderr, "mini_emulator: stalled on vCPU %u\n", v);
            e->stall_told[v] = true;
        }
        return;
    }
    /*
     * Posted writes the guest made before this request come first, as in
     * QEMU: their event may still be on its way (or masked) behind ours.
     */
    if (e->bufpage)
        drain_ring(e);
    slot->state = STATE_IOREQ_INPROCESS;
    ioreq_t req = *slot;
    handle(e, &req);
    slot->data = req.data;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->state = STATE_IORESP_READY;
    xenevtchn_notify(e->xce, e->local_port[v]);
}

static void drain_ring(struct emu *e)
{
    buffered_iopage_t *pg = e->bufpage;

    for (;;) {
        uint32_t rp = __atomic_load_n(&pg->read_pointer, __ATOMIC_ACQUIRE);
        uint32_t wp = __atomic_load_n(&pg->write_pointer, __ATOMIC_ACQUIRE);

        if (rp == wp)
            return;
        buf_ioreq_t b = pg->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
        ioreq_t req = { .type = b.type, .addr = b.addr, .size = 1u << b.size,
                        .count = 1, .dir = b.dir, .data = b.data };
        unsigned int used = 1;
        if (b.size == 3) {
            req.data |= (uint64_t)pg->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM].data << 32;
            used = 2;
        }
        handle(e, &req);
        __atomic_add_fetch(&pg->read_pointer, used, __ATOMIC_RELEASE);
    }
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
    fprintf(stderr, "mini_emulator: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "domid", required_argument, NULL, 'd' }, { "port", required_argument, NULL, 'p' },
        { "mmio", required_argument, NULL, 'm' },  { "pci", required_argument, NULL, 'c' },
        { "bufioreq", required_argument, NULL, 'b' },
        { "ready-file", required_argument, NULL, 'r' },
        { "attach", required_argument, NULL, 'a' },
        { "stall-after", required_argument, NULL, 's' },
        { "raise-isa-irq", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
    };
    static struct emu e;
    uint64_t ranges[3][8][2];
    unsigned int nr[3] = { 0 };
    int bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF, opt;
    const char *ready = NULL;
    bool have_domid = false;
    int attach = -1, isa_irq = -1;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        unsigned int bus, dev, fn, t;

        switch (opt) {
        case 'd':
            e.domid = (domid_t)strtoul(optarg, NULL, 0);
            have_domid = true;
            break;
        case 'p':
        case 'm':
            t = opt == 'p' ? XEN_DMOP_IO_RANGE_PORT : XEN_DMOP_IO_RANGE_MEMORY;
            if (nr[t] == 8 || parse_range(optarg, &ranges[t][nr[t]][0], &ranges[t][nr[t]][1])) {
                fprintf(stderr, "mini_emulator: bad range %s\n", optarg);
                return 2;
            }
            nr[t]++;
            break;
        case 'c':
            if (nr[2] == 8 || sscanf(optarg, "%x:%x.%x", &bus, &dev, &fn) != 3) {
                fprintf(stderr, "mini_emulator: bad PCI address %s\n", optarg);
                return 2;
            }
            ranges[2][nr[2]][0] = ranges[2][nr[2]][1] = XEN_DMOP_PCI_SBDF(0, bus, dev, fn);
            nr[2]++;
            break;
        case 'b':
            bufioreq = !strcmp(optarg, "legacy") ? HVM_IOREQSRV_BUFIOREQ_LEGACY
                       : !strcmp(optarg, "atomic") ? HVM_IOREQSRV_BUFIOREQ_ATOMIC
                                                   : HVM_IOREQSRV_BUFIOREQ_OFF;
            break;
        case 'r':
            ready = optarg;
            break;
        case 'a':
            attach = (int)strtol(optarg, NULL, 0);
            break;
        case 's':
            e.stall_after = strtoull(optarg, NULL, 0);
            break;
        case 'i':
            isa_irq = (int)strtol(optarg, NULL, 0);
            break;
        default:
            return 2;
        }
    }
    if (!have_domid) {
        fprintf(stderr, "usage: mini_emulator --domid D [--port A-B] [--mmio A-B] [--pci BB:DD.F]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    e.dm = xendevicemodel_open(NULL, 0);
    e.fmem = xenforeignmemory_open(NULL, 0);
    e.xce = xenevtchn_open(NULL, 0);
    if (!e.dm || !e.fmem || !e.xce)
        return fail("open");
    if (attach >= 0)
        e.id = (ioservid_t)attach;
    else if (xendevicemodel_create_ioreq_server(e.dm, e.domid, bufioreq, &e.id))
        return fail("create_ioreq_server");
    for (unsigned int t = 0; attach < 0 && t < 2; t++)
        for (unsigned int i = 0; i < nr[t]; i++)
            if (xendevicemodel_map_io_range_to_ioreq_server(e.dm, e.domid, e.id,
                                                             t == XEN_DMOP_IO_RANGE_MEMORY,
                                                             ranges[t][i][0], ranges[t][i][1]))
                return fail("map_io_range");
    for (unsigned int i = 0; attach < 0 && i < nr[2]; i++) {
        uint32_t sbdf = (uint32_t)ranges[2][i][0];

        if (xendevicemodel_map_pcidev_to_ioreq_server(e.dm, e.domid, e.id, 0, (sbdf >> 8) & 0xff,
                                                      (sbdf >> 3) & 0x1f, sbdf & 7))
            return fail("map_pcidev");
    }

    void *pages = NULL;
    unsigned long first = bufioreq ? 0 : 1, count = bufioreq ? 2 : 1;
    e.res = xenforeignmemory_map_resource(e.fmem, e.domid, XENMEM_resource_ioreq_server,
                                          e.id, first, count, &pages,
                                          PROT_READ | PROT_WRITE, 0);
    if (!e.res)
        return fail("map_resource");
    e.bufpage = bufioreq ? pages : NULL;
    e.iopage = (shared_iopage_t *)((char *)pages + (bufioreq ? 4096 : 0));

    if (xendevicemodel_set_ioreq_server_state(e.dm, e.domid, e.id, 1))
        return fail("enable");
    if (isa_irq >= 0) {
        int rc = xendevicemodel_set_isa_irq_level(e.dm, e.domid, (uint8_t)isa_irq, 1);
        int err = errno;

        if (rc)
            fprintf(stderr, "mini_emulator: set_isa_irq_level %d 1: failed: %s\n", isa_irq,
                    strerrorname_np(err) ? strerrorname_np(err) : "?");
        else
            fprintf(stderr, "mini_emulator: set_isa_irq_level %d 1: ok\n", isa_irq);
    }
    unsigned int vcpus = 0;
    if (xendevicemodel_nr_vcpus(e.dm, e.domid, &vcpus))
        return fail("nr_vcpus");
    e.nr_vcpus = vcpus < MAX_VCPUS ? vcpus : MAX_VCPUS;
    /* Xen publishes each vCPU's port on enable: bind them now. */
    for (unsigned int v = 0; v < e.nr_vcpus; v++) {
        evtchn_port_t remote = e.iopage->vcpu_ioreq[v].vp_eport;
        xenevtchn_port_or_error_t local = remote ? xenevtchn_bind_interdomain(e.xce, e.domid, remote) : -1;

        if (remote && local < 0)
            return fail("bind vCPU port");
        e.local_port[v] = local > 0 ? (evtchn_port_t)local : 0;
    }
    if (bufioreq) {
        evtchn_port_t buf_remote;
        if (xendevicemodel_get_ioreq_server_info(e.dm, e.domid, e.id, NULL, NULL, &buf_remote))
            return fail("get_ioreq_server_info");
        xenevtchn_port_or_error_t local = xenevtchn_bind_interdomain(e.xce, e.domid, buf_remote);
        if (local < 0)
            return fail("bind buffered port");
        e.buf_port = (evtchn_port_t)local;
    }
    /* A previous instance may have died holding requests. */
    for (unsigned int v = 0; attach >= 0 && v < e.nr_vcpus; v++)
        serve_vcpu(&e, v, true);
    /* Announce ourselves in xenstore, as a device model does. */
    char xs_path[128];
    snprintf(xs_path, sizeof(xs_path), "/local/domain/0/device-model/%u/ioreq-server/%u",
             e.domid, e.id);
    struct xs_handle *xs = xs_open(0);
    if (!xs || !xs_write(xs, XBT_NULL, xs_path, "running", strlen("running")))
        return fail("xenstore");
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (!f || fprintf(f, "%u\n", e.id) < 0 || fclose(f))
            return fail("ready file");
    }

    struct pollfd pfd = { .fd = xenevtchn_fd(e.xce), .events = POLLIN };
    while (!stop) {
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        xenevtchn_port_or_error_t port = xenevtchn_pending(e.xce);
        if (port < 0)
            break;
        xenevtchn_unmask(e.xce, (evtchn_port_t)port);
        /* Posted writes come before any later synchronous access, as in QEMU. */
        if (e.bufpage)
            drain_ring(&e);
        for (unsigned int v = 0; v < e.nr_vcpus; v++)
            if (e.local_port[v] == (evtchn_port_t)port)
                serve_vcpu(&e, v, false);
    }

    xs_rm(xs, XBT_NULL, xs_path);
    xs_close(xs);
    if (!e.stall_after)
        xendevicemodel_destroy_ioreq_server(e.dm, e.domid, e.id);
    xenforeignmemory_unmap_resource(e.fmem, e.res);
    xenevtchn_close(e.xce);
    xenforeignmemory_close(e.fmem);
    xendevicemodel_close(e.dm);
    fprintf(stderr, "mini_emulator: served %" PRIu64 " requests\n", e.served);
    return 0;
}
