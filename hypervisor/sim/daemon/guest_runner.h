/*
 * Guest runs (guest_runner.c), as the rest of the daemon sees them, beyond
 * guest_run_start() (conn.h).
 */
#ifndef XENSIM_GUEST_RUNNER_H
#define XENSIM_GUEST_RUNNER_H

#include "sim.h"

/*
 * A line the guest printed on Xen's debug console (the core's
 * debug_console callback): added to the trace of the domain's traced run,
 * if one is going.  Takes d->lock.
 */
void guest_run_console(struct sim_domain *d, const char *line);

#endif
