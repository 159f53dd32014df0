/*
 * The op table: a guest script compiled for the PVH guest image.
 *
 * Freestanding (only <stdint.h> and <stddef.h>): the host compiler (gioc)
 * writes tables, the interpreter inside the 32-bit guest reads them, and
 * both check them with gio_table_check().
 *
 * Layout, little-endian, with no padding between the parts:
 *
 *   struct gio_table_header        32 bytes
 *   struct guest_op  x nr_ops      40 bytes each (guest_op.h: the records
 *                                  xensim's parser produces, unchanged)
 *   pool                           pool_len bytes: mem-write data and
 *                                  mem-read expectations, which ops refer
 *                                  to by offset (guest_op.aux) and length
 *   name                           name_len bytes, the script's name (no NUL)
 *
 * checksum is the 32-bit FNV-1a of every byte after the header.  The table
 * holds only what a guest can do: every op passes gio_op_check().
 */
#ifndef GIO_TABLE_H
#define GIO_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "guest_op.h"

#define GIO_TABLE_MAGIC 0x544f4947u /* "GIOT" */
#define GIO_TABLE_VERSION 1

/*
 * Where the image lives (its linker script places it here): scripts may not
 * touch these guest-physical addresses, which hold the guest's own code,
 * table and stack.
 */
#define GIO_IMAGE_BASE 0x100000u
#define GIO_IMAGE_END 0x200000u
/* The guest runs in 32-bit protected mode without paging. */
#define GIO_ADDR_LIMIT 0x100000000ull

/*
 * The parser's limits (guest_script.h's GUEST_SCRIPT_MAX_*, which the
 * freestanding guest cannot include; gio_compile.c asserts they agree).
 */
#define GIO_MAX_MS 600000u   /* sleep */
#define GIO_MAX_REP 65536u   /* rep COUNT */
#define GIO_MAX_DATA 65536u  /* bytes of one mem-write/mem-read */

struct gio_table_header {
    uint32_t magic;       /* GIO_TABLE_MAGIC */
    uint16_t version;     /* GIO_TABLE_VERSION */
    uint16_t header_size; /* sizeof(struct gio_table_header) */
    uint32_t op_size;     /* sizeof(struct guest_op) */
    uint32_t nr_ops;
    uint32_t pool_len;
    uint32_t name_len;
    uint32_t checksum;    /* FNV-1a of everything after the header */
    uint32_t reserved;    /* 0 */
};

_Static_assert(sizeof(struct gio_table_header) == 32, "gio_table_header is 32 bytes");

/* A checked table's parts, pointing into the table. */
struct gio_table {
    const struct guest_op *ops;
    uint32_t nr_ops;
    const uint8_t *pool;
    uint32_t pool_len;
    const char *name;     /* not NUL-terminated */
    uint32_t name_len;
};

/*
 * Why a guest image cannot run `op` (a one-line message), or NULL if it
 * can.  `pool_len` bounds the op's references into the pool.
 */
const char *gio_op_check(const struct guest_op *op, uint32_t pool_len);

/*
 * Check a whole table of `len` bytes (8-byte aligned) and describe it in
 * *t.  NULL, or why it is not a valid table; *bad_op is the index of the
 * offending op, or -1.
 */
const char *gio_table_check(const void *buf, size_t len, struct gio_table *t, long *bad_op);

#endif /* GIO_TABLE_H */
