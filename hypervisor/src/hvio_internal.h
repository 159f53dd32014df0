/* Internal model of the hypervisor core: host, domains, vCPUs, servers. */
#ifndef HVIO_INTERNAL_H
#define HVIO_INTERNAL_H

#include "hvio.h"
#include "rangeset.h"
#include "range_index.h"

#define NR_RANGE_TYPES 3 /* XEN_DMOP_IO_RANGE_PORT, _MEMORY, _PCI */
#define MAX_IOREQ_GFNS 64

struct hvio_host {
    struct hvio_platform_ops ops;
    void *ctx;
    struct hvio_lock *lock; /* guards `domains` */
    struct hvio_domain **domains; /* indexed by domid */
};

/* How an emulator reaches a server's pages; Xen forbids mixing the two. */
enum page_access {
    PAGES_UNCLAIMED,
    PAGES_BY_RESOURCE, /* XENMEM_acquire_resource */
    PAGES_BY_GFN,      /* legacy: get_info without XEN_DMOP_no_gfns */
};

struct hvio_server {
    ioservid_t id;
    domid_t emulator;
    bool enabled;
    uint8_t bufioreq_handling;
    enum page_access page_access;
    shared_iopage_t *ioreq_page;
    buffered_iopage_t *buf_page; /* NULL with HVM_IOREQSRV_BUFIOREQ_OFF */
    evtchn_port_t bufioreq_port;
    uint64_t ioreq_gfn, bufioreq_gfn; /* valid with PAGES_BY_GFN */
    evtchn_port_t vcpu_port[HVIO_MAX_VCPUS]; /* 0 for offline vCPUs */
    struct rangeset ranges[NR_RANGE_TYPES];
};

struct hvio_vcpu {
    struct hvio_domain *domain;
    unsigned int id;
    bool online;
    /* Servers (bit per id) holding a synchronous request of this vCPU. */
    uint8_t pending;
    /* Last slot state seen per server, to catch states moving backwards. */
    uint8_t seen_state[HVIO_MAX_SERVERS];
};

struct hvio_domain {
    struct hvio_host *host;
    struct hvio_domain_config cfg;
    unsigned int refs;      /* atomic: the host table plus vCPU handles */
    struct hvio_lock *lock; /* guards everything below */
    bool dying;
    bool crashed;
    uint32_t cf8; /* latched PCI config address */
    /* Xen's debug console (port 0xE9): the line being built. */
    char console[HVIO_CONSOLE_LINE_MAX];
    unsigned int console_len;
    uint64_t gfns_in_use; /* bit per frame of the legacy ioreq gfn pool */
    struct hvio_server *servers[HVIO_MAX_SERVERS];
    struct range_index index[NR_RANGE_TYPES];
    struct hvio_vcpu vcpus[HVIO_MAX_VCPUS];
};

/* ---- host.c ---- */
/* Referenced domain by id, or NULL. */
struct hvio_domain *domain_get(struct hvio_host *host, domid_t domid);
void domain_put(struct hvio_domain *d);
void domain_lock(struct hvio_domain *d);
void domain_unlock(struct hvio_domain *d);
/* Marks the domain crashed once and wakes every waiting vCPU. Locked. */
void domain_crash_locked(struct hvio_domain *d, const char *why);

/* ---- server.c (all take the domain's lock themselves) ---- */
int server_create(struct hvio_domain *d, domid_t caller, uint8_t handle_bufioreq,
                  ioservid_t *id);
int server_destroy(struct hvio_domain *d, domid_t caller, ioservid_t id);
int server_set_state(struct hvio_domain *d, domid_t caller, ioservid_t id,
                     bool enabled);
int server_get_info(struct hvio_domain *d, domid_t caller, ioservid_t id,
                    bool want_gfns, struct xen_dm_op_get_ioreq_server_info *info);
/* Map (or unmap) a range, as the two dm_ops; a failed re-index undoes it. */
int server_change_range(struct hvio_domain *d, domid_t caller, ioservid_t id,
                        uint32_t type, uint64_t start, uint64_t end, bool map);
int server_get_frame(struct hvio_domain *d, domid_t caller, ioservid_t id,
                     unsigned long idx, void **page);
/* Locked: tear one server down (domain destroy, server destroy). */
void server_teardown_locked(struct hvio_domain *d, struct hvio_server *s);
/* Locked: give a new vCPU a channel in every server; all or nothing. */
int servers_add_vcpu_locked(struct hvio_domain *d, unsigned int vcpu_id);
void servers_remove_vcpu_locked(struct hvio_domain *d, unsigned int vcpu_id);

/* ---- dm_op.c ---- */
/* Device-model privilege of `caller` over `target`, as HYPERVISOR_dm_op. */
int dm_privilege_check(struct hvio_host *host, domid_t caller,
                       struct hvio_domain *target);

/* ---- select.c (domain lock held) ---- */
/* What an access touches, in the terms of one range type. */
struct access_target {
    uint32_t type; /* XEN_DMOP_IO_RANGE_* */
    uint64_t first, last;
    uint64_t pci_addr; /* for PCI: (SBDF << 32) | register */
};

/* False when the access can be no server's (its span wraps around). */
bool access_classify(const struct hvio_domain *d, const ioreq_t *p,
                     struct access_target *t);
/* Highest-id enabled server whose ranges contain all of `t`, or NULL. */
struct hvio_server *server_select_locked(struct hvio_domain *d,
                                         const struct access_target *t);

/* ---- send.c (domain lock held on entry) ---- */
/* Post `p` in the vCPU's slot of `s`; crashes the domain on a broken slot. */
int send_sync_locked(struct hvio_domain *d, struct hvio_server *s,
                     struct hvio_vcpu *v, const ioreq_t *p);
/*
 * Wait until every server in v->pending answered, dropping the lock while
 * blocked; returns with the lock released.  `*data` gets the answer of the
 * last server that answered (all ones if none did).  Returns 1 if a server
 * answered, 0 if none did (destroyed, or the slot was reset), -EIO crashed,
 * -ESRCH vCPU or domain gone.
 */
int wait_for_io_unlock(struct hvio_domain *d, struct hvio_vcpu *v,
                       uint64_t *data);

/* ---- debugcon.c (domain lock held) ---- */
/*
 * Xen's internal handler for port 0xE9, consulted before any server: true
 * when it completed `p` (a one-byte write, printed to the debug console).
 * A one-byte string read of the port is left to the servers with
 * p->count lowered to 1.
 */
bool debugcon_intercept_locked(struct hvio_domain *d, ioreq_t *p);

/* ---- bufioreq.c (domain lock held) ---- */
/* Queue `p` on the server's ring; false if it cannot be (no ring, full). */
bool bufioreq_put_locked(struct hvio_domain *d, struct hvio_server *s,
                         const ioreq_t *p);

static inline void *core_alloc(struct hvio_host *h, size_t size)
{
    return h->ops.alloc(h->ctx, size);
}

static inline void core_free(struct hvio_host *h, void *ptr)
{
    if (ptr)
        h->ops.free(h->ctx, ptr);
}

#endif
