/*
 * The guest script interpreter of the PVH guest image: runs a checked op
 * table with real accesses (gio_io.h) and prints the trace (guest_script.h,
 * "Traces") on Xen's debug console, then "END pass" or "END fail N".
 * Freestanding, and host-testable with fake gio_io primitives.
 */
#ifndef GIO_INTERP_H
#define GIO_INTERP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Run the op table of `len` bytes at `table` (8-byte aligned).  Returns the
 * number of failures (a table that does not check is one).
 */
unsigned int gio_run(const void *table, size_t len);

#endif /* GIO_INTERP_H */
