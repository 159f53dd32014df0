/* The xenstore wire format. */
#include <errno.h>
#include <string.h>

#include "xs_codec.h"

long xsim_codec_frame(const uint8_t *buf, size_t len, struct xsd_sockmsg *hdr)
{
    if (len < XSIM_HDR_SIZE)
        return 0;
    memcpy(hdr, buf, XSIM_HDR_SIZE);
    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    if (len < XSIM_HDR_SIZE + hdr->len)
        return 0;
    return (long)(XSIM_HDR_SIZE + hdr->len);
}

int xsim_codec_strings(const char *payload, size_t len, const char **v,
                       unsigned int max)
{
    int n = 0;
    size_t i = 0;

    if (len == 0)
        return 0;
    if (payload[len - 1] != '\0')
        return -EINVAL;
    while (i < len) {
        size_t l = strlen(payload + i);

        if ((unsigned int)n < max)
            v[n] = payload + i;
        n++;
        i += l + 1;
    }
    return n;
}

static int put(struct xsim_buf *out, uint32_t type, uint32_t req_id,
               uint32_t tx_id, const void *a, size_t alen, const void *b,
               size_t blen)
{
    struct xsd_sockmsg h = { type, req_id, tx_id, 0 };
    size_t start = out->len;
    int rc;

    if (alen + blen > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    h.len = (uint32_t)(alen + blen);
    rc = xsim_buf_append(out, &h, sizeof(h));
    if (rc == 0)
        rc = xsim_buf_append(out, a, alen);
    if (rc == 0)
        rc = xsim_buf_append(out, b, blen);
    if (rc < 0)
        out->len = start; /* never leave half a message */
    return rc;
}

int xsim_codec_reply(struct xsim_buf *out, const struct xsd_sockmsg *req,
                     const void *payload, size_t len)
{
    return put(out, req->type, req->req_id, req->tx_id, payload, len, NULL, 0);
}

int xsim_codec_reply_str(struct xsim_buf *out, const struct xsd_sockmsg *req,
                         const char *s)
{
    return xsim_codec_reply(out, req, s, strlen(s) + 1);
}

const char *xsim_codec_errname(int err)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    return "EINVAL";
}

int xsim_codec_errnum(const char *name)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (strcmp(xsd_errors[i].errstring, name) == 0)
            return xsd_errors[i].errnum;
    return 0;
}

int xsim_codec_error(struct xsim_buf *out, const struct xsd_sockmsg *req,
                     int err)
{
    const char *name = xsim_codec_errname(err);

    return put(out, XS_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1,
               NULL, 0);
}

int xsim_codec_event(struct xsim_buf *out, const char *path, const char *token)
{
    return put(out, XS_WATCH_EVENT, 0, 0, path, strlen(path) + 1, token,
               strlen(token) + 1);
}
