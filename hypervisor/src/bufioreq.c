/*
 * The buffered ioreq ring: 511 eight-byte slots, an 8-byte value taking two
 * (low half, then high half).  The core advances write_pointer, the emulator
 * read_pointer.  With HVM_IOREQSRV_BUFIOREQ_ATOMIC both are rebased together
 * once read_pointer passes the ring size, since 2^32 is not a multiple of
 * 511; legacy rings just wrap.  The pointers are the emulator's to corrupt:
 * they are read once, and a ring that looks full (including read_pointer
 * ahead of write_pointer) sends the request down the synchronous path.
 */
#include "hvio_internal.h"
#include "shared_page.h"

#define SLOTS IOREQ_BUFFER_SLOT_NUM

static bool encode_size(uint32_t size, buf_ioreq_t *bp)
{
    switch (size) {
    case 1: bp->size = 0; return true;
    case 2: bp->size = 1; return true;
    case 4: bp->size = 2; return true;
    case 8: bp->size = 3; return true;
    default: return false;
    }
}

static void rebase_pointers(buffered_iopage_t *pg)
{
    uint64_t *both = ring_pointers(pg);

    /* Bounded: the emulator may move read_pointer under our feet. */
    for (unsigned int tries = 0; tries < SLOTS; tries++) {
        uint64_t old = __atomic_load_n(both, __ATOMIC_ACQUIRE);
        uint32_t rp = ring_read_pointer(old), wp = ring_write_pointer(old);

        if (rp < SLOTS)
            return;
        uint32_t shift = rp / SLOTS * SLOTS;
        uint64_t new = ring_pack(rp - shift, wp - shift);
        if (__atomic_compare_exchange_n(both, &old, new, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
    }
}

bool bufioreq_put_locked(struct hvio_domain *d, struct hvio_server *s,
                         const ioreq_t *p)
{
    buffered_iopage_t *pg = s->buf_page;
    buf_ioreq_t bp = { .type = p->type, .dir = p->dir, .addr = (uint32_t)p->addr,
                       .data = (uint32_t)p->data };

    if (!pg || p->addr > 0xfffff || p->data_is_ptr || p->count != 1 ||
        !encode_size(p->size, &bp))
        return false;

    unsigned int need = p->size == 8 ? 2 : 1;
    uint64_t both = __atomic_load_n(ring_pointers(pg), __ATOMIC_ACQUIRE);
    uint32_t rp = ring_read_pointer(both), wp = ring_write_pointer(both);

    if (wp - rp > SLOTS - need)
        return false; /* full: the caller falls back to the sync path */

    pg->buf_ioreq[wp % SLOTS] = bp;
    if (need == 2) {
        bp.data = (uint32_t)(p->data >> 32);
        pg->buf_ioreq[(wp + 1) % SLOTS] = bp;
    }
    /* Entries become visible before the pointer that publishes them. */
    __atomic_store_n(&pg->write_pointer, wp + need, __ATOMIC_RELEASE);

    if (s->bufioreq_handling == HVM_IOREQSRV_BUFIOREQ_ATOMIC)
        rebase_pointers(pg);
    d->host->ops.evtchn_notify(d->host->ctx, d->cfg.domid, s->bufioreq_port);
    return true;
}
