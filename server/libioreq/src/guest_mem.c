/*
 * Guest memory for DMA and data_is_ptr requests: mappings of aligned
 * groups of GMEM_BUCKET_PAGES pages, GMEM_ENTRIES of them kept (least
 * recently used goes), all dropped on IOREQ_TYPE_INVALIDATE (Xen sends it
 * when the guest's memory map changed under the mappings).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static void drop(struct ioreq_ctx *ctx, struct gmem_entry *e)
{
    if (e->used)
        xenforeignmemory_unmap(ctx->fmem, e->va, GMEM_BUCKET_PAGES);
    memset(e, 0, sizeof(*e));
}

void gmem_invalidate(struct ioreq_ctx *ctx)
{
    for (unsigned int i = 0; i < GMEM_ENTRIES; i++)
        drop(ctx, &ctx->gmem.e[i]);
}

static struct gmem_entry *bucket_entry(struct ioreq_ctx *ctx, uint64_t bucket)
{
    struct gmem *g = &ctx->gmem;
    struct gmem_entry *victim = &g->e[0];

    for (unsigned int i = 0; i < GMEM_ENTRIES; i++) {
        struct gmem_entry *e = &g->e[i];
        if (e->used && e->bucket == bucket) {
            e->stamp = ++g->clock;
            return e;
        }
        if (!e->used) {
            if (victim->used)
                victim = e; /* a free entry beats any used one */
        } else if (victim->used && e->stamp < victim->stamp) {
            victim = e;     /* else the least recently used */
        }
    }

    xen_pfn_t gfns[GMEM_BUCKET_PAGES];
    int err[GMEM_BUCKET_PAGES];
    for (unsigned int i = 0; i < GMEM_BUCKET_PAGES; i++)
        gfns[i] = (xen_pfn_t)(bucket * GMEM_BUCKET_PAGES + i);
    void *va = xenforeignmemory_map(ctx->fmem, ctx->domid, PROT_READ | PROT_WRITE,
                                    GMEM_BUCKET_PAGES, gfns, err);
    if (!va)
        return NULL;
    uint32_t ok = 0;
    for (unsigned int i = 0; i < GMEM_BUCKET_PAGES; i++)
        if (err[i] == 0)
            ok |= 1u << i;
    if (!ok) {
        xenforeignmemory_unmap(ctx->fmem, va, GMEM_BUCKET_PAGES);
        return NULL;
    }
    drop(ctx, victim);
    *victim = (struct gmem_entry){ .used = true, .bucket = bucket, .va = va, .ok = ok,
                                   .stamp = ++g->clock };
    return victim;
}

int gmem_copy(struct ioreq_ctx *ctx, uint64_t gpa, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;

    if (len == 0)
        return 0;
    if (gpa + (len - 1) < gpa)
        return -EFAULT;
    while (len) {
        uint64_t gfn = gpa >> PAGE_SHIFT_4K;
        size_t off = (size_t)(gpa & (PAGE_SIZE_4K - 1));
        size_t chunk = len < PAGE_SIZE_4K - off ? len : PAGE_SIZE_4K - off;
        struct gmem_entry *e = bucket_entry(ctx, gfn / GMEM_BUCKET_PAGES);
        unsigned int idx = (unsigned int)(gfn % GMEM_BUCKET_PAGES);

        if (!e || !(e->ok & (1u << idx)))
            return -EFAULT;
        uint8_t *page = e->va + ((size_t)idx << PAGE_SHIFT_4K) + off;
        if (write)
            memcpy(page, p, chunk);
        else
            memcpy(p, page, chunk);
        p += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return 0;
}

int ioreq_guest_read(struct ioreq_ctx *ctx, uint64_t gpa, void *buf, size_t len)
{
    if (!ctx || (!buf && len))
        return -EINVAL;
    return gmem_copy(ctx, gpa, buf, len, false);
}

int ioreq_guest_write(struct ioreq_ctx *ctx, uint64_t gpa, const void *buf, size_t len)
{
    if (!ctx || (!buf && len))
        return -EINVAL;
    return gmem_copy(ctx, gpa, (void *)buf, len, true);
}
