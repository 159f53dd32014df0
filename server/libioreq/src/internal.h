/*
 * libioreq's context and the functions its files share.  Not installed.
 */
#ifndef LIBIOREQ_INTERNAL_H
#define LIBIOREQ_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>

#include "libioreq.h"
#include "pci_cfg.h"
#include "regions.h"

#define PAGE_SHIFT_4K 12
#define PAGE_SIZE_4K (1u << PAGE_SHIFT_4K)
/* One ioreq page holds this many vCPU slots. */
#define IOREQ_MAX_VCPUS (PAGE_SIZE_4K / sizeof(ioreq_t))
#define NO_PORT (-1)

/* Guest-memory mapping cache: GMEM_ENTRIES mappings of GMEM_BUCKET_PAGES aligned pages. */
#define GMEM_BUCKET_PAGES 32u
#define GMEM_ENTRIES 8u

struct gmem_entry {
    bool used;
    uint64_t bucket;  /* first gfn / GMEM_BUCKET_PAGES */
    uint8_t *va;
    uint32_t ok;      /* bit i: page i of the bucket is mapped */
    uint64_t stamp;   /* last use, for LRU */
};

struct gmem {
    struct gmem_entry e[GMEM_ENTRIES];
    uint64_t clock;
};

struct ioreq_pci_dev {
    struct ioreq_ctx *ctx;
    uint8_t devfn;
    struct pcicfg cfg;
    struct ioreq_pci_config_ops ops;
    void *opaque;
    struct ioreq_region bar[PCICFG_NR_BARS];
    bool intx_level;  /* the INTx level Xen was last told */
};

struct ioreq_ctx {
    struct xentoollog_logger xtl; /* what the Xen libraries log through */
    struct xentoollog_logger xc_xtl; /* libxenctrl's (the PIC query): debug level only */
    domid_t domid;
    ioservid_t id;
    bool created;     /* by this context: destroyed on close */
    bool enabled_by_us;
    bool started;
    bool has_pic;

    xendevicemodel_handle *dm;
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;

    xenforeignmemory_resource_handle *res;
    shared_iopage_t *iopage;
    buffered_iopage_t *bufpage; /* NULL: no buffered ring */
    unsigned int nr_vcpus;
    int vcpu_port[IOREQ_MAX_VCPUS]; /* local ports, NO_PORT if unbound */
    int buf_port;

    struct region_table rt[NR_SPACES];
    struct ioreq_region *regions;        /* user regions (BARs live in their function) */
    struct ioreq_pci_dev *pci[256];      /* bus 0, by devfn */
    struct gmem gmem;

    ioreq_log_fn *log;
    void *log_opaque;
    ioreq_timeoffset_fn *timeoffset;
    void *timeoffset_opaque;

    int stop_fd;   /* eventfd: ioreq_stop() wakes ioreq_run() */
    int stop;      /* atomic */
    bool isa_refusal_logged, intx_refusal_logged;
    unsigned int invalid_logged;
    struct ioreq_stats stats;
};

/* log.c */
void ctx_log(const struct ioreq_ctx *ctx, enum ioreq_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A message of a Xen library (its xentoollog vmessage), as "CONTEXT: msg[: errno N]". */
void ctx_vlog_xen(const struct ioreq_ctx *ctx, enum ioreq_log_level level, int errnoval,
                  const char *context, const char *format, va_list al)
    __attribute__((format(printf, 5, 0)));

/* pages.c: map the server's pages (the bufioreq page only if it has a ring). */
int pages_map(struct ioreq_ctx *ctx, bool has_ring);
void pages_unmap(struct ioreq_ctx *ctx);

/* evtchn.c */
int evtchn_bind_all(struct ioreq_ctx *ctx);
void evtchn_unbind_all(struct ioreq_ctx *ctx);
/* Take every pending event off the device (unmasking it): count or -errno. */
int evtchn_collect(struct ioreq_ctx *ctx);
int evtchn_notify_vcpu(struct ioreq_ctx *ctx, unsigned int vcpu);

/* serve.c: one request copied out of a slot or the ring. */
void serve_request(struct ioreq_ctx *ctx, ioreq_t *req);
/* Drain the buffered ring: entries served. */
unsigned int serve_ring(struct ioreq_ctx *ctx);

/* sync.c: serve every vCPU slot that is READY (and, resuming, INPROCESS). */
int sync_serve(struct ioreq_ctx *ctx, bool resume);

/* guest_mem.c */
int gmem_copy(struct ioreq_ctx *ctx, uint64_t gpa, void *buf, size_t len, bool write);
void gmem_invalidate(struct ioreq_ctx *ctx);

/* region.c: place/unplace a region in its table (and on the server). */
int region_place(struct ioreq_region *r, uint64_t base);
void region_unplace(struct ioreq_region *r);
void region_free_all(struct ioreq_ctx *ctx);

/* pci.c */
/* A config access for SBDF `sbdf`: false if no function of this context is there. */
bool pci_config_access(struct ioreq_ctx *ctx, uint32_t sbdf, unsigned int reg,
                       unsigned int size, bool write, uint64_t *value);
void pci_free_all(struct ioreq_ctx *ctx);
/* Attached: a previous instance may have died with INTx high; lower them. */
void pci_reset_intx(struct ioreq_ctx *ctx);

/* irq.c */
int irq_set_intx(struct ioreq_ctx *ctx, uint8_t device, uint8_t intx, bool level);
/*
 * Unless the caller said there is no PIC, ask Xen (libxenctrl) whether the
 * guest has one: clear ctx->has_pic (and say so) if its emulation flags
 * lack XEN_X86_EMU_PIC; keep it if Xen cannot be asked.
 */
void irq_check_pic(struct ioreq_ctx *ctx);

#endif
