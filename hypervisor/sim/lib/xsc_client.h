/*
 * The drop-in libraries' client side of the xensim protocol: one
 * SOCK_SEQPACKET connection per library handle, request/reply with sequence
 * numbers and SCM_RIGHTS fd passing.  Linked statically (and hidden) into
 * each drop-in .so.
 *
 * All functions return 0 (or a length) on success and -1 with errno set on
 * failure.  Transport failures (daemon gone, truncated or malformed reply)
 * give EIO and mark the connection broken: later calls fail with EIO at once.
 * A reply with hdr.err != 0 gives -1 with errno = hdr.err.
 */
#ifndef XSC_CLIENT_H
#define XSC_CLIENT_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim_proto.h"

#define XSC_HIDDEN __attribute__((visibility("hidden")))
#define XSC_PAGE_SHIFT 12
#define XSC_PAGE_SIZE (1ul << XSC_PAGE_SHIFT)

struct xentoollog_logger;

struct xsc_conn {
    int sock;            /* -1: not connected */
    uint32_t next_seq;
    bool broken;         /* a transport failure happened: fail fast with EIO */
    bool cloexec;        /* received fds (and the socket) get FD_CLOEXEC */
    pthread_mutex_t lock; /* one request/reply in flight per connection */
};

/*
 * Connect to $XENSIM_SOCKET and say HELLO as a client of `kind`, acting as
 * the domain in $XENSIM_DOMID (default 0).  `fds`/`nr_fds` (may be NULL)
 * receive the fds passed with the HELLO reply (up to XENSIM_MAX_FDS); any
 * other received fds are closed.  On failure, *what (if not NULL) is set to
 * a short static description for the open-failure log line.
 */
XSC_HIDDEN int xsc_open(struct xsc_conn *c, uint32_t kind, bool cloexec, int *fds,
                        unsigned int *nr_fds, const char **what);

/* Close the connection (no message is sent: the daemon sees the close). */
XSC_HIDDEN void xsc_close(struct xsc_conn *c);

/*
 * Send `req` (req_len bytes, starting with a struct xensim_hdr whose `type`
 * is set; len/seq/err are filled in here) and wait for its reply.  The reply
 * is stored in `reply` (reply_size bytes; a longer reply is a protocol
 * error).  Returns the reply's length.  The reply must be at least
 * `min_len` bytes unless it carries an error.  Fds that came with the reply
 * are stored in fds[] (XENSIM_MAX_FDS entries; NULL: close them all) and
 * counted in *nr_fds; on any failure none are left open.
 */
XSC_HIDDEN long xsc_call(struct xsc_conn *c, void *req, size_t req_len, void *reply,
                         size_t reply_size, size_t min_len, int *fds, unsigned int *nr_fds);

/* A request carrying just a domid (the XENSIM_*_RESTRICT messages). */
XSC_HIDDEN int xsc_restrict(struct xsc_conn *c, uint32_t type, uint32_t domid);

/* Close fds[0..n). */
XSC_HIDDEN void xsc_close_fds(const int *fds, unsigned int n);

/*
 * One line about a failed *_open(): through the caller's xentoollog logger
 * when there is one, else on stderr, as the real libraries do.
 */
XSC_HIDDEN void xsc_log_open_failure(struct xentoollog_logger *logger, const char *lib,
                                     int err, const char *what);

/* What an unmodelled call does: fail without touching its handle. */
static inline int xsc_unsupported(void)
{
    errno = EOPNOTSUPP;
    return -1;
}

#endif
