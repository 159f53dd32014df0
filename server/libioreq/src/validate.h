/*
 * Checking a request copied out of the shared ioreq page before anything
 * acts on it.  Pure logic.
 */
#ifndef LIBIOREQ_VALIDATE_H
#define LIBIOREQ_VALIDATE_H

#include <stdint.h>

#include "libioreq.h"

/* The most bytes one request may move (count * size); Xen's are far smaller. */
#define IOREQ_MAX_BYTES (1u << 20)
/* A PCI_CONFIG request's addr: SBDF << 32 | register (extended: up to 0xfff). */
#define PCI_CONFIG_SPACE_SIZE 0x1000u

/* All ones in `size` bytes (size 1..8). */
static inline uint64_t ioreq_ones(unsigned int size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

/*
 * NULL if `req` is something the library serves: a port, MMIO or PCI
 * config access of 1, 2, 4 or 8 bytes (PCI config: 1, 2, 4) and 1..N
 * elements whose device and guest-memory ranges do not wrap, or an
 * INVALIDATE or TIMEOFFSET.  Otherwise a short description of what is wrong.
 */
const char *req_check(const ioreq_t *req);

/* What a request that makes no sense answers: data all ones, nothing done. */
void req_answer_unhandled(ioreq_t *req);

#endif
