/* The elements of an access request (see strio.h). */
#include <string.h>

#include "strio.h"
#include "validate.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "guest memory elements are copied as little-endian values");

static uint64_t step(uint64_t first, uint32_t i, uint32_t size, bool df)
{
    uint64_t d = (uint64_t)i * size;

    return df ? first - d : first + d;
}

int strio_run(const struct strio_env *env, ioreq_t *req)
{
    uint32_t size = req->size, count = req->count;
    bool write = req->dir == IOREQ_WRITE, df = req->df;
    bool moves = req->type == IOREQ_TYPE_COPY; /* ports and config registers stay put */
    uint64_t last = 0;

    for (uint32_t i = 0; i < count; i++) {
        uint64_t addr = moves ? step(req->addr, i, size, df) : req->addr;
        uint64_t value = 0;

        if (!req->data_is_ptr) {
            value = req->data;
            env->access(env->opaque, req->type, addr, size, write, &value);
            last = value;
            continue;
        }
        uint64_t gpa = step(req->data, i, size, df);
        int rc;
        if (write) {
            rc = env->mem_read(env->opaque, gpa, &value, size);
            if (rc < 0)
                return rc;
            env->access(env->opaque, req->type, addr, size, true, &value);
        } else {
            env->access(env->opaque, req->type, addr, size, false, &value);
            value &= ioreq_ones(size);
            rc = env->mem_write(env->opaque, gpa, &value, size);
            if (rc < 0)
                return rc;
        }
    }
    if (!write && !req->data_is_ptr)
        req->data = last & ioreq_ones(size);
    return 0;
}
