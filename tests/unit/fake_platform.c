/* The fake platform: counting, fault injection, recording. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_platform.h"

struct hvio_lock {
    bool held;
};

static bool take(struct fake_platform *fp, enum fake_resource kind)
{
    fp->acquired++;
    if (fp->fail_at && fp->acquired == fp->fail_at)
        return false;
    fp->live[kind]++;
    return true;
}

static void *fake_alloc(void *ctx, size_t size)
{
    struct fake_platform *fp = ctx;

    if (!take(fp, FAKE_MEM))
        return NULL;
    void *p = calloc(1, size);
    if (!p)
        abort();
    return p;
}

static void fake_free(void *ctx, void *ptr)
{
    struct fake_platform *fp = ctx;

    fp->live[FAKE_MEM]--;
    free(ptr);
}

static void *fake_page_alloc(void *ctx)
{
    struct fake_platform *fp = ctx;

    if (!take(fp, FAKE_PAGE))
        return NULL;
    void *p = aligned_alloc(HVIO_PAGE_SIZE, HVIO_PAGE_SIZE);
    if (!p)
        abort();
    memset(p, 0, HVIO_PAGE_SIZE);
    return p;
}

static void fake_page_free(void *ctx, void *page)
{
    struct fake_platform *fp = ctx;

    fp->live[FAKE_PAGE]--;
    free(page);
}

static int fake_evtchn_alloc(void *ctx, domid_t domid, unsigned int vcpu_id,
                             domid_t remote)
{
    struct fake_platform *fp = ctx;

    if (!take(fp, FAKE_EVTCHN))
        return -ENOSPC;
    for (unsigned int p = 1; p < FAKE_MAX_PORTS; p++) {
        if (!fp->port[p].used) {
            fp->port[p] = (struct fake_port){ .used = true, .domid = domid,
                                              .vcpu_id = vcpu_id, .remote = remote };
            return (int)p;
        }
    }
    fp->live[FAKE_EVTCHN]--;
    return -ENOSPC;
}

static void fake_evtchn_free(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct fake_platform *fp = ctx;

    if (port == 0 || port >= FAKE_MAX_PORTS || !fp->port[port].used ||
        fp->port[port].domid != domid) {
        fprintf(stderr, "fake: free of unallocated port %u in d%u\n", port, domid);
        abort();
    }
    fp->port[port].used = false;
    fp->live[FAKE_EVTCHN]--;
}

static void fake_evtchn_notify(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct fake_platform *fp = ctx;

    if (port == 0 || port >= FAKE_MAX_PORTS || !fp->port[port].used ||
        fp->port[port].domid != domid) {
        fprintf(stderr, "fake: notify of unallocated port %u in d%u\n", port, domid);
        abort();
    }
    fp->port[port].notified++;
    fp->notifications++;
    fp->last_notified = port;
}

static void fake_vcpu_block(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct fake_platform *fp = ctx;

    if (fp->locks_held != 0) {
        fprintf(stderr, "fake: vCPU blocked with %d locks held\n", fp->locks_held);
        abort();
    }
    if (++fp->blocks > FAKE_BLOCK_LIMIT || !fp->on_block) {
        fprintf(stderr, "fake: d%u v%u would block forever\n", domid, vcpu_id);
        abort();
    }
    fp->on_block(fp, domid, vcpu_id);
}

static void fake_vcpu_kick(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct fake_platform *fp = ctx;

    if (domid < FAKE_MAX_DOMAINS && vcpu_id < HVIO_MAX_VCPUS)
        fp->kicks[domid][vcpu_id]++;
}

static void fake_pause(void *ctx, domid_t domid)
{
    struct fake_platform *fp = ctx;

    if (domid >= FAKE_MAX_DOMAINS)
        return;
    fp->pauses++;
    if (++fp->pause_depth[domid] > fp->max_pause_depth)
        fp->max_pause_depth = fp->pause_depth[domid];
}

static void fake_unpause(void *ctx, domid_t domid)
{
    struct fake_platform *fp = ctx;

    if (domid >= FAKE_MAX_DOMAINS)
        return;
    if (--fp->pause_depth[domid] < 0) {
        fprintf(stderr, "fake: d%u unpaused more than paused\n", domid);
        abort();
    }
}

static void fake_crash(void *ctx, domid_t domid, const char *why)
{
    struct fake_platform *fp = ctx;

    fp->crashes++;
    fp->crashed_domid = domid;
    fp->crash_reason = why;
}

static struct hvio_lock *fake_lock_new(void *ctx)
{
    struct fake_platform *fp = ctx;

    if (!take(fp, FAKE_LOCK))
        return NULL;
    struct hvio_lock *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    return l;
}

static void fake_lock_free(void *ctx, struct hvio_lock *l)
{
    struct fake_platform *fp = ctx;

    if (l->held)
        abort();
    fp->live[FAKE_LOCK]--;
    free(l);
}

static void fake_lock(void *ctx, struct hvio_lock *l)
{
    struct fake_platform *fp = ctx;

    if (l->held) {
        fprintf(stderr, "fake: lock taken twice (deadlock)\n");
        abort();
    }
    l->held = true;
    fp->locks_held++;
}

static void fake_unlock(void *ctx, struct hvio_lock *l)
{
    struct fake_platform *fp = ctx;

    if (!l->held)
        abort();
    l->held = false;
    fp->locks_held--;
}

static void fake_irq(void *ctx, domid_t domid, const struct hvio_irq_event *ev)
{
    struct fake_platform *fp = ctx;

    if (fp->nr_irqs < FAKE_MAX_IRQS) {
        fp->irq_domid[fp->nr_irqs] = domid;
        fp->irq[fp->nr_irqs++] = *ev;
    }
}

static void fake_debug_console(void *ctx, domid_t domid, const char *line)
{
    struct fake_platform *fp = ctx;

    if (strlen(line) >= HVIO_CONSOLE_LINE_MAX)
        abort();
    if (fp->nr_console < FAKE_CONSOLE_LINES) {
        memcpy(fp->console[fp->nr_console], line, strlen(line) + 1);
        fp->console_domid[fp->nr_console] = domid;
        fp->console_locks_held[fp->nr_console] = fp->locks_held;
    }
    fp->nr_console++;
}

static int fake_copy_from_guest(void *ctx, domid_t domid, uint64_t gpa, void *buf,
                                size_t len)
{
    struct fake_platform *fp = ctx;

    (void)domid;
    fp->guest_reads++;
    if (gpa > FAKE_GUEST_RAM || len > FAKE_GUEST_RAM - gpa)
        return -EFAULT;
    memcpy(buf, fp->guest_ram + gpa, len);
    return 0;
}

void fake_platform_init(struct fake_platform *fp)
{
    memset(fp, 0, sizeof(*fp));
    fp->ops = (struct hvio_platform_ops){
        .alloc = fake_alloc,
        .free = fake_free,
        .page_alloc = fake_page_alloc,
        .page_free = fake_page_free,
        .evtchn_alloc_unbound = fake_evtchn_alloc,
        .evtchn_free = fake_evtchn_free,
        .evtchn_notify = fake_evtchn_notify,
        .vcpu_block = fake_vcpu_block,
        .vcpu_kick = fake_vcpu_kick,
        .domain_pause = fake_pause,
        .domain_unpause = fake_unpause,
        .domain_crash = fake_crash,
        .lock_new = fake_lock_new,
        .lock_free = fake_lock_free,
        .lock = fake_lock,
        .unlock = fake_unlock,
        .irq_event = fake_irq,
        .debug_console = fake_debug_console,
        .copy_from_guest = fake_copy_from_guest,
    };
}

long fake_live_total(const struct fake_platform *fp)
{
    long total = 0;

    for (int k = 0; k < FAKE_NR_KINDS; k++)
        total += fp->live[k];
    return total;
}

unsigned int fake_ports_live(const struct fake_platform *fp)
{
    unsigned int n = 0;

    for (unsigned int p = 1; p < FAKE_MAX_PORTS; p++)
        n += fp->port[p].used;
    return n;
}
