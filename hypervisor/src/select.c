/*
 * Server selection: turn an access into (range type, first byte, last
 * byte), converting CF8/CFC data cycles to PCI config accesses, then find
 * the highest-id enabled server whose ranges contain all of it.
 */
#include "hvio_internal.h"

#define PCI_CONF_DATA 0xcfc
#define CF8_ENABLED(cf8) (((cf8) >> 31) & 1)

/* Bytes an MMIO access covers: a rep covers size*count, down when df. */
static bool mmio_span(const ioreq_t *p, uint64_t *first, uint64_t *last)
{
    unsigned __int128 extra = (unsigned __int128)(p->count - 1) * p->size;

    if (p->df) {
        if (extra > p->addr || p->addr + (p->size - 1) < p->addr)
            return false;
        *first = p->addr - (uint64_t)extra;
        *last = p->addr + p->size - 1;
    } else {
        unsigned __int128 end = (unsigned __int128)p->addr + extra + p->size - 1;

        if (end > UINT64_MAX)
            return false;
        *first = p->addr;
        *last = (uint64_t)end;
    }
    return true;
}

/* False when the access cannot be any server's (it wraps the space). */
bool access_classify(const struct hvio_domain *d, const ioreq_t *p,
                     struct access_target *t)
{
    if (p->type == IOREQ_TYPE_PIO) {
        if ((p->addr & ~3ull) == PCI_CONF_DATA && CF8_ENABLED(d->cf8)) {
            uint32_t sbdf = (d->cf8 >> 8) & 0xffff; /* segment 0, bus, devfn */
            uint32_t reg = (d->cf8 & 0xfc) | (p->addr & 3);

            t->type = XEN_DMOP_IO_RANGE_PCI;
            t->first = t->last = sbdf;
            t->pci_addr = (uint64_t)sbdf << 32 | reg;
            return true;
        }
        t->type = XEN_DMOP_IO_RANGE_PORT;
        t->first = p->addr;
        t->last = p->addr + p->size - 1;
        return true;
    }
    t->type = XEN_DMOP_IO_RANGE_MEMORY;
    return mmio_span(p, &t->first, &t->last);
}

/* Highest-id enabled server whose ranges contain the whole access. */
struct hvio_server *server_select_locked(struct hvio_domain *d,
                                        const struct access_target *t)
{
    uint8_t hits = range_index_lookup(&d->index[t->type], t->first, t->last);

    while (hits) {
        unsigned int id = 31u - (unsigned int)__builtin_clz(hits);
        struct hvio_server *s = d->servers[id];

        if (s && s->enabled)
            return s;
        hits &= (uint8_t)~(1u << id);
    }
    return NULL;
}

