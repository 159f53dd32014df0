/*
 * A 16550A model wired to a recording line and interrupt line, for the
 * register-level tests.  Header-only: each test program includes it once.
 */
#ifndef UART_FIXTURE_H
#define UART_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "uart16550.h"

struct fixture {
    struct uart16550 u;
    uint8_t out[4096];      /* what the line took */
    size_t out_len;
    size_t line_room;       /* bytes the line takes before it is busy */
    unsigned int tx_calls;
    unsigned int irq_calls; /* level changes reported */
    unsigned int irq_rises; /* of which rising edges */
    bool irq;
};

static size_t fx_tx(void *opaque, const uint8_t *buf, size_t len)
{
    struct fixture *f = opaque;
    size_t n = len < f->line_room ? len : f->line_room;

    f->tx_calls++;
    assert_true(f->out_len + n <= sizeof(f->out));
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    f->line_room -= n;
    return n;
}

static void fx_irq(void *opaque, bool level)
{
    struct fixture *f = opaque;

    assert_true(level != f->irq); /* only changes are reported */
    f->irq = level;
    f->irq_calls++;
    if (level)
        f->irq_rises++;
}

static const struct uart16550_ops fx_ops = { .tx = fx_tx, .irq = fx_irq };

static int fx_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->line_room = SIZE_MAX;
    uart16550_init(&f->u, &fx_ops, f);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    free(*state);
    return 0;
}

static inline uint8_t rd(struct fixture *f, unsigned int reg)
{
    return uart16550_read(&f->u, reg);
}

static inline void wr(struct fixture *f, unsigned int reg, uint8_t v)
{
    uart16550_write(&f->u, reg, v);
}

static inline void rx(struct fixture *f, const char *s)
{
    uart16550_receive(&f->u, (const uint8_t *)s, strlen(s));
}

#define FX struct fixture *f = *state

#endif /* UART_FIXTURE_H */
