/*
 * The hypervisor core's platform in the simulator: memory from the heap,
 * shared pages as one memfd each (so emulators can map them), event
 * channels in the simulated table, vCPUs blocking on their doorbell
 * eventfd, domain pause/crash/interrupts recorded in the sim domain, and
 * Xen's debug console printed on the daemon's stderr (and traced runs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "console_log.h"
#include "guest_runner.h"
#include "sim.h"

struct hvio_lock {
    pthread_mutex_t mutex;
};

static void *p_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

static void p_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void *p_page_alloc(void *ctx)
{
    struct sim *sim = ctx;
    int fd = memfd_create("xensim-ioreq-page", MFD_CLOEXEC);

    if (fd < 0)
        return NULL;
    void *addr = MAP_FAILED;
    if (ftruncate(fd, HVIO_PAGE_SIZE) == 0)
        addr = mmap(NULL, HVIO_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        close(fd);
        return NULL;
    }

    pthread_mutex_lock(&sim->lock);
    if (sim->nr_pages == sim->cap_pages) {
        unsigned int cap = sim->cap_pages ? 2 * sim->cap_pages : 64;
        struct sim_page *grown = realloc(sim->pages, cap * sizeof(*grown));

        if (grown) {
            sim->pages = grown;
            sim->cap_pages = cap;
        }
    }
    bool stored = sim->nr_pages < sim->cap_pages;
    if (stored)
        sim->pages[sim->nr_pages++] = (struct sim_page){ .addr = addr, .fd = fd };
    pthread_mutex_unlock(&sim->lock);

    if (!stored) {
        munmap(addr, HVIO_PAGE_SIZE);
        close(fd);
        return NULL;
    }
    return addr;
}

static void p_page_free(void *ctx, void *page)
{
    struct sim *sim = ctx;

    pthread_mutex_lock(&sim->lock);
    for (unsigned int i = 0; i < sim->nr_pages; i++) {
        if (sim->pages[i].addr == page) {
            /* Emulators that mapped it keep their mapping, as with Xen. */
            munmap(page, HVIO_PAGE_SIZE);
            close(sim->pages[i].fd);
            sim->pages[i] = sim->pages[--sim->nr_pages];
            break;
        }
    }
    pthread_mutex_unlock(&sim->lock);
}

int sim_page_fd(struct sim *sim, const void *page)
{
    int fd = -1;

    pthread_mutex_lock(&sim->lock);
    for (unsigned int i = 0; i < sim->nr_pages; i++)
        if (sim->pages[i].addr == page)
            fd = sim->pages[i].fd;
    pthread_mutex_unlock(&sim->lock);
    return fd;
}

static int p_evtchn_alloc(void *ctx, domid_t domid, unsigned int vcpu_id,
                          domid_t remote)
{
    struct sim *sim = ctx;

    return evtchn_alloc_hypervisor(sim->evtchn, domid, vcpu_id, remote);
}

static void p_evtchn_free(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct sim *sim = ctx;

    evtchn_free_hypervisor(sim->evtchn, domid, port);
}

static void p_evtchn_notify(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct sim *sim = ctx;

    evtchn_send_hypervisor(sim->evtchn, domid, port);
}

static void p_vcpu_block(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);
    uint64_t count;

    if (!d)
        return;
    /* An eventfd read returns once written since the last read: a kick. */
    while (read(d->vcpu[vcpu_id].doorbell, &count, sizeof(count)) < 0 && errno == EINTR)
        ;
}

static void p_vcpu_kick(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);
    uint64_t one = 1;

    if (d && vcpu_id < d->nr_vcpus && write(d->vcpu[vcpu_id].doorbell, &one, sizeof(one)) < 0)
        perror("xensim: vCPU kick");
}

static void p_pause(void *ctx, domid_t domid)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);

    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->pause_count++;
    pthread_mutex_unlock(&d->lock);
}

static void p_unpause(void *ctx, domid_t domid)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);

    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->pause_count > 0 && --d->pause_count == 0)
        pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
}

static void p_crash(void *ctx, domid_t domid, const char *why)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);

    fprintf(stderr, "xensim: domain %u crashed: %s\n", domid, why);
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->crashed = true;
    snprintf(d->crash_reason, sizeof(d->crash_reason), "%s", why);
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
}

static struct hvio_lock *p_lock_new(void *ctx)
{
    struct hvio_lock *l = malloc(sizeof(*l));

    (void)ctx;
    if (l && pthread_mutex_init(&l->mutex, NULL) != 0) {
        free(l);
        l = NULL;
    }
    return l;
}

static void p_lock_free(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_destroy(&l->mutex);
    free(l);
}

static void p_lock(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_lock(&l->mutex);
}

static void p_unlock(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_unlock(&l->mutex);
}

static void p_irq(void *ctx, domid_t domid, const struct hvio_irq_event *ev)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);
    struct xensim_irq_record rec = { .kind = ev->kind, .level = ev->level,
                                     .msi_data = ev->msi_data, .msi_addr = ev->msi_addr };

    if (!d)
        return;
    rec.line = ev->kind == HVIO_IRQ_ISA ? ev->isa_irq : (uint32_t)ev->device << 2 | ev->intx;
    sim_domain_irq(d, &rec);
}

/* Xen prints the guest's debug console lines on its console: so does the daemon. */
static void p_debug_console(void *ctx, domid_t domid, const char *line)
{
    struct sim *sim = ctx;
    struct sim_domain *d = sim_domain_get(sim, domid);

    console_log_line(sim->console, domid, line); /* never waits for stderr */
    if (d)
        guest_run_console(d, line);
}

static int p_copy_from_guest(void *ctx, domid_t domid, uint64_t gpa, void *buf, size_t len)
{
    struct sim_domain *d = sim_domain_get(ctx, domid);

    if (!d || !d->ram || gpa > d->memory_bytes || len > d->memory_bytes - gpa)
        return -EFAULT;
    memcpy(buf, d->ram + gpa, len);
    return 0;
}

const struct hvio_platform_ops sim_platform_ops = {
    .alloc = p_alloc,
    .free = p_free,
    .page_alloc = p_page_alloc,
    .page_free = p_page_free,
    .evtchn_alloc_unbound = p_evtchn_alloc,
    .evtchn_free = p_evtchn_free,
    .evtchn_notify = p_evtchn_notify,
    .vcpu_block = p_vcpu_block,
    .vcpu_kick = p_vcpu_kick,
    .domain_pause = p_pause,
    .domain_unpause = p_unpause,
    .domain_crash = p_crash,
    .lock_new = p_lock_new,
    .lock_free = p_lock_free,
    .lock = p_lock,
    .unlock = p_unlock,
    .irq_event = p_irq,
    .debug_console = p_debug_console,
    .copy_from_guest = p_copy_from_guest,
};
