/*
 * The server's pages, fetched with acquire_resource: frame 0 is the
 * buffered ring, frame 1 the ioreq page (one slot per vCPU).
 */
#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

#include <xen/memory.h>

int pages_map(struct ioreq_ctx *ctx, bool has_ring)
{
    void *addr = NULL;
    unsigned long first = has_ring ? XENMEM_resource_ioreq_server_frame_bufioreq
                                   : XENMEM_resource_ioreq_server_frame_ioreq(0);
    unsigned long count = has_ring ? 2 : 1;

    ctx->res = xenforeignmemory_map_resource(ctx->fmem, ctx->domid, XENMEM_resource_ioreq_server,
                                             ctx->id, first, count, &addr,
                                             PROT_READ | PROT_WRITE, 0);
    if (!ctx->res) {
        int e = errno ? errno : EIO;
        ctx_log(ctx, IOREQ_LOG_ERROR, "cannot map the pages of ioreq server %u: errno %d",
                ctx->id, e);
        return -e;
    }
    ctx->bufpage = has_ring ? addr : NULL;
    ctx->iopage = (shared_iopage_t *)((char *)addr + (has_ring ? PAGE_SIZE_4K : 0));
    return 0;
}

void pages_unmap(struct ioreq_ctx *ctx)
{
    if (ctx->res)
        xenforeignmemory_unmap_resource(ctx->fmem, ctx->res);
    ctx->res = NULL;
    ctx->iopage = NULL;
    ctx->bufpage = NULL;
}
