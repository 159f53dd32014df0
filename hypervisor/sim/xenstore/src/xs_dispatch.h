/*
 * One request in, its reply out: checks a wire message's payload, runs the
 * store operation and encodes the answer (or the XS_ERROR reply).  The
 * initial event of a new watch goes through the store's event callback
 * right after the ack, so when that callback appends to the same buffer the
 * ack comes first, as from xenstored.
 */
#ifndef XSIM_DISPATCH_H
#define XSIM_DISPATCH_H

#include "xs_buf.h"
#include "xs_codec.h"
#include "xs_store.h"

/* 0, or -ENOMEM if nothing could be queued (drop the connection). */
int xsim_dispatch(struct xsim_store *st, const struct xsim_caller *c,
                  const struct xsd_sockmsg *hdr, const char *payload,
                  struct xsim_buf *out);

#endif
