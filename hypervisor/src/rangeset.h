/*
 * A server's set of inclusive ranges of one type: sorted, disjoint, with
 * touching ranges merged (as Xen's rangeset), at most HVIO_MAX_RANGES.
 */
#ifndef HVIO_RANGESET_H
#define HVIO_RANGESET_H

#include <stdbool.h>
#include <stdint.h>

#include "hvio.h"

struct rangeset {
    unsigned int nr;
    struct hvio_range r[HVIO_MAX_RANGES];
};

bool rangeset_overlaps(const struct rangeset *set, uint64_t start, uint64_t end);
/* Whether one range holds all of [start, end]. */
bool rangeset_contains(const struct rangeset *set, uint64_t start, uint64_t end);
/* Add a range that overlaps none; -ENOMEM when it would exceed the limit. */
int rangeset_add(struct rangeset *set, uint64_t start, uint64_t end);
/* Remove a contained range; -ENOMEM when splitting would exceed the limit. */
int rangeset_remove(struct rangeset *set, uint64_t start, uint64_t end);

#endif
