/* Guest script -> op table, and back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gio_compile.h"
#include "gio_table.h"
#include "guest_op.h"
#include "guest_trace.h"

int gio_compile(const struct guest_script *s, const char *name, uint8_t **table,
                size_t *len, char *err, size_t errlen)
{
    size_t nr = guest_script_length(s), pool_len;
    const struct guest_op *ops = guest_script_ops(s);
    const uint8_t *pool = guest_script_pool(s, &pool_len);
    size_t name_len = strlen(name);

    if (errlen)
        err[0] = '\0';
    if (nr > UINT32_MAX / sizeof(*ops) || pool_len > UINT32_MAX || name_len > 4096) {
        snprintf(err, errlen, "%s: too large for an op table", name);
        return -EINVAL;
    }
    for (size_t i = 0; i < nr; i++) {
        const char *why = gio_op_check(&ops[i], (uint32_t)pool_len);
        if (why) {
            snprintf(err, errlen, "%s:%" PRIu32 ": %s: %s", name, ops[i].line,
                     guest_op_verb(&ops[i]), why);
            return -EINVAL;
        }
    }

    struct gio_table_header h = {
        .magic = GIO_TABLE_MAGIC, .version = GIO_TABLE_VERSION,
        .header_size = sizeof(h), .op_size = sizeof(struct guest_op),
        .nr_ops = (uint32_t)nr, .pool_len = (uint32_t)pool_len,
        .name_len = (uint32_t)name_len,
    };
    size_t total = sizeof(h) + nr * sizeof(*ops) + pool_len + name_len;
    uint8_t *t = aligned_alloc(8, (total + 7) & ~(size_t)7);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    uint8_t *p = t + sizeof(h);
    if (nr)
        memcpy(p, ops, nr * sizeof(*ops));
    p += nr * sizeof(*ops);
    if (pool_len)
        memcpy(p, pool, pool_len);
    p += pool_len;
    memcpy(p, name, name_len);
    h.checksum = guest_trace_fnv1a(t + sizeof(h), (uint32_t)(total - sizeof(h)));
    memcpy(t, &h, sizeof(h));
    *table = t;
    *len = total;
    return 0;
}

static void hex_bytes(FILE *out, const uint8_t *p, uint32_t n)
{
    fputs("hex:", out);
    for (uint32_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

static void expectation(FILE *out, const struct guest_op *op)
{
    if (op->has_expect)
        fprintf(out, " expect 0x%" PRIx64, op->value);
}

/* One op as a script line (no newline). */
static void op_text(FILE *out, const struct guest_op *op, const uint8_t *pool)
{
    uint32_t cf8 = (uint32_t)op->aux;

    switch (op->kind) {
    case GOP_OUT:
    case GOP_MMIO_WRITE:
        fprintf(out, "%s 0x%" PRIx64 " %u 0x%" PRIx64, guest_op_verb(op), op->addr, op->size,
                op->value);
        break;
    case GOP_IN:
    case GOP_MMIO_READ:
        fprintf(out, "%s 0x%" PRIx64 " %u", guest_op_verb(op), op->addr, op->size);
        expectation(out, op);
        break;
    case GOP_PCI_WRITE:
    case GOP_PCI_READ:
        fprintf(out, "%s %02x:%02x.%x 0x%" PRIx64 " %u", guest_op_verb(op), (cf8 >> 16) & 0xff,
                (cf8 >> 11) & 0x1f, (cf8 >> 8) & 7, (uint64_t)((cf8 & 0xfc) | (op->addr & 3)),
                op->size);
        if (op->kind == GOP_PCI_WRITE)
            fprintf(out, " 0x%" PRIx64, op->value);
        expectation(out, op);
        break;
    case GOP_REP_OUT:
    case GOP_REP_IN:
        fprintf(out, "%s 0x%" PRIx64 " 0x%" PRIx64 " %" PRIu32, guest_op_verb(op), op->addr,
                op->aux, op->count);
        break;
    case GOP_REP_MMIO_WRITE:
    case GOP_REP_MMIO_READ:
        fprintf(out, "%s 0x%" PRIx64 " %u 0x%" PRIx64 " %" PRIu32, guest_op_verb(op), op->addr,
                op->size, op->aux, op->count);
        break;
    case GOP_MEM_WRITE:
        fprintf(out, "mem-write 0x%" PRIx64 " ", op->addr);
        hex_bytes(out, pool + op->aux, op->count);
        break;
    case GOP_MEM_READ:
        fprintf(out, "mem-read 0x%" PRIx64 " %" PRIu32 " expect ", op->addr, op->count);
        hex_bytes(out, pool + op->aux, op->count);
        break;
    case GOP_WAIT_IRQ:
        fprintf(out, "wait-irq %s timeout %" PRIu32, (const char *)pool + op->aux, op->count);
        break;
    case GOP_TIMEOFFSET:
        fprintf(out, "timeoffset %" PRId64, (int64_t)op->value);
        break;
    case GOP_SLEEP:
        fprintf(out, "sleep %" PRIu32, op->count);
        break;
    default:
        fputs(guest_op_verb(op), out);
        break;
    }
    if (op->flags & GOP_F_TIMING)
        fputs("    # timing", out);
}

int gio_decompile(const void *table, size_t len, FILE *out, char *err, size_t errlen)
{
    struct gio_table t;
    long bad;
    const char *why = gio_table_check(table, len, &t, &bad);
    uint32_t line = 0;

    if (why) {
        if (bad >= 0)
            snprintf(err, errlen, "op %ld: %s", bad, why);
        else
            snprintf(err, errlen, "%s", why);
        return -EINVAL;
    }
    /* `line`: lines written so far; each op goes on its own line number. */
    if (t.nr_ops == 0 || t.ops[0].line > 1) {
        fprintf(out, "# %.*s, decompiled from its op table\n", (int)t.name_len, t.name);
        line = 1;
    }
    for (uint32_t i = 0; i < t.nr_ops; i++) {
        for (; line + 1 < t.ops[i].line; line++)
            fputc('\n', out);
        op_text(out, &t.ops[i], t.pool);
        fputc('\n', out);
        line++;
    }
    return 0;
}
