/*
 * hvio: the hypervisor side of multi-server ioreq emulation.
 *
 * A host holds domains; a domain holds vCPUs and a list of up to eight
 * ioreq servers, each owned by the emulator domain that created it, with its
 * own ioreq page, optional buffered-ioreq ring, per-vCPU event channels and
 * port / MMIO / PCI range sets.  Guest accesses are routed to one server
 * (or to the null handler); dm_ops arrive as the real `struct xen_dm_op`.
 *
 * The core makes no OS calls.  Everything it needs from its host (memory,
 * shared pages, event channels, vCPU blocking, domain pause/crash, locks)
 * goes through `struct hvio_platform_ops`.
 *
 * All functions return 0 (or a documented non-negative value) on success
 * and a negative errno value on failure, with Xen's codes where Xen defines
 * the operation.
 */
#ifndef HVIO_H
#define HVIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ioreq server ABI is tools-only in Xen's headers, as for libxendevicemodel. */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/ioreq.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/memory.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HVIO_MAX_SERVERS 8    /* Xen's MAX_NR_IOREQ_SERVERS */
#define HVIO_MAX_VCPUS 128    /* ioreq slots in one 4 KiB page */
#define HVIO_MAX_RANGES 256   /* per type per server, Xen's MAX_NR_IO_RANGES */
#define HVIO_PAGE_SIZE 4096u
#define HVIO_DEBUG_PORT 0xe9          /* XEN_HVM_DEBUGCONS_IOPORT */
#define HVIO_CONSOLE_LINE_MAX 200     /* Xen's DOMAIN_PBUF_SIZE */
#define HVIO_DEBUG_MAX_REPS 4096      /* debug console bytes per hvio_emulate */

struct hvio_host;
struct hvio_vcpu;
struct hvio_lock; /* defined by the platform */

/* What an interrupt dm_op asked for; handed to the platform to record. */
enum hvio_irq_kind {
    HVIO_IRQ_ISA,      /* XEN_DMOP_set_isa_irq_level */
    HVIO_IRQ_PCI_INTX, /* XEN_DMOP_set_pci_intx_level */
    HVIO_IRQ_MSI,      /* XEN_DMOP_inject_msi */
};

struct hvio_irq_event {
    enum hvio_irq_kind kind;
    domid_t source;    /* the emulator domain that issued the dm_op */
    uint8_t level;     /* ISA, INTx: 0 deasserted, 1 asserted */
    uint8_t isa_irq;   /* ISA: 0..15 */
    uint8_t device;    /* INTx: 0..31 (segment and bus are always 0) */
    uint8_t intx;      /* INTx: 0..3 = INTA..INTD */
    uint32_t msi_data; /* MSI */
    uint64_t msi_addr; /* MSI */
};

/*
 * The platform the core runs on.  `ctx` is passed back to every call.
 *
 * Allocation calls may fail (return NULL / negative errno); the core then
 * undoes whatever it had done and fails the operation.  Release calls never
 * fail.  Locks are plain mutexes, never taken recursively by the core.
 *
 * vCPU blocking contract: vcpu_block() returns once the vCPU has been
 * kicked since the previous return of vcpu_block() for it, and may return
 * spuriously.  A kick is an event on a channel allocated with that vCPU's
 * id (the emulator notifying the far end) or an explicit vcpu_kick().
 * domain_pause() must not wait for a vCPU that sits in vcpu_block().
 */
struct hvio_platform_ops {
    void *(*alloc)(void *ctx, size_t size); /* zero-filled, or NULL */
    void (*free)(void *ctx, void *ptr);

    /* A zero-filled 4 KiB page that emulators can map. */
    void *(*page_alloc)(void *ctx);
    void (*page_free)(void *ctx, void *page);

    /*
     * An unbound channel in `domid` whose events wake vCPU `vcpu_id`, ready
     * to be bound by `remote`.  Returns the port (> 0) or -errno.
     */
    int (*evtchn_alloc_unbound)(void *ctx, domid_t domid, unsigned int vcpu_id,
                                domid_t remote);
    void (*evtchn_free)(void *ctx, domid_t domid, evtchn_port_t port);
    void (*evtchn_notify)(void *ctx, domid_t domid, evtchn_port_t port);

    void (*vcpu_block)(void *ctx, domid_t domid, unsigned int vcpu_id);
    void (*vcpu_kick)(void *ctx, domid_t domid, unsigned int vcpu_id);

    void (*domain_pause)(void *ctx, domid_t domid);
    void (*domain_unpause)(void *ctx, domid_t domid);
    /* The guest domain misbehaved (or its emulator did): stop it. */
    void (*domain_crash)(void *ctx, domid_t domid, const char *why);

    struct hvio_lock *(*lock_new)(void *ctx);
    void (*lock_free)(void *ctx, struct hvio_lock *lock);
    void (*lock)(void *ctx, struct hvio_lock *lock);
    void (*unlock)(void *ctx, struct hvio_lock *lock);

    /* Optional: an interrupt dm_op succeeded. */
    void (*irq_event)(void *ctx, domid_t domid, const struct hvio_irq_event *ev);

    /*
     * Optional: a line the guest wrote to Xen's debug console (one-byte
     * writes to port HVIO_DEBUG_PORT, see hvio_emulate()), without its
     * newline: at most HVIO_CONSOLE_LINE_MAX - 1 bytes, Xen's printable
     * characters and tabs only (bytes 0xa0..0xff included, as Xen's ctype
     * table has them).  Xen prints it as "(dDOMID) line".  Called with the
     * domain's lock held: it must not block or call into the core.
     */
    void (*debug_console)(void *ctx, domid_t domid, const char *line);
    /*
     * Optional: read guest RAM, for the accesses the core completes itself
     * with their data in guest memory (a rep outsb to the debug console).
     * 0 or -errno.  Without it, or when it fails, the bytes read as all
     * ones, as Xen reads a frame that is not there.  Called with the
     * domain's lock held.
     */
    int (*copy_from_guest)(void *ctx, domid_t domid, uint64_t gpa, void *buf,
                           size_t len);
};

/* ---- host ------------------------------------------------------------ */

int hvio_host_new(const struct hvio_platform_ops *ops, void *ctx,
                  struct hvio_host **out);
/* Destroys every remaining domain, then the host. */
void hvio_host_free(struct hvio_host *host);

/* ---- domains and vCPUs ----------------------------------------------- */

struct hvio_domain_config {
    domid_t domid;          /* < DOMID_FIRST_RESERVED */
    unsigned int max_vcpus; /* 0..HVIO_MAX_VCPUS, fixed for the domain's life */
    bool hvm;               /* HVM or PVH; false = PV (dm_op gets -EINVAL) */
    bool emulated_pic;      /* has a PIC/IOAPIC (HVM); PVH does not */
    bool privileged;        /* control domain: device-model rights everywhere */
    domid_t dm_target;      /* stub device-model domain: the domain it serves,
                             * or DOMID_INVALID */
    /* Guest frames that get_info without XEN_DMOP_no_gfns may hand out. */
    uint64_t ioreq_gfn_base;
    unsigned int nr_ioreq_gfns;
};

/* -EINVAL bad config, -EEXIST domid in use, -ENOMEM. */
int hvio_domain_create(struct hvio_host *host,
                       const struct hvio_domain_config *cfg);
/*
 * Destroys every ioreq server of the domain, then forgets it: a vCPU
 * waiting on a server wakes and gets -ESRCH.  -ESRCH if there is none.
 */
int hvio_domain_destroy(struct hvio_host *host, domid_t domid);

/*
 * The toolstack crashes a domain (a watchdog, an operator): every waiting
 * vCPU wakes and gets -EIO, as do later accesses.  -ESRCH if there is none.
 */
int hvio_domain_crash(struct hvio_host *host, domid_t domid, const char *why);

/*
 * Bring a vCPU online: it gets a channel in every existing server.  All or
 * nothing.  -ESRCH no domain, -EINVAL id >= max_vcpus, -EEXIST online.
 */
int hvio_vcpu_add(struct hvio_host *host, domid_t domid, unsigned int vcpu_id);
/* Take a vCPU offline and free its channels.  -ESRCH, -EINVAL, -ENOENT. */
int hvio_vcpu_remove(struct hvio_host *host, domid_t domid,
                     unsigned int vcpu_id);

/*
 * A handle for the thread that runs a vCPU.  It keeps the domain's memory
 * alive (not the domain: once destroyed, calls on it fail with -ESRCH).
 */
int hvio_vcpu_get(struct hvio_host *host, domid_t domid, unsigned int vcpu_id,
                  struct hvio_vcpu **out);
void hvio_vcpu_put(struct hvio_vcpu *vcpu);

/* ---- the emulator side ------------------------------------------------ */

/*
 * HYPERVISOR_dm_op with one buffer: `buf` holds a struct xen_dm_op of `size`
 * bytes, issued by domain `caller` against domain `target`.  Output fields
 * are written back into `buf` on success.
 */
int hvio_dm_op(struct hvio_host *host, domid_t caller, domid_t target,
               void *buf, size_t size);

/*
 * XENMEM_acquire_resource, type XENMEM_resource_ioreq_server: frame
 * `idx` (0 = buffered ring, 1 = ioreq page) of server `id` of `target`.
 */
int hvio_acquire_ioreq_frame(struct hvio_host *host, domid_t caller,
                             domid_t target, ioservid_t id, unsigned long idx,
                             void **page);

/* The server page behind a legacy ioreq gfn (see get_info), or -ENOENT. */
int hvio_ioreq_gfn_page(struct hvio_host *host, domid_t domid, uint64_t gfn,
                        void **page);

/* ---- introspection (tests, tools) ------------------------------------ */

struct hvio_range {
    uint64_t start, end; /* inclusive */
};

struct hvio_server_view {
    domid_t emulator;          /* owner domain */
    bool enabled;
    uint8_t bufioreq_handling; /* HVM_IOREQSRV_BUFIOREQ_* */
    evtchn_port_t bufioreq_port;
    evtchn_port_t vcpu_port[HVIO_MAX_VCPUS]; /* 0: vCPU offline */
    unsigned int nr_ranges[3];                /* by XEN_DMOP_IO_RANGE_* */
};

/* A copy of server `id`'s state; -ESRCH no domain, -ENOENT no server. */
int hvio_server_view(struct hvio_host *host, domid_t domid, ioservid_t id,
                     struct hvio_server_view *view);
/*
 * Copies up to `max` ranges of one type, in ascending order, and returns
 * how many the server has (which may exceed `max`).
 */
int hvio_server_ranges(struct hvio_host *host, domid_t domid, ioservid_t id,
                       uint32_t type, struct hvio_range *out, unsigned int max);
/* Number of servers of the domain, or -ESRCH. */
int hvio_domain_nr_servers(struct hvio_host *host, domid_t domid);

/* ---- the guest side --------------------------------------------------- */

enum hvio_outcome {
    HVIO_EMULATED = 0,  /* a server completed it (or took it buffered) */
    HVIO_UNHANDLED = 1, /* null handler: reads are all ones, writes dropped */
};

/*
 * Emulate one trapped access of type IOREQ_TYPE_PIO or IOREQ_TYPE_COPY
 * (addr, size 1/2/4/8, count >= 1, dir, df, data_is_ptr, data).  Blocks the
 * calling thread (through vcpu_block) until the server answers.  On return
 * a read without data_is_ptr has its value in p->data; with data_is_ptr the
 * caller fills guest memory with ones for HVIO_UNHANDLED.
 *
 * As in Xen, the hypervisor's own debug console comes before any server:
 * one-byte writes to port HVIO_DEBUG_PORT (single, or rep outsb with the
 * bytes in guest memory) never reach a server; they build a line that goes
 * to the platform's debug_console on a newline or at
 * HVIO_CONSOLE_LINE_MAX - 1 characters, and return HVIO_EMULATED (a write of
 * more than HVIO_DEBUG_MAX_REPS bytes with p->count lowered to that many: the
 * caller issues the rest again, as Xen re-executes a part-done rep).  Reads
 * of that port, and accesses of other sizes, are routed as usual, but a
 * string read of it comes back with p->count lowered to 1, as Xen forwards
 * one element at a time after its console handler declines a read: the
 * caller issues the remaining elements again.
 *
 * Returns an hvio_outcome, or -EINVAL (malformed access), -ESRCH (vCPU
 * offline or domain gone), -EIO (the domain was crashed, possibly by this
 * access because the emulator broke the protocol).
 */
int hvio_emulate(struct hvio_vcpu *vcpu, ioreq_t *p);

/*
 * IOREQ_TYPE_INVALIDATE (synchronous) and IOREQ_TYPE_TIMEOFFSET (buffered)
 * to every enabled server.  Returns how many servers could not be sent the
 * request (as Xen's broadcast does), or -ESRCH / -EIO.
 */
int hvio_send_invalidate(struct hvio_vcpu *vcpu);
int hvio_send_timeoffset(struct hvio_vcpu *vcpu, int64_t delta);

#ifdef __cplusplus
}
#endif

#endif /* HVIO_H */
