/*
 * Command-line helpers the emulator programs share: strict number parsing
 * and the usage-error convention (a one-line message on stderr, a pointer
 * to --help, exit status 2).  Pure C, no libioreq.
 */
#ifndef EMU_ARGS_H
#define EMU_ARGS_H

#include <stdint.h>

#define EMU_EXIT_USAGE 2

/*
 * Parse an unsigned number (decimal, 0x hex or 0 octal) that must be the
 * whole of s and at most max.  Returns 0, or -EINVAL (not a number) or
 * -ERANGE (too large).
 */
int emu_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * Parse option `opt`'s argument as emu_parse_uint() does; on failure print
 * "PROG: --opt: 'ARG' is not a number" (or "... must be at most MAX") and
 * exit with EMU_EXIT_USAGE.
 */
uint64_t emu_uint_arg(const char *prog, const char *opt, const char *arg, uint64_t max);

/* Print "PROG: MESSAGE" and "Try 'PROG --help'." to stderr, exit 2. */
void emu_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif /* EMU_ARGS_H */
