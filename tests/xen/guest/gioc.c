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

#define FILE_MAX (16u << 20)

static int usage(void)
{
    fprintf(stderr, "usage: gioc [--name NAME] SCRIPT -o TABLE\n"
                    "       gioc --check SCRIPT\n"
                    "       gioc --decompile TABLE\n");
    return 2;
}

/* The whole file, NUL-terminated, in 8-byte aligned memory; NULL after saying why. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        fprintf(stderr, "gioc: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nb = ncap > FILE_MAX ? NULL : aligned_alloc(8, ncap);
            if (!nb) {
                fprintf(stderr, "gioc: %s is too large\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            if (n)
                memcpy(nb, buf, n);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "gioc: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
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
    if (out_path) {
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(table, 1, table_len, f) != table_len || fclose(f) != 0) {
            fprintf(stderr, "gioc: cannot write %s\n", out_path);
            free(table);
            return 2;
        }
    }
    free(table);
    return 0;
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
        if ((!strcmp(a, "--name") || !strcmp(a, "-o")) && i + 1 < argc) {
            *(a[1] == 'o' ? &out : &name) = argv[++i];
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
