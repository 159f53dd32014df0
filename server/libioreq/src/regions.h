/*
 * The region table: per address space (ports, MMIO), the placed regions
 * sorted by base, non-overlapping, found by binary search.  Pure logic: no
 * Xen calls (mapping ranges on the server is region.c's job).
 */
#ifndef LIBIOREQ_REGIONS_H
#define LIBIOREQ_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libioreq.h"

enum ioreq_space { SPACE_PORT, SPACE_MMIO, NR_SPACES };

#define PORT_SPACE_SIZE 0x10000u

struct ioreq_region {
    struct ioreq_ctx *ctx;
    struct ioreq_region *next, *prev; /* the context's list of user regions */
    uint8_t space;                    /* enum ioreq_space */
    bool is_bar;                      /* owned by a PCI function */
    bool placed;                      /* in the table */
    bool server_mapped;               /* this context mapped it on the server */
    uint64_t base, len;
    struct ioreq_region_ops ops;
    void *opaque;
};

struct region_table {
    struct ioreq_region **v; /* sorted by base */
    size_t n, cap;
};

/* Is [base, base+len) a valid range of `space`? */
bool rt_range_ok(unsigned int space, uint64_t base, uint64_t len);

/* Insert a region (its base/len set): 0, -EEXIST on overlap, -ENOMEM. */
int rt_insert(struct region_table *t, struct ioreq_region *r);
/* Remove it if present. */
void rt_remove(struct region_table *t, struct ioreq_region *r);
/* The region that covers all of [addr, addr+size), or NULL. */
struct ioreq_region *rt_find(const struct region_table *t, uint64_t addr, uint64_t size);
void rt_free(struct region_table *t);

#endif
