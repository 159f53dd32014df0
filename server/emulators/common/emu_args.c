#include "emu_args.h"

#include <fcntl.h>
#include <limits.h>

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

void emu_opts_init(struct emu_opts *o, const char *prog, void (*usage)(FILE *out))
{
    *o = (struct emu_opts){ .prog = prog, .usage = usage, .ioservid = -1, .ready_fd = -1 };
    opterr = 0; /* the errors are reported here, in the usage convention */
}

int emu_getopt(struct emu_opts *o, int argc, char **argv, const struct option *longopts)
{
    int c;

    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case EMU_OPT_DOMID:
            o->domid = (uint16_t)emu_uint_arg(o->prog, "--domid", optarg, EMU_DOMID_MAX);
            o->have_domid = true;
            break;
        case EMU_OPT_IOSERVID:
            o->ioservid = (int)emu_uint_arg(o->prog, "--ioservid", optarg, UINT16_MAX);
            break;
        case EMU_OPT_READY_FILE:
            o->ready_file = optarg;
            break;
        case EMU_OPT_READY_FD:
            o->ready_fd = (int)emu_uint_arg(o->prog, "--ready-fd", optarg, INT_MAX);
            if (fcntl(o->ready_fd, F_GETFD) < 0)
                emu_usage_error(o->prog, "--ready-fd: %d is not an open file descriptor",
                                o->ready_fd);
            break;
        case EMU_OPT_NO_PIC:
            o->no_pic = true;
            break;
        case 'v':
            o->verbosity++;
            break;
        case 'h':
            o->usage(stdout);
            exit(0);
        case ':':
            emu_usage_error(o->prog, "%s needs an argument", argv[optind - 1]);
        default:
            if (c >= EMU_OPT_PROGRAM)
                return c;
            emu_usage_error(o->prog, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        emu_usage_error(o->prog, "unexpected argument '%s'", argv[optind]);
    if (!o->have_domid)
        emu_usage_error(o->prog, "--domid is required");
    return -1;
}
