/* The fake vCPU of the guest script tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"

static int fake_emulate(void *ctx, ioreq_t *p)
{
    struct fake_guest *g = ctx;

    if (g->nr_req == FAKE_MAX_IOREQS)
        return -E2BIG;
    const struct fake_reply *r = &g->reply[g->nr_req];
    if (p->data_is_ptr && g->max_count && p->count > g->max_count)
        p->count = g->max_count;
    g->req[g->nr_req++] = *p;
    if (r->rc == HVIO_EMULATED && p->dir == IOREQ_READ && !p->data_is_ptr)
        p->data = r->data;
    return r->rc;
}

static int in_ram(uint64_t gpa, size_t len)
{
    return gpa < FAKE_MEM_SIZE && len <= FAKE_MEM_SIZE - gpa;
}

static int fake_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct fake_guest *g = ctx;

    if (!in_ram(gpa, len))
        return -EFAULT;
    memcpy(buf, g->mem + gpa, len);
    return 0;
}

static int fake_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct fake_guest *g = ctx;

    if (!in_ram(gpa, len))
        return -EFAULT;
    memcpy(g->mem + gpa, buf, len);
    g->nr_mem_write++;
    return 0;
}

static int fake_wait_irq(void *ctx, const char *what, unsigned int timeout_ms)
{
    struct fake_guest *g = ctx;

    if (g->nr_irq < FAKE_MAX_IRQS) {
        snprintf(g->irq_what[g->nr_irq], sizeof(g->irq_what[0]), "%s", what);
        g->irq_timeout[g->nr_irq] = timeout_ms;
    }
    g->nr_irq++;
    return g->irq_rc;
}

static int fake_invalidate(void *ctx)
{
    struct fake_guest *g = ctx;

    g->nr_invalidate++;
    return g->invalidate_rc;
}

static int fake_timeoffset(void *ctx, int64_t delta)
{
    struct fake_guest *g = ctx;

    g->nr_timeoffset++;
    g->delta = delta;
    return g->timeoffset_rc;
}

static int fake_sleep(void *ctx, unsigned int ms)
{
    struct fake_guest *g = ctx;

    g->nr_sleep++;
    g->slept_ms += ms;
    return 0;
}

void fake_guest_init(struct fake_guest *g, struct guest_ops *ops)
{
    memset(g, 0, sizeof(*g));
    *ops = (struct guest_ops){
        .ctx = g,
        .emulate = fake_emulate,
        .mem_read = fake_mem_read,
        .mem_write = fake_mem_write,
        .wait_irq = fake_wait_irq,
        .invalidate = fake_invalidate,
        .timeoffset = fake_timeoffset,
        .sleep = fake_sleep,
    };
}

static void fake_trace(void *ctx, const char *line)
{
    struct fake_guest *g = ctx;

    if (strlen(line) >= FAKE_TRACE_LINE)
        abort();
    if (g->nr_trace < FAKE_MAX_TRACE)
        memcpy(g->trace[g->nr_trace], line, strlen(line) + 1);
    g->nr_trace++;
}

void fake_guest_trace(struct fake_guest *g, struct guest_ops *ops)
{
    (void)g;
    ops->trace = fake_trace;
}
