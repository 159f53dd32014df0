/*
 * What the guest interpreter needs from the machine.  Inside the PVH guest
 * image (gio_io_x86.c) each is the real instruction: in/out, a load or
 * store through a pointer to the guest-physical address, rep ins/outs/movs
 * with DF clear, and port 0xE9 for the trace.  The host tests link fakes
 * instead, so the interpreter's logic runs, unchanged, under test.
 */
#ifndef GIO_IO_H
#define GIO_IO_H

#include <stdint.h>

uint32_t gio_in(uint16_t port, unsigned int size);
void gio_out(uint16_t port, unsigned int size, uint32_t value);
uint64_t gio_mmio_read(uint32_t addr, unsigned int size);
void gio_mmio_write(uint32_t addr, unsigned int size, uint64_t value);
/* `count` elements of `size` bytes between the port and guest memory at `gpa`. */
void gio_rep_ins(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count);
void gio_rep_outs(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count);
/* rep movs: `count` elements of `size` bytes from `src` to `dst` (guest-physical). */
void gio_rep_movs(uint32_t dst, uint32_t src, unsigned int size, uint32_t count);
/* Guest RAM at `gpa` for `len` bytes, or NULL if it is not RAM (fakes only). */
uint8_t *gio_ram(uint32_t gpa, uint32_t len);
/* The trace channel: Xen's debug console, port 0xE9. */
void gio_debug_write(const char *s, uint32_t len);
void gio_delay_ms(uint32_t ms);

#endif /* GIO_IO_H */
