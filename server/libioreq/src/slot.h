/*
 * Accessors for the vCPU slots of the shared ioreq page.  Xen (or the
 * simulator) writes a slot while its state is NONE and waits while it is
 * READY or INPROCESS; still, every field is loaded once, with the ordering
 * the protocol needs, and only the copy is looked at.
 */
#ifndef LIBIOREQ_SLOT_H
#define LIBIOREQ_SLOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "libioreq.h"

/* ioreq_t's `state:4` shares byte 30 with data_is_ptr, dir and df. */
#define SLOT_FLAGS_OFFSET 30
#define SLOT_STATE_MASK 0x0fu

_Static_assert(sizeof(ioreq_t) == 32, "ioreq_t is 32 bytes");
_Static_assert(offsetof(ioreq_t, vp_eport) == 24, "vp_eport at 24");
_Static_assert(offsetof(ioreq_t, type) == 31, "type at 31");

static inline uint8_t *slot_flags(ioreq_t *slot)
{
    return (uint8_t *)slot + SLOT_FLAGS_OFFSET;
}

/* The state; loads of the slot after it are ordered after it. */
static inline unsigned int slot_load_state(ioreq_t *slot)
{
    return __atomic_load_n(slot_flags(slot), __ATOMIC_ACQUIRE) & SLOT_STATE_MASK;
}

/* The whole slot, each 8-byte word loaded once. */
static inline void slot_copy(ioreq_t *slot, ioreq_t *out)
{
    uint64_t w[4];

    for (unsigned int i = 0; i < 4; i++)
        w[i] = __atomic_load_n((uint64_t *)(void *)slot + i, __ATOMIC_RELAXED);
    memcpy(out, w, sizeof(*out));
}

/* Set the state; earlier stores to the slot become visible before it. */
static inline void slot_store_state(ioreq_t *slot, unsigned int state)
{
    uint8_t flags = __atomic_load_n(slot_flags(slot), __ATOMIC_RELAXED);

    __atomic_store_n(slot_flags(slot), (uint8_t)((flags & ~SLOT_STATE_MASK) | state),
                     __ATOMIC_RELEASE);
}

static inline void slot_store_data(ioreq_t *slot, uint64_t data)
{
    __atomic_store_n(&slot->data, data, __ATOMIC_RELAXED);
}

static inline uint32_t slot_load_eport(ioreq_t *slot)
{
    return __atomic_load_n(&slot->vp_eport, __ATOMIC_RELAXED);
}

#endif
