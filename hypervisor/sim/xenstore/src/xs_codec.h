/*
 * The xenstore wire format (<xen/io/xs_wire.h>): framing of struct
 * xsd_sockmsg + payload, splitting payloads into NUL-terminated strings,
 * and building replies, error replies and watch events.  No I/O.
 */
#ifndef XSIM_CODEC_H
#define XSIM_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "xs_wire_inc.h"

#include "xs_buf.h"

#define XSIM_HDR_SIZE sizeof(struct xsd_sockmsg)

/*
 * Look at the start of a byte stream.  Returns 0 if more bytes are needed,
 * the size of the complete first message (header + payload) if it is all
 * there, or -E2BIG if the header announces more than XENSTORE_PAYLOAD_MAX
 * (the stream cannot be trusted any more).  *hdr is filled once the header
 * is there.
 */
long xsim_codec_frame(const uint8_t *buf, size_t len, struct xsd_sockmsg *hdr);

/*
 * Split a payload made only of NUL-terminated strings.  Returns their count
 * (pointers to the first max of them in v), or -EINVAL if the payload does
 * not end with a NUL (an empty payload has no strings: 0).
 */
int xsim_codec_strings(const char *payload, size_t len, const char **v,
                       unsigned int max);

/* Reply to req with its type, req_id and tx_id.  0 or -ENOMEM / -E2BIG. */
int xsim_codec_reply(struct xsim_buf *out, const struct xsd_sockmsg *req,
                     const void *payload, size_t len);
/* Reply with the same string plus its NUL. */
int xsim_codec_reply_str(struct xsim_buf *out, const struct xsd_sockmsg *req,
                         const char *s);
/* XS_ERROR reply naming err (a positive errno; unknown ones say EINVAL). */
int xsim_codec_error(struct xsim_buf *out, const struct xsd_sockmsg *req,
                     int err);
/* XS_WATCH_EVENT "path\0token\0" with req_id 0 and tx_id 0. */
int xsim_codec_event(struct xsim_buf *out, const char *path,
                     const char *token);

/* The xsd_errors name of an errno, e.g. "ENOENT"; "EINVAL" if it has none. */
const char *xsim_codec_errname(int err);
/* The errno of an xsd_errors name, or 0. */
int xsim_codec_errnum(const char *name);

#endif
