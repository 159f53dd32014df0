/* Messages go to the caller's logger, if any; the library never prints. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

void ctx_log(const struct ioreq_ctx *ctx, enum ioreq_log_level level, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!ctx->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_opaque, level, msg);
}

void ctx_vlog_xen(const struct ioreq_ctx *ctx, enum ioreq_log_level level, int errnoval,
                  const char *context, const char *format, va_list al)
{
    char msg[200];

    if (!ctx->log)
        return;
    vsnprintf(msg, sizeof(msg), format, al);
    if (errnoval >= 0)
        ctx_log(ctx, level, "%s: %s: errno %d", context, msg, errnoval);
    else
        ctx_log(ctx, level, "%s: %s", context, msg);
}
