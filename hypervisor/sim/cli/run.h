/*
 * `xensim run`: the private daemon's process (daemon_proc.c) and the
 * private directory (cmd_run.c).
 */
#ifndef XENSIM_CLI_RUN_H
#define XENSIM_CLI_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli.h"

#define DAEMON_NAME "xensim-daemon"
#define DAEMON_READY_MS 10000u
#define DAEMON_STOP_MS 5000u

struct daemon_proc {
    pid_t pid;
    bool reaped;
    int status;   /* when reaped */
};

/* The directory of the running executable, without a trailing '/'.  0 or -1. */
int cli_exe_dir(char *buf, size_t len);

/*
 * Start `path` --dir DIR --ready-fd N in its own process group and wait
 * (DAEMON_READY_MS) for its ready byte.  `child_mask` is the signal mask
 * the daemon gets.  CLI_OK, or CLI_SETUP after printing why (the daemon is
 * then stopped and reaped).
 */
int daemon_start(const struct cli_ctx *ctx, const char *path, const char *dir,
                 const sigset_t *child_mask, struct daemon_proc *d);
/* Reap the daemon if it has exited; warn if it did so on its own. */
void daemon_poll(const struct cli_ctx *ctx, struct daemon_proc *d);
/*
 * SIGTERM, wait DAEMON_STOP_MS, then SIGKILL.  Needs SIGCHLD blocked.
 * Warns about an unclean exit.
 */
void daemon_stop(const struct cli_ctx *ctx, struct daemon_proc *d);

#endif /* XENSIM_CLI_RUN_H */
