/*
 * One parsed guest script line, as the interpreters see it.
 *
 * Freestanding (only <stdint.h> and <stddef.h>): the same definition is used
 * by xensim's parser and interpreter, by the guest image compiler, and by the
 * interpreter inside the freestanding 32-bit PVH guest image
 * (tests/xen/guest), which reads these records from its embedded op table.
 * The layout is therefore fixed: 40 bytes, little-endian, every 64-bit field
 * at an 8-byte offset, identical for i386 and x86-64.
 */
#ifndef XENSIM_GUEST_OP_H
#define XENSIM_GUEST_OP_H

#include <stddef.h>
#include <stdint.h>

enum guest_op_kind {
    GOP_OUT,
    GOP_IN,
    GOP_MMIO_WRITE,
    GOP_MMIO_READ,
    GOP_PCI_WRITE,
    GOP_PCI_READ,
    GOP_REP_OUT,        /* rep-outs[bwl] */
    GOP_REP_IN,         /* rep-ins[bwl] */
    GOP_REP_MMIO_WRITE,
    GOP_REP_MMIO_READ,
    GOP_MEM_WRITE,
    GOP_MEM_READ,
    GOP_WAIT_IRQ,
    GOP_INVALIDATE,
    GOP_TIMEOFFSET,
    GOP_SLEEP,
    GOP_NR_KINDS
};

/* guest_op.flags */
#define GOP_F_TIMING 0x01u /* "# timing": the result may differ between backends */
#define GOP_F_ALL GOP_F_TIMING

/*
 * One line.  Field use by kind:
 *   OUT/IN/MMIO_*:  addr, size, value (written or expected)
 *   PCI_*:          aux = CF8 value, addr = 0xcfc + (reg & 3), size, value
 *   REP_*:          addr (port or MMIO address), size, aux = GPA, count
 *   MEM_*:          addr = GPA, aux = offset of the bytes in the pool, count = length
 *   WAIT_IRQ:       aux = offset of the NUL-terminated `what` in the pool,
 *                   count = timeout in ms
 *   TIMEOFFSET:     value = the delta (two's complement)
 *   SLEEP:          count = ms
 */
struct guest_op {
    uint32_t line;
    uint8_t kind;       /* enum guest_op_kind */
    uint8_t size;
    uint8_t has_expect;
    uint8_t flags;      /* GOP_F_* */
    uint32_t count;
    uint32_t pad2;
    uint64_t addr;
    uint64_t value;
    uint64_t aux;
};

_Static_assert(sizeof(struct guest_op) == 40, "guest_op is a fixed 40-byte record");
_Static_assert(offsetof(struct guest_op, count) == 8, "guest_op layout");
_Static_assert(offsetof(struct guest_op, addr) == 16, "guest_op layout");
_Static_assert(offsetof(struct guest_op, value) == 24, "guest_op layout");
_Static_assert(offsetof(struct guest_op, aux) == 32, "guest_op layout");

#endif /* XENSIM_GUEST_OP_H */
