/* The buffered ioreq ring, emulator side (see bufring.h). */
#include <string.h>

#include "bufring.h"

#define SLOTS IOREQ_BUFFER_SLOT_NUM

_Static_assert(sizeof(buf_ioreq_t) == 8, "buf_ioreq_t is 8 bytes");
_Static_assert(offsetof(buffered_iopage_t, buf_ioreq) == 8, "ring after the pointers");

static buf_ioreq_t load_slot(buffered_iopage_t *pg, uint32_t index)
{
    uint64_t raw = __atomic_load_n((uint64_t *)(void *)&pg->buf_ioreq[index % SLOTS],
                                   __ATOMIC_RELAXED);
    buf_ioreq_t b;

    memcpy(&b, &raw, sizeof(b));
    return b;
}

static void consume(buffered_iopage_t *pg, uint32_t n)
{
    __atomic_fetch_add(&pg->read_pointer, n, __ATOMIC_RELEASE);
}

/* Garbage pointers: make the ring empty (read_pointer = write_pointer). */
static void reset(buffered_iopage_t *pg, uint64_t seen)
{
    uint64_t want = (seen & 0xffffffff00000000ull) | (seen >> 32);

    __atomic_compare_exchange_n(bufring_pointers(pg), &seen, want, false, __ATOMIC_ACQ_REL,
                                __ATOMIC_RELAXED);
}

struct bufring_result bufring_drain(buffered_iopage_t *pg, bufring_handler *handle,
                                    bufring_complaint *complain, void *opaque)
{
    struct bufring_result res = { 0 };
    unsigned int budget = SLOTS;

    while (budget) {
        uint64_t both = __atomic_load_n(bufring_pointers(pg), __ATOMIC_ACQUIRE);
        uint32_t rp = (uint32_t)both, wp = (uint32_t)(both >> 32);
        uint32_t avail = wp - rp;

        if (avail == 0)
            break;
        if (avail > SLOTS) {
            complain(opaque, "buffered ring pointers are inconsistent: ring reset");
            reset(pg, both);
            res.reset = true;
            break;
        }
        buf_ioreq_t b = load_slot(pg, rp);
        unsigned int used = b.size == 3 ? 2 : 1;
        ioreq_t req = { .addr = b.addr, .data = b.data, .count = 1, .size = 1u << b.size,
                        .dir = b.dir, .type = b.type, .state = STATE_IOREQ_READY };

        if (used > avail) {
            complain(opaque, "buffered ring: 8-byte entry without its second slot");
            consume(pg, 1);
            res.skipped++;
            budget--;
            continue;
        }
        if (used == 2)
            req.data |= (uint64_t)load_slot(pg, rp + 1).data << 32;
        bool ok = b.dir == IOREQ_WRITE &&
                  (b.type == IOREQ_TYPE_PIO || b.type == IOREQ_TYPE_COPY ||
                   (b.type == IOREQ_TYPE_TIMEOFFSET && used == 2));
        if (ok) {
            handle(opaque, &req);
            res.served++;
        } else {
            complain(opaque, "buffered ring: entry that is not a write of a known type");
            res.skipped++;
        }
        consume(pg, used);
        budget = budget > used ? budget - used : 0;
    }
    return res;
}
