/* Guest scripts: the interpreter, one parsed script against one vCPU. */
#define _GNU_SOURCE /* strerror_r returning char * */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest_script_impl.h"
#include "guest_trace.h"

#define TRUNCATED_MARK "(report truncated)\n"
#define HEX_WINDOW 16 /* bytes shown of a long mem-read mismatch */

struct report {
    char *buf;
    size_t len, used;
    bool truncated;
};

struct exec {
    const struct guest_script *s;
    const struct guest_ops *ops;
    struct report r;
    int failures;
    /* The current line's result, for the trace. */
    struct guest_trace_result res;
    uint8_t *bytes; /* res.bytes when malloc'ed here */
    char why[128];  /* res.why */
};

/* ---- the report ---- */

__attribute__((format(printf, 3, 4)))
static void failure(struct exec *x, const struct guest_op *op, const char *fmt, ...)
{
    struct report *r = &x->r;
    char line[512];
    va_list ap;

    x->failures++;
    int n = snprintf(line, sizeof(line), "%s:%u: ", x->s->name, op->line);
    if (n >= 0 && (size_t)n < sizeof(line)) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }

    size_t need = strlen(line) + 1; /* and a newline */
    if (r->truncated || r->used + need + sizeof(TRUNCATED_MARK) > r->len) {
        r->truncated = true;
        return;
    }
    memcpy(r->buf + r->used, line, need - 1);
    r->buf[r->used + need - 1] = '\n';
    r->used += need;
    r->buf[r->used] = '\0';
}

static void report_finish(struct report *r)
{
    if (!r->len)
        return;
    if (r->truncated && r->used + sizeof(TRUNCATED_MARK) <= r->len) {
        memcpy(r->buf + r->used, TRUNCATED_MARK, sizeof(TRUNCATED_MARK));
        r->used += sizeof(TRUNCATED_MARK) - 1;
    }
    r->buf[r->used] = '\0';
}

static const char *describe(int err, char *buf, size_t len)
{
    switch (err) {
    case ESRCH: return "the vCPU or its domain is gone";
    case EIO: return "the domain crashed";
    case ECANCELED: return "the run was cancelled";
    default: return strerror_r(err, buf, len);
    }
}

/* A negative return from the host: report it and stop the run. */
static int stop(struct exec *x, const struct guest_op *op, int rc)
{
    char buf[128];
    const char *why = describe(-rc, buf, sizeof(buf));

    failure(x, op, "run stopped: %s failed: %s", guest_op_verb(op), why);
    snprintf(x->why, sizeof(x->why), "%s", why);
    x->res = (struct guest_trace_result){ .kind = GTR_STOPPED, .why = x->why };
    return rc;
}

static int unsupported(struct exec *x, const struct guest_op *op)
{
    failure(x, op, "run stopped: %s is not supported by this host", guest_op_verb(op));
    x->res = (struct guest_trace_result){ .kind = GTR_STOPPED,
                                          .why = "not supported by this host" };
    return -EOPNOTSUPP;
}

/* Tracing: the bytes now in guest memory at `gpa` are the line's result. */
static void result_from_memory(struct exec *x, uint64_t gpa, uint64_t len)
{
    if (!x->ops->trace)
        return;
    if (!x->ops->mem_read || !(x->bytes = malloc(len ? len : 1)) ||
        x->ops->mem_read(x->ops->ctx, gpa, x->bytes, len) < 0) {
        x->res.kind = GTR_FAULT;
        return;
    }
    x->res = (struct guest_trace_result){ .kind = GTR_BYTES, .bytes = x->bytes,
                                          .len = (uint32_t)len };
}

/* ---- accesses ---- */

static uint64_t size_mask(unsigned int size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* Emulate `p`; reads that nobody handled read as all ones.  0 or -errno. */
static int emulate(struct exec *x, const struct guest_op *op, ioreq_t *p)
{
    if (!x->ops->emulate)
        return unsupported(x, op);
    int rc = x->ops->emulate(x->ops->ctx, p);
    if (rc < 0)
        return stop(x, op, rc);
    if (p->dir == IOREQ_READ && !p->data_is_ptr)
        p->data = rc == HVIO_UNHANDLED ? size_mask(p->size) : p->data & size_mask(p->size);
    return rc;
}

static void check_value(struct exec *x, const struct guest_op *op, uint64_t got)
{
    x->res = (struct guest_trace_result){ .kind = GTR_VALUE, .value = got };
    if (op->has_expect && got != op->value) {
        x->res.mismatch = 1;
        failure(x, op, "expected 0x%llx, got 0x%llx", (unsigned long long)op->value,
                (unsigned long long)got);
    }
}

/* in/out, mmio-read/-write: one element, data in the ioreq. */
static int run_single(struct exec *x, const struct guest_op *op, uint8_t type, bool read)
{
    ioreq_t p = { .addr = op->addr, .data = read ? 0 : op->value, .count = 1,
                  .size = op->size, .dir = read ? IOREQ_READ : IOREQ_WRITE,
                  .type = type };
    int rc = emulate(x, op, &p);

    if (rc >= 0 && read)
        check_value(x, op, p.data);
    return rc < 0 ? rc : 0;
}

/* CF8 = the config address, then the data port access, under the guest's
 * config lock (if the host has one). */
static int run_pci(struct exec *x, const struct guest_op *op, bool read)
{
    ioreq_t p = { .addr = 0xcf8, .data = op->aux, .count = 1, .size = 4,
                  .dir = IOREQ_WRITE, .type = IOREQ_TYPE_PIO };

    if (x->ops->pci_config_lock)
        x->ops->pci_config_lock(x->ops->ctx);
    int rc = emulate(x, op, &p);
    if (rc >= 0)
        rc = run_single(x, op, IOREQ_TYPE_PIO, read);
    if (x->ops->pci_config_unlock)
        x->ops->pci_config_unlock(x->ops->ctx);
    return rc;
}

static int mem_error(struct exec *x, const struct guest_op *op, int rc,
                     uint64_t gpa, uint64_t len)
{
    if (rc != -EFAULT)
        return stop(x, op, rc);
    failure(x, op, "guest memory 0x%llx..0x%llx is outside guest RAM",
            (unsigned long long)gpa, (unsigned long long)(gpa + len - 1));
    x->res = (struct guest_trace_result){ .kind = GTR_FAULT };
    return 0;
}

/* What an unhandled rep-ins leaves in guest memory: all ones. */
static int fill_ones(struct exec *x, const struct guest_op *op, uint64_t gpa,
                     uint64_t len)
{
    uint8_t ones[512];

    if (!x->ops->mem_write)
        return unsupported(x, op);
    memset(ones, 0xff, sizeof(ones));
    for (uint64_t done = 0; done < len;) {
        size_t chunk = len - done < sizeof(ones) ? (size_t)(len - done) : sizeof(ones);
        int rc = x->ops->mem_write(x->ops->ctx, gpa + done, ones, chunk);
        if (rc < 0)
            return mem_error(x, op, rc, gpa, len);
        done += chunk;
    }
    return 0;
}

/*
 * COUNT elements, data in guest memory at GPA, ascending: one ioreq, unless
 * the host did fewer elements (p.count came back smaller, as Xen's internal
 * handlers do), when the rest is issued again, as a CPU re-executes a rep
 * instruction.
 */
static int run_rep(struct exec *x, const struct guest_op *op, uint8_t type, bool read)
{
    uint64_t bytes = (uint64_t)op->count * op->size;

    for (uint32_t done = 0; done < op->count;) {
        uint64_t offset = (uint64_t)done * op->size;
        uint32_t left = op->count - done;
        ioreq_t p = { .addr = type == IOREQ_TYPE_COPY ? op->addr + offset : op->addr,
                      .data = op->aux + offset, .count = left, .size = op->size,
                      .dir = read ? IOREQ_READ : IOREQ_WRITE, .data_is_ptr = 1,
                      .df = 0, .type = type };
        int rc = emulate(x, op, &p);

        if (rc < 0)
            return rc;
        uint32_t n = p.count >= 1 && p.count <= left ? p.count : left;
        if (rc == HVIO_UNHANDLED && read) {
            int before = x->failures;
            if ((rc = fill_ones(x, op, op->aux + offset, (uint64_t)n * op->size)) < 0)
                return rc;
            if (x->failures != before)
                return 0; /* outside guest RAM: reported once */
        }
        done += n;
    }
    if (read)
        result_from_memory(x, op->aux, bytes);
    return 0;
}

/* ---- guest memory ---- */

static int run_mem_write(struct exec *x, const struct guest_op *op)
{
    if (!x->ops->mem_write)
        return unsupported(x, op);
    int rc = x->ops->mem_write(x->ops->ctx, op->addr, x->s->pool + op->aux, op->count);
    return rc < 0 ? mem_error(x, op, rc, op->addr, op->count) : 0;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void mem_mismatch(struct exec *x, const struct guest_op *op,
                         const uint8_t *want, const uint8_t *got)
{
    char w[2 * HEX_WINDOW * 2 + 1], g[sizeof(w)];
    size_t len = op->count, first = 0;

    while (want[first] == got[first])
        first++;
    if (len <= 2 * HEX_WINDOW) {
        hex(w, want, len);
        hex(g, got, len);
        failure(x, op, "expected hex:%s, got hex:%s", w, g);
        return;
    }
    size_t n = len - first < HEX_WINDOW ? len - first : HEX_WINDOW;
    hex(w, want + first, n);
    hex(g, got + first, n);
    failure(x, op, "expected hex:%s, got hex:%s (bytes %zu..%zu of %zu)", w, g,
            first, first + n - 1, len);
}

static int run_mem_read(struct exec *x, const struct guest_op *op)
{
    const uint8_t *want = x->s->pool + op->aux;

    if (!x->ops->mem_read)
        return unsupported(x, op);
    uint8_t *got = malloc(op->count);
    if (!got)
        return stop(x, op, -ENOMEM);
    int rc = x->ops->mem_read(x->ops->ctx, op->addr, got, op->count);
    if (rc < 0) {
        rc = mem_error(x, op, rc, op->addr, op->count);
        free(got);
        return rc < 0 ? rc : 0;
    }
    x->bytes = got; /* freed after the trace line */
    x->res = (struct guest_trace_result){ .kind = GTR_BYTES, .bytes = got, .len = op->count };
    if (memcmp(want, got, op->count) != 0) {
        x->res.mismatch = 1;
        mem_mismatch(x, op, want, got);
    }
    return 0;
}

/* ---- the rest ---- */

static int run_wait_irq(struct exec *x, const struct guest_op *op)
{
    const char *what = (const char *)x->s->pool + op->aux;

    if (!x->ops->wait_irq)
        return unsupported(x, op);
    int rc = x->ops->wait_irq(x->ops->ctx, what, op->count);
    if (rc == -ETIMEDOUT) {
        failure(x, op, "expected interrupt %s within %u ms, got none", what, op->count);
        x->res.kind = GTR_TIMEOUT;
        return 0;
    }
    x->res.kind = GTR_IRQ;
    return rc < 0 ? stop(x, op, rc) : 0;
}

static int host_sleep(unsigned int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int run_other(struct exec *x, const struct guest_op *op)
{
    const struct guest_ops *o = x->ops;
    int rc;

    switch (op->kind) {
    case GOP_INVALIDATE:
        if (!o->invalidate)
            return unsupported(x, op);
        rc = o->invalidate(o->ctx);
        break;
    case GOP_TIMEOFFSET:
        if (!o->timeoffset)
            return unsupported(x, op);
        rc = o->timeoffset(o->ctx, (int64_t)op->value);
        break;
    default: /* GOP_SLEEP */
        rc = o->sleep ? o->sleep(o->ctx, op->count) : host_sleep(op->count);
        break;
    }
    return rc < 0 ? stop(x, op, rc) : 0;
}

static int run_op(struct exec *x, const struct guest_op *op)
{
    switch (op->kind) {
    case GOP_OUT: return run_single(x, op, IOREQ_TYPE_PIO, false);
    case GOP_IN: return run_single(x, op, IOREQ_TYPE_PIO, true);
    case GOP_MMIO_WRITE: return run_single(x, op, IOREQ_TYPE_COPY, false);
    case GOP_MMIO_READ: return run_single(x, op, IOREQ_TYPE_COPY, true);
    case GOP_PCI_WRITE: return run_pci(x, op, false);
    case GOP_PCI_READ: return run_pci(x, op, true);
    case GOP_REP_OUT: return run_rep(x, op, IOREQ_TYPE_PIO, false);
    case GOP_REP_IN: return run_rep(x, op, IOREQ_TYPE_PIO, true);
    case GOP_REP_MMIO_WRITE: return run_rep(x, op, IOREQ_TYPE_COPY, false);
    case GOP_REP_MMIO_READ: return run_rep(x, op, IOREQ_TYPE_COPY, true);
    case GOP_MEM_WRITE: return run_mem_write(x, op);
    case GOP_MEM_READ: return run_mem_read(x, op);
    case GOP_WAIT_IRQ: return run_wait_irq(x, op);
    default: return run_other(x, op);
    }
}

/* Run one line, and trace it if asked. */
static int step(struct exec *x, const struct guest_op *op)
{
    char line[GUEST_TRACE_LINE_MAX];

    x->res = (struct guest_trace_result){ .kind = GTR_OK };
    x->bytes = NULL;
    int rc = run_op(x, op);
    if (x->ops->trace) {
        guest_trace_line(line, op, x->s->pool, &x->res);
        x->ops->trace(x->ops->ctx, line);
    }
    free(x->bytes);
    return rc;
}

int guest_script_run(const struct guest_script *s, const struct guest_ops *ops,
                     char *report, size_t len)
{
    struct exec x = { .s = s, .ops = ops, .r = { .buf = report, .len = report ? len : 0 } };
    char end[GUEST_TRACE_LINE_MAX];

    if (!s || !ops)
        return -EINVAL;
    if (x.r.len)
        report[0] = '\0';
    for (size_t i = 0; i < s->nr_ops; i++)
        if (step(&x, &s->ops[i]) < 0)
            break;
    report_finish(&x.r);
    if (ops->trace) {
        guest_trace_end(end, (unsigned int)x.failures);
        ops->trace(ops->ctx, end);
    }
    return x.failures;
}
