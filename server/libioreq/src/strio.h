/*
 * Walking the elements of an access request: `count` elements of `size`
 * bytes, at one port (PIO, PCI config) or successive MMIO addresses
 * (downwards when df), with the data in the request or, for data_is_ptr
 * (rep ins/outs/movs), in guest memory at successive addresses from
 * `data` (downwards when df).  Pure logic: the device side and guest
 * memory are callbacks.
 */
#ifndef LIBIOREQ_STRIO_H
#define LIBIOREQ_STRIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libioreq.h"

struct strio_env {
    void *opaque;
    /* One element on the device side: a read sets *value. */
    void (*access)(void *opaque, uint8_t type, uint64_t addr, unsigned int size, bool write,
                   uint64_t *value);
    int (*mem_read)(void *opaque, uint64_t gpa, void *buf, size_t len);
    int (*mem_write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
};

/*
 * Run every element of `req` (checked by req_check(), a PIO, COPY or
 * PCI_CONFIG access).  A read without data_is_ptr leaves the last element
 * read in req->data.  Returns 0, or the guest-memory error that stopped it
 * part way (elements before it were done).
 */
int strio_run(const struct strio_env *env, ioreq_t *req);

#endif
