/*
 * The start-up and shutdown steps the emulator programs share around their
 * device: opening the ioreq server the options name, going live (start,
 * say what is served, the readiness file), libioreq's loop, and the stop
 * signals.  Each prints its failure as "PROG: ..." on stderr itself.
 */
#ifndef EMU_SERVE_H
#define EMU_SERVE_H

#include <signal.h>
#include <stdbool.h>

#include <libioreq.h>

#include "emu_args.h"
#include "emu_log.h"

/*
 * Block SIGTERM and SIGINT, the signals that stop an emulator, so that one
 * arriving before the loop watches them is not lost; mask gets the two.
 * Returns 0, or -1 with errno set.
 */
int emu_block_stop_signals(sigset_t *mask);

/*
 * ioreq_open() for o's domain: attach to --ioservid, or create a server
 * (standalone).  has_pic: the guest has an emulated PIC (ISA IRQs may be
 * raised); log: libioreq's log goes through it.  On failure prints
 * "attaching to ioreq server S of domain D: ERR" or "creating an ioreq
 * server for domain D: ERR"; returns 0 or a negative errno.
 */
int emu_open(const struct emu_opts *o, bool has_pic, struct emu_log *log,
             struct ioreq_ctx **ctx);

/*
 * Go live once the device is registered: ioreq_start(), then log what is
 * served (info; fmt and its arguments), then write --ready-file if given.
 * The server id (ioreq_server_id) is fixed from ioreq_open() on.  Returns
 * 0 or a negative errno (printed: "starting ioreq server: ERR",
 * "--ready-file PATH: ERR").
 */
int emu_start(const struct emu_opts *o, struct ioreq_ctx *ctx, const struct emu_log *log,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ioreq_run(); returns what it does, a failure printed as "PROG: ERR". */
int emu_run(const char *prog, struct ioreq_ctx *ctx);

#endif /* EMU_SERVE_H */
