/*
 * Trace lines of guest scripts.  Freestanding: this file is also built into
 * the 32-bit PVH guest image, so it uses no libc and no 64-bit division
 * (which would need libgcc there).
 */
#include "guest_trace.h"

#define WHAT_MAX 32 /* longest wait-irq form, NUL included */

struct out {
    char *p;
    size_t len;
};

static void put_c(struct out *o, char c)
{
    if (o->len + 1 < GUEST_TRACE_LINE_MAX)
        o->p[o->len++] = c;
}

static void put_s(struct out *o, const char *s)
{
    while (*s)
        put_c(o, *s++);
}

/* Lowercase hex, at least `digits` digits (more if the value needs them). */
static void put_hex(struct out *o, uint64_t v, unsigned int digits)
{
    static const char hex[] = "0123456789abcdef";
    unsigned int n = 1;

    while (n < 16 && (v >> (4 * n)) != 0)
        n++;
    if (n < digits)
        n = digits;
    while (n-- > 0)
        put_c(o, hex[(v >> (4 * n)) & 0xf]);
}

/* v / 10 with 32-bit divisions only; the remainder in *rem. */
static uint64_t div10(uint64_t v, unsigned int *rem)
{
    uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    uint32_t q_hi = hi / 10, r = hi % 10;
    uint32_t mid = r << 16 | lo >> 16; /* below 10 << 16 */
    uint32_t q_mid = mid / 10;
    uint32_t low = (mid % 10) << 16 | (lo & 0xffff);
    uint32_t q_low = low / 10;

    *rem = low % 10;
    return (uint64_t)q_hi << 32 | (uint64_t)q_mid << 16 | q_low;
}

static void put_dec(struct out *o, uint64_t v)
{
    char digits[20];
    unsigned int n = 0, rem;

    do {
        v = div10(v, &rem);
        digits[n++] = (char)('0' + rem);
    } while (v);
    while (n-- > 0)
        put_c(o, digits[n]);
}

static void put_signed(struct out *o, uint64_t v)
{
    if (v >> 63) {
        put_c(o, '-');
        v = ~v + 1; /* also right for INT64_MIN */
    }
    put_dec(o, v);
}

/* Addresses and GPAs: 8 digits, 16 above 4 GiB. */
static void put_addr(struct out *o, uint64_t a)
{
    put_hex(o, a, 8);
}

uint32_t guest_trace_fnv1a(const uint8_t *p, uint32_t len)
{
    uint32_t h = 2166136261u;

    for (uint32_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void put_bytes(struct out *o, const uint8_t *p, uint32_t len)
{
    if (len <= GUEST_TRACE_HEX_MAX) {
        put_s(o, "hex:");
        for (uint32_t i = 0; i < len; i++)
            put_hex(o, p[i], 2);
    } else {
        put_s(o, "fnv1a:");
        put_hex(o, guest_trace_fnv1a(p, len), 8);
    }
}

const char *guest_op_verb(const struct guest_op *op)
{
    static const char *const name[GOP_NR_KINDS] = {
        [GOP_OUT] = "out",
        [GOP_IN] = "in",
        [GOP_MMIO_WRITE] = "mmio-write",
        [GOP_MMIO_READ] = "mmio-read",
        [GOP_PCI_WRITE] = "pci-write",
        [GOP_PCI_READ] = "pci-read",
        [GOP_REP_MMIO_WRITE] = "rep-mmio-write",
        [GOP_REP_MMIO_READ] = "rep-mmio-read",
        [GOP_MEM_WRITE] = "mem-write",
        [GOP_MEM_READ] = "mem-read",
        [GOP_WAIT_IRQ] = "wait-irq",
        [GOP_INVALIDATE] = "invalidate",
        [GOP_TIMEOFFSET] = "timeoffset",
        [GOP_SLEEP] = "sleep",
    };
    static const char *const rep[2][3] = {
        { "rep-outsb", "rep-outsw", "rep-outsl" },
        { "rep-insb", "rep-insw", "rep-insl" },
    };

    if (op->kind == GOP_REP_OUT || op->kind == GOP_REP_IN) {
        int i = op->size == 1 ? 0 : op->size == 2 ? 1 : op->size == 4 ? 2 : -1;
        return i < 0 ? "?" : rep[op->kind == GOP_REP_IN][i];
    }
    return op->kind < GOP_NR_KINDS && name[op->kind] ? name[op->kind] : "?";
}

static void put_value(struct out *o, const struct guest_op *op, uint64_t v)
{
    put_hex(o, v, 2u * op->size);
}

static void put_pci(struct out *o, const struct guest_op *op)
{
    uint32_t cf8 = (uint32_t)op->aux;

    put_hex(o, (cf8 >> 16) & 0xff, 2);
    put_c(o, ':');
    put_hex(o, (cf8 >> 11) & 0x1f, 2);
    put_c(o, '.');
    put_hex(o, (cf8 >> 8) & 7, 1);
    put_c(o, ' ');
    put_hex(o, (cf8 & 0xfc) | (op->addr & 3), 2);
}

static void put_what(struct out *o, const char *what)
{
    for (unsigned int i = 0; i < WHAT_MAX - 1 && what[i]; i++)
        put_c(o, what[i]);
}

static void put_operands(struct out *o, const struct guest_op *op, const uint8_t *pool)
{
    switch (op->kind) {
    case GOP_OUT:
    case GOP_IN:
        put_c(o, ' ');
        put_hex(o, op->addr, 4);
        put_c(o, ' ');
        put_dec(o, op->size);
        break;
    case GOP_MMIO_WRITE:
    case GOP_MMIO_READ:
        put_c(o, ' ');
        put_addr(o, op->addr);
        put_c(o, ' ');
        put_dec(o, op->size);
        break;
    case GOP_PCI_WRITE:
    case GOP_PCI_READ:
        put_c(o, ' ');
        put_pci(o, op);
        put_c(o, ' ');
        put_dec(o, op->size);
        break;
    case GOP_REP_OUT:
    case GOP_REP_IN:
        put_c(o, ' ');
        put_hex(o, op->addr, 4);
        put_c(o, ' ');
        put_addr(o, op->aux);
        put_c(o, ' ');
        put_dec(o, op->count);
        break;
    case GOP_REP_MMIO_WRITE:
    case GOP_REP_MMIO_READ:
        put_c(o, ' ');
        put_addr(o, op->addr);
        put_c(o, ' ');
        put_dec(o, op->size);
        put_c(o, ' ');
        put_addr(o, op->aux);
        put_c(o, ' ');
        put_dec(o, op->count);
        break;
    case GOP_MEM_WRITE:
    case GOP_MEM_READ:
        put_c(o, ' ');
        put_addr(o, op->addr);
        put_c(o, ' ');
        put_dec(o, op->count);
        break;
    case GOP_WAIT_IRQ:
        put_c(o, ' ');
        put_what(o, (const char *)pool + op->aux);
        put_c(o, ' ');
        put_dec(o, op->count);
        break;
    case GOP_TIMEOFFSET:
        put_c(o, ' ');
        put_signed(o, op->value);
        break;
    case GOP_SLEEP:
        put_c(o, ' ');
        put_dec(o, op->count);
        break;
    default: /* GOP_INVALIDATE */
        break;
    }
    /* The value written. */
    if (op->kind == GOP_OUT || op->kind == GOP_MMIO_WRITE || op->kind == GOP_PCI_WRITE) {
        put_c(o, ' ');
        put_value(o, op, op->value);
    }
}

static void put_result(struct out *o, const struct guest_op *op, const uint8_t *pool,
                       const struct guest_trace_result *r)
{
    switch (r->kind) {
    case GTR_VALUE:
        put_value(o, op, r->value);
        break;
    case GTR_BYTES:
        put_bytes(o, r->bytes, r->len);
        break;
    case GTR_IRQ:
        put_s(o, "irq");
        break;
    case GTR_TIMEOUT:
        put_s(o, "timeout");
        break;
    case GTR_FAULT:
        put_s(o, "fault");
        break;
    case GTR_STOPPED:
        put_s(o, "stopped: ");
        put_s(o, r->why ? r->why : "?");
        break;
    default:
        put_s(o, "ok");
        break;
    }
    if (!r->mismatch)
        return;
    put_s(o, " (expected ");
    if (op->kind == GOP_MEM_READ)
        put_bytes(o, pool + op->aux, op->count);
    else
        put_value(o, op, op->value);
    put_c(o, ')');
}

size_t guest_trace_line(char buf[GUEST_TRACE_LINE_MAX], const struct guest_op *op,
                        const uint8_t *pool, const struct guest_trace_result *r)
{
    struct out o = { .p = buf };

    put_c(&o, 'L');
    put_dec(&o, op->line);
    if (op->flags & GOP_F_TIMING)
        put_c(&o, '~');
    put_c(&o, ' ');
    put_s(&o, guest_op_verb(op));
    put_operands(&o, op, pool);
    put_s(&o, " = ");
    put_result(&o, op, pool, r);
    buf[o.len] = '\0';
    return o.len;
}

size_t guest_trace_end(char buf[GUEST_TRACE_LINE_MAX], unsigned int failures)
{
    struct out o = { .p = buf };

    if (failures) {
        put_s(&o, "END fail ");
        put_dec(&o, failures);
    } else {
        put_s(&o, "END pass");
    }
    buf[o.len] = '\0';
    return o.len;
}
