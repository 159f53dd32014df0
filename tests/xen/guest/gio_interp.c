/*
 * The guest script interpreter of the PVH guest image.  Freestanding: no
 * libc, no 64-bit division.  The same file runs on the host against fake
 * gio_io primitives in the tests.
 *
 * Each op is one real access (or, for pci-*, the CF8 write and the CFC
 * access, as xensim sends them); reads are checked against the script's
 * expectations; every op's trace line is printed on Xen's debug console
 * (port 0xE9) with guest_trace.c, the formatter xensim uses, then the END
 * line.
 *
 * The script's own writes to port 0xE9 share Xen's console line buffer
 * with the trace.  The interpreter follows what they leave in it (Xen's
 * rules: printable characters and tabs accumulate, a newline or the 199th
 * character ends the line).  While the script has a line unfinished, trace
 * lines wait (up to PENDING_MAX of them), and go out once the script ends
 * its line: so the console lines the script prints are exactly what it
 * wrote, as on xensim, and trace lines always start a console line.  If the
 * script leaves a line unfinished for longer, or at the end, the
 * interpreter ends it with a newline itself.
 */
#include "gio_interp.h"
#include "gio_io.h"
#include "gio_table.h"
#include "guest_trace.h"

#define DEBUG_PORT 0xe9
#define PCI_CONF_ADDR 0xcf8
#define CONSOLE_LINE_MAX 200 /* Xen's DOMAIN_PBUF_SIZE */
#define PENDING_MAX 32       /* trace lines waiting for the script's console line */

struct interp {
    struct gio_table t;
    unsigned int failures;
    uint32_t console_len; /* characters the script left in Xen's console line */
    unsigned int nr_pending;
};

/* Trace lines with their newlines, waiting (static: the guest's stack is small). */
static char pending[PENDING_MAX][GUEST_TRACE_LINE_MAX + 1];
static uint32_t pending_len[PENDING_MAX];

/* ---- the console ---- */

static int printable(uint8_t c)
{
    return (c >= 0x20 && c <= 0x7e) || c >= 0xa0;
}

/* What a byte the script writes to port 0xE9 does to Xen's line buffer. */
static void console_feed(struct interp *in, uint8_t c)
{
    if (c == '\n')
        in->console_len = 0;
    else if ((printable(c) || c == '\t') && ++in->console_len == CONSOLE_LINE_MAX - 1)
        in->console_len = 0;
}

static void flush_pending(struct interp *in)
{
    for (unsigned int i = 0; i < in->nr_pending; i++)
        gio_debug_write(pending[i], pending_len[i]);
    in->nr_pending = 0;
}

/* End the script's unfinished console line ourselves, then the waiting lines. */
static void force_flush(struct interp *in)
{
    if (in->console_len) {
        gio_debug_write("\n", 1);
        in->console_len = 0;
    }
    flush_pending(in);
}

/* Queue a trace line; it goes out at once unless the script has a line open. */
static void print_line(struct interp *in, const char *line, size_t len)
{
    if (in->nr_pending == PENDING_MAX)
        force_flush(in);
    if (len > GUEST_TRACE_LINE_MAX - 1)
        len = GUEST_TRACE_LINE_MAX - 1;
    char *buf = pending[in->nr_pending];
    for (size_t i = 0; i < len; i++)
        buf[i] = line[i];
    buf[len] = '\n';
    pending_len[in->nr_pending++] = (uint32_t)len + 1;
    if (!in->console_len)
        flush_pending(in);
}

/* "gio: bad op table: WHY" and the failed END line. */
static unsigned int bad_table(struct interp *in, const char *why)
{
    char line[GUEST_TRACE_LINE_MAX];
    static const char head[] = "gio: bad op table: ";
    size_t n = 0;

    for (const char *p = head; *p; p++)
        line[n++] = *p;
    for (; *why && n < sizeof(line) - 1; why++)
        line[n++] = *why;
    print_line(in, line, n);
    print_line(in, line, guest_trace_end(line, 1));
    force_flush(in);
    return 1;
}

/* ---- ops ---- */

static uint64_t size_mask(unsigned int size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void value_result(struct interp *in, const struct guest_op *op,
                         struct guest_trace_result *r, uint64_t v)
{
    r->kind = GTR_VALUE;
    r->value = v & size_mask(op->size);
    if (op->has_expect && r->value != op->value) {
        r->mismatch = 1;
        in->failures++;
    }
}

/* The bytes in guest memory after a string read. */
static void memory_result(struct guest_trace_result *r, uint32_t gpa, uint32_t len)
{
    const uint8_t *p = gio_ram(gpa, len);

    if (!p) {
        r->kind = GTR_FAULT;
        return;
    }
    r->kind = GTR_BYTES;
    r->bytes = p;
    r->len = len;
}

static void run_mem(struct interp *in, const struct guest_op *op, struct guest_trace_result *r)
{
    const uint8_t *data = in->t.pool + op->aux;
    uint8_t *p = gio_ram((uint32_t)op->addr, op->count);

    if (!p) {
        r->kind = GTR_FAULT;
        in->failures++;
        return;
    }
    if (op->kind == GOP_MEM_WRITE) {
        for (uint32_t i = 0; i < op->count; i++)
            p[i] = data[i];
        return;
    }
    r->kind = GTR_BYTES;
    r->bytes = p;
    r->len = op->count;
    for (uint32_t i = 0; i < op->count; i++) {
        if (p[i] != data[i]) {
            r->mismatch = 1;
            in->failures++;
            break;
        }
    }
}

static void run_op(struct interp *in, const struct guest_op *op, struct guest_trace_result *r)
{
    uint16_t port = (uint16_t)op->addr;
    uint32_t addr = (uint32_t)op->addr, gpa = (uint32_t)op->aux;
    uint32_t bytes = op->count * op->size;

    switch (op->kind) {
    case GOP_OUT:
        gio_out(port, op->size, (uint32_t)op->value);
        if (port == DEBUG_PORT && op->size == 1)
            console_feed(in, (uint8_t)op->value);
        break;
    case GOP_IN:
        value_result(in, op, r, gio_in(port, op->size));
        break;
    case GOP_MMIO_WRITE:
        gio_mmio_write(addr, op->size, op->value);
        break;
    case GOP_MMIO_READ:
        value_result(in, op, r, gio_mmio_read(addr, op->size));
        break;
    case GOP_PCI_WRITE:
        gio_out(PCI_CONF_ADDR, 4, (uint32_t)op->aux);
        gio_out(port, op->size, (uint32_t)op->value);
        break;
    case GOP_PCI_READ:
        gio_out(PCI_CONF_ADDR, 4, (uint32_t)op->aux);
        value_result(in, op, r, gio_in(port, op->size));
        break;
    case GOP_REP_OUT:
        gio_rep_outs(port, op->size, gpa, op->count);
        if (port == DEBUG_PORT && op->size == 1) {
            const uint8_t *p = gio_ram(gpa, op->count);
            for (uint32_t i = 0; p && i < op->count; i++)
                console_feed(in, p[i]);
        }
        break;
    case GOP_REP_IN:
        gio_rep_ins(port, op->size, gpa, op->count);
        memory_result(r, gpa, bytes);
        break;
    case GOP_REP_MMIO_WRITE:
        gio_rep_movs(addr, gpa, op->size, op->count);
        break;
    case GOP_REP_MMIO_READ:
        gio_rep_movs(gpa, addr, op->size, op->count);
        memory_result(r, gpa, bytes);
        break;
    case GOP_MEM_WRITE:
    case GOP_MEM_READ:
        run_mem(in, op, r);
        break;
    case GOP_SLEEP:
        gio_delay_ms(op->count);
        break;
    default: /* gio_table_check() let nothing else through */
        break;
    }
}

unsigned int gio_run(const void *table, size_t len)
{
    struct interp in = { .failures = 0 };
    char line[GUEST_TRACE_LINE_MAX];
    long bad_op;
    const char *why = gio_table_check(table, len, &in.t, &bad_op);

    if (why)
        return bad_table(&in, why);
    for (uint32_t i = 0; i < in.t.nr_ops; i++) {
        const struct guest_op *op = &in.t.ops[i];
        struct guest_trace_result r = { .kind = GTR_OK };

        run_op(&in, op, &r);
        print_line(&in, line, guest_trace_line(line, op, in.t.pool, &r));
    }
    print_line(&in, line, guest_trace_end(line, in.failures));
    force_flush(&in);
    return in.failures;
}
