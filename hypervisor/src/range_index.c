/* Build and search the cross-server segment index. */
#include <errno.h>
#include <stdlib.h>

#include "hvio_internal.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/*
 * Every address where coverage can change: range starts and the address
 * after each range end.  Sorted, without repeats; returns the count.
 */
static unsigned int collect_cuts(const struct rangeset *const sets[],
                                 uint64_t *cuts)
{
    unsigned int n = 0;

    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
        if (!sets[s])
            continue;
        for (unsigned int i = 0; i < sets[s]->nr; i++) {
            cuts[n++] = sets[s]->r[i].start;
            if (sets[s]->r[i].end != UINT64_MAX)
                cuts[n++] = sets[s]->r[i].end + 1;
        }
    }
    qsort(cuts, n, sizeof(cuts[0]), cmp_u64);

    unsigned int unique = 0;
    for (unsigned int i = 0; i < n; i++)
        if (unique == 0 || cuts[unique - 1] != cuts[i])
            cuts[unique++] = cuts[i];
    return unique;
}

/* Fill segment `seg` for [first, last]; false if no server covers it. */
static bool describe_segment(const struct rangeset *const sets[],
                             unsigned int cursor[], uint64_t first,
                             uint64_t last, struct index_segment *seg,
                             uint64_t run_end[HVIO_MAX_SERVERS])
{
    seg->last = last;
    seg->covered = 0;
    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
        if (!sets[s])
            continue;
        /* Segments come in ascending order, so each cursor only advances. */
        while (cursor[s] < sets[s]->nr && sets[s]->r[cursor[s]].end < first)
            cursor[s]++;
        if (cursor[s] < sets[s]->nr && sets[s]->r[cursor[s]].start <= first) {
            seg->covered |= 1u << s;
            run_end[s] = sets[s]->r[cursor[s]].end;
        }
    }
    return seg->covered != 0;
}

static unsigned int div_up(unsigned int n, unsigned int d)
{
    return (n + d - 1) / d;
}

/* Shape the tree for `nr` keys; returns the number of key slots needed. */
static unsigned int plan_tree(struct range_index *index, unsigned int nr)
{
    unsigned int slots = 0, nodes = div_up(nr, INDEX_FANOUT);

    index->levels = 0;
    while (index->levels < INDEX_MAX_LEVELS) {
        index->nodes[index->levels++] = nodes;
        slots += nodes * INDEX_FANOUT;
        if (nodes == 1)
            break;
        nodes = div_up(nodes, INDEX_FANOUT);
    }
    return slots;
}

/* Lay the sorted starts out as the search tree, top level first. */
static void fill_tree(struct range_index *index, const uint64_t *starts)
{
    uint64_t *keys = index->keys;

    for (unsigned int level = index->levels; level-- > 0;) {
        index->level_keys[level] = keys;
        keys += index->nodes[level] * INDEX_FANOUT;
    }

    /* Slot i of level L stands for the subtree starting at key i * 8^L. */
    unsigned long span = 1;
    for (unsigned int level = 0; level < index->levels; level++) {
        unsigned int slots = index->nodes[level] * INDEX_FANOUT;

        for (unsigned int i = 0; i < slots; i++) {
            unsigned long key = i * span;
            index->level_keys[level][i] = key < index->nr ? starts[key] : UINT64_MAX;
        }
        span *= INDEX_FANOUT;
    }
}

int range_index_rebuild(struct hvio_host *host, struct range_index *index,
                        const struct rangeset *const sets[HVIO_MAX_SERVERS])
{
    unsigned int total = 0;

    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++)
        total += sets[s] ? sets[s]->nr : 0;

    struct range_index fresh = { 0 };
    if (total == 0) {
        range_index_free(host, index);
        return 0;
    }

    /* At most two cuts per range, and fewer covered segments than cuts. */
    unsigned int max = 2 * total;
    uint64_t *starts = core_alloc(host, max * sizeof(*starts));
    fresh.segment = core_alloc(host, max * sizeof(*fresh.segment));
    fresh.run_end = core_alloc(host, max * sizeof(*fresh.run_end));
    if (starts && fresh.segment && fresh.run_end) {
        /* `starts` holds the cuts first: segment i never overtakes cut i. */
        unsigned int nr_cuts = collect_cuts(sets, starts);
        unsigned int cursor[HVIO_MAX_SERVERS] = { 0 };

        for (unsigned int c = 0; c < nr_cuts; c++) {
            uint64_t first = starts[c];
            uint64_t last = c + 1 < nr_cuts ? starts[c + 1] - 1 : UINT64_MAX;

            if (describe_segment(sets, cursor, first, last,
                                 &fresh.segment[fresh.nr], fresh.run_end[fresh.nr]))
                starts[fresh.nr++] = first;
        }
        if (fresh.nr > 0) {
            fresh.keys = core_alloc(host, plan_tree(&fresh, fresh.nr) * sizeof(uint64_t));
            if (fresh.keys)
                fill_tree(&fresh, starts);
        }
    }
    bool built = starts && fresh.segment && fresh.run_end && (fresh.nr == 0 || fresh.keys);
    core_free(host, starts);
    if (!built) {
        range_index_free(host, &fresh);
        return -ENOMEM;
    }

    range_index_free(host, index);
    *index = fresh;
    return 0;
}

void range_index_forget(struct range_index *index, unsigned int server_id)
{
    for (unsigned int i = 0; i < index->nr; i++)
        index->segment[i].covered &= (uint8_t)~(1u << server_id);
}

void range_index_free(struct hvio_host *host, struct range_index *index)
{
    core_free(host, index->keys);
    core_free(host, index->segment);
    core_free(host, index->run_end);
    *index = (struct range_index){ 0 };
}

/*
 * How many of a node's keys are <= addr: eight independent compares summed
 * as a tree, so that no carry chain serialises them.
 */
static inline __attribute__((always_inline)) unsigned int
keys_at_or_below(const uint64_t *node, uint64_t addr)
{
    unsigned int a = (unsigned int)(node[0] <= addr) + (node[1] <= addr);
    unsigned int b = (unsigned int)(node[2] <= addr) + (node[3] <= addr);
    unsigned int c = (unsigned int)(node[4] <= addr) + (node[5] <= addr);
    unsigned int d = (unsigned int)(node[6] <= addr) + (node[7] <= addr);

    _Static_assert(INDEX_FANOUT == 8, "keys_at_or_below reads eight keys");
    return (a + b) + (c + d);
}

uint8_t range_index_lookup(const struct range_index *index, uint64_t first,
                           uint64_t last)
{
    if (index->nr == 0 || first < index->level_keys[0][0])
        return 0;

    /*
     * Walk down from the root.  The first key under the current node is
     * <= first, so each count is at least 1.  The UINT64_MAX padding at the
     * right edge of each level never counts, except for first == UINT64_MAX,
     * whose segment is simply the last one.
     */
    unsigned int seg_nr = index->nr - 1;
    if (first != UINT64_MAX) {
        unsigned int node = 0;

        for (unsigned int level = index->levels; level-- > 0;)
            node = node * INDEX_FANOUT - 1 +
                   keys_at_or_below(&index->level_keys[level][node * INDEX_FANOUT], first);
        seg_nr = node;
    }

    const struct index_segment *seg = &index->segment[seg_nr];
    if (seg->last < first)
        return 0;
    /* The usual case: the access ends in the segment it starts in. */
    if (last <= seg->last)
        return seg->covered;

    uint8_t hits = 0;
    for (uint8_t todo = seg->covered; todo; todo &= todo - 1) {
        unsigned int s = (unsigned int)__builtin_ctz(todo);

        if (index->run_end[seg_nr][s] >= last)
            hits |= 1u << s;
    }
    return hits;
}
