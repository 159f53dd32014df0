/*
 * The libioreq logger the emulator programs install: "PROG: message" on
 * stderr; errors and warnings always, info with -v, debug with -vv.
 */
#ifndef EMU_LOG_H
#define EMU_LOG_H

#include <stdarg.h>

#include <libioreq.h>

struct emu_log {
    const char *prog;
    int verbosity; /* 0: warnings and errors; 1: + info; 2: + debug */
};

void emu_log_fn(void *opaque, enum ioreq_log_level level, const char *msg);

/* Log through the same rules (opaque is a struct emu_log). */
void emu_logf(const struct emu_log *log, enum ioreq_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void emu_vlogf(const struct emu_log *log, enum ioreq_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif /* EMU_LOG_H */
