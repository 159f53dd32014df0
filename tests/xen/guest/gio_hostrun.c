/*
 * gio_hostrun: the guest image's interpreter run on the host, as a PVH guest
 * on Xen with no device model would run it: every access that is not Xen's
 * debug console reads all ones and writes nothing, guest RAM is real.  It
 * prints the debug console as `xl dmesg` shows it, "(dDOMID) line", so that
 * its output and `xensim guest run --trace` of the same script (on a domain
 * with no emulators) can be compared with trace_diff.sh.
 *
 *   gio_hostrun [--domid N] [--memory MIB] TABLE
 *
 * Exit status: 0 the script passed, 1 it failed, 2 usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_compile.h"
#include "gio_interp.h"
#include "gio_io_fake.h"

static unsigned int domid = 1;

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("(d%u) %s\n", domid, line);
}

/* A whole number (decimal or 0x hex) from 0 to max.  0 or -1. */
static int number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoul(s, &end, 0);
    return *end || *out > max ? -1 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: gio_hostrun [--domid N] [--memory MIB] TABLE\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long mib = 64, id = domid;
    const char *path = NULL;
    char err[512];
    size_t len;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--domid") && i + 1 < argc) {
            if (number(argv[++i], 0x7fef, &id) < 0) /* below DOMID_FIRST_RESERVED */
                return usage();
        } else if (!strcmp(argv[i], "--memory") && i + 1 < argc) {
            if (number(argv[++i], 4095, &mib) < 0 || mib == 0)
                return usage();
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            return usage();
        }
    }
    if (!path)
        return usage();
    domid = (unsigned int)id;

    char *table = gio_read_file(path, &len, err, sizeof(err));
    if (!table) {
        fprintf(stderr, "gio_hostrun: %s\n", err);
        return 2;
    }
    gio_fake.ram_size = (uint32_t)(mib << 20);
    gio_fake.ram = calloc(1, gio_fake.ram_size);
    gio_fake.console_line = print_line;
    if (!gio_fake.ram) {
        fprintf(stderr, "gio_hostrun: out of memory\n");
        free(table);
        return 2;
    }
    unsigned int failures = gio_run(table, len);
    free(gio_fake.ram);
    free(table);
    return failures ? 1 : 0;
}
