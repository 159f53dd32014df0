/* ctl_proto.h - the wire format of ioreq-routerd's control socket, shared by
 * the daemon side (ctl_server.h) and the client side (ctl_client.h).
 *
 * Transport: a Unix stream socket (default /run/ioreq-router/control, or
 * $IOREQ_ROUTER_SOCKET for ioreqctl).  One connection carries exactly one
 * request and one reply:
 *
 *   client -> server   one JSON object on one line, terminated by "\n",
 *                      at most CTL_MAX_REQUEST (4096) bytes including the
 *                      "\n".  The object must have a string member "cmd";
 *                      any other members are the command's arguments:
 *                        {"cmd":"list"}
 *                        {"cmd":"restart","guest":"demo","emulator":"uart0"}
 *   server -> client   one JSON object on one line, terminated by "\n":
 *                        {"ok":true,"result":{...}}
 *                        {"ok":false,"error":"human readable message"}
 *                      then the server closes the connection.  Replies have
 *                      no fixed limit; clients refuse those above
 *                      CTL_MAX_REPLY.
 *
 * The server answers with an error (and never calls the daemon's handler)
 * when the peer is not allowed (checked with SO_PEERCRED when the connection
 * is accepted, before anything is read), when the line is longer than
 * CTL_MAX_REQUEST, is not a JSON object, has no string "cmd", has anything
 * but white space after the object, when the client closes its side before
 * the "\n", or when no full line arrived within the idle timeout (5 s by
 * default).  docs/ioreqctl.md describes the commands the daemon implements.
 *
 * Everything here is pure (no I/O); errors are negative errno values.
 */
#ifndef IOREQ_CTL_PROTO_H
#define IOREQ_CTL_PROTO_H

#include <stddef.h>

struct json_object;

/* Longest request line, including its terminating "\n". */
#define CTL_MAX_REQUEST 4096
/* Longest reply line a client accepts, including its "\n". */
#define CTL_MAX_REPLY (4u << 20)

#define CTL_DEFAULT_SOCKET "/run/ioreq-router/control"
#define CTL_SOCKET_ENV "IOREQ_ROUTER_SOCKET"

/* Parse one request line (LEN bytes at LINE, without its "\n"; a trailing
 * "\r" and surrounding white space are ignored).  On success returns 0,
 * *REQ is the request object (caller puts it) and *CMD points at its "cmd"
 * string (valid while *REQ lives).  On a malformed request returns -EINVAL
 * and *ERRMSG is a malloc'ed message for the reply; -ENOMEM when memory ran
 * out (then *ERRMSG is NULL). */
int ctl_proto_parse_request(const char *line, size_t len, struct json_object **req,
                            const char **cmd, char **errmsg);

/* Serialize REQUEST as one line with its "\n".  Returns a malloc'ed string
 * and its length in *LEN, or NULL with *ERR = -EINVAL (not an object with a
 * string "cmd"), -EMSGSIZE (longer than CTL_MAX_REQUEST) or -ENOMEM. */
char *ctl_proto_encode_request(struct json_object *request, size_t *len, int *err);

/* Reply lines, malloc'ed, with their "\n"; length in *LEN.  reply_ok takes
 * the reference to RESULT (also when it fails).  NULL when out of memory. */
char *ctl_proto_reply_ok(struct json_object *result, size_t *len);
char *ctl_proto_reply_error(const char *msg, size_t *len);

/* Parse and check one reply line (without its "\n"): an object with a
 * boolean "ok", and a "result" when ok or a string "error" when not.
 * Returns 0 with *REPLY set (caller puts it), or -EPROTO with a message in
 * ERR (ERRLEN bytes, may be 0), or -ENOMEM. */
int ctl_proto_parse_reply(const char *line, size_t len, struct json_object **reply, char *err,
                          size_t errlen);

#endif
