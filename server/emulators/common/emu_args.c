#include "emu_args.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int emu_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;

    /* strtoull would accept leading blanks and a sign: refuse both. */
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

void emu_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    exit(EMU_EXIT_USAGE);
}

uint64_t emu_uint_arg(const char *prog, const char *opt, const char *arg, uint64_t max)
{
    uint64_t v = 0;
    int rc = emu_parse_uint(arg, max, &v);

    if (rc == -EINVAL)
        emu_usage_error(prog, "%s: '%s' is not a number", opt, arg);
    if (rc == -ERANGE)
        emu_usage_error(prog, "%s: '%s' is out of range (at most %" PRIu64 " / 0x%" PRIx64 ")",
                        opt, arg, max, max);
    return v;
}
