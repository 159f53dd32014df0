#include "emu_log.h"

#include <stdarg.h>
#include <stdio.h>

static bool wanted(const struct emu_log *log, enum ioreq_log_level level)
{
    switch (level) {
    case IOREQ_LOG_ERROR:
    case IOREQ_LOG_WARNING:
        return true;
    case IOREQ_LOG_INFO:
        return log->verbosity >= 1;
    case IOREQ_LOG_DEBUG:
        return log->verbosity >= 2;
    }
    return true;
}

static const char *prefix(enum ioreq_log_level level)
{
    switch (level) {
    case IOREQ_LOG_ERROR:
        return "error: ";
    case IOREQ_LOG_WARNING:
        return "warning: ";
    default:
        return "";
    }
}

void emu_log_fn(void *opaque, enum ioreq_log_level level, const char *msg)
{
    const struct emu_log *log = opaque;

    if (wanted(log, level))
        fprintf(stderr, "%s: %s%s\n", log->prog, prefix(level), msg);
}

void emu_vlogf(const struct emu_log *log, enum ioreq_log_level level, const char *fmt, va_list ap)
{
    char msg[1024];

    if (!wanted(log, level))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    emu_log_fn((void *)log, level, msg);
}

void emu_logf(const struct emu_log *log, enum ioreq_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emu_vlogf(log, level, fmt, ap);
    va_end(ap);
}
