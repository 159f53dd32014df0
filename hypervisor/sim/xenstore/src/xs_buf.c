/* A growable byte buffer with a read offset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_buf.h"

int xsim_buf_append(struct xsim_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->off > 0 && b->len + n > b->cap) {
        /* Reclaim consumed space before growing. */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *d;

        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2)
                return -ENOMEM;
            cap *= 2;
        }
        d = realloc(b->data, cap);
        if (!d)
            return -ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void xsim_buf_consume(struct xsim_buf *b, size_t n)
{
    if (n > b->len - b->off)
        n = b->len - b->off;
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void xsim_buf_free(struct xsim_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
