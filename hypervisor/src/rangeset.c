/* Sorted, merged range arrays with binary-searched membership. */
#include <errno.h>
#include <string.h>

#include "rangeset.h"

/* Index of the first range whose end is >= addr (set->nr if none). */
static unsigned int first_ending_at_or_after(const struct rangeset *set,
                                             uint64_t addr)
{
    unsigned int lo = 0, hi = set->nr;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;

        if (set->r[mid].end < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool rangeset_overlaps(const struct rangeset *set, uint64_t start, uint64_t end)
{
    unsigned int i = first_ending_at_or_after(set, start);

    return i < set->nr && set->r[i].start <= end;
}

bool rangeset_contains(const struct rangeset *set, uint64_t start, uint64_t end)
{
    unsigned int i = first_ending_at_or_after(set, start);

    return i < set->nr && set->r[i].start <= start && set->r[i].end >= end;
}

static void open_gap(struct rangeset *set, unsigned int at)
{
    memmove(&set->r[at + 1], &set->r[at], (set->nr - at) * sizeof(set->r[0]));
    set->nr++;
}

static void close_gap(struct rangeset *set, unsigned int at)
{
    memmove(&set->r[at], &set->r[at + 1],
            (set->nr - at - 1) * sizeof(set->r[0]));
    set->nr--;
}

int rangeset_add(struct rangeset *set, uint64_t start, uint64_t end)
{
    /* `i` is where the new range goes: all before it end below `start`. */
    unsigned int i = first_ending_at_or_after(set, start);
    bool joins_prev = i > 0 && set->r[i - 1].end + 1 == start;
    bool joins_next = i < set->nr && end != UINT64_MAX &&
                      set->r[i].start == end + 1;

    if (joins_prev && joins_next) {
        set->r[i - 1].end = set->r[i].end;
        close_gap(set, i);
    } else if (joins_prev) {
        set->r[i - 1].end = end;
    } else if (joins_next) {
        set->r[i].start = start;
    } else {
        if (set->nr == HVIO_MAX_RANGES)
            return -ENOMEM;
        open_gap(set, i);
        set->r[i].start = start;
        set->r[i].end = end;
    }
    return 0;
}

int rangeset_remove(struct rangeset *set, uint64_t start, uint64_t end)
{
    unsigned int i = first_ending_at_or_after(set, start);
    struct hvio_range *r = &set->r[i];

    if (i == set->nr || r->start > start || r->end < end)
        return -ENOENT;

    if (r->start == start && r->end == end) {
        close_gap(set, i);
    } else if (r->start == start) {
        r->start = end + 1;
    } else if (r->end == end) {
        r->end = start - 1;
    } else {
        uint64_t tail_end = r->end;

        if (set->nr == HVIO_MAX_RANGES)
            return -ENOMEM;
        r->end = start - 1;
        open_gap(set, i + 1);
        set->r[i + 1].start = end + 1;
        set->r[i + 1].end = tail_end;
    }
    return 0;
}
