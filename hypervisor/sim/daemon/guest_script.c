/* Guest scripts: the parser, from text to an array of struct guest_op. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_script_impl.h"

#define SIZES_PIO ((1u << 1) | (1u << 2) | (1u << 4))
#define SIZES_ALL (SIZES_PIO | (1u << 8))
#define PCI_CONF_DATA 0xcfc

struct parser {
    const char *name;
    unsigned int line;
    char *err;
    size_t errlen;
    struct guest_script *s;
    size_t ops_cap, pool_cap;
    uint8_t *scratch; /* GUEST_SCRIPT_MAX_DATA bytes */
};

struct verb;
typedef int (*parse_fn)(struct parser *ps, const struct verb *v,
                        const struct gs_token *tok, int n, struct guest_op *op);

struct verb {
    const char *name;
    uint8_t kind;
    uint8_t size;  /* rep-outsb etc.: the element size */
    const char *usage;
    parse_fn parse;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);

    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Token text for messages, cut to a readable length. */
#define TOK(t) (int)((t)->len > 40 ? 40 : (t)->len), (t)->p

static int usage(struct parser *ps, const struct verb *v)
{
    return fail(ps, "wrong operands for '%s' (usage: %s)", v->name, v->usage);
}

static uint64_t size_mask(unsigned int size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* ---- operands ---- */

static int number(struct parser *ps, const struct gs_token *t, const char *what,
                  uint64_t max, uint64_t *out)
{
    if (gs_number(t, max, out) == 0)
        return 0;
    if (max == UINT64_MAX)
        return fail(ps, "%s '%.*s' is not a number (decimal, or hex with 0x)",
                    what, TOK(t));
    return fail(ps, "%s '%.*s' is not a number from 0 to %#llx", what, TOK(t),
                (unsigned long long)max);
}

static int size_operand(struct parser *ps, const struct gs_token *t,
                        unsigned int allowed, unsigned int *size)
{
    uint64_t v;

    if (gs_number(t, 8, &v) || !(allowed & (1u << v)))
        return fail(ps, "SIZE '%.*s' must be %s", TOK(t),
                    allowed == SIZES_PIO ? "1, 2 or 4" : "1, 2, 4 or 8");
    *size = (unsigned int)v;
    return 0;
}

/* A value that must fit `size` bytes. */
static int value_operand(struct parser *ps, const struct gs_token *t,
                         const char *what, unsigned int size, uint64_t *out)
{
    int rc = number(ps, t, what, UINT64_MAX, out);

    if (rc)
        return rc;
    if (*out > size_mask(size))
        return fail(ps, "%s %#llx does not fit in %u byte%s", what,
                    (unsigned long long)*out, size, size == 1 ? "" : "s");
    return 0;
}

static int port_operand(struct parser *ps, const struct gs_token *t,
                        unsigned int size, uint64_t *port)
{
    int rc = number(ps, t, "PORT", 0xffff, port);

    if (rc)
        return rc;
    if (*port + size - 1 > 0xffff)
        return fail(ps, "a %u-byte access at port %#llx runs past port 0xffff",
                    size, (unsigned long long)*port);
    return 0;
}

/* [start, start + bytes) must not wrap around the 64-bit space. */
static int span(struct parser *ps, const char *what, uint64_t start,
                uint64_t bytes)
{
    if (bytes && start + (bytes - 1) < start)
        return fail(ps, "%s %#llx plus %llu bytes runs past the end of the address space",
                    what, (unsigned long long)start, (unsigned long long)bytes);
    return 0;
}

/* "expect V" at tok[i], tok[i + 1], if there are any operands left. */
static int optional_expect(struct parser *ps, const struct verb *v,
                           const struct gs_token *tok, int n, int i,
                           struct guest_op *op)
{
    if (n == i)
        return 0;
    if (n != i + 2 || !gs_is(&tok[i], "expect"))
        return usage(ps, v);
    op->has_expect = 1;
    return value_operand(ps, &tok[i + 1], "expected value", op->size, &op->value);
}

static int pool_add(struct parser *ps, const void *data, size_t len, uint64_t *off)
{
    struct guest_script *s = ps->s;

    if (s->pool_len + len > ps->pool_cap) {
        size_t cap = ps->pool_cap ? ps->pool_cap : 256;
        while (cap < s->pool_len + len)
            cap *= 2;
        uint8_t *p = realloc(s->pool, cap);
        if (!p)
            return -ENOMEM;
        s->pool = p;
        ps->pool_cap = cap;
    }
    memcpy(s->pool + s->pool_len, data, len);
    *off = s->pool_len;
    s->pool_len += len;
    return 0;
}

/* ---- verbs ---- */

/* out PORT SIZE VALUE / in PORT SIZE [expect V] */
static int parse_pio(struct parser *ps, const struct verb *v,
                     const struct gs_token *tok, int n, struct guest_op *op)
{
    bool write = op->kind == GOP_OUT;
    unsigned int size;
    int rc;

    if (write ? n != 3 : n < 2)
        return usage(ps, v);
    if ((rc = size_operand(ps, &tok[1], SIZES_PIO, &size)))
        return rc;
    op->size = (uint8_t)size;
    if ((rc = port_operand(ps, &tok[0], size, &op->addr)))
        return rc;
    if (write)
        return value_operand(ps, &tok[2], "VALUE", size, &op->value);
    return optional_expect(ps, v, tok, n, 2, op);
}

/* mmio-write ADDR SIZE VALUE / mmio-read ADDR SIZE [expect V] */
static int parse_mmio(struct parser *ps, const struct verb *v,
                      const struct gs_token *tok, int n, struct guest_op *op)
{
    bool write = op->kind == GOP_MMIO_WRITE;
    unsigned int size;
    int rc;

    if (write ? n != 3 : n < 2)
        return usage(ps, v);
    if ((rc = number(ps, &tok[0], "ADDR", UINT64_MAX, &op->addr)) ||
        (rc = size_operand(ps, &tok[1], SIZES_ALL, &size)) ||
        (rc = span(ps, "ADDR", op->addr, size)))
        return rc;
    op->size = (uint8_t)size;
    if (write)
        return value_operand(ps, &tok[2], "VALUE", size, &op->value);
    return optional_expect(ps, v, tok, n, 2, op);
}

/* pci-write BB:DD.F REG SIZE VALUE / pci-read BB:DD.F REG SIZE [expect V] */
static int parse_pci(struct parser *ps, const struct verb *v,
                     const struct gs_token *tok, int n, struct guest_op *op)
{
    bool write = op->kind == GOP_PCI_WRITE;
    unsigned int bus, dev, fn, size;
    uint64_t reg;
    int rc;

    if (write ? n != 4 : n < 3)
        return usage(ps, v);
    if (gs_pci_addr(&tok[0], &bus, &dev, &fn))
        return fail(ps, "PCI address '%.*s' is not BB:DD.F (hex, device up to 1f, function up to 7)",
                    TOK(&tok[0]));
    if ((rc = number(ps, &tok[1], "REG", 0xff, &reg)) ||
        (rc = size_operand(ps, &tok[2], SIZES_PIO, &size)))
        return rc;
    if ((reg & 3) + size > 4)
        return fail(ps, "a %u-byte access at register %#llx crosses a dword boundary",
                    size, (unsigned long long)reg);
    op->size = (uint8_t)size;
    op->aux = 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
    op->addr = PCI_CONF_DATA + (reg & 3);
    if (write)
        return value_operand(ps, &tok[3], "VALUE", size, &op->value);
    return optional_expect(ps, v, tok, n, 3, op);
}

static int rep_count(struct parser *ps, const struct gs_token *t, uint32_t *count)
{
    uint64_t c;

    if (gs_number(t, GUEST_SCRIPT_MAX_REP, &c) || c == 0)
        return fail(ps, "COUNT '%.*s' is not a number from 1 to %u", TOK(t),
                    GUEST_SCRIPT_MAX_REP);
    *count = (uint32_t)c;
    return 0;
}

/* rep-outs[bwl] / rep-ins[bwl] PORT GPA COUNT */
static int parse_rep_pio(struct parser *ps, const struct verb *v,
                         const struct gs_token *tok, int n, struct guest_op *op)
{
    int rc;

    if (n != 3)
        return usage(ps, v);
    op->size = v->size;
    if ((rc = port_operand(ps, &tok[0], v->size, &op->addr)) ||
        (rc = number(ps, &tok[1], "GPA", UINT64_MAX, &op->aux)) ||
        (rc = rep_count(ps, &tok[2], &op->count)))
        return rc;
    return span(ps, "GPA", op->aux, (uint64_t)op->count * v->size);
}

/* rep-mmio-write / rep-mmio-read ADDR SIZE GPA COUNT */
static int parse_rep_mmio(struct parser *ps, const struct verb *v,
                          const struct gs_token *tok, int n, struct guest_op *op)
{
    unsigned int size;
    int rc;

    if (n != 4)
        return usage(ps, v);
    if ((rc = number(ps, &tok[0], "ADDR", UINT64_MAX, &op->addr)) ||
        (rc = size_operand(ps, &tok[1], SIZES_ALL, &size)) ||
        (rc = number(ps, &tok[2], "GPA", UINT64_MAX, &op->aux)) ||
        (rc = rep_count(ps, &tok[3], &op->count)))
        return rc;
    op->size = (uint8_t)size;
    uint64_t bytes = (uint64_t)op->count * size;
    if ((rc = span(ps, "ADDR", op->addr, bytes)))
        return rc;
    return span(ps, "GPA", op->aux, bytes);
}

/* Decode a data operand into the pool: op->aux = offset, op->count = length. */
static int data_operand(struct parser *ps, const struct gs_token *t,
                        struct guest_op *op)
{
    const char *why = NULL;
    long len = gs_data(t, ps->scratch, GUEST_SCRIPT_MAX_DATA, &why);

    if (len < 0)
        return fail(ps, "bad data '%.*s': %s", TOK(t), why);
    op->count = (uint32_t)len;
    return pool_add(ps, ps->scratch, (size_t)len, &op->aux);
}

/* mem-write GPA DATA */
static int parse_mem_write(struct parser *ps, const struct verb *v,
                           const struct gs_token *tok, int n, struct guest_op *op)
{
    int rc;

    if (n != 2)
        return usage(ps, v);
    if ((rc = number(ps, &tok[0], "GPA", UINT64_MAX, &op->addr)) ||
        (rc = data_operand(ps, &tok[1], op)))
        return rc;
    return span(ps, "GPA", op->addr, op->count);
}

/* mem-read GPA LEN expect DATA */
static int parse_mem_read(struct parser *ps, const struct verb *v,
                          const struct gs_token *tok, int n, struct guest_op *op)
{
    uint64_t len;
    int rc;

    if (n != 4 || !gs_is(&tok[2], "expect"))
        return usage(ps, v);
    if ((rc = number(ps, &tok[0], "GPA", UINT64_MAX, &op->addr)))
        return rc;
    if (gs_number(&tok[1], GUEST_SCRIPT_MAX_DATA, &len) || len == 0)
        return fail(ps, "LEN '%.*s' is not a number from 1 to %u", TOK(&tok[1]),
                    GUEST_SCRIPT_MAX_DATA);
    if ((rc = data_operand(ps, &tok[3], op)))
        return rc;
    if (op->count != len)
        return fail(ps, "LEN is %llu but %u bytes are expected",
                    (unsigned long long)len, op->count);
    op->has_expect = 1;
    return span(ps, "GPA", op->addr, op->count);
}

static int intx_pin(const struct gs_token *t)
{
    if (t->len == 1 && t->p[0] >= 'A' && t->p[0] <= 'D')
        return t->p[0];
    if (t->len == 4 && memcmp(t->p, "INT", 3) == 0 && t->p[3] >= 'A' && t->p[3] <= 'D')
        return t->p[3];
    return -1;
}

/* The interrupt part of wait-irq: how many tokens it used, or -EINVAL. */
static int irq_what(struct parser *ps, const struct verb *v,
                    const struct gs_token *tok, int n, char *what, size_t len)
{
    uint64_t irq;
    int rc;

    if (n >= 1 && gs_is(&tok[0], "msi")) {
        snprintf(what, len, "msi");
        return 1;
    }
    if (n >= 1 && gs_is(&tok[0], "intx")) {
        unsigned int bus, dev, fn;
        if (n < 3)
            return fail(ps, "intx needs a PCI address and a pin: intx 00:DD.F A|B|C|D");
        if (gs_pci_addr(&tok[1], &bus, &dev, &fn))
            return fail(ps, "PCI address '%.*s' is not BB:DD.F (hex, device up to 1f, function up to 7)",
                        TOK(&tok[1]));
        if (bus != 0)
            return fail(ps, "INTx is only delivered for bus 00, not %02x", bus);
        int pin = intx_pin(&tok[2]);
        if (pin < 0)
            return fail(ps, "INTx pin '%.*s' is not A, B, C or D", TOK(&tok[2]));
        snprintf(what, len, "intx %02x:%02x.%x %c", bus, dev, fn, pin);
        return 3;
    }
    int used = n >= 1 && gs_is(&tok[0], "isa") ? 1 : 0;
    if (n <= used)
        return usage(ps, v);
    if ((rc = number(ps, &tok[used], "ISA IRQ", 15, &irq)))
        return rc;
    snprintf(what, len, "isa %u", (unsigned int)irq);
    return used + 1;
}

/* wait-irq N | isa N | msi | intx BB:DD.F PIN, then [timeout MS] */
static int parse_wait_irq(struct parser *ps, const struct verb *v,
                          const struct gs_token *tok, int n, struct guest_op *op)
{
    char what[32];
    uint64_t ms = GUEST_SCRIPT_IRQ_TIMEOUT_MS;
    int used = irq_what(ps, v, tok, n, what, sizeof(what));

    if (used < 0)
        return used;
    if (n != used) {
        if (n != used + 2 || !gs_is(&tok[used], "timeout"))
            return usage(ps, v);
        int rc = number(ps, &tok[used + 1], "timeout", GUEST_SCRIPT_MAX_MS, &ms);
        if (rc)
            return rc;
    }
    op->count = (uint32_t)ms;
    return pool_add(ps, what, strlen(what) + 1, &op->aux);
}

static int parse_none(struct parser *ps, const struct verb *v,
                      const struct gs_token *tok, int n, struct guest_op *op)
{
    (void)tok;
    (void)op;
    return n ? usage(ps, v) : 0;
}

static int parse_timeoffset(struct parser *ps, const struct verb *v,
                            const struct gs_token *tok, int n, struct guest_op *op)
{
    int64_t delta;

    if (n != 1)
        return usage(ps, v);
    if (gs_signed(&tok[0], &delta))
        return fail(ps, "DELTA '%.*s' is not a signed 64-bit number", TOK(&tok[0]));
    op->value = (uint64_t)delta;
    return 0;
}

static int parse_sleep(struct parser *ps, const struct verb *v,
                       const struct gs_token *tok, int n, struct guest_op *op)
{
    uint64_t ms;
    int rc;

    if (n != 1)
        return usage(ps, v);
    if ((rc = number(ps, &tok[0], "MS", GUEST_SCRIPT_MAX_MS, &ms)))
        return rc;
    op->count = (uint32_t)ms;
    return 0;
}

static const struct verb verbs[] = {
    { "out", GOP_OUT, 0, "out PORT SIZE VALUE", parse_pio },
    { "in", GOP_IN, 0, "in PORT SIZE [expect V]", parse_pio },
    { "mmio-write", GOP_MMIO_WRITE, 0, "mmio-write ADDR SIZE VALUE", parse_mmio },
    { "mmio-read", GOP_MMIO_READ, 0, "mmio-read ADDR SIZE [expect V]", parse_mmio },
    { "pci-write", GOP_PCI_WRITE, 0, "pci-write BB:DD.F REG SIZE VALUE", parse_pci },
    { "pci-read", GOP_PCI_READ, 0, "pci-read BB:DD.F REG SIZE [expect V]", parse_pci },
    { "rep-outsb", GOP_REP_OUT, 1, "rep-outsb PORT GPA COUNT", parse_rep_pio },
    { "rep-outsw", GOP_REP_OUT, 2, "rep-outsw PORT GPA COUNT", parse_rep_pio },
    { "rep-outsl", GOP_REP_OUT, 4, "rep-outsl PORT GPA COUNT", parse_rep_pio },
    { "rep-insb", GOP_REP_IN, 1, "rep-insb PORT GPA COUNT", parse_rep_pio },
    { "rep-insw", GOP_REP_IN, 2, "rep-insw PORT GPA COUNT", parse_rep_pio },
    { "rep-insl", GOP_REP_IN, 4, "rep-insl PORT GPA COUNT", parse_rep_pio },
    { "rep-mmio-write", GOP_REP_MMIO_WRITE, 0, "rep-mmio-write ADDR SIZE GPA COUNT",
      parse_rep_mmio },
    { "rep-mmio-read", GOP_REP_MMIO_READ, 0, "rep-mmio-read ADDR SIZE GPA COUNT",
      parse_rep_mmio },
    { "mem-write", GOP_MEM_WRITE, 0, "mem-write GPA \"bytes\"|hex:..", parse_mem_write },
    { "mem-read", GOP_MEM_READ, 0, "mem-read GPA LEN expect \"bytes\"|hex:..",
      parse_mem_read },
    { "wait-irq", GOP_WAIT_IRQ, 0,
      "wait-irq N|isa N|msi|intx 00:DD.F PIN [timeout MS]", parse_wait_irq },
    { "invalidate", GOP_INVALIDATE, 0, "invalidate", parse_none },
    { "timeoffset", GOP_TIMEOFFSET, 0, "timeoffset DELTA", parse_timeoffset },
    { "sleep", GOP_SLEEP, 0, "sleep MS", parse_sleep },
};

static struct guest_op *new_op(struct parser *ps)
{
    struct guest_script *s = ps->s;

    if (s->nr_ops == ps->ops_cap) {
        size_t cap = ps->ops_cap ? 2 * ps->ops_cap : 16;
        struct guest_op *ops = reallocarray(s->ops, cap, sizeof(*ops));
        if (!ops)
            return NULL;
        s->ops = ops;
        ps->ops_cap = cap;
    }
    struct guest_op *op = &s->ops[s->nr_ops];
    memset(op, 0, sizeof(*op));
    op->line = ps->line;
    return op;
}

static int parse_line(struct parser *ps, const char *line, size_t len)
{
    struct gs_token tok[GS_MAX_TOKENS], comment;
    const char *why = NULL;
    int n = gs_split(line, len, tok, &comment, &why);

    if (n < 0)
        return fail(ps, "%s", why);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        const struct verb *v = &verbs[i];
        if (!gs_is(&tok[0], v->name))
            continue;
        struct guest_op *op = new_op(ps);
        if (!op)
            return -ENOMEM;
        op->kind = v->kind;
        if (gs_timing_comment(&comment))
            op->flags |= GOP_F_TIMING;
        int rc = v->parse(ps, v, tok + 1, n - 1, op);
        if (rc == 0)
            ps->s->nr_ops++;
        return rc;
    }
    return fail(ps, "unknown verb '%.*s'", TOK(&tok[0]));
}

static int parse_text(struct parser *ps, const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (ps->line == UINT32_MAX)
            return fail(ps, "too many lines");
        ps->line++;
        int rc = parse_line(ps, p, len);
        if (rc)
            return rc;
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

int guest_script_parse(const char *name, const char *text,
                       struct guest_script **out, char *err, size_t errlen)
{
    struct parser ps = { .name = name ? name : "(script)", .err = err,
                         .errlen = err ? errlen : 0 };
    int rc = -ENOMEM;

    if (err && errlen)
        err[0] = '\0';
    if (!text || !out)
        return -EINVAL;
    ps.s = calloc(1, sizeof(*ps.s));
    ps.scratch = malloc(GUEST_SCRIPT_MAX_DATA);
    if (ps.s && ps.scratch && (ps.s->name = strdup(ps.name)))
        rc = parse_text(&ps, text);
    free(ps.scratch);
    if (rc == -ENOMEM)
        snprintf(ps.err, ps.errlen, "%s: out of memory", ps.name);
    if (rc) {
        guest_script_free(ps.s);
        return rc;
    }
    *out = ps.s;
    return 0;
}

void guest_script_free(struct guest_script *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->ops);
    free(s->pool);
    free(s);
}

const char *guest_script_name(const struct guest_script *s)
{
    return s->name;
}

size_t guest_script_length(const struct guest_script *s)
{
    return s->nr_ops;
}

const struct guest_op *guest_script_ops(const struct guest_script *s)
{
    return s->ops;
}

const uint8_t *guest_script_pool(const struct guest_script *s, size_t *len)
{
    if (len)
        *len = s->pool_len;
    return s->pool;
}
