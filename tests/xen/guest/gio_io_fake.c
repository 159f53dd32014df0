/* Host fakes of the gio_io primitives (see gio_io_fake.h). */
#include <stddef.h>
#include <string.h>

#include "gio_io.h"
#include "gio_io_fake.h"

#define DEBUG_PORT 0xe9

struct gio_fake gio_fake;

static uint64_t size_mask(unsigned int size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

void gio_fake_console_byte(struct gio_fake *f, uint8_t c)
{
    bool printable = (c >= 0x20 && c <= 0x7e) || c >= 0xa0;

    if (!printable && c != '\t' && c != '\n')
        return;
    if (c != '\n')
        f->line[f->line_len++] = (char)c;
    if (f->line_len == sizeof(f->line) - 1 || c == '\n') {
        f->line[f->line_len] = '\0';
        if (f->console_line)
            f->console_line(f->console_ctx, f->line);
        f->line_len = 0;
    }
}

static uint64_t dev_read(bool mmio, uint64_t addr, unsigned int size)
{
    if (!gio_fake.dev_read)
        return size_mask(size);
    return gio_fake.dev_read(gio_fake.dev_ctx, mmio, addr, size) & size_mask(size);
}

static void dev_write(bool mmio, uint64_t addr, unsigned int size, uint64_t value)
{
    if (gio_fake.dev_write)
        gio_fake.dev_write(gio_fake.dev_ctx, mmio, addr, size, value & size_mask(size));
}

uint8_t *gio_ram(uint32_t gpa, uint32_t len)
{
    if (!gio_fake.ram || gpa > gio_fake.ram_size || len > gio_fake.ram_size - gpa)
        return NULL;
    return gio_fake.ram + gpa;
}

static uint64_t load(const uint8_t *p, unsigned int size)
{
    uint64_t v = 0;

    memcpy(&v, p, size); /* little-endian host */
    return v;
}

uint32_t gio_in(uint16_t port, unsigned int size)
{
    return (uint32_t)dev_read(false, port, size);
}

void gio_out(uint16_t port, unsigned int size, uint32_t value)
{
    if (port == DEBUG_PORT && size == 1)
        gio_fake_console_byte(&gio_fake, (uint8_t)value);
    else
        dev_write(false, port, size, value);
}

uint64_t gio_mmio_read(uint32_t addr, unsigned int size)
{
    return dev_read(true, addr, size);
}

void gio_mmio_write(uint32_t addr, unsigned int size, uint64_t value)
{
    dev_write(true, addr, size, value);
}

void gio_rep_ins(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t v = dev_read(false, port, size);
        uint8_t *p = gio_ram(gpa + i * size, size);
        if (p)
            memcpy(p, &v, size);
    }
}

void gio_rep_outs(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = gio_ram(gpa + i * size, size);
        uint64_t v = p ? load(p, size) : size_mask(size);
        if (port == DEBUG_PORT && size == 1)
            gio_fake_console_byte(&gio_fake, (uint8_t)v);
        else
            dev_write(false, port, size, v);
    }
}

/* Whichever side is not guest RAM is the device. */
void gio_rep_movs(uint32_t dst, uint32_t src, unsigned int size, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t off = i * size;
        uint8_t *d = gio_ram(dst + off, size);
        const uint8_t *s = gio_ram(src + off, size);
        uint64_t v = s ? load(s, size) : dev_read(true, src + off, size);
        if (d)
            memcpy(d, &v, size);
        else
            dev_write(true, dst + off, size, v);
    }
}

void gio_debug_write(const char *s, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        gio_fake_console_byte(&gio_fake, (uint8_t)s[i]);
}

void gio_delay_ms(uint32_t ms)
{
    (void)ms;
}
