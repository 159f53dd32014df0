/*
 * A fake vCPU for guest script tests: records every ioreq and host call,
 * answers ioreq i with reply[i] (default: emulated, data 0), and has
 * FAKE_MEM_SIZE bytes of guest RAM at GPA 0.
 */
#ifndef FAKE_GUEST_H
#define FAKE_GUEST_H

#include <stdint.h>

#include "guest_script.h"

#define FAKE_MAX_IOREQS 64
#define FAKE_MAX_IRQS 8
#define FAKE_MEM_SIZE 0x10000u
#define FAKE_MAX_TRACE 64
#define FAKE_TRACE_LINE 192

struct fake_reply {
    int rc;        /* what emulate returns: HVIO_EMULATED, HVIO_UNHANDLED, -errno */
    uint64_t data; /* reads without data_is_ptr, when emulated */
};

struct fake_guest {
    ioreq_t req[FAKE_MAX_IOREQS]; /* as the interpreter passed them */
    unsigned int nr_req;
    struct fake_reply reply[FAKE_MAX_IOREQS];

    uint8_t mem[FAKE_MEM_SIZE];
    unsigned int nr_mem_write;

    char irq_what[FAKE_MAX_IRQS][32];
    unsigned int irq_timeout[FAKE_MAX_IRQS];
    unsigned int nr_irq;
    int irq_rc;

    unsigned int nr_invalidate;
    int invalidate_rc;
    int64_t delta;
    unsigned int nr_timeoffset;
    int timeoffset_rc;
    unsigned int slept_ms, nr_sleep;

    /* String accesses: do at most this many elements per ioreq (0: all). */
    uint32_t max_count;

    /* The trace, once fake_guest_trace() turned it on. */
    char trace[FAKE_MAX_TRACE][FAKE_TRACE_LINE];
    unsigned int nr_trace;
};

/* Zero `g` and point `ops` (every callback set but trace) at it. */
void fake_guest_init(struct fake_guest *g, struct guest_ops *ops);
/* Record the trace lines in g->trace. */
void fake_guest_trace(struct fake_guest *g, struct guest_ops *ops);

#endif /* FAKE_GUEST_H */
