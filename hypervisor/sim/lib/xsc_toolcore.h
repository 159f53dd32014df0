/*
 * The part of libxentoolcore's internal interface that a handle library
 * uses to take part in xentoolcore_restrict_all().  Debian ships
 * libxentoolcore.so.1 (exporting these functions at VERS_1.0) but not
 * xentoolcore_internal.h, so the layout is declared here: a callback
 * pointer, then a tail-queue link (next pointer, pointer to previous next).
 */
#ifndef XSC_TOOLCORE_H
#define XSC_TOOLCORE_H

#include <xen/xen.h>

typedef struct Xentoolcore__Active_Handle Xentoolcore__Active_Handle;

/* Called by xentoolcore_restrict_all(domid); returns 0, or -1 with errno. */
typedef int Xentoolcore__Restrict_Callback(Xentoolcore__Active_Handle *ah, domid_t domid);

struct Xentoolcore__Active_Handle {
    Xentoolcore__Restrict_Callback *restrict_callback;
    struct {
        struct Xentoolcore__Active_Handle *tqe_next;
        struct Xentoolcore__Active_Handle **tqe_prev;
    } entry; /* owned by libxentoolcore */
};

void xentoolcore__register_active_handle(Xentoolcore__Active_Handle *ah);
void xentoolcore__deregister_active_handle(Xentoolcore__Active_Handle *ah);
/* Replace `fd` with /dev/null (what libxencall's handles do when restricted); 0 or -1. */
int xentoolcore__restrict_by_dup2_null(int fd);

#define XSC_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - __builtin_offsetof(type, member)))

#endif
