#include "pcitest.h"

#include <stdlib.h>

void pcitest_init(struct pcitest *p, const struct pcitest_ops *ops, void *opaque)
{
    *p = (struct pcitest){ .ops = ops, .opaque = opaque };
}

/* ---- interrupts ------------------------------------------------------------ */

static void irq_event(struct pcitest *p, uint32_t cause)
{
    p->irq_status |= cause;
    if (p->ops && p->ops->irq_raise)
        p->ops->irq_raise(p->opaque);
}

static void irq_ack(struct pcitest *p, uint32_t bits)
{
    uint32_t before = p->irq_status;

    p->irq_status &= ~bits;
    if (before && !p->irq_status && p->ops && p->ops->irq_lower)
        p->ops->irq_lower(p->opaque);
}

/* ---- DMA ------------------------------------------------------------------- */

static uint32_t dma_error(enum pcitest_dma_err err)
{
    return PCITEST_DMA_DONE | PCITEST_DMA_ERROR | (uint32_t)err << PCITEST_DMA_ERR_SHIFT;
}

static bool wraps(uint64_t addr, uint32_t len)
{
    return addr + (len - 1) < addr;
}

static uint32_t dma_copy(struct pcitest *p)
{
    uint32_t len = p->dma_len;
    uint8_t *buf;
    uint32_t status = PCITEST_DMA_DONE;

    if (len == 0)
        return PCITEST_DMA_DONE;
    if (len > PCITEST_DMA_MAX)
        return dma_error(PCITEST_DMA_ERR_LEN);
    if (wraps(p->dma_src, len) || wraps(p->dma_dst, len))
        return dma_error(PCITEST_DMA_ERR_RANGE);
    if (!p->ops || !p->ops->mem_read || !p->ops->mem_write)
        return dma_error(PCITEST_DMA_ERR_SRC);
    buf = malloc(len);
    if (!buf)
        return dma_error(PCITEST_DMA_ERR_NOMEM);
    /* Whole source first: memmove semantics, and a bad source writes nothing. */
    if (p->ops->mem_read(p->opaque, p->dma_src, buf, len) < 0)
        status = dma_error(PCITEST_DMA_ERR_SRC);
    else if (p->ops->mem_write(p->opaque, p->dma_dst, buf, len) < 0)
        status = dma_error(PCITEST_DMA_ERR_DST);
    free(buf);
    return status;
}

static void dma_start(struct pcitest *p)
{
    p->dma_status = dma_copy(p);
    p->dma_commands++;
    irq_event(p, PCITEST_IRQ_DMA);
}

const char *pcitest_dma_error_name(uint32_t dma_status)
{
    switch ((dma_status >> PCITEST_DMA_ERR_SHIFT) & 0xff) {
    case PCITEST_DMA_ERR_NONE: return "none";
    case PCITEST_DMA_ERR_LEN: return "length too large";
    case PCITEST_DMA_ERR_RANGE: return "address range wraps";
    case PCITEST_DMA_ERR_SRC: return "source not readable";
    case PCITEST_DMA_ERR_DST: return "destination not writable";
    case PCITEST_DMA_ERR_NOMEM: return "out of memory";
    default: return "unknown";
    }
}

/* ---- registers ----------------------------------------------------------------- */

static uint32_t merge32(uint32_t old, uint32_t value, uint32_t mask)
{
    return (old & ~mask) | (value & mask);
}

static uint64_t merge_half(uint64_t old, bool high, uint32_t value, uint32_t mask)
{
    unsigned int shift = high ? 32 : 0;
    uint32_t half = (uint32_t)(old >> shift);

    half = merge32(half, value, mask);
    return (old & ~((uint64_t)UINT32_MAX << shift)) | (uint64_t)half << shift;
}

uint32_t pcitest_read(const struct pcitest *p, unsigned int offset)
{
    switch (offset & ~3u) {
    case PCITEST_REG_ID: return PCITEST_ID_VALUE;
    case PCITEST_REG_SCRATCH: return p->scratch;
    case PCITEST_REG_IRQ_STATUS: return p->irq_status;
    case PCITEST_REG_DMA_SRC_LO: return (uint32_t)p->dma_src;
    case PCITEST_REG_DMA_SRC_HI: return (uint32_t)(p->dma_src >> 32);
    case PCITEST_REG_DMA_DST_LO: return (uint32_t)p->dma_dst;
    case PCITEST_REG_DMA_DST_HI: return (uint32_t)(p->dma_dst >> 32);
    case PCITEST_REG_DMA_LEN: return p->dma_len;
    case PCITEST_REG_DMA_STATUS: return p->dma_status;
    default: return 0; /* write-only and reserved registers */
    }
}

void pcitest_write(struct pcitest *p, unsigned int offset, uint32_t value, uint32_t byte_mask)
{
    if (!byte_mask)
        return;
    switch (offset & ~3u) {
    case PCITEST_REG_SCRATCH:
        p->scratch = merge32(p->scratch, value, byte_mask);
        break;
    case PCITEST_REG_IRQ_RAISE:
        irq_event(p, PCITEST_IRQ_SOFT);
        break;
    case PCITEST_REG_IRQ_ACK:
        irq_ack(p, value & byte_mask);
        break;
    case PCITEST_REG_DMA_SRC_LO:
    case PCITEST_REG_DMA_SRC_HI:
        p->dma_src = merge_half(p->dma_src, offset & 4, value, byte_mask);
        break;
    case PCITEST_REG_DMA_DST_LO:
    case PCITEST_REG_DMA_DST_HI:
        p->dma_dst = merge_half(p->dma_dst, offset & 4, value, byte_mask);
        break;
    case PCITEST_REG_DMA_LEN:
        p->dma_len = merge32(p->dma_len, value, byte_mask);
        break;
    case PCITEST_REG_DMA_CMD:
        if (value & byte_mask & PCITEST_DMA_START)
            dma_start(p);
        break;
    default:
        break; /* ID, IRQ_STATUS, DMA_STATUS, reserved */
    }
}

/* ---- byte-lane adapters ------------------------------------------------------------ */

/* Offsets are below `limit` (at most 4 KiB) here, so offset + i cannot wrap. */
static uint64_t lanes_read(struct pcitest *p, uint64_t limit, uint64_t offset, unsigned int size)
{
    uint64_t v = 0;

    if (size > 8)
        size = 8;
    for (unsigned int i = 0; i < size; i++) {
        uint64_t b = 0xff;

        if (offset < limit && offset + i < limit)
            b = (pcitest_read(p, (unsigned int)(offset + i)) >> (8 * ((offset + i) & 3))) & 0xff;
        v |= b << (8 * i);
    }
    return v;
}

/* Each 32-bit register the access covers gets one write with its byte lanes. */
static void lanes_write(struct pcitest *p, uint64_t limit, uint64_t offset, unsigned int size,
                        uint64_t value)
{
    unsigned int i = 0;

    if (offset >= limit)
        return;
    if (size > 8)
        size = 8;
    while (i < size) {
        uint64_t reg = (offset + i) & ~UINT64_C(3);
        uint32_t v = 0, mask = 0;

        for (; i < size && ((offset + i) & ~UINT64_C(3)) == reg; i++) {
            unsigned int lane = (unsigned int)((offset + i) & 3);

            v |= (uint32_t)((value >> (8 * i)) & 0xff) << (8 * lane);
            mask |= UINT32_C(0xff) << (8 * lane);
        }
        if (reg < limit)
            pcitest_write(p, (unsigned int)reg, v, mask);
    }
}

uint64_t pcitest_bar0_read(void *opaque, uint64_t offset, unsigned int size)
{
    return lanes_read(opaque, PCITEST_BAR0_SIZE, offset, size);
}

void pcitest_bar0_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
    lanes_write(opaque, PCITEST_BAR0_SIZE, offset, size, value);
}

uint64_t pcitest_bar1_read(void *opaque, uint64_t offset, unsigned int size)
{
    return lanes_read(opaque, PCITEST_BAR1_SIZE, offset, size);
}

void pcitest_bar1_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
    lanes_write(opaque, PCITEST_BAR1_SIZE, offset, size, value);
}
