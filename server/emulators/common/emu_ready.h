/*
 * Readiness for whoever started an emulator (the router, a test): once the
 * emulator serves, it writes its ioreq server id and a newline to a file
 * (which appears complete or not at all: written aside, then renamed) or
 * to an inherited file descriptor (ioreq-routerd passes --ready-fd 3).
 */
#ifndef EMU_READY_H
#define EMU_READY_H

/* Returns 0 or a negative errno. */
int emu_write_ready_file(const char *path, unsigned int server_id);

/* The same line to an inherited fd (a pipe from the router), which is then
 * closed.  Returns 0 or a negative errno. */
int emu_write_ready_fd(int fd, unsigned int server_id);

#endif /* EMU_READY_H */
