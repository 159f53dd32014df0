/*
 * The guest debug console lines the daemon prints, "(dD) text", as Xen
 * prints them on its console.  A guest can write them as fast as it likes
 * and the core hands them over under the domain's lock, so they are queued
 * and printed by a thread of their own.  While the output moves, a full
 * queue holds the guest back (as a slow serial line would) and no line is
 * lost; a stderr that stopped (a pipe nobody reads) costs lines instead,
 * counted and reported in place as Xen reports suppressed messages: never
 * a stalled domain or daemon.
 */
#ifndef XENSIM_CONSOLE_LOG_H
#define XENSIM_CONSOLE_LOG_H

#include <stdint.h>

struct console_log;

/* Print to file descriptor `fd`; 0 or a negative errno. */
int console_log_start(int fd, struct console_log **out);
/* Queue one line of domain `domid`; waits at most 100 ms for room. */
void console_log_line(struct console_log *log, uint16_t domid, const char *line);
/* Print what is queued (giving up on an output stuck for a second), stop. */
void console_log_stop(struct console_log *log);

#endif
