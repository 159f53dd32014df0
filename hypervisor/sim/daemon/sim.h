/*
 * The xensim daemon's state: the hypervisor core, the simulated domains
 * (guest RAM, vCPU doorbells, pause, interrupt log), the event channel
 * table, the shared-page pool and the xenstore.
 */
#ifndef XENSIM_SIM_H
#define XENSIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "evtchn_table.h"
#include "hvio.h"
#include "xensim_proto.h"

struct xs_sim;

#define SIM_IRQ_LOG_SIZE 4096

struct sim_vcpu {
    int doorbell; /* eventfd: read to block, write to wake */
    /* A guest run's script is on it (under the domain's lock): one at a
     * time, as a vCPU has one instruction stream and one ioreq slot. */
    bool running;
};

struct sim_domain {
    domid_t domid;
    char name[XENSIM_NAME_MAX];
    uint32_t type; /* enum xensim_domain_type, 0 for dom0 */
    unsigned int nr_vcpus;
    uint64_t memory_bytes;
    int ram_fd;   /* memfd holding guest RAM, -1 for dom0 */
    uint8_t *ram;

    struct sim_vcpu vcpu[HVIO_MAX_VCPUS];

    /*
     * The guest's own lock around a config cycle (CF8 write, then CFC
     * access), as a guest OS holds one (Linux: pci_config_lock): the CF8
     * latch is the domain's, so unserialised cycles from two vCPUs read
     * each other's registers, on Xen too.  Held by a script's pci-* op.
     */
    pthread_mutex_t pci_config_lock;

    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t changed; /* pause lifted, interrupt recorded, crash */
    unsigned int pause_count; /* all pauses: the core's and the toolstack's */
    unsigned int ctl_pause_count; /* the toolstack's (XENSIM_DOMAIN_PAUSE), included above */
    bool dying;   /* being destroyed */
    bool crashed;
    char crash_reason[128];
    unsigned int nr_irqs; /* total recorded; the log keeps the last SIM_IRQ_LOG_SIZE */
    struct xensim_irq_record irq[SIM_IRQ_LOG_SIZE];
    unsigned int refused_irqs; /* interrupt dm_ops refused (no emulated PIC/IOAPIC) */
    unsigned int runners; /* guest-run threads using this domain */
    /* The traced guest run that also gets the debug console's lines, or NULL (guest_runner.c). */
    struct guest_trace_sink *trace_sink;
};

struct sim_page {
    void *addr;
    int fd;
};

struct sim {
    struct hvio_host *host;
    struct evtchn_table *evtchn;
    struct xs_sim *xs; /* NULL when running without a store */
    struct console_log *console; /* the guests' debug console lines, on stderr */

    pthread_mutex_t lock; /* guards domains[] and pages */
    struct sim_domain *domains[DOMID_FIRST_RESERVED];
    struct sim_page *pages;
    unsigned int nr_pages, cap_pages;

    /* Main loop only. */
    bool stopping;   /* XENSIM_SHUTDOWN or a signal */
    int wake_fd;     /* eventfd: a guest run finished, look for idle closing clients */
    int epoll;       /* the main loop's */
};

/* ---- platform.c ---- */
extern const struct hvio_platform_ops sim_platform_ops;
/* The memfd behind a page the core allocated, or -1. */
int sim_page_fd(struct sim *sim, const void *page);

/* ---- domains.c ---- */
int sim_init(struct sim *sim, const char *xenstore_path);
void sim_fini(struct sim *sim);
/*
 * Create a domain (domid 0: pick one), paused by the toolstack once if
 * `paused`.  Returns the domid or -errno.
 */
int sim_domain_create(struct sim *sim, const char *name, uint32_t type,
                      unsigned int vcpus, uint64_t memory_bytes, domid_t domid,
                      bool paused);
int sim_domain_destroy(struct sim *sim, domid_t domid);
/* The domain, or NULL; valid until sim_domain_destroy() returns. */
struct sim_domain *sim_domain_get(struct sim *sim, domid_t domid);
int sim_domain_by_name(struct sim *sim, const char *name);
/* Record an interrupt and wake waiters. */
void sim_domain_irq(struct sim_domain *d, const struct xensim_irq_record *rec);
/* Count an interrupt dm_op the core refused (the domain has no PIC/IOAPIC). */
void sim_domain_irq_refused(struct sim *sim, domid_t domid);
/*
 * XEN_DOMCTL_pausedomain / unpausedomain for `domid`, asked by `caller`:
 * 0, -ESRCH, -EPERM (caller not dom0), -EINVAL (pausing the caller itself,
 * unpausing at a count of 0), -EOVERFLOW (XENSIM_PAUSE_MAX pauses).
 */
int sim_domain_ctl_pause(struct sim *sim, domid_t caller, domid_t domid, bool pause);
/* What XEN_DOMCTL_getdomaininfo says of the domain. */
void sim_domain_describe(struct sim *sim, struct sim_domain *d, struct xensim_dominfo *out);

#endif
