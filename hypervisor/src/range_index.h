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

#define INDEX_FANOUT 8    /* keys per search-tree node: one cache line */
#define INDEX_MAX_LEVELS 6 /* 8^6 keys, far above 2 x 8 servers x 256 ranges */

/* What a look-up touches for every access: one 16-byte record. */
struct index_segment {
    uint64_t last;   /* the segment is [its start, last] */
    uint8_t covered; /* bit per server id */
};

/*
 * Segment starts live in an implicit search tree of 8-key nodes: a look-up
 * reads one cache line per level (four levels for 4096 segments) instead
 * of the dozen dependent loads of a binary search.  Level 0 holds all
 * starts in order; each node above holds the first key of each of its
 * eight children.  Missing keys at the end of a level are UINT64_MAX.
 */
struct range_index {
    unsigned int nr;                          /* segments */
    unsigned int levels;                      /* tree levels, 0 when empty */
    unsigned int nodes[INDEX_MAX_LEVELS];     /* nodes per level */
    uint64_t *level_keys[INDEX_MAX_LEVELS];   /* into `keys` */
    uint64_t *keys;                           /* all levels, one allocation */
    struct index_segment *segment;            /* by segment number */
    uint64_t (*run_end)[HVIO_MAX_SERVERS];    /* per segment and covering server:
                                               * where its range ends */
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
