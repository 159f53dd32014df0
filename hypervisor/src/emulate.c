/*
 * Guest accesses: validate, give Xen's debug console its port, latch CF8,
 * pick the server (or the null handler), send buffered or synchronously,
 * and complete.  Broadcasts of INVALIDATE and TIMEOFFSET go to every
 * enabled server.
 */
#include <errno.h>

#include "hvio_internal.h"

#define PCI_CONF_ADDR 0xcf8
#define VGA_MEM_FIRST 0xa0000
#define VGA_MEM_LAST 0xbffff

static bool access_valid(const ioreq_t *p)
{
    bool size_ok = p->size == 1 || p->size == 2 || p->size == 4 || p->size == 8;

    if (!size_ok || p->count == 0)
        return false;
    if (p->type == IOREQ_TYPE_PIO)
        return p->addr <= 0xffff;
    return p->type == IOREQ_TYPE_COPY;
}

/* Posted writes: single-element writes to the stdvga window. */
static bool wants_buffering(const ioreq_t *p)
{
    return p->type == IOREQ_TYPE_COPY && p->dir == IOREQ_WRITE &&
           p->count == 1 && !p->data_is_ptr && p->addr >= VGA_MEM_FIRST &&
           p->addr + p->size - 1 <= VGA_MEM_LAST;
}

static uint64_t size_mask(uint32_t size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Lock and check that the vCPU may run: 0 (locked), -ESRCH or -EIO. */
static int enter(struct hvio_vcpu *v)
{
    struct hvio_domain *d = v->domain;

    domain_lock(d);
    int rc = d->crashed ? -EIO : (d->dying || !v->online) ? -ESRCH : 0;
    if (rc)
        domain_unlock(d);
    return rc;
}

int hvio_emulate(struct hvio_vcpu *v, ioreq_t *p)
{
    struct hvio_domain *d = v->domain;
    struct access_target t;

    if (!access_valid(p))
        return -EINVAL;
    int rc = enter(v);
    if (rc)
        return rc;

    /* Xen's own handlers come first: its debug console at port 0xE9. */
    if (debugcon_intercept_locked(d, p)) {
        domain_unlock(d);
        return HVIO_EMULATED;
    }

    /* The CF8 latch sees the write; the write still goes to the servers. */
    if (p->type == IOREQ_TYPE_PIO && p->addr == PCI_CONF_ADDR && p->size == 4 &&
        p->dir == IOREQ_WRITE && !p->data_is_ptr)
        d->cf8 = (uint32_t)p->data;

    struct hvio_server *s = access_classify(d, p, &t) ? server_select_locked(d, &t) : NULL;
    if (!s) {
        domain_unlock(d);
        if (p->dir == IOREQ_READ && !p->data_is_ptr)
            p->data = size_mask(p->size);
        return HVIO_UNHANDLED;
    }
    if (t.type == XEN_DMOP_IO_RANGE_PCI) {
        p->type = IOREQ_TYPE_PCI_CONFIG;
        p->addr = t.pci_addr;
    }
    if (wants_buffering(p) && bufioreq_put_locked(d, s, p)) {
        domain_unlock(d);
        return HVIO_EMULATED;
    }
    rc = send_sync_locked(d, s, v, p);
    if (rc) {
        domain_unlock(d);
        return rc;
    }

    uint64_t data;
    rc = wait_for_io_unlock(d, v, &data);
    if (rc < 0)
        return rc;
    if (p->dir == IOREQ_READ && !p->data_is_ptr)
        p->data = rc ? data & size_mask(p->size) : size_mask(p->size);
    return rc ? HVIO_EMULATED : HVIO_UNHANDLED;
}

/*
 * Send `p` to every enabled server, buffered where asked and possible, and
 * wait for the synchronous ones.  Returns the number of servers that could
 * not be sent it.
 */
static int broadcast(struct hvio_vcpu *v, const ioreq_t *p, bool buffered)
{
    struct hvio_domain *d = v->domain;
    int rc = enter(v);

    if (rc)
        return rc;

    int failed = 0;
    for (unsigned int id = HVIO_MAX_SERVERS; id-- > 0;) {
        struct hvio_server *s = d->servers[id];

        if (!s || !s->enabled)
            continue;
        if (buffered && bufioreq_put_locked(d, s, p))
            continue;
        /* No ring: Xen drops it.  Full ring: we go synchronous, not lose it. */
        if (buffered && !s->buf_page) {
            failed++;
            continue;
        }
        rc = send_sync_locked(d, s, v, p);
        if (rc) {
            v->pending = 0;
            domain_unlock(d);
            return rc;
        }
    }

    uint64_t ignored;
    rc = wait_for_io_unlock(d, v, &ignored);
    return rc < 0 ? rc : failed;
}

int hvio_send_invalidate(struct hvio_vcpu *v)
{
    ioreq_t p = { .type = IOREQ_TYPE_INVALIDATE, .size = 4, .count = 1,
                  .dir = IOREQ_WRITE, .data = ~0ull };

    return broadcast(v, &p, false);
}

int hvio_send_timeoffset(struct hvio_vcpu *v, int64_t delta)
{
    ioreq_t p = { .type = IOREQ_TYPE_TIMEOFFSET, .size = 8, .count = 1,
                  .dir = IOREQ_WRITE, .data = (uint64_t)delta };

    return broadcast(v, &p, true);
}
