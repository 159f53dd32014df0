/* Request validation (see validate.h). */
#include "validate.h"

/* Do `count` elements of `size` from `first` (downwards if df) stay in 64 bits? */
static bool span_ok(uint64_t first, uint32_t count, uint32_t size, bool df)
{
    uint64_t rest = (uint64_t)(count - 1) * size; /* distance to the last element */

    if (df)
        return first >= rest && first + (size - 1) >= first;
    return first + rest >= first && first + rest + (size - 1) >= first + rest;
}

const char *req_check(const ioreq_t *req)
{
    uint32_t size = req->size, count = req->count;

    switch (req->type) {
    case IOREQ_TYPE_INVALIDATE:
    case IOREQ_TYPE_TIMEOFFSET:
        return NULL;
    case IOREQ_TYPE_PIO:
    case IOREQ_TYPE_COPY:
    case IOREQ_TYPE_PCI_CONFIG:
        break;
    default:
        return "unknown request type";
    }
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return "bad size";
    if (req->type == IOREQ_TYPE_PCI_CONFIG && size == 8)
        return "8-byte PCI config access";
    if (count == 0)
        return "zero count";
    if ((uint64_t)count * size > IOREQ_MAX_BYTES)
        return "too many elements";
    if (req->type == IOREQ_TYPE_PIO && req->addr > 0xffff)
        return "port beyond 0xffff";
    if (req->type == IOREQ_TYPE_PCI_CONFIG &&
        (uint32_t)req->addr + (uint64_t)size > PCI_CONFIG_SPACE_SIZE)
        return "PCI config register beyond 0xfff";
    if (req->type == IOREQ_TYPE_COPY && !span_ok(req->addr, count, size, req->df))
        return "MMIO range wraps";
    if (req->data_is_ptr && !span_ok(req->data, count, size, req->df))
        return "guest buffer wraps";
    return NULL;
}

void req_answer_unhandled(ioreq_t *req)
{
    /*
     * All ones whatever the (untrusted) fields say: Xen takes `data` from
     * the slot only for a read without data_is_ptr, as its own copy of the
     * request says, and then only `size` bytes of it.
     */
    req->data = UINT64_MAX;
}
