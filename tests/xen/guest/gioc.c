/*
 * gioc: the guest image compiler's host tool.
 *
 *   gioc [--name NAME] SCRIPT -o TABLE   compile a guest script into an op table
 *   gioc --check SCRIPT                  only say whether a guest image can run it
 *   gioc --decompile TABLE               print the table as a script (same lines)
 *
 * Exit status: 0 done, 1 the script or table is not acceptable (one line on
 * stderr, "gioc: FILE:LINE: VERB: why"), 2 usage or I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_compile.h"

static int usage(void)
{
    fprintf(stderr, "usage: gioc [--name NAME] SCRIPT -o TABLE\n"
                    "       gioc --check SCRIPT\n"
                    "       gioc --decompile TABLE\n");
    return 2;
}

/* The whole file (gio_read_file); NULL after saying why. */
static char *slurp(const char *path, size_t *len)
{
    char err[512];
    char *buf = gio_read_file(path, len, err, sizeof(err));

    if (!buf)
        fprintf(stderr, "gioc: %s\n", err);
    return buf;
}

/* 0, or -1 after saying why (and removing what was written). */
static int write_table(const char *path, const uint8_t *table, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(table, 1, len, f) == len;

    if (f && fclose(f) != 0)
        ok = 0;
    if (ok)
        return 0;
    fprintf(stderr, "gioc: cannot write %s: %s\n", path, strerror(errno));
    if (f)
        remove(path);
    return -1;
}

static int compile(const char *path, const char *name, const char *out_path)
{
    size_t len, table_len;
    char *text = slurp(path, &len);
    struct guest_script *s = NULL;
    uint8_t *table = NULL;
    char err[512];
    int rc;

    if (!text)
        return 2;
    if (memchr(text, '\0', len)) {
        fprintf(stderr, "gioc: %s contains a NUL byte\n", path);
        free(text);
        return 1;
    }
    rc = guest_script_parse(name, text, &s, err, sizeof(err));
    free(text);
    if (!rc)
        rc = gio_compile(s, name, &table, &table_len, err, sizeof(err));
    guest_script_free(s);
    if (rc) {
        fprintf(stderr, "gioc: %s\n", err);
        return rc == -ENOMEM ? 2 : 1;
    }
    if (out_path && write_table(out_path, table, table_len) < 0)
        rc = 2;
    free(table);
    return rc;
}

static int decompile(const char *path)
{
    size_t len;
    char *table = slurp(path, &len);
    char err[256];

    if (!table)
        return 2;
    int rc = gio_decompile(table, len, stdout, err, sizeof(err));
    free(table);
    if (rc) {
        fprintf(stderr, "gioc: %s: %s\n", path, err);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    const char *name = NULL, *out = NULL, *in = NULL;
    enum { COMPILE, CHECK, DECOMPILE } mode = COMPILE;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--name") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--check") && mode == COMPILE) {
            mode = CHECK;
        } else if (!strcmp(a, "--decompile") && mode == COMPILE) {
            mode = DECOMPILE;
        } else if (!strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (a[0] == '-' && a[1]) {
            return usage();
        } else if (!in) {
            in = a;
        } else {
            return usage();
        }
    }
    if (!in || (mode == COMPILE && !out) || (mode != COMPILE && (out || name)))
        return usage();
    if (mode == DECOMPILE)
        return decompile(in);
    return compile(in, name ? name : in, mode == COMPILE ? out : NULL);
}
