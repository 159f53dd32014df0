/*
 * A control connection to the xensim daemon: one SOCK_SEQPACKET socket,
 * XENSIM_HELLO as XENSIM_CLIENT_CONTROL, then request/reply pairs.
 */
#ifndef XENSIM_CLI_CLIENT_H
#define XENSIM_CLI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "xensim_proto.h"

struct xensim_client {
    int fd;
    uint32_t seq;
    uint8_t *buf; /* XENSIM_MSG_MAX bytes: replies arrive here first */
};

/*
 * Connect to `path` and say hello.  0, or -errno: -ENAMETOOLONG, a
 * connect() error, -ENOMEM, a transport error as for xensim_client_call(),
 * or the daemon's refusal, in which case *hello_refused is set.
 */
int xensim_client_open(struct xensim_client *c, const char *path,
                       unsigned int timeout_ms, int *hello_refused);
void xensim_client_close(struct xensim_client *c);

/*
 * Send `req` (the caller sets its header's type; len and seq are filled in)
 * and wait up to `timeout_ms` for the reply, copied to `reply` (room for
 * `reply_max` bytes, at least a header).  The reply must echo type and seq.
 * File descriptors the reply carries are closed, unless `fd` is given: then
 * the reply may carry one, which goes to *fd (-1 without one, and on
 * failure).  Returns the reply's length, or -errno for a transport failure:
 * -ETIMEDOUT, -ECONNRESET (the daemon hung up), -EPROTO (a malformed or
 * unexpected reply, one larger than reply_max, or more than one descriptor
 * for `fd`).  The daemon's own verdict is in the reply's hdr.err.
 */
long xensim_client_call(struct xensim_client *c, void *req, size_t req_len,
                        void *reply, size_t reply_max, unsigned int timeout_ms, int *fd);

#endif /* XENSIM_CLI_CLIENT_H */
