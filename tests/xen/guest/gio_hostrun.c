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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_interp.h"
#include "gio_io_fake.h"

static unsigned int domid = 1;

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("(d%u) %s\n", domid, line);
}

int main(int argc, char **argv)
{
    unsigned long mib = 64;
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--domid") && i + 1 < argc)
            domid = (unsigned int)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--memory") && i + 1 < argc)
            mib = strtoul(argv[++i], NULL, 0);
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || mib == 0 || mib > 4095) {
        fprintf(stderr, "usage: gio_hostrun [--domid N] [--memory MIB] TABLE\n");
        return 2;
    }

    FILE *f = fopen(path, "rb");
    size_t cap = 16u << 20, len = 0;
    uint8_t *table = aligned_alloc(8, cap);
    if (!f || !table) {
        fprintf(stderr, "gio_hostrun: %s: %s\n", path, strerror(errno));
        return 2;
    }
    len = fread(table, 1, cap, f);
    fclose(f);

    gio_fake.ram_size = (uint32_t)(mib << 20);
    gio_fake.ram = calloc(1, gio_fake.ram_size);
    gio_fake.console_line = print_line;
    if (!gio_fake.ram) {
        fprintf(stderr, "gio_hostrun: out of memory\n");
        return 2;
    }
    unsigned int failures = gio_run(table, len);
    free(gio_fake.ram);
    free(table);
    return failures ? 1 : 0;
}
