/*
 * One request, wherever it came from (a vCPU slot or the buffered ring):
 * check it, then hand each element to the region or PCI function that
 * covers it now (looked up at this moment: regions move), with guest
 * memory for data_is_ptr.  Nothing here trusts the request.
 */
#include <inttypes.h>

#include "bufring.h"
#include "internal.h"
#include "strio.h"
#include "validate.h"

/* Malformed requests are logged this many times, then counted only. */
#define INVALID_LOG_MAX 16

static void complain(struct ioreq_ctx *ctx, const char *what, const ioreq_t *req)
{
    if (ctx->invalid_logged >= INVALID_LOG_MAX)
        return;
    ctx->invalid_logged++;
    if (req)
        ctx_log(ctx, IOREQ_LOG_WARNING,
                "malformed request (%s): type %u addr 0x%" PRIx64 " size %u count %u%s",
                what, req->type, req->addr, req->size, req->count,
                ctx->invalid_logged == INVALID_LOG_MAX ? "; no more of these are logged" : "");
    else
        ctx_log(ctx, IOREQ_LOG_WARNING, "%s%s", what,
                ctx->invalid_logged == INVALID_LOG_MAX ? "; no more of these are logged" : "");
}

static void access_region(struct ioreq_ctx *ctx, unsigned int space, uint64_t addr,
                          unsigned int size, bool write, uint64_t *value)
{
    struct ioreq_region *r = rt_find(&ctx->rt[space], addr, size);

    if (!r) {
        ctx->stats.unhandled++;
        if (!write)
            *value = ioreq_ones(size);
        return;
    }
    uint64_t off = addr - r->base;
    /* The callback may remove or move the region: r is not used after it. */
    if (write) {
        if (r->ops.write)
            r->ops.write(r->opaque, off, size, *value & ioreq_ones(size));
    } else {
        *value = r->ops.read ? r->ops.read(r->opaque, off, size) & ioreq_ones(size)
                             : ioreq_ones(size);
    }
}

static void access_element(void *opaque, uint8_t type, uint64_t addr, unsigned int size,
                           bool write, uint64_t *value)
{
    struct ioreq_ctx *ctx = opaque;

    switch (type) {
    case IOREQ_TYPE_PIO:
        access_region(ctx, SPACE_PORT, addr, size, write, value);
        break;
    case IOREQ_TYPE_COPY:
        access_region(ctx, SPACE_MMIO, addr, size, write, value);
        break;
    default: /* IOREQ_TYPE_PCI_CONFIG: SBDF << 32 | register */
        if (!pci_config_access(ctx, (uint32_t)(addr >> 32), (uint32_t)addr, size, write,
                               value)) {
            ctx->stats.unhandled++;
            if (!write)
                *value = ioreq_ones(size);
        }
        break;
    }
}

static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    return gmem_copy(opaque, gpa, buf, len, false);
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    return gmem_copy(opaque, gpa, (void *)buf, len, true);
}

void serve_request(struct ioreq_ctx *ctx, ioreq_t *req)
{
    const char *bad = req_check(req);

    if (bad) {
        ctx->stats.invalid++;
        complain(ctx, bad, req);
        req_answer_unhandled(req);
        return;
    }
    switch (req->type) {
    case IOREQ_TYPE_INVALIDATE:
        gmem_invalidate(ctx);
        return;
    case IOREQ_TYPE_TIMEOFFSET:
        if (ctx->timeoffset)
            ctx->timeoffset(ctx->timeoffset_opaque, (int64_t)req->data);
        return;
    default:
        break;
    }
    const struct strio_env env = { .opaque = ctx, .access = access_element,
                                   .mem_read = mem_read, .mem_write = mem_write };
    if (strio_run(&env, req) < 0)
        ctx_log(ctx, IOREQ_LOG_WARNING,
                "%s of %u x %u bytes: guest memory from 0x%" PRIx64 " is not accessible; "
                "stopped part way",
                req->dir == IOREQ_READ ? "string read" : "string write", req->count,
                req->size, req->data);
}

static void ring_handle(void *opaque, const ioreq_t *req)
{
    ioreq_t copy = *req;

    serve_request(opaque, &copy);
}

static void ring_complain(void *opaque, const char *what)
{
    complain(opaque, what, NULL);
}

unsigned int serve_ring(struct ioreq_ctx *ctx)
{
    if (!ctx->bufpage)
        return 0;
    struct bufring_result res = bufring_drain(ctx->bufpage, ring_handle, ring_complain, ctx);
    ctx->stats.buffered += res.served;
    ctx->stats.invalid += res.skipped + (res.reset ? 1 : 0);
    return res.served;
}
