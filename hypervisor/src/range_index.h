/*
 * The per-domain look-up index of one range type across all servers.
 *
 * The address space is cut at every range boundary of every server into
 * segments; each covered segment records which servers cover it and, per
 * server, where that server's covering range ends.  An access [first, last]
 * is then contained in server s's range iff the segment holding `first` is
 * covered by s and s's range ends at or after `last`: one binary search,
 * whatever the number of servers and ranges.
 */
#ifndef HVIO_RANGE_INDEX_H
#define HVIO_RANGE_INDEX_H

#include <stdint.h>

#include "rangeset.h"

struct hvio_host;

struct index_segment {
    uint64_t last;                        /* segment is [first[i], last] */
    uint64_t run_end[HVIO_MAX_SERVERS];   /* valid where `covered` has the bit */
    uint8_t covered;                      /* bit per server id */
};

struct range_index {
    unsigned int nr;
    uint64_t *first;               /* ascending; searched separately for cache */
    struct index_segment *segment; /* parallel to `first` */
};

/*
 * Build an index of sets[0..HVIO_MAX_SERVERS-1] (NULL entries: no server).
 * On success the old index is freed and replaced; on failure (-ENOMEM)
 * `index` is unchanged.
 */
int range_index_rebuild(struct hvio_host *host, struct range_index *index,
                        const struct rangeset *const sets[HVIO_MAX_SERVERS]);
/* Drop one server from the index in place (never fails). */
void range_index_forget(struct range_index *index, unsigned int server_id);
void range_index_free(struct hvio_host *host, struct range_index *index);
/* Bit per server id whose ranges contain all of [first, last]. */
uint8_t range_index_lookup(const struct range_index *index, uint64_t first,
                           uint64_t last);

#endif
