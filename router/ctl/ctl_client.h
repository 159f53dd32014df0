/* ctl_client.h - the client side of ioreq-routerd's control socket: send
 * one request, wait for its reply (wire format in ctl_proto.h). */
#ifndef IOREQ_CTL_CLIENT_H
#define IOREQ_CTL_CLIENT_H

#include <stddef.h>

#include "ctl_proto.h"

struct json_object;

/* Connect to the socket at PATH, send REQUEST (an object with a string
 * "cmd"; borrowed) and read the reply, all within TIMEOUT_MS (negative: no
 * limit).  Returns 0 with *REPLY set to the whole reply object
 * ({"ok":true,"result":...} or {"ok":false,"error":"..."}; the caller puts
 * it), or a negative errno with a one-line message in ERR (ERRLEN bytes;
 * ERR may be NULL):
 *   -EINVAL        bad arguments, or REQUEST is not an object with "cmd"
 *   -EMSGSIZE      REQUEST is longer than CTL_MAX_REQUEST
 *   -ENAMETOOLONG  PATH does not fit a Unix socket address
 *   connect's errno ("cannot connect to PATH: No such file or directory")
 *   -ETIMEDOUT     no full reply in time
 *   -EPROTO        the server closed without a reply, or sent a bad one
 *   another errno  a send/recv error */
int ctl_call(const char *path, struct json_object *request, int timeout_ms,
             struct json_object **reply, char *err, size_t errlen);

#endif
