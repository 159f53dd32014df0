/*
 * Where a UART's line goes: the byte streams behind ioreq-uart.
 *
 *   stdio       output to stdout, input from stdin (a terminal is put in
 *               raw mode, signals kept, and restored on close)
 *   file:PATH   output appended to PATH; no input
 *   unix:PATH   a listening stream socket at PATH (a stale socket there is
 *               replaced); one client at a time, further ones are turned
 *               away; output with no client is discarded
 *   pty         a new pseudo-terminal; uart_backend_describe() names its
 *               slave ("pty /dev/pts/N"); output nobody reads is discarded
 *               once the pty's buffer is full
 *
 * The backend is driven from the caller's poll loop: uart_backend_poll_fds()
 * fills the pollfds it needs, uart_backend_handle() acts on their revents
 * and returns input bytes.  No function blocks except output to stdout or a
 * file.  Errors are returned, never printed; runtime events (a client came
 * or went, output is being discarded) go to the optional note callback.
 */
#ifndef UART_BACKEND_H
#define UART_BACKEND_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uart_backend;

typedef void uart_backend_note_fn(void *opaque, const char *msg);

/* The most pollfds uart_backend_poll_fds() fills. */
#define UART_BACKEND_MAX_FDS 2

/*
 * Open the backend a spec names ("stdio", "file:PATH", "unix:PATH", "pty").
 * Returns 0, or a negative errno with a one-line reason in err.
 */
int uart_backend_open(const char *spec, struct uart_backend **out, char *err, size_t errlen);
void uart_backend_close(struct uart_backend *be);

/* "stdio", "file PATH", "unix socket PATH", "pty /dev/pts/N". */
const char *uart_backend_describe(const struct uart_backend *be);

void uart_backend_set_note(struct uart_backend *be, uart_backend_note_fn *fn, void *opaque);

/*
 * Output; returns the bytes taken.  Fewer than len means the line is busy
 * (a socket client is slow): ask for want_output and offer the rest after
 * poll.  Discarded output counts as taken.
 */
size_t uart_backend_write(struct uart_backend *be, const uint8_t *buf, size_t len);

/*
 * Fill up to UART_BACKEND_MAX_FDS pollfds; returns how many.  want_input:
 * the receiver has room (no input fd is polled otherwise, so a peer that
 * types faster than the guest reads is held back, not dropped).
 * want_output: output is waiting for the line to free up.
 */
int uart_backend_poll_fds(struct uart_backend *be, struct pollfd *fds,
                          bool want_input, bool want_output);

/*
 * After poll(): act on the revents of the pollfds uart_backend_poll_fds()
 * filled (accept or lose a client, notice end of input), then read at most
 * room input bytes into buf.  Returns the bytes read.
 */
size_t uart_backend_handle(struct uart_backend *be, const struct pollfd *fds, int nfds,
                           uint8_t *buf, size_t room);

#ifdef __cplusplus
}
#endif

#endif /* UART_BACKEND_H */
