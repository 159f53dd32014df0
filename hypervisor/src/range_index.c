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

/* Fill `seg` for [first, last]; false if no server covers it. */
static bool describe_segment(const struct rangeset *const sets[],
                             unsigned int cursor[], uint64_t first,
                             uint64_t last, struct index_segment *seg)
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
            seg->run_end[s] = sets[s]->r[cursor[s]].end;
        }
    }
    return seg->covered != 0;
}

int range_index_rebuild(struct hvio_host *host, struct range_index *index,
                        const struct rangeset *const sets[HVIO_MAX_SERVERS])
{
    unsigned int total = 0;

    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++)
        total += sets[s] ? sets[s]->nr : 0;

    struct range_index fresh = { 0 };
    if (total > 0) {
        /* At most two cuts per range, and fewer segments than cuts. */
        fresh.first = core_alloc(host, 2 * total * sizeof(uint64_t));
        fresh.segment = core_alloc(host, 2 * total * sizeof(*fresh.segment));
        if (!fresh.first || !fresh.segment) {
            core_free(host, fresh.first);
            core_free(host, fresh.segment);
            return -ENOMEM;
        }

        /* `first` doubles as the cut list: segment i never overtakes cut i. */
        unsigned int nr_cuts = collect_cuts(sets, fresh.first);
        unsigned int cursor[HVIO_MAX_SERVERS] = { 0 };

        for (unsigned int c = 0; c < nr_cuts; c++) {
            uint64_t first = fresh.first[c];
            uint64_t last = c + 1 < nr_cuts ? fresh.first[c + 1] - 1 : UINT64_MAX;

            if (describe_segment(sets, cursor, first, last,
                                 &fresh.segment[fresh.nr]))
                fresh.first[fresh.nr++] = first;
        }
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
    core_free(host, index->first);
    core_free(host, index->segment);
    *index = (struct range_index){ 0 };
}

uint8_t range_index_lookup(const struct range_index *index, uint64_t first,
                           uint64_t last)
{
    const uint64_t *base = index->first;
    unsigned int n = index->nr;

    if (n == 0 || first < base[0])
        return 0;

    /* Branch-free search for the last segment starting at or before `first`. */
    while (n > 1) {
        unsigned int half = n / 2;

        base = base[half] <= first ? base + half : base;
        n -= half;
    }

    const struct index_segment *seg = &index->segment[base - index->first];
    if (seg->last < first)
        return 0;

    uint8_t hits = 0;
    for (uint8_t todo = seg->covered; todo; todo &= todo - 1) {
        unsigned int s = (unsigned int)__builtin_ctz(todo);

        if (seg->run_end[s] >= last)
            hits |= 1u << s;
    }
    return hits;
}
