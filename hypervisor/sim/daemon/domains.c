/* Simulated domains: creation with RAM and vCPUs, destruction, look-up. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/domctl.h>
#include <xen/sched.h>

#include "conn.h"
#include "console_log.h"
#include "sim.h"
#include "xenstore_sim.h"

#define IOREQ_GFN_POOL 8

static void deliver_to_client(void *ctx, struct evtchn_client *c, evtchn_port_t port);
static void kick_vcpu(void *ctx, domid_t domid, unsigned int vcpu_id);

struct sim_domain *sim_domain_get(struct sim *sim, domid_t domid)
{
    struct sim_domain *d = NULL;

    if (domid >= DOMID_FIRST_RESERVED)
        return NULL;
    pthread_mutex_lock(&sim->lock);
    d = sim->domains[domid];
    pthread_mutex_unlock(&sim->lock);
    return d;
}

int sim_domain_by_name(struct sim *sim, const char *name)
{
    int domid = -ESRCH;

    pthread_mutex_lock(&sim->lock);
    for (unsigned int i = 0; i < DOMID_FIRST_RESERVED && domid < 0; i++)
        if (sim->domains[i] && strcmp(sim->domains[i]->name, name) == 0)
            domid = (int)i;
    pthread_mutex_unlock(&sim->lock);
    return domid;
}

void sim_domain_irq(struct sim_domain *d, const struct xensim_irq_record *rec)
{
    pthread_mutex_lock(&d->lock);
    d->irq[d->nr_irqs % SIM_IRQ_LOG_SIZE] = *rec;
    d->nr_irqs++;
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
}

void sim_domain_irq_refused(struct sim *sim, domid_t domid)
{
    struct sim_domain *d = sim_domain_get(sim, domid);

    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->refused_irqs++;
    pthread_mutex_unlock(&d->lock);
}

int sim_domain_ctl_pause(struct sim *sim, domid_t caller, domid_t domid, bool pause)
{
    struct sim_domain *d = sim_domain_get(sim, domid);
    int rc = 0;

    /* Xen's order: look the domain up, ask XSM, then refuse to pause the caller. */
    if (!d)
        return -ESRCH;
    if (caller != 0)
        return -EPERM;
    if (pause && domid == caller)
        return -EINVAL;
    pthread_mutex_lock(&d->lock);
    if (pause && d->ctl_pause_count >= XENSIM_PAUSE_MAX) {
        rc = -EOVERFLOW;
    } else if (pause) {
        d->ctl_pause_count++;
        d->pause_count++;
    } else if (d->ctl_pause_count == 0) {
        rc = -EINVAL;
    } else {
        d->ctl_pause_count--;
        if (--d->pause_count == 0)
            pthread_cond_broadcast(&d->changed);
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void sim_domain_describe(struct sim *sim, struct sim_domain *d, struct xensim_dominfo *out)
{
    int servers = hvio_domain_nr_servers(sim->host, d->domid);
    bool hvm = d->type == XENSIM_DOMAIN_HVM || d->type == XENSIM_DOMAIN_PVH;

    memset(out, 0, sizeof(*out));
    memcpy(out->name, d->name, sizeof(out->name));
    out->domid = d->domid;
    out->type = d->type;
    out->nr_online_vcpus = d->nr_vcpus;
    out->max_vcpu_id = d->nr_vcpus ? d->nr_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
    out->tot_pages = d->memory_bytes / HVIO_PAGE_SIZE;
    out->max_pages = out->tot_pages;
    out->nr_servers = servers > 0 ? (uint32_t)servers : 0;
    /* As libxl creates them: HVM gets every emulated device but vPCI, PVH a local APIC only. */
    if (d->type == XENSIM_DOMAIN_HVM)
        out->emulation_flags = XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI;
    else if (d->type == XENSIM_DOMAIN_PVH)
        out->emulation_flags = XEN_X86_EMU_LAPIC;
    /* A PVH guest is an HVM container: Xen 4.17 has no other flag for it. */
    uint32_t flags = hvm ? XEN_DOMINF_hvm_guest | XEN_DOMINF_hap : 0;

    pthread_mutex_lock(&d->lock);
    out->pause_count = d->ctl_pause_count;
    out->refused_irqs = d->refused_irqs;
    /* As Xen: running while a vCPU runs (a guest script), else blocked.  The
     * vCPUs' own flags, which a run drops before its reply: once the client
     * has the reply, the domain no longer shows running. */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        out->busy_vcpus += d->vcpu[i].running;
    if (d->nr_vcpus)
        flags |= out->busy_vcpus && d->pause_count == 0 ? XEN_DOMINF_running : XEN_DOMINF_blocked;
    if (d->ctl_pause_count > 0)
        flags |= XEN_DOMINF_paused;
    if (d->dying)
        flags |= XEN_DOMINF_dying;
    else if (d->crashed)
        flags |= XEN_DOMINF_shutdown | (uint32_t)SHUTDOWN_crash << XEN_DOMINF_shutdownshift;
    pthread_mutex_unlock(&d->lock);
    out->flags = flags;
}

static void free_domain(struct sim_domain *d)
{
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        if (d->vcpu[i].doorbell >= 0)
            close(d->vcpu[i].doorbell);
    if (d->ram)
        munmap(d->ram, d->memory_bytes);
    if (d->ram_fd >= 0)
        close(d->ram_fd);
    pthread_cond_destroy(&d->changed);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->pci_config_lock);
    free(d);
}

static struct sim_domain *new_domain(const char *name, uint32_t type,
                                     unsigned int vcpus, uint64_t memory_bytes, bool paused)
{
    struct sim_domain *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->type = type;
    d->nr_vcpus = vcpus;
    d->memory_bytes = memory_bytes;
    d->ram_fd = -1;
    d->ctl_pause_count = d->pause_count = paused ? 1 : 0;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->changed, NULL);
    pthread_mutex_init(&d->pci_config_lock, NULL);
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        d->vcpu[i].doorbell = -1;

    bool ok = true;
    for (unsigned int i = 0; ok && i < vcpus; i++) {
        d->vcpu[i].doorbell = eventfd(0, EFD_CLOEXEC);
        ok = d->vcpu[i].doorbell >= 0;
    }
    if (ok && memory_bytes > 0) {
        d->ram_fd = memfd_create("xensim-guest-ram", MFD_CLOEXEC);
        ok = d->ram_fd >= 0 && ftruncate(d->ram_fd, (off_t)memory_bytes) == 0;
        if (ok) {
            d->ram = mmap(NULL, memory_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                          d->ram_fd, 0);
            ok = d->ram != MAP_FAILED;
            if (!ok)
                d->ram = NULL;
        }
    }
    if (!ok) {
        free_domain(d);
        return NULL;
    }
    return d;
}

/* Claim `domid` (or the lowest free id >= 1) in the table; -EEXIST / -ENOSPC. */
static int claim_domid(struct sim *sim, domid_t domid, struct sim_domain *d)
{
    int rc = -ENOSPC;

    pthread_mutex_lock(&sim->lock);
    if (domid != 0 || !sim->domains[0]) {
        rc = sim->domains[domid] ? -EEXIST : domid;
    } else {
        for (unsigned int i = 1; i < DOMID_FIRST_RESERVED; i++) {
            if (!sim->domains[i]) {
                rc = (int)i;
                break;
            }
        }
    }
    if (rc >= 0) {
        d->domid = (domid_t)rc;
        sim->domains[rc] = d;
    }
    pthread_mutex_unlock(&sim->lock);
    return rc;
}

static void unclaim_domid(struct sim *sim, domid_t domid)
{
    pthread_mutex_lock(&sim->lock);
    sim->domains[domid] = NULL;
    pthread_mutex_unlock(&sim->lock);
}

/* The core's view of the domain, its vCPUs, its ports and its store entry. */
static int register_domain(struct sim *sim, struct sim_domain *d)
{
    bool is_dom0 = d->domid == 0;
    struct hvio_domain_config cfg = {
        .domid = d->domid,
        .max_vcpus = d->nr_vcpus,
        .hvm = !is_dom0,
        .emulated_pic = d->type == XENSIM_DOMAIN_HVM,
        .privileged = is_dom0,
        .dm_target = DOMID_INVALID,
        .ioreq_gfn_base = d->memory_bytes / HVIO_PAGE_SIZE,
        .nr_ioreq_gfns = IOREQ_GFN_POOL,
    };
    int rc = evtchn_domain_add(sim->evtchn, d->domid);
    if (rc)
        return rc;
    rc = hvio_domain_create(sim->host, &cfg);
    for (unsigned int i = 0; !rc && i < d->nr_vcpus; i++)
        rc = hvio_vcpu_add(sim->host, d->domid, i);
    if (!rc && sim->xs && !is_dom0) /* the store starts with dom0 */
        rc = xs_sim_introduce_domain(sim->xs, d->domid, d->name);
    if (rc) {
        hvio_domain_destroy(sim->host, d->domid);
        evtchn_domain_remove(sim->evtchn, d->domid);
    }
    return rc;
}

int sim_domain_create(struct sim *sim, const char *name, uint32_t type,
                      unsigned int vcpus, uint64_t memory_bytes, domid_t domid,
                      bool paused)
{
    if (!name[0] || strlen(name) >= XENSIM_NAME_MAX || vcpus > HVIO_MAX_VCPUS ||
        domid >= DOMID_FIRST_RESERVED || memory_bytes % HVIO_PAGE_SIZE)
        return -EINVAL;
    if (sim_domain_by_name(sim, name) >= 0)
        return -EEXIST;

    struct sim_domain *d = new_domain(name, type, vcpus, memory_bytes, paused);
    if (!d)
        return -ENOMEM;
    int rc = claim_domid(sim, domid, d);
    if (rc < 0) {
        free_domain(d);
        return rc;
    }
    rc = register_domain(sim, d);
    if (rc) {
        unclaim_domid(sim, d->domid);
        free_domain(d);
        return rc;
    }
    return d->domid;
}

int sim_domain_destroy(struct sim *sim, domid_t domid)
{
    struct sim_domain *d = sim_domain_get(sim, domid);

    if (!d)
        return -ESRCH;
    /* The core wakes every waiting vCPU; guest runs then finish. */
    hvio_domain_destroy(sim->host, domid);
    pthread_mutex_lock(&d->lock);
    d->dying = true;
    d->crashed = true;
    snprintf(d->crash_reason, sizeof(d->crash_reason), "domain destroyed");
    pthread_cond_broadcast(&d->changed);
    while (d->runners > 0)
        pthread_cond_wait(&d->changed, &d->lock);
    pthread_mutex_unlock(&d->lock);

    evtchn_domain_remove(sim->evtchn, domid);
    if (sim->xs && domid != 0)
        xs_sim_release_domain(sim->xs, domid);
    unclaim_domid(sim, domid);
    free_domain(d);
    return 0;
}

int sim_init(struct sim *sim, const char *xenstore_path)
{
    memset(sim, 0, sizeof(*sim));
    pthread_mutex_init(&sim->lock, NULL);

    struct evtchn_callbacks cb = { .ctx = sim, .deliver = deliver_to_client,
                                   .kick = kick_vcpu };
    int rc = console_log_start(STDERR_FILENO, &sim->console);
    if (!rc)
        rc = evtchn_table_new(&cb, &sim->evtchn);
    if (!rc)
        rc = hvio_host_new(&sim_platform_ops, sim, &sim->host);
    if (!rc && xenstore_path)
        rc = xs_sim_start(xenstore_path, &sim->xs);
    if (!rc)
        rc = sim_domain_create(sim, "Domain-0", 0, 0, 0, 0, false);
    if (rc < 0) {
        sim_fini(sim);
        return rc;
    }
    return 0;
}

void sim_fini(struct sim *sim)
{
    for (unsigned int i = DOMID_FIRST_RESERVED; i-- > 0;)
        if (sim->domains[i])
            sim_domain_destroy(sim, (domid_t)i);
    if (sim->xs)
        xs_sim_stop(sim->xs);
    console_log_stop(sim->console); /* after the domains: no more lines */
    hvio_host_free(sim->host);
    evtchn_table_free(sim->evtchn);
    free(sim->pages);
    pthread_mutex_destroy(&sim->lock);
    memset(sim, 0, sizeof(*sim));
}

static void kick_vcpu(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    sim_platform_ops.vcpu_kick(ctx, domid, vcpu_id);
}

static void deliver_to_client(void *ctx, struct evtchn_client *c, evtchn_port_t port)
{
    (void)ctx;
    sim_client_deliver(c, port);
}
