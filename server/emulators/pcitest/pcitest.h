/*
 * A PCI test device, register level, with no dependency on libioreq or any
 * OS facility: the program that hosts it forwards BAR accesses to the
 * ioreq-shaped adapters below, and lends it guest memory and the function's
 * interrupt through a small ops struct (so tests can fake both).
 *
 * Identity: vendor 0x1234, device 0x11e8, revision 1, class 0xff0000
 * (unassigned), subsystem 1234:11e8, interrupt pin INTA, an MSI capability.
 *
 * BAR0, 4 KiB of memory; 32-bit registers (offsets from the BAR):
 *
 *   0x00 ID          R   0x7e570001: magic 0x7e57 (bits 31..16), version 1
 *   0x04 SCRATCH     RW  any value, kept
 *   0x08 IRQ_STATUS  R   why the device interrupts; the interrupt is
 *                        asserted while this is not 0:
 *                          bit 0 SOFT  IRQ_RAISE was written
 *                          bit 1 DMA   a DMA command finished (done or error)
 *   0x0c IRQ_RAISE   W   any write sets SOFT and signals the interrupt
 *   0x10 IRQ_ACK     W   bits written as 1 clear those bits of IRQ_STATUS;
 *                        when it becomes 0 the interrupt is deasserted
 *   0x20 DMA_SRC_LO  RW  guest-physical source address, bits 31..0
 *   0x24 DMA_SRC_HI  RW                                   bits 63..32
 *   0x28 DMA_DST_LO  RW  guest-physical destination address, bits 31..0
 *   0x2c DMA_DST_HI  RW                                        bits 63..32
 *   0x30 DMA_LEN     RW  bytes to copy, at most PCITEST_DMA_MAX (1 MiB)
 *   0x34 DMA_CMD     W   bit 0 START: copy DMA_LEN bytes from DMA_SRC to
 *                        DMA_DST now (the copy is complete when the write
 *                        is); other bits ignored
 *   0x38 DMA_STATUS  R   the last command: bit 0 DONE, bit 1 ERROR,
 *                        bits 15..8 the error (PCITEST_DMA_ERR_*); 0 before
 *                        the first command
 *   everything else      reads 0, writes ignored
 *
 * Reads have no side effects.  Any access of 1, 2, 4 or 8 bytes at any
 * offset works byte-lane-wise, as on a bus with byte enables: an 8-byte
 * write to DMA_SRC_LO sets the whole source address; a write covering
 * several registers reaches each once, lowest offset first (so an 8-byte
 * write at DMA_LEN sets the length, then starts); a 1-byte write to a
 * command register (IRQ_RAISE, IRQ_ACK, DMA_CMD) acts on that byte.
 *
 * BAR1, 16 I/O ports: the first 16 bytes of BAR0 again (ID, SCRATCH,
 * IRQ_STATUS, IRQ_RAISE), so a guest can use the device through either BAR.
 *
 * DMA: DMA_LEN 0 finishes at once (DONE).  Otherwise the source is read
 * whole into a buffer, then written to the destination: overlapping ranges
 * copy as memmove does, and a source that is not guest RAM leaves the
 * destination untouched (a destination that is not RAM may be partly
 * written).  Every command, successful or not, sets IRQ_STATUS.DMA and
 * signals the interrupt.  The engine does not see COMMAND's bus-master bit
 * (libioreq does not expose it): DMA works without it; only an MSI needs it.
 *
 * Interrupts: each event (an IRQ_RAISE write, a finished DMA) calls
 * ops->irq_raise, even when IRQ_STATUS was already non-zero: the host
 * sends an MSI per event, or asserts INTx (a level: asserting it again is
 * harmless).  ops->irq_lower is called when IRQ_STATUS drops to 0.
 */
#ifndef PCITEST_H
#define PCITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Identity (config space is the host's business; these are what it uses). */
#define PCITEST_VENDOR_ID     0x1234
#define PCITEST_DEVICE_ID     0x11e8
#define PCITEST_REVISION      0x01
#define PCITEST_CLASS         0xff /* class 0xff0000: unassigned */
#define PCITEST_SUBCLASS      0x00
#define PCITEST_PROG_IF       0x00
#define PCITEST_DEFAULT_DEV   5    /* 00:05.0 */
#define PCITEST_DEFAULT_FN    0

#define PCITEST_BAR0_SIZE     0x1000 /* memory */
#define PCITEST_BAR1_SIZE     16     /* I/O ports */

/* BAR0 register offsets. */
enum {
    PCITEST_REG_ID         = 0x00,
    PCITEST_REG_SCRATCH    = 0x04,
    PCITEST_REG_IRQ_STATUS = 0x08,
    PCITEST_REG_IRQ_RAISE  = 0x0c,
    PCITEST_REG_IRQ_ACK    = 0x10,
    PCITEST_REG_DMA_SRC_LO = 0x20,
    PCITEST_REG_DMA_SRC_HI = 0x24,
    PCITEST_REG_DMA_DST_LO = 0x28,
    PCITEST_REG_DMA_DST_HI = 0x2c,
    PCITEST_REG_DMA_LEN    = 0x30,
    PCITEST_REG_DMA_CMD    = 0x34,
    PCITEST_REG_DMA_STATUS = 0x38,
};

#define PCITEST_ID_VALUE      0x7e570001u

/* IRQ_STATUS / IRQ_ACK bits */
#define PCITEST_IRQ_SOFT      0x1u
#define PCITEST_IRQ_DMA       0x2u
#define PCITEST_IRQ_ALL       (PCITEST_IRQ_SOFT | PCITEST_IRQ_DMA)

/* DMA_CMD */
#define PCITEST_DMA_START     0x1u

/* DMA_STATUS: bits, and the error in bits 15..8 */
#define PCITEST_DMA_DONE      0x1u
#define PCITEST_DMA_ERROR     0x2u
#define PCITEST_DMA_ERR_SHIFT 8
enum pcitest_dma_err {
    PCITEST_DMA_ERR_NONE   = 0,
    PCITEST_DMA_ERR_LEN    = 1, /* DMA_LEN above PCITEST_DMA_MAX: nothing copied */
    PCITEST_DMA_ERR_RANGE  = 2, /* source or destination wraps past 2^64: nothing copied */
    PCITEST_DMA_ERR_SRC    = 3, /* reading the source failed: nothing written */
    PCITEST_DMA_ERR_DST    = 4, /* writing the destination failed (maybe partly written) */
    PCITEST_DMA_ERR_NOMEM  = 5, /* no buffer for the copy: nothing copied */
};
#define PCITEST_DMA_MAX       (1u << 20)

struct pcitest_ops {
    /* Guest physical memory: 0 or a negative errno.  Required for DMA. */
    int (*mem_read)(void *opaque, uint64_t gpa, void *buf, size_t len);
    int (*mem_write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
    /* An interrupt event (MSI, or assert INTx); optional. */
    void (*irq_raise)(void *opaque);
    /* No cause is left: deassert INTx; optional. */
    void (*irq_lower)(void *opaque);
};

/* The state; treat the fields as private and use the functions. */
struct pcitest {
    const struct pcitest_ops *ops;
    void *opaque;
    uint32_t scratch;
    uint32_t irq_status;
    uint64_t dma_src, dma_dst;
    uint32_t dma_len;
    uint32_t dma_status;
    uint64_t dma_commands; /* commands run, for the host's log */
};

/* Power-on state: every register 0 (ID aside), no interrupt.  ops may be NULL. */
void pcitest_init(struct pcitest *p, const struct pcitest_ops *ops, void *opaque);

/* One aligned 32-bit register of BAR0 (offset & 3 ignored). */
uint32_t pcitest_read(const struct pcitest *p, unsigned int offset);
/*
 * Write the bytes of `value` selected by `byte_mask` (0xff per byte lane)
 * to the aligned 32-bit register at `offset`.
 */
void pcitest_write(struct pcitest *p, unsigned int offset, uint32_t value, uint32_t byte_mask);

/* DMA_STATUS's error field, as text ("none", "length", ...). */
const char *pcitest_dma_error_name(uint32_t dma_status);

/*
 * Adapters with the shape of libioreq's region callbacks (opaque is the
 * struct pcitest): BAR0 (4 KiB) and BAR1 (16 bytes).  size is 1, 2, 4 or
 * 8; bytes past the BAR's end read as 0xff and ignore writes.
 */
uint64_t pcitest_bar0_read(void *opaque, uint64_t offset, unsigned int size);
void pcitest_bar0_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value);
uint64_t pcitest_bar1_read(void *opaque, uint64_t offset, unsigned int size);
void pcitest_bar1_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif /* PCITEST_H */
