/*
 * The router's view of Xen: the dm_ops it issues for a guest (through
 * libxendevicemodel), domain pause and information (libxenctrl) and
 * xenstore (libxenstore).  Every function returns 0 or a negative errno.
 * Under xensim the same calls go to the simulator's drop-in libraries.
 */
#ifndef XEN_HOST_H
#define XEN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router_config.h"

struct xen_host;

struct xen_domain_state {
    bool exists;
    bool dying;  /* dying or shut down: treat as gone */
};

int xen_host_open(struct xen_host **out, char *err, size_t errlen);
void xen_host_close(struct xen_host *x);

/* ioreq servers */
int xen_server_create(struct xen_host *x, uint16_t domid, enum router_bufioreq mode,
                      uint16_t *id);
int xen_server_map_all(struct xen_host *x, uint16_t domid, uint16_t id,
                       const struct router_emulator *cfg, char *err, size_t errlen);
int xen_server_enable(struct xen_host *x, uint16_t domid, uint16_t id);
int xen_server_disable(struct xen_host *x, uint16_t domid, uint16_t id);
int xen_server_destroy(struct xen_host *x, uint16_t domid, uint16_t id);

/* domains */
int xen_domain_state(struct xen_host *x, uint16_t domid, struct xen_domain_state *st);
int xen_domain_pause(struct xen_host *x, uint16_t domid);
int xen_domain_unpause(struct xen_host *x, uint16_t domid);

/* xenstore */
int xen_xs_fd(struct xen_host *x);
int xen_xs_watch(struct xen_host *x, const char *path, const char *token);
/* Next fired watch: 0 with *path and *token set (free both), -EAGAIN if none. */
int xen_xs_next_watch(struct xen_host *x, char **path, char **token);
/* A NUL-terminated value (free it), or NULL with errno (EILSEQ: the value
 * has a NUL byte inside). */
char *xen_xs_read(struct xen_host *x, const char *path);
/* Entries of a directory (free the array), or NULL with errno; sets *n. */
char **xen_xs_dir(struct xen_host *x, const char *path, unsigned *n);
int xen_xs_write(struct xen_host *x, const char *path, const char *value);
int xen_xs_rm(struct xen_host *x, const char *path);

#endif
