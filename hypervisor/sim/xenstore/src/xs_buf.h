/* A growable byte buffer with a read offset: message input and output queues. */
#ifndef XSIM_BUF_H
#define XSIM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct xsim_buf {
    uint8_t *data;
    size_t off;  /* first unconsumed byte */
    size_t len;  /* end of valid bytes */
    size_t cap;
};

/* Bytes not yet consumed. */
static inline size_t xsim_buf_avail(const struct xsim_buf *b)
{
    return b->len - b->off;
}

static inline const uint8_t *xsim_buf_head(const struct xsim_buf *b)
{
    return b->data + b->off;
}

int xsim_buf_append(struct xsim_buf *b, const void *p, size_t n); /* 0 / -ENOMEM */
void xsim_buf_consume(struct xsim_buf *b, size_t n);
void xsim_buf_free(struct xsim_buf *b);

#endif
