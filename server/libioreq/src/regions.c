/* The sorted region table (see regions.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regions.h"

bool rt_range_ok(unsigned int space, uint64_t base, uint64_t len)
{
    if (len == 0 || base + (len - 1) < base)
        return false;
    return space != SPACE_PORT || (base < PORT_SPACE_SIZE && len <= PORT_SPACE_SIZE - base);
}

/* Index of the first region whose base is > addr. */
static size_t upper_bound(const struct region_table *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid]->base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Last byte of a region (its range never wraps). */
static uint64_t last_byte(const struct ioreq_region *r)
{
    return r->base + (r->len - 1);
}

int rt_insert(struct region_table *t, struct ioreq_region *r)
{
    size_t i = upper_bound(t, r->base);

    if (i > 0 && last_byte(t->v[i - 1]) >= r->base)
        return -EEXIST;
    if (i < t->n && t->v[i]->base <= last_byte(r))
        return -EEXIST;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct ioreq_region **v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
    t->v[i] = r;
    t->n++;
    return 0;
}

void rt_remove(struct region_table *t, struct ioreq_region *r)
{
    size_t i = upper_bound(t, r->base);

    if (i > 0 && t->v[i - 1] == r) {
        memmove(&t->v[i - 1], &t->v[i], (t->n - i) * sizeof(*t->v));
        t->n--;
    }
}

struct ioreq_region *rt_find(const struct region_table *t, uint64_t addr, uint64_t size)
{
    size_t i = upper_bound(t, addr);

    if (i == 0 || size == 0)
        return NULL;
    struct ioreq_region *r = t->v[i - 1];
    uint64_t off = addr - r->base;
    return off < r->len && size <= r->len - off ? r : NULL;
}

void rt_free(struct region_table *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}
