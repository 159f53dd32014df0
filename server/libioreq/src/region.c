/*
 * Regions as the public API sees them: registering, moving and removing
 * port and MMIO regions, and placing them in the region table and, when
 * this context maps them itself, on the server.  A standalone context maps
 * every region it places; an attached one maps only its PCI functions'
 * BARs (the router maps the fixed ranges, but only the emulator knows
 * where the guest puts a BAR).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "internal.h"

static bool maps_on_server(const struct ioreq_region *r)
{
    return r->ctx->created || r->is_bar;
}

static int server_map(struct ioreq_region *r, bool map)
{
    struct ioreq_ctx *ctx = r->ctx;
    int is_mmio = r->space == SPACE_MMIO;
    uint64_t first = r->base, last = r->base + (r->len - 1);
    int rc = map ? xendevicemodel_map_io_range_to_ioreq_server(ctx->dm, ctx->domid, ctx->id,
                                                               is_mmio, first, last)
                 : xendevicemodel_unmap_io_range_from_ioreq_server(ctx->dm, ctx->domid,
                                                                   ctx->id, is_mmio, first,
                                                                   last);
    return rc ? -(errno ? errno : EIO) : 0;
}

static const char *space_name(const struct ioreq_region *r)
{
    return r->space == SPACE_PORT ? "port" : "MMIO";
}

int region_place(struct ioreq_region *r, uint64_t base)
{
    struct ioreq_ctx *ctx = r->ctx;

    if (r->placed || !rt_range_ok(r->space, base, r->len))
        return -EINVAL;
    r->base = base;
    int rc = rt_insert(&ctx->rt[r->space], r);
    if (rc)
        return rc;
    if (maps_on_server(r)) {
        rc = server_map(r, true);
        if (rc == -EEXIST && !ctx->created) {
            /*
             * Attached: the server already has it (its owner, or our previous
             * instance).  A BAR's range can only be ours: adopt it, so that
             * moving the BAR later unmaps it instead of leaking it.
             */
            ctx_log(ctx, IOREQ_LOG_DEBUG, "%s range 0x%" PRIx64 "+0x%" PRIx64
                    " is already mapped on the server", space_name(r), base, r->len);
            r->server_mapped = r->is_bar;
            rc = 0;
        } else if (rc) {
            rt_remove(&ctx->rt[r->space], r);
            ctx_log(ctx, IOREQ_LOG_WARNING, "cannot map %s range 0x%" PRIx64 "+0x%" PRIx64
                    " on ioreq server %u: errno %d", space_name(r), base, r->len, ctx->id, -rc);
            return rc;
        } else {
            r->server_mapped = true;
        }
    }
    r->placed = true;
    return 0;
}

void region_unplace(struct ioreq_region *r)
{
    if (!r->placed)
        return;
    if (r->server_mapped) {
        int rc = server_map(r, false);
        if (rc)
            ctx_log(r->ctx, IOREQ_LOG_WARNING, "cannot unmap %s range 0x%" PRIx64 "+0x%" PRIx64
                    " from ioreq server %u: errno %d", space_name(r), r->base, r->len,
                    r->ctx->id, -rc);
        r->server_mapped = false;
    }
    rt_remove(&r->ctx->rt[r->space], r);
    r->placed = false;
}

static int add_region(struct ioreq_ctx *ctx, unsigned int space, uint64_t base, uint64_t len,
                      const struct ioreq_region_ops *ops, void *opaque,
                      struct ioreq_region **out)
{
    if (!ctx || !ops || !rt_range_ok(space, base, len))
        return -EINVAL;
    struct ioreq_region *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    *r = (struct ioreq_region){ .ctx = ctx, .space = (uint8_t)space, .len = len, .ops = *ops,
                                .opaque = opaque };
    int rc = region_place(r, base);
    if (rc) {
        free(r);
        return rc;
    }
    r->next = ctx->regions;
    if (r->next)
        r->next->prev = r;
    ctx->regions = r;
    if (out)
        *out = r;
    return 0;
}

int ioreq_add_port_region(struct ioreq_ctx *ctx, uint16_t base, uint32_t len,
                          const struct ioreq_region_ops *ops, void *opaque,
                          struct ioreq_region **out)
{
    return add_region(ctx, SPACE_PORT, base, len, ops, opaque, out);
}

int ioreq_add_mmio_region(struct ioreq_ctx *ctx, uint64_t base, uint64_t len,
                          const struct ioreq_region_ops *ops, void *opaque,
                          struct ioreq_region **out)
{
    return add_region(ctx, SPACE_MMIO, base, len, ops, opaque, out);
}

int ioreq_region_move(struct ioreq_region *r, uint64_t new_base)
{
    if (!r || r->is_bar || !rt_range_ok(r->space, new_base, r->len))
        return -EINVAL;
    if (r->placed && new_base == r->base)
        return 0;
    uint64_t old = r->base;
    bool was_placed = r->placed;

    region_unplace(r);
    int rc = region_place(r, new_base);
    if (rc && was_placed && region_place(r, old))
        ctx_log(r->ctx, IOREQ_LOG_ERROR, "%s region 0x%" PRIx64 "+0x%" PRIx64
                " could not be put back after a failed move", space_name(r), old, r->len);
    return rc;
}

static void unlink_region(struct ioreq_region *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->ctx->regions = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

void ioreq_region_remove(struct ioreq_region *r)
{
    if (!r || r->is_bar)
        return;
    region_unplace(r);
    unlink_region(r);
    free(r);
}

void region_free_all(struct ioreq_ctx *ctx)
{
    while (ctx->regions) {
        struct ioreq_region *r = ctx->regions;
        if (ctx->created)
            r->server_mapped = false; /* the server goes, and its ranges with it */
        region_unplace(r);
        unlink_region(r);
        free(r);
    }
}
