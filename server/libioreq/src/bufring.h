/*
 * Draining the buffered ioreq ring (posted writes), legacy and atomic
 * servers alike.  Pure logic on a buffered_iopage_t.
 *
 * The pointers are read together as one 64-bit value (so an atomic
 * server's rebase, which moves both by a multiple of 511, is never seen
 * half done) and read_pointer is advanced with an atomic add (so it
 * composes with that rebase's compare-and-exchange).  For a legacy server,
 * whose pointers just wrap, that is the same thing.  Each slot is copied
 * once before it is decoded; an 8-byte write takes two slots, the second
 * holding the high half.
 */
#ifndef LIBIOREQ_BUFRING_H
#define LIBIOREQ_BUFRING_H

#include <stdint.h>

#include "libioreq.h"

/* Called with each posted write as a one-element ioreq_t. */
typedef void bufring_handler(void *opaque, const ioreq_t *req);
/* Called once for each thing wrong with the ring. */
typedef void bufring_complaint(void *opaque, const char *what);

struct bufring_result {
    unsigned int served;   /* entries handed to the handler */
    unsigned int skipped;  /* malformed entries consumed without effect */
    bool reset;            /* the pointers were garbage: ring emptied */
};

/*
 * Handle what is in the ring now (at most one ring's worth, so that a busy
 * producer cannot hold the caller here).
 */
struct bufring_result bufring_drain(buffered_iopage_t *pg, bufring_handler *handle,
                                    bufring_complaint *complain, void *opaque);

/* The pointer word of a buffered page: read_pointer low, write_pointer high. */
static inline uint64_t *bufring_pointers(buffered_iopage_t *pg)
{
    return (uint64_t *)(void *)pg;
}

#endif
