/*
 * A debug console port as in Bochs and QEMU (isa-debugcon): every byte the
 * guest writes to the port is output; a read returns 0xe9, which is how a
 * guest detects the port.  Output leaves in whole lines: bytes collect until
 * a newline (or until DEBUGCON_LINE_MAX of them), then the line, newline
 * included, goes to the sink in one call; debugcon_flush() hands over a
 * final partial line as it is.  The bytes reach the sink unchanged and in
 * order.  Pure C, no dependency on libioreq.
 */
#ifndef DEBUGCON_H
#define DEBUGCON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEBUGCON_PORT     0x402 /* not 0xe9: Xen itself owns that port (hvm_print_line) */
#define DEBUGCON_READBACK 0xe9
#define DEBUGCON_LINE_MAX 1024

/* Receives one line (or a chunk of a longer one); len > 0. */
typedef void debugcon_sink_fn(void *opaque, const char *buf, size_t len);

struct debugcon {
    debugcon_sink_fn *sink;
    void *opaque;
    size_t len;
    char line[DEBUGCON_LINE_MAX];
};

void debugcon_init(struct debugcon *d, debugcon_sink_fn *sink, void *opaque);
void debugcon_putc(struct debugcon *d, uint8_t byte);
/* Hand over the partial line, if any (at exit). */
void debugcon_flush(struct debugcon *d);

/*
 * libioreq-shaped region callbacks for a one-port region (opaque is the
 * struct debugcon).  A write outputs its low byte; a read returns 0xe9 in
 * the low byte (any further bytes of a wider read are all ones, as for
 * ports nobody decodes).
 */
uint64_t debugcon_io_read(void *opaque, uint64_t offset, unsigned int size);
void debugcon_io_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif /* DEBUGCON_H */
