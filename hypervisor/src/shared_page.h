/*
 * Accessors for the pages shared with emulators.  The emulator may write
 * anything there at any time, so every field is loaded once, with the
 * ordering the ioreq protocol needs, and validated by the caller.
 */
#ifndef HVIO_SHARED_PAGE_H
#define HVIO_SHARED_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hvio.h"

/* ioreq_t's `state:4` shares byte 30 with data_is_ptr, dir and df. */
#define IOREQ_FLAGS_OFFSET 30
#define IOREQ_STATE_MASK 0x0fu

_Static_assert(sizeof(ioreq_t) == 32, "ioreq_t is 32 bytes in Xen's ABI");
_Static_assert(offsetof(ioreq_t, vp_eport) == 24, "vp_eport at 24");
_Static_assert(offsetof(ioreq_t, type) == 31, "type at 31");
_Static_assert(sizeof(buffered_iopage_t) <= HVIO_PAGE_SIZE, "ring fits a page");
_Static_assert(sizeof(buf_ioreq_t) == 8, "buf_ioreq_t is 8 bytes");

static inline uint8_t *slot_flags(ioreq_t *slot)
{
    return (uint8_t *)slot + IOREQ_FLAGS_OFFSET;
}

/* The slot's state; later loads of the slot are ordered after it. */
static inline unsigned int slot_load_state(ioreq_t *slot)
{
    return __atomic_load_n(slot_flags(slot), __ATOMIC_ACQUIRE) & IOREQ_STATE_MASK;
}

/* Set the state; earlier stores to the slot become visible before it. */
static inline void slot_store_state(ioreq_t *slot, unsigned int state)
{
    uint8_t flags = __atomic_load_n(slot_flags(slot), __ATOMIC_RELAXED);

    __atomic_store_n(slot_flags(slot),
                     (uint8_t)((flags & ~IOREQ_STATE_MASK) | state),
                     __ATOMIC_RELEASE);
}

static inline uint64_t slot_load_data(ioreq_t *slot)
{
    return __atomic_load_n(&slot->data, __ATOMIC_RELAXED);
}

static inline uint32_t slot_load_eport(ioreq_t *slot)
{
    return __atomic_load_n(&slot->vp_eport, __ATOMIC_RELAXED);
}

static inline void slot_store_eport(ioreq_t *slot, evtchn_port_t port)
{
    __atomic_store_n(&slot->vp_eport, port, __ATOMIC_RELAXED);
}

/* Buffered ring pointers, as one 64-bit word (read_pointer first). */
static inline uint64_t *ring_pointers(buffered_iopage_t *pg)
{
    return (uint64_t *)(void *)pg;
}

static inline uint32_t ring_read_pointer(uint64_t both)
{
    return (uint32_t)both;
}

static inline uint32_t ring_write_pointer(uint64_t both)
{
    return (uint32_t)(both >> 32);
}

static inline uint64_t ring_pack(uint32_t read_pointer, uint32_t write_pointer)
{
    return (uint64_t)write_pointer << 32 | read_pointer;
}

_Static_assert(offsetof(buffered_iopage_t, read_pointer) == 0, "rp first");
_Static_assert(offsetof(buffered_iopage_t, write_pointer) == 4, "wp second");

#endif
