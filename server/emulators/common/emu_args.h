/*
 * Command-line helpers the emulator programs share: strict number parsing,
 * the usage-error convention (a one-line message on stderr, a pointer to
 * --help, exit status 2) and the options every program takes.  Pure C, no
 * libioreq.
 */
#ifndef EMU_ARGS_H
#define EMU_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* ---- the options every program takes ------------------------------------ */

/* The highest guest domid, DOMID_FIRST_RESERVED - 1 (emu_serve.c checks). */
#define EMU_DOMID_MAX 0x7fef

/*
 * A program lists its own long options, with values from EMU_OPT_PROGRAM
 * up, EMU_NO_PIC_LONG_OPTS if it takes --pvh/--no-pic, then
 * EMU_COMMON_LONG_OPTS and the terminating entry, and reads them with
 * emu_getopt() in place of getopt_long():
 *
 *     emu_opts_init(&o->common, PROG, usage);
 *     while ((c = emu_getopt(&o->common, argc, argv, longopts)) != -1)
 *         switch (c) { case OPT_BASE: ... }
 */
enum {
    EMU_OPT_DOMID = 256,
    EMU_OPT_IOSERVID,
    EMU_OPT_READY_FILE,
    EMU_OPT_NO_PIC,
    EMU_OPT_READY_FD,
    EMU_OPT_PROGRAM, /* the first value for a program's own options */
};

#define EMU_COMMON_LONG_OPTS                                                      \
    { "domid", required_argument, NULL, EMU_OPT_DOMID },                          \
    { "ioservid", required_argument, NULL, EMU_OPT_IOSERVID },                    \
    { "ready-file", required_argument, NULL, EMU_OPT_READY_FILE },                \
    { "ready-fd", required_argument, NULL, EMU_OPT_READY_FD },                    \
    { "verbose", no_argument, NULL, 'v' },                                        \
    { "help", no_argument, NULL, 'h' }

/* --pvh, --no-pic: the guest has no emulated PIC/IOAPIC (for a device with an interrupt). */
#define EMU_NO_PIC_LONG_OPTS                                                      \
    { "pvh", no_argument, NULL, EMU_OPT_NO_PIC },                                 \
    { "no-pic", no_argument, NULL, EMU_OPT_NO_PIC }

/*
 * The --help lines of those options.  what: what the router maps ("the
 * port", "the function"); a program's own options go between
 * EMU_USAGE_HEAD and EMU_USAGE_COMMON.
 */
#define EMU_USAGE_LINE(prog) "Usage: " prog " --domid D [--ioservid S] [OPTIONS]\n"
#define EMU_USAGE_HEAD(what)                                                      \
    "  --domid D          the guest domain (required)\n"                          \
    "  --ioservid S       attach to ioreq server S (the router created it and\n"  \
    "                     mapped " what "); without it, create a server\n"        \
    "                     (standalone) and map " what " to it\n"
#define EMU_USAGE_COMMON                                                          \
    "  --ready-file PATH  once serving, write the ioreq server id to PATH\n"      \
    "  --ready-fd N       once serving, write the ioreq server id and a newline\n" \
    "                     to the inherited fd N and close it (ioreq-routerd)\n"  \
    "  -v, --verbose      more log on stderr (twice: debug)\n"                    \
    "  -h, --help         this help\n"
#define EMU_USAGE_EXIT_STATUS "Exit status: 0 done, 1 runtime failure, 2 bad arguments.\n"

struct emu_opts {
    const char *prog;
    void (*usage)(FILE *out); /* the whole --help text */
    uint16_t domid;
    bool have_domid;
    int ioservid;             /* -1: standalone (create a server) */
    const char *ready_file;   /* NULL: none */
    int ready_fd;             /* -1: none */
    int verbosity;            /* -v count */
    bool no_pic;              /* --pvh / --no-pic (EMU_NO_PIC_LONG_OPTS) */
};

/* Defaults (no domid yet, standalone, no ready file, quiet, a PIC). */
void emu_opts_init(struct emu_opts *o, const char *prog, void (*usage)(FILE *out));

/*
 * getopt_long() with the shared options handled here: returns the next of
 * the program's own options (a value from EMU_OPT_PROGRAM up, optarg set),
 * or -1 once the command line is read.  -h/--help prints the usage on
 * stdout and exits 0.  A usage error exits as emu_usage_error() does:
 * "OPT needs an argument", "unknown option 'OPT'", and at the end
 * "unexpected argument 'ARG'" or "--domid is required".
 */
int emu_getopt(struct emu_opts *o, int argc, char **argv, const struct option *longopts);

#endif /* EMU_ARGS_H */
