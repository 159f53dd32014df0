/* Guest script -> op table, and back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gio_compile.h"
#include "gio_table.h"
#include "guest_op.h"
#include "guest_trace.h"

#define NAME_MAX_LEN 4096

_Static_assert(GIO_MAX_MS == GUEST_SCRIPT_MAX_MS, "gio_table.h's limits are the parser's");
_Static_assert(GIO_MAX_REP == GUEST_SCRIPT_MAX_REP, "gio_table.h's limits are the parser's");
_Static_assert(GIO_MAX_DATA == GUEST_SCRIPT_MAX_DATA, "gio_table.h's limits are the parser's");

int gio_compile(const struct guest_script *s, const char *name, uint8_t **table,
                size_t *len, char *err, size_t errlen)
{
    size_t nr = guest_script_length(s), pool_len;
    const struct guest_op *ops = guest_script_ops(s);
    const uint8_t *pool = guest_script_pool(s, &pool_len);
    size_t name_len = strlen(name);
    /* (no overflow: a script's ops and pool are in memory already) */
    uint64_t total = sizeof(struct gio_table_header) + (uint64_t)nr * sizeof(*ops) + pool_len +
                     name_len;

    if (errlen)
        err[0] = '\0';
    if (total > UINT32_MAX || name_len > NAME_MAX_LEN) {
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
    uint8_t *t = aligned_alloc(8, ((size_t)total + 7) & ~(size_t)7);
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
    *len = (size_t)total;
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

/* One op of a checked table as a script line (no newline). */
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
    case GOP_SLEEP:
        fprintf(out, "sleep %" PRIu32, op->count);
        break;
    default: /* gio_table_check() lets no other kind through */
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

char *gio_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0; /* cap: room for bytes, besides the NUL */

    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nb = cap >= GIO_FILE_MAX ? NULL : aligned_alloc(8, ncap + 8);
            if (!nb) {
                snprintf(err, errlen, "%s is too large (%u bytes at most)", path,
                         GIO_FILE_MAX - 1);
                goto fail;
            }
            if (n)
                memcpy(nb, buf, n);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}
