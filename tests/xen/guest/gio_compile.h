/*
 * Host side of guest images: compile a parsed guest script into an op
 * table (gio_table.h), turn a table back into script text, and read the
 * files the host tools (gioc, gio_hostrun) take.
 */
#ifndef GIO_COMPILE_H
#define GIO_COMPILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "guest_script.h"

/*
 * The op table of `s` (malloc'ed, 8-byte aligned, *len bytes), recording
 * `name` as the script's name.  0; -EINVAL with "NAME:LINE: VERB: why" in
 * `err` for a line a guest image cannot run; -ENOMEM.
 */
int gio_compile(const struct guest_script *s, const char *name, uint8_t **table,
                size_t *len, char *err, size_t errlen);

/*
 * Write the table as a script, each op on its original line (blank lines
 * between), so that compiling the text again gives the same table.
 * 0, or -EINVAL with why in `err` (a table that does not check).
 */
int gio_decompile(const void *table, size_t len, FILE *out, char *err, size_t errlen);

/* Files of GIO_FILE_MAX bytes or more are refused (a power of 2, >= 64 KiB). */
#define GIO_FILE_MAX (16u << 20)

/*
 * The whole file at `path`, NUL-terminated (*len bytes without the NUL), in
 * 8-byte aligned memory to free(); NULL with why in `err` ("cannot open
 * PATH: ...", "cannot read PATH: ...", "PATH is too large ...").
 */
char *gio_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif /* GIO_COMPILE_H */
