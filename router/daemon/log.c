/* The daemon's log: one line per event on stderr, with the guest and the
 * emulator it concerns ("demo(3)/uart0: ..."), for the journal or a file. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "routerd.h"

static bool verbose;

void rlog_set_verbose(bool on)
{
    verbose = on;
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void vlog(const struct guest *g, const struct emu *e, const char *fmt, va_list ap)
{
    char ctx[160] = "";

    if (g && e)
        snprintf(ctx, sizeof(ctx), "%s(%u)/%s: ", g->name, g->domid, e->cfg.id);
    else if (g)
        snprintf(ctx, sizeof(ctx), "%s(%u): ", g->name, g->domid);
    flockfile(stderr);
    fprintf(stderr, "ioreq-routerd: %s", ctx);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void rlog(const struct guest *g, const struct emu *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(g, e, fmt, ap);
    va_end(ap);
}

void rdebug(const struct guest *g, const struct emu *e, const char *fmt, ...)
{
    va_list ap;
    if (!verbose)
        return;
    va_start(ap, fmt);
    vlog(g, e, fmt, ap);
    va_end(ap);
}
