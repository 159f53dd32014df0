/* Sending and receiving xensim messages with file descriptors attached. */
#ifndef XENSIM_PROTO_IO_H
#define XENSIM_PROTO_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "xensim_proto.h"

/*
 * Send one message of `len` bytes with up to XENSIM_MAX_FDS fds.
 * Returns 0 or -errno.
 */
int proto_send(int sock, const void *msg, size_t len, const int *fds,
               unsigned int nr_fds);

/*
 * Receive one message into `buf` (XENSIM_MSG_MAX bytes hold any).  Received
 * fds go to `fds` (up to XENSIM_MAX_FDS; extra ones are closed) and their
 * number to *nr_fds; they are close-on-exec unless `inherit_fds`.  Returns
 * the message length, 0 on orderly close, or -errno; -EBADMSG for a message
 * shorter than its header, whose `len` disagrees with what arrived, or that
 * was truncated (its fds are closed).
 */
long proto_recv(int sock, void *buf, size_t size, int *fds, unsigned int *nr_fds,
                bool inherit_fds);

#endif
