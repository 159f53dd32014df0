/*
 * Trace lines of guest scripts: one line per executed script line, in the
 * format documented in guest_script.h ("Traces").
 *
 * Freestanding (no libc, no 64-bit division): xensim's interpreter and the
 * interpreter inside the PVH guest image (tests/xen/guest) both format their
 * traces with this code, so the two backends print identical lines for
 * identical results, and a differential check can compare them as text.
 */
#ifndef XENSIM_GUEST_TRACE_H
#define XENSIM_GUEST_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "guest_op.h"

/*
 * Room for one line and its NUL.  Every line fits (the longest possible is
 * about 140 characters): Xen's debug console cuts guest lines at 199.
 */
#define GUEST_TRACE_LINE_MAX 192
/* Results in guest memory of at most this many bytes are shown in full. */
#define GUEST_TRACE_HEX_MAX 16

enum guest_trace_kind {
    GTR_OK,      /* "ok": writes, and lines without a value */
    GTR_VALUE,   /* `value`, 2*SIZE hex digits */
    GTR_BYTES,   /* `bytes` (`len` of them): "hex:..." or "fnv1a:XXXXXXXX" */
    GTR_IRQ,     /* "irq" */
    GTR_TIMEOUT, /* "timeout" */
    GTR_FAULT,   /* "fault": guest memory outside guest RAM */
    GTR_STOPPED, /* "stopped: WHY": the run stops at this line */
};

struct guest_trace_result {
    uint8_t kind;      /* enum guest_trace_kind */
    uint8_t mismatch;  /* the line's expectation failed: " (expected ...)" */
    uint64_t value;
    const uint8_t *bytes;
    uint32_t len;
    const char *why;
};

/*
 * Format `op`'s trace line (no newline) into `buf`.  `pool` is the script's
 * byte pool (mem-read expectations, wait-irq forms), which must hold what
 * `op` refers to.  Returns the length.
 */
size_t guest_trace_line(char buf[GUEST_TRACE_LINE_MAX], const struct guest_op *op,
                        const uint8_t *pool, const struct guest_trace_result *r);
/* "END pass" or "END fail N". */
size_t guest_trace_end(char buf[GUEST_TRACE_LINE_MAX], unsigned int failures);

/* The script verb of `op` ("in", "rep-insw", ...), or "?" for a bad kind. */
const char *guest_op_verb(const struct guest_op *op);

/* 32-bit FNV-1a of `len` bytes, as "fnv1a:" results show it. */
uint32_t guest_trace_fnv1a(const uint8_t *p, uint32_t len);

#endif /* XENSIM_GUEST_TRACE_H */
