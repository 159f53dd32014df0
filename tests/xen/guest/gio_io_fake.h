/*
 * Host fakes of the gio_io primitives, for running the guest interpreter
 * (gio_interp.c) on the host: a guest with RAM, Xen's debug console on
 * port 0xE9 (one-byte writes, Xen's line rules), and a device model behind
 * every other access (by default: nothing, so reads are all ones and writes
 * are dropped, as Xen does for accesses no ioreq server claims).
 */
#ifndef GIO_IO_FAKE_H
#define GIO_IO_FAKE_H

#include <stdbool.h>
#include <stdint.h>

struct gio_fake {
    uint8_t *ram;         /* guest RAM from GPA 0 */
    uint32_t ram_size;
    /* The device model; NULL read: all ones. One element per call. */
    uint64_t (*dev_read)(void *ctx, bool mmio, uint64_t addr, unsigned int size);
    void (*dev_write)(void *ctx, bool mmio, uint64_t addr, unsigned int size, uint64_t value);
    void *dev_ctx;
    /* Each complete debug console line (no newline). */
    void (*console_line)(void *ctx, const char *line);
    void *console_ctx;
    /* Xen's console line buffer. */
    char line[200];
    unsigned int line_len;
};

/* The one instance the primitives use. */
extern struct gio_fake gio_fake;

/* A byte written to port 0xE9, with Xen's rules (hvm_print_line). */
void gio_fake_console_byte(struct gio_fake *f, uint8_t c);

#endif /* GIO_IO_FAKE_H */
