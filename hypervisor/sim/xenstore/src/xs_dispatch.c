/* Wire requests to store operations. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_dispatch.h"

struct req {
    struct xsim_store *st;
    const struct xsim_caller *c;
    const struct xsd_sockmsg *hdr;
    const char *payload;
    size_t len;
    struct xsim_buf *out;
};

/* The payload as exactly one NUL-terminated string, or NULL. */
static const char *onearg(const struct req *r)
{
    if (r->len == 0 || r->payload[r->len - 1] != '\0' ||
        strlen(r->payload) != r->len - 1)
        return NULL;
    return r->payload;
}

/* Exactly n strings into v: 0 or -EINVAL. */
static int nargs(const struct req *r, const char **v, unsigned int n)
{
    int got = xsim_codec_strings(r->payload, r->len, v, n);

    return got == (int)n ? 0 : -EINVAL;
}

static int ok(const struct req *r)
{
    return xsim_codec_reply_str(r->out, r->hdr, "OK");
}

/* Encode a store result: negative -> error reply, otherwise OK. */
static int ack(const struct req *r, int rc)
{
    return rc < 0 ? xsim_codec_error(r->out, r->hdr, -rc) : ok(r);
}

static int h_read(const struct req *r)
{
    const char *path = onearg(r);
    char *val;
    size_t len;
    int rc;

    if (!path)
        return -EINVAL;
    rc = xsim_store_read(r->st, r->c, r->hdr->tx_id, path, &val, &len);
    if (rc < 0)
        return rc;
    rc = xsim_codec_reply(r->out, r->hdr, val, len);
    free(val);
    return rc;
}

static int h_write(const struct req *r)
{
    const char *nul = r->len ? memchr(r->payload, '\0', r->len) : NULL;
    size_t plen;

    if (!nul)
        return -EINVAL;
    plen = (size_t)(nul - r->payload) + 1;
    return ack(r, xsim_store_write(r->st, r->c, r->hdr->tx_id, r->payload,
                                   nul + 1, r->len - plen));
}

static int h_mkdir(const struct req *r)
{
    const char *path = onearg(r);

    if (!path)
        return -EINVAL;
    return ack(r, xsim_store_mkdir(r->st, r->c, r->hdr->tx_id, path));
}

static int h_rm(const struct req *r)
{
    const char *path = onearg(r);

    if (!path)
        return -EINVAL;
    return ack(r, xsim_store_rm(r->st, r->c, r->hdr->tx_id, path));
}

static int h_directory(const struct req *r)
{
    const char *path = onearg(r);
    char *list;
    size_t len;
    int rc;

    if (!path)
        return -EINVAL;
    rc = xsim_store_directory(r->st, r->c, r->hdr->tx_id, path, &list, &len,
                              NULL);
    if (rc < 0)
        return rc;
    /* Too long for one message: libxenstore then asks DIRECTORY_PART. */
    rc = len > XENSTORE_PAYLOAD_MAX ? -E2BIG
                                    : xsim_codec_reply(r->out, r->hdr, list, len);
    free(list);
    return rc;
}

static int parse_offset(const char *s, size_t *out)
{
    size_t v = 0;

    if (!*s || strlen(s) > 9)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/*
 * "<gen>\0" then whole child names from byte offset `off` of the full list;
 * the last part ends with an extra "\0".  libxenstore restarts if the
 * generation changes between parts.
 */
static int h_directory_part(const struct req *r)
{
    const char *v[2];
    char *list, *reply, gen[24];
    size_t len, off, end, glen;
    uint64_t g;
    int rc;

    if (nargs(r, v, 2) < 0 || parse_offset(v[1], &off) < 0)
        return -EINVAL;
    rc = xsim_store_directory(r->st, r->c, r->hdr->tx_id, v[0], &list, &len,
                              &g);
    if (rc < 0)
        return rc;
    if (off > len || (off > 0 && list[off - 1] != '\0')) {
        free(list);
        return -EINVAL;
    }
    glen = (size_t)snprintf(gen, sizeof(gen), "%" PRIu64, g) + 1;
    /* Whole names only, keeping a byte for the closing NUL. */
    end = off;
    while (end < len) {
        size_t l = strlen(list + end) + 1;

        if (glen + (end + l - off) + 1 > XENSTORE_PAYLOAD_MAX)
            break;
        end += l;
    }
    reply = malloc(glen + (end - off) + 1);
    if (!reply) {
        free(list);
        return -ENOMEM;
    }
    memcpy(reply, gen, glen);
    memcpy(reply + glen, list + off, end - off);
    reply[glen + (end - off)] = '\0';
    rc = xsim_codec_reply(r->out, r->hdr, reply,
                          glen + (end - off) + (end == len ? 1 : 0));
    free(reply);
    free(list);
    return rc;
}

static int h_get_perms(const struct req *r)
{
    const char *path = onearg(r);
    struct xsim_perms p = { 0, NULL };
    char *buf;
    size_t used = 0;
    int rc;

    if (!path)
        return -EINVAL;
    rc = xsim_store_get_perms(r->st, r->c, r->hdr->tx_id, path, &p);
    if (rc < 0)
        return rc;
    buf = malloc((size_t)p.num * XSIM_PERM_STR_MAX);
    if (!buf) {
        xsim_perms_free(&p);
        return -ENOMEM;
    }
    for (unsigned int i = 0; i < p.num; i++) {
        xsim_perm_format(&p.p[i], buf + used);
        used += strlen(buf + used) + 1;
    }
    rc = xsim_codec_reply(r->out, r->hdr, buf, used);
    free(buf);
    xsim_perms_free(&p);
    return rc;
}

static int h_set_perms(const struct req *r)
{
    int n = xsim_codec_strings(r->payload, r->len, NULL, 0);
    const char **v;
    struct xsim_perm *pv;
    struct xsim_perms perms;
    int rc = 0;

    if (n < 2)
        return -EINVAL;
    v = calloc((size_t)n, sizeof(*v));
    pv = calloc((size_t)n, sizeof(*pv));
    if (!v || !pv) {
        free(v);
        free(pv);
        return -ENOMEM;
    }
    xsim_codec_strings(r->payload, r->len, v, (unsigned int)n);
    for (int i = 1; i < n && rc == 0; i++)
        rc = xsim_perm_parse(v[i], &pv[i - 1]);
    if (rc == 0) {
        perms.num = (unsigned int)n - 1;
        perms.p = pv;
        rc = ack(r, xsim_store_set_perms(r->st, r->c, r->hdr->tx_id, v[0],
                                         &perms));
    }
    free(v);
    free(pv);
    return rc;
}

static int h_watch(const struct req *r)
{
    const char *v[2];
    int rc;

    if (nargs(r, v, 2) < 0)
        return -EINVAL;
    rc = xsim_store_watch(r->st, r->c, v[0], v[1]);
    if (rc < 0)
        return rc;
    rc = ok(r);
    /* Fire once up front, after the ack. */
    if (rc == 0)
        xsim_store_watch_initial(r->st, r->c, v[0], v[1]);
    return rc;
}

static int h_unwatch(const struct req *r)
{
    const char *v[2];

    if (nargs(r, v, 2) < 0)
        return -EINVAL;
    return ack(r, xsim_store_unwatch(r->st, r->c, v[0], v[1]));
}

static int h_transaction_start(const struct req *r)
{
    char id[16];
    uint32_t tx;
    int rc;

    if (r->hdr->tx_id != 0)
        return -EBUSY;
    rc = xsim_store_txn_start(r->st, r->c, &tx);
    if (rc < 0)
        return rc;
    snprintf(id, sizeof(id), "%" PRIu32, tx);
    return xsim_codec_reply_str(r->out, r->hdr, id);
}

static int h_transaction_end(const struct req *r)
{
    const char *arg = onearg(r);
    bool commit;

    if (!arg)
        return -EINVAL;
    if (strcmp(arg, "T") == 0)
        commit = true;
    else if (strcmp(arg, "F") == 0)
        commit = false;
    else
        return -EINVAL;
    return ack(r, xsim_store_txn_end(r->st, r->c, r->hdr->tx_id, commit));
}

static int domid_arg(const struct req *r, unsigned int *domid)
{
    const char *arg = onearg(r);

    return arg ? xsim_parse_domid(arg, domid) : -EINVAL;
}

static int h_get_domain_path(const struct req *r)
{
    char path[XSIM_DOMAIN_PATH_MAX];
    unsigned int domid;

    if (domid_arg(r, &domid) < 0)
        return -EINVAL;
    xsim_domain_path(domid, path);
    return xsim_codec_reply_str(r->out, r->hdr, path);
}

static int h_is_domain_introduced(const struct req *r)
{
    unsigned int domid;

    if (domid_arg(r, &domid) < 0)
        return -EINVAL;
    return xsim_codec_reply_str(r->out, r->hdr,
                                xsim_store_is_introduced(r->st, domid) ? "T"
                                                                       : "F");
}

/* INTRODUCE <domid>|<mfn>|<port>|...: no ring to map here, just the record. */
static int h_introduce(const struct req *r)
{
    const char *v[3];
    unsigned int domid;
    int rc;

    if (!r->c->privileged)
        return -EACCES;
    if (xsim_codec_strings(r->payload, r->len, v, 3) < 3 ||
        xsim_parse_domid(v[0], &domid) < 0)
        return -EINVAL;
    rc = xsim_store_introduce(r->st, domid, NULL, false);
    return ack(r, rc == -EEXIST ? 0 : rc);
}

static int h_release(const struct req *r)
{
    unsigned int domid;

    if (!r->c->privileged)
        return -EACCES;
    if (domid_arg(r, &domid) < 0)
        return -EINVAL;
    return ack(r, xsim_store_release(r->st, domid, false));
}

static int h_resume(const struct req *r)
{
    unsigned int domid;

    if (!r->c->privileged)
        return -EACCES;
    if (domid_arg(r, &domid) < 0)
        return -EINVAL;
    return ack(r, xsim_store_is_introduced(r->st, domid) ? 0 : -ENOENT);
}

static int h_reset_watches(const struct req *r)
{
    xsim_store_forget_owner(r->st, r->c->owner);
    return ok(r);
}

int xsim_dispatch(struct xsim_store *st, const struct xsim_caller *c,
                  const struct xsd_sockmsg *hdr, const char *payload,
                  struct xsim_buf *out)
{
    struct req r = { st, c, hdr, payload, hdr->len, out };
    int rc;

    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return xsim_codec_error(out, hdr, E2BIG);
    switch (hdr->type) {
    case XS_READ: rc = h_read(&r); break;
    case XS_WRITE: rc = h_write(&r); break;
    case XS_MKDIR: rc = h_mkdir(&r); break;
    case XS_RM: rc = h_rm(&r); break;
    case XS_DIRECTORY: rc = h_directory(&r); break;
    case XS_DIRECTORY_PART: rc = h_directory_part(&r); break;
    case XS_GET_PERMS: rc = h_get_perms(&r); break;
    case XS_SET_PERMS: rc = h_set_perms(&r); break;
    case XS_WATCH: rc = h_watch(&r); break;
    case XS_UNWATCH: rc = h_unwatch(&r); break;
    case XS_TRANSACTION_START: rc = h_transaction_start(&r); break;
    case XS_TRANSACTION_END: rc = h_transaction_end(&r); break;
    case XS_GET_DOMAIN_PATH: rc = h_get_domain_path(&r); break;
    case XS_IS_DOMAIN_INTRODUCED: rc = h_is_domain_introduced(&r); break;
    case XS_INTRODUCE: rc = h_introduce(&r); break;
    case XS_RELEASE: rc = h_release(&r); break;
    case XS_RESUME: rc = h_resume(&r); break;
    case XS_RESET_WATCHES: rc = h_reset_watches(&r); break;
    default:
        /* XS_CONTROL, XS_SET_TARGET, replies sent as requests, unknown. */
        rc = -ENOSYS;
        break;
    }
    if (rc < 0)
        rc = xsim_codec_error(out, hdr, -rc);
    return rc;
}
