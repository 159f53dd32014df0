/*
 * libioreq: the emulator side of a Xen ioreq server, done once.
 *
 * A context is one ioreq server of one guest.  It either attaches to a
 * server someone else created (the router: --domid D --ioservid S) or
 * creates its own (standalone).  Devices register port regions, MMIO regions
 * and PCI functions with read/write callbacks; the library maps the server's
 * pages, binds its event channels, dispatches every request to the region
 * that covers it (re-checked at dispatch: ranges can change underneath), and
 * completes it.  String requests (data_is_ptr) and DMA go through a small
 * cache of guest-memory mappings.
 *
 * Only the real Xen library APIs are used (libxendevicemodel,
 * libxenforeignmemory, libxenevtchn, and libxenctrl for domain
 * information), so the same binary runs on Xen and on xensim.  Functions return 0 or a negative errno; nothing is printed except
 * through the optional logger.  A context is not thread-safe: use it from
 * one thread (device callbacks run on the thread that calls dispatch).  The
 * one exception is ioreq_stop(), which may be called from any thread or
 * from a signal handler.
 *
 * Everything the library reads from the pages it shares with Xen is
 * untrusted: each field is read once and checked; a request that makes no
 * sense is answered (reads as all ones, writes dropped), never fatal.
 *
 * Build: pkg-config --cflags --libs libioreq
 */
#ifndef LIBIOREQ_H
#define LIBIOREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <xen/xen.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ioreq_ctx;
struct ioreq_region;
struct ioreq_pci_dev;

/* ---- opening ------------------------------------------------------------ */

enum ioreq_log_level { IOREQ_LOG_ERROR, IOREQ_LOG_WARNING, IOREQ_LOG_INFO, IOREQ_LOG_DEBUG };
typedef void ioreq_log_fn(void *opaque, enum ioreq_log_level level, const char *msg);
/* The guest moved its RTC: `delta` seconds (IOREQ_TYPE_TIMEOFFSET). */
typedef void ioreq_timeoffset_fn(void *opaque, int64_t delta);

struct ioreq_options {
    domid_t domid;          /* the guest */
    int ioservid;           /* >= 0: attach to this server; -1: create one */
    int bufioreq;           /* create only: HVM_IOREQSRV_BUFIOREQ_* */
    /*
     * Whether the guest has an emulated PIC/IOAPIC (HVM: yes, PVH: no).
     * Interrupt lines are never driven for a guest without one (Xen 4.17
     * crashes on the ISA IRQ dm_op for PVH, and INTx routes through the
     * same IOAPIC): raising with ioreq_set_isa_irq() or INTx from
     * ioreq_pci_raise() returns -EOPNOTSUPP and logs once; lowering is a
     * no-op that succeeds.  MSI works either way.
     * false is final.  true is checked: ioreq_open() asks Xen
     * (xc_domain_getinfolist) and, if the domain's emulation flags lack
     * XEN_X86_EMU_PIC, goes on as if false, saying so once at info level.
     * When Xen cannot be asked (not dom0, no privcmd, ...), true stands
     * (a debug-level message says why).
     */
    bool has_pic;
    ioreq_log_fn *log;      /* optional */
    void *log_opaque;
    ioreq_timeoffset_fn *timeoffset; /* optional */
    void *timeoffset_opaque;
};

/*
 * Open the Xen handles, restrict them to the guest, attach to the server
 * (or create it), map its pages.  Nothing is served until ioreq_start().
 * Errors: -EINVAL (bad options), -ENOENT (no such server to attach to),
 * or what Xen said.  On error nothing is left behind.
 */
int ioreq_open(const struct ioreq_options *opts, struct ioreq_ctx **out);

/*
 * Enable the server (idempotent), bind every vCPU's port and the buffered
 * port, and finish any request a previous instance left READY or INPROCESS
 * (and any posted write it left in the ring), so a restart loses nothing.
 * Register the devices first: the finished requests go to them.
 */
int ioreq_start(struct ioreq_ctx *ctx);

/*
 * Finish in-flight work, unbind, close.  A server this context created is
 * disabled, then destroyed once the vCPUs have taken the last answers (an
 * answer still in its slot when the server goes would be lost; the wait is
 * bounded, about a second); an attached one stays (its owner decides),
 * minus the BAR ranges this context mapped.  NULL is a no-op.
 */
void ioreq_close(struct ioreq_ctx *ctx);

ioservid_t ioreq_server_id(const struct ioreq_ctx *ctx);
unsigned int ioreq_nr_vcpus(const struct ioreq_ctx *ctx);

/* Counters since ioreq_open(). */
struct ioreq_stats {
    uint64_t sync;          /* synchronous requests answered */
    uint64_t buffered;      /* posted writes drained from the ring */
    uint64_t resumed;       /* requests left by a previous instance, finished by ioreq_start() */
    uint64_t invalid;       /* malformed requests (answered as unhandled) */
    uint64_t unhandled;     /* accesses no region or PCI function covered */
};
void ioreq_get_stats(const struct ioreq_ctx *ctx, struct ioreq_stats *stats);

/* ---- regions ------------------------------------------------------------ */

/*
 * size is 1, 2, 4 or 8; offset is from the region's base.  Either callback
 * may be NULL: reads then return all ones, writes are dropped.
 */
struct ioreq_region_ops {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
    void (*write)(void *opaque, uint64_t offset, unsigned int size, uint64_t value);
};

/*
 * Register [base, base+len) of port or MMIO space (`ops` is copied).
 * Standalone contexts also map the range to their server; attached ones
 * rely on the router's ranges.  -EEXIST on overlap with another region of
 * this context, -EINVAL for an empty range or one past the end of its space.
 * `out` may be NULL.  An access is served only when one region covers all
 * of it (as Xen forwards it only when one server's range does).
 */
int ioreq_add_port_region(struct ioreq_ctx *ctx, uint16_t base, uint32_t len,
                          const struct ioreq_region_ops *ops, void *opaque,
                          struct ioreq_region **out);
int ioreq_add_mmio_region(struct ioreq_ctx *ctx, uint64_t base, uint64_t len,
                          const struct ioreq_region_ops *ops, void *opaque,
                          struct ioreq_region **out);
/* Move a region; len stays.  On error (-EEXIST, -EINVAL) it stays where it was. */
int ioreq_region_move(struct ioreq_region *region, uint64_t new_base);
/* Unregister (and, standalone, unmap) a region.  May be called from its own callback. */
void ioreq_region_remove(struct ioreq_region *region);

/* ---- PCI functions ------------------------------------------------------ */

struct ioreq_pci_id {
    uint16_t vendor, device;
    uint16_t subsystem_vendor, subsystem;
    uint8_t revision;
    uint8_t class_code, subclass, prog_if;
    uint8_t interrupt_pin; /* 0 none, 1..4 = INTA..INTD */
};

enum ioreq_bar_type { IOREQ_BAR_IO, IOREQ_BAR_MEM32, IOREQ_BAR_MEM64 };

/*
 * Device-specific config registers, optional: offsets 0x40..0xfff outside
 * the capabilities the library emulates (the body of a capability added
 * with ioreq_pci_add_capability() comes here too).  Without them such
 * offsets read as 0 and ignore writes.
 */
struct ioreq_pci_config_ops {
    uint32_t (*read)(void *opaque, unsigned int offset, unsigned int size);
    void (*write)(void *opaque, unsigned int offset, unsigned int size, uint32_t value);
};

/*
 * A PCI function at 00:dev.fn (dev < 32, fn < 8) with a standard type-0
 * header: read-only and write-1-to-clear bits as the spec says, COMMAND's
 * I/O, memory, bus-master, parity, SERR and INTx-disable bits writable,
 * no expansion ROM; the multi-function bit of function 0 follows the other
 * functions.  Standalone contexts map its SBDF.  `cfg` may be NULL and is
 * copied.  -EEXIST if the function exists.
 */
int ioreq_pci_add(struct ioreq_ctx *ctx, uint8_t dev, uint8_t fn,
                  const struct ioreq_pci_id *id, const struct ioreq_pci_config_ops *cfg,
                  void *opaque, struct ioreq_pci_dev **out);
/*
 * BAR `bar` (0..5; a 64-bit BAR takes two, so not 5) of `size` bytes (a
 * power of two: I/O 4..256, memory >= 16; MEM32 at most 2 GiB).  Writing all
 * ones reads back the size mask; the region is placed at the programmed
 * address while COMMAND's I/O or memory decode bit is set and the address
 * is not 0 and leaves the BAR within its address space (so a sized, not yet
 * programmed BAR decodes nowhere); reprogramming moves it.  The library
 * maps each placed BAR on the server itself, in standalone and attached
 * contexts alike (only the emulator knows where the guest puts its BARs).
 * `ops` (copied) offsets are from the BAR's base.
 */
int ioreq_pci_add_bar(struct ioreq_pci_dev *dev, unsigned int bar,
                      enum ioreq_bar_type type, uint64_t size,
                      const struct ioreq_region_ops *ops, void *opaque);
/*
 * A capability of `len` bytes (2..192, including the ID and next-pointer
 * bytes, which the library keeps), linked into the capability list.
 * Returns its config-space offset (0x40..0xfc), or -ENOSPC, -EINVAL.
 */
int ioreq_pci_add_capability(struct ioreq_pci_dev *dev, uint8_t cap_id, unsigned int len);
/* An MSI capability (one vector, 64-bit address).  -EEXIST if it has one. */
int ioreq_pci_add_msi(struct ioreq_pci_dev *dev);
/*
 * Signal the function's interrupt: a message if MSI is enabled (sent only
 * while COMMAND's bus-master bit is set, as a device's memory write would
 * be), else assert INTx (a level: it stays until ioreq_pci_lower(); it
 * reaches the guest unless COMMAND's INTx-disable bit is set, and STATUS's
 * interrupt bit shows it either way).  -ENODEV without MSI enabled and
 * without an interrupt pin; -EOPNOTSUPP for INTx without a PIC.
 */
int ioreq_pci_raise(struct ioreq_pci_dev *dev);
int ioreq_pci_lower(struct ioreq_pci_dev *dev);

/* ---- guest memory and interrupts ---------------------------------------- */

/*
 * Copy to/from guest physical memory.  -EFAULT if any page of the range is
 * not guest RAM (bytes before that page may have been copied).
 */
int ioreq_guest_read(struct ioreq_ctx *ctx, uint64_t gpa, void *buf, size_t len);
int ioreq_guest_write(struct ioreq_ctx *ctx, uint64_t gpa, const void *buf, size_t len);

/* ISA IRQ 0..15 level.  -EOPNOTSUPP raising without a PIC (see has_pic). */
int ioreq_set_isa_irq(struct ioreq_ctx *ctx, unsigned int irq, bool level);
int ioreq_inject_msi(struct ioreq_ctx *ctx, uint64_t addr, uint32_t data);

/* ---- the loop ------------------------------------------------------------- */

/* Readable when there is work: poll it in your own loop, then dispatch. */
int ioreq_fd(const struct ioreq_ctx *ctx);
/*
 * Serve everything pending without blocking; returns requests served (sync
 * and buffered), or a negative errno (-EIO: the event channel device or
 * the simulator went away).  -EINVAL before ioreq_start().
 */
int ioreq_dispatch(struct ioreq_ctx *ctx);
/*
 * Serve until ioreq_stop(), SIGTERM or SIGINT.  The calling thread gets
 * those signals blocked and watched through a signalfd (no process-wide
 * handler; block them in every other thread too, or they may kill the
 * process there; one that comes before ioreq_run() blocks it takes its
 * default action, so block them early if that matters), and the requests
 * pending when it stops are finished before it returns.  Returns 0 after
 * ioreq_stop(), the signal number after a signal, or a negative errno.
 */
int ioreq_run(struct ioreq_ctx *ctx);
/* Make ioreq_run() return; async-signal-safe, any thread. */
void ioreq_stop(struct ioreq_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOREQ_H */
