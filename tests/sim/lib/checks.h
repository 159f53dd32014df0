/*
 * Check macros for the drop-in library tests, which link nothing of ours
 * (not even cmocka): each failed check prints file:line and counts in the
 * including file's `failures`.
 */
#ifndef XENSIM_LIB_CHECKS_H
#define XENSIM_LIB_CHECKS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", __FILE__, \
                    __LINE__, #cond, errno, strerror(errno));                    \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* `call` must fail with -1 and errno `want`. */
#define CHECK_ERR(call, want)                                                    \
    do {                                                                         \
        errno = 0;                                                               \
        long rc_ = (long)(call);                                                 \
        int e_ = errno;                                                          \
        if (rc_ != -1 || e_ != (want)) {                                         \
            fprintf(stderr, "%s:%d: %s: got %ld errno %d (%s), want -1 errno %s\n", \
                    __FILE__, __LINE__, #call, rc_, e_, strerror(e_), #want);    \
            failures++;                                                          \
        }                                                                        \
    } while (0)

#endif
