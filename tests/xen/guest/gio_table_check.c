/*
 * What a PVH guest image can run, and op table validation.  Freestanding:
 * built into the guest and into the host tools alike.
 */
#include "gio_table.h"
#include "guest_trace.h"

#define PCI_CONF_DATA 0xcfc

/*
 * Why [start, start + bytes), a guest memory range (`gpa`) or an MMIO
 * address range, is out of the guest's reach, or NULL: it must lie below
 * 4 GiB and outside the image.
 */
static const char *range_fault(uint64_t start, uint64_t bytes, int gpa)
{
    if (bytes == 0 || start >= GIO_ADDR_LIMIT || bytes > GIO_ADDR_LIMIT - start)
        return gpa ? "GPA reaches above 4 GiB, which the guest (32-bit, no paging) cannot address"
                   : "ADDR reaches above 4 GiB, which the guest (32-bit, no paging) cannot address";
    if (start < GIO_IMAGE_END && start + bytes > GIO_IMAGE_BASE)
        return gpa ? "GPA overlaps the guest image (0x100000..0x1fffff)"
                   : "ADDR overlaps the guest image (0x100000..0x1fffff)";
    return NULL;
}

static int pio_size(unsigned int size)
{
    return size == 1 || size == 2 || size == 4;
}

/* Does `value` fit in `size` bytes? */
static int fits(uint64_t value, unsigned int size)
{
    return size >= 8 || (value >> (8 * size)) == 0;
}

static int is_read(uint8_t kind)
{
    return kind == GOP_IN || kind == GOP_MMIO_READ || kind == GOP_PCI_READ ||
           kind == GOP_MEM_READ;
}

const char *gio_op_check(const struct guest_op *op, uint32_t pool_len)
{
    const char *why;

    if (op->flags & ~GOP_F_ALL)
        return "unknown flags";
    if (op->has_expect > 1 || (op->has_expect && !is_read(op->kind)))
        return "an expectation on a line that reads nothing";
    switch (op->kind) {
    case GOP_OUT:
    case GOP_IN:
        if (!pio_size(op->size) || op->addr > 0xffff || op->addr + op->size - 1 > 0xffff)
            return "bad port access";
        return fits(op->value, op->size) ? NULL : "value does not fit SIZE";
    case GOP_MMIO_WRITE:
    case GOP_MMIO_READ:
        if (!pio_size(op->size) && op->size != 8)
            return "bad SIZE";
        if (!fits(op->value, op->size))
            return "value does not fit SIZE";
        return range_fault(op->addr, op->size, 0);
    case GOP_PCI_WRITE:
    case GOP_PCI_READ:
        if (!pio_size(op->size) || (op->aux & ~0xffffffffull) || !(op->aux & 0x80000000u) ||
            (op->aux & 0x7f000003u) || op->addr < PCI_CONF_DATA ||
            op->addr > PCI_CONF_DATA + 3 || (op->addr & 3) + op->size > 4)
            return "bad PCI config access";
        return fits(op->value, op->size) ? NULL : "value does not fit SIZE";
    case GOP_REP_OUT:
    case GOP_REP_IN:
        if (!pio_size(op->size) || op->addr > 0xffff || op->addr + op->size - 1 > 0xffff ||
            op->count == 0 || op->count > GIO_MAX_REP)
            return "bad string port access";
        return range_fault(op->aux, (uint64_t)op->count * op->size, 1);
    case GOP_REP_MMIO_WRITE:
    case GOP_REP_MMIO_READ:
        if (op->size == 8)
            return "8-byte string moves (movsq) do not exist in 32-bit mode; use SIZE 1, 2 or 4";
        if (!pio_size(op->size) || op->count == 0 || op->count > GIO_MAX_REP)
            return "bad string MMIO access";
        if ((why = range_fault(op->addr, (uint64_t)op->count * op->size, 0)))
            return why;
        return range_fault(op->aux, (uint64_t)op->count * op->size, 1);
    case GOP_MEM_WRITE:
    case GOP_MEM_READ:
        if (op->count == 0 || op->count > GIO_MAX_DATA || op->aux > pool_len ||
            op->count > pool_len - op->aux)
            return "bad guest memory data";
        return range_fault(op->addr, op->count, 1);
    case GOP_SLEEP:
        return op->count > GIO_MAX_MS ? "sleep too long" : NULL;
    case GOP_WAIT_IRQ:
        return "the guest image sets up no interrupts (PVH has no PIC or IOAPIC, and it "
               "programs no LAPIC); run wait-irq lines under xensim only";
    case GOP_INVALIDATE:
    case GOP_TIMEOFFSET:
        return "this is a broadcast the hypervisor sends, not a guest access; run it under "
               "xensim only";
    default:
        return "unknown operation";
    }
}

const char *gio_table_check(const void *buf, size_t len, struct gio_table *t, long *bad_op)
{
    const struct gio_table_header *h = buf;
    const uint8_t *p = buf;

    *bad_op = -1;
    if (!buf || ((uintptr_t)buf & 7) || len < sizeof(*h))
        return "shorter than a table header (or misaligned)";
    if (h->magic != GIO_TABLE_MAGIC)
        return "not an op table (bad magic)";
    if (h->version != GIO_TABLE_VERSION)
        return "unsupported op table version";
    if (h->header_size != sizeof(*h) || h->op_size != sizeof(struct guest_op) || h->reserved)
        return "bad op table header";
    uint64_t need = (uint64_t)sizeof(*h) + (uint64_t)h->nr_ops * sizeof(struct guest_op) +
                    h->pool_len + h->name_len;
    if (need != len || need > UINT32_MAX)
        return "op table size does not match its header";
    if (guest_trace_fnv1a(p + sizeof(*h), (uint32_t)(len - sizeof(*h))) != h->checksum)
        return "op table checksum mismatch";

    t->ops = (const struct guest_op *)(p + sizeof(*h));
    t->nr_ops = h->nr_ops;
    t->pool = p + sizeof(*h) + (size_t)h->nr_ops * sizeof(struct guest_op);
    t->pool_len = h->pool_len;
    t->name = (const char *)t->pool + h->pool_len;
    t->name_len = h->name_len;
    for (uint32_t i = 0; i < t->nr_ops; i++) {
        const char *why = gio_op_check(&t->ops[i], t->pool_len);
        if (why) {
            *bad_op = (long)i;
            return why;
        }
        if (i && t->ops[i].line <= t->ops[i - 1].line) {
            *bad_op = (long)i;
            return "line numbers do not ascend";
        }
    }
    return NULL;
}
