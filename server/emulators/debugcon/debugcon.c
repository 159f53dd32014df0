#include "debugcon.h"

void debugcon_init(struct debugcon *d, debugcon_sink_fn *sink, void *opaque)
{
    d->sink = sink;
    d->opaque = opaque;
    d->len = 0;
}

void debugcon_flush(struct debugcon *d)
{
    if (d->len == 0)
        return;
    if (d->sink)
        d->sink(d->opaque, d->line, d->len);
    d->len = 0;
}

void debugcon_putc(struct debugcon *d, uint8_t byte)
{
    d->line[d->len++] = (char)byte;
    if (byte == '\n' || d->len == DEBUGCON_LINE_MAX)
        debugcon_flush(d);
}

uint64_t debugcon_io_read(void *opaque, uint64_t offset, unsigned int size)
{
    (void)opaque;
    (void)offset;
    if (size >= 8)
        return ~UINT64_C(0xff) | DEBUGCON_READBACK;
    return ((UINT64_C(1) << (8 * size)) - 1) & (~UINT64_C(0xff) | DEBUGCON_READBACK);
}

void debugcon_io_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
    (void)offset;
    (void)size;
    debugcon_putc(opaque, (uint8_t)value);
}
