/* xen_host: the router's calls into Xen's libraries (see xen_host.h). */
#include "xen_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenstore.h>

struct xen_host {
    xendevicemodel_handle *dm;
    xc_interface *xc;
    struct xs_handle *xs;
};

static int neg_errno(void)
{
    return errno ? -errno : -EIO;
}

int xen_host_open(struct xen_host **out, char *err, size_t errlen)
{
    struct xen_host *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (!x)
        return -ENOMEM;
    x->dm = xendevicemodel_open(NULL, 0);
    if (!x->dm) {
        int e = neg_errno();
        snprintf(err, errlen, "cannot open libxendevicemodel: %s", strerror(-e));
        xen_host_close(x);
        return e;
    }
    x->xc = xc_interface_open(NULL, NULL, 0);
    if (!x->xc) {
        int e = neg_errno();
        snprintf(err, errlen, "cannot open libxenctrl: %s", strerror(-e));
        xen_host_close(x);
        return e;
    }
    x->xs = xs_open(0);
    if (!x->xs) {
        int e = neg_errno();
        snprintf(err, errlen, "cannot connect to xenstore: %s", strerror(-e));
        xen_host_close(x);
        return e;
    }
    *out = x;
    return 0;
}

void xen_host_close(struct xen_host *x)
{
    if (!x)
        return;
    if (x->xs)
        xs_close(x->xs);
    if (x->xc)
        xc_interface_close(x->xc);
    if (x->dm)
        xendevicemodel_close(x->dm);
    free(x);
}

int xen_server_create(struct xen_host *x, uint16_t domid, enum router_bufioreq mode,
                      uint16_t *id)
{
    int handle = mode == ROUTER_BUFIOREQ_ATOMIC   ? HVM_IOREQSRV_BUFIOREQ_ATOMIC
                 : mode == ROUTER_BUFIOREQ_LEGACY ? HVM_IOREQSRV_BUFIOREQ_LEGACY
                                                  : HVM_IOREQSRV_BUFIOREQ_OFF;
    ioservid_t sid;

    if (xendevicemodel_create_ioreq_server(x->dm, domid, handle, &sid))
        return neg_errno();
    *id = sid;
    return 0;
}

static int map_ranges(struct xen_host *x, uint16_t domid, uint16_t id, int is_mmio,
                      const struct router_range *r, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (xendevicemodel_map_io_range_to_ioreq_server(x->dm, domid, id, is_mmio, r[i].start,
                                                        r[i].end)) {
            int e = neg_errno();
            char buf[48];
            router_range_format(&r[i], buf, sizeof(buf));
            snprintf(err, errlen, "cannot map %s %s: %s", is_mmio ? "mmio" : "ports", buf,
                     strerror(-e));
            return e;
        }
    }
    return 0;
}

int xen_server_map_all(struct xen_host *x, uint16_t domid, uint16_t id,
                       const struct router_emulator *cfg, char *err, size_t errlen)
{
    int rc = map_ranges(x, domid, id, 0, cfg->ports, cfg->nports, err, errlen);

    if (!rc)
        rc = map_ranges(x, domid, id, 1, cfg->mmio, cfg->nmmio, err, errlen);
    for (size_t i = 0; !rc && i < cfg->npci; i++) {
        const struct router_sbdf *s = &cfg->pci[i];
        if (xendevicemodel_map_pcidev_to_ioreq_server(x->dm, domid, id, s->segment, s->bus,
                                                      s->dev, s->func)) {
            char buf[48];
            rc = neg_errno();
            router_sbdf_format(s, buf, sizeof(buf));
            snprintf(err, errlen, "cannot map PCI %s: %s", buf, strerror(-rc));
        }
    }
    return rc;
}

int xen_server_enable(struct xen_host *x, uint16_t domid, uint16_t id)
{
    return xendevicemodel_set_ioreq_server_state(x->dm, domid, id, 1) ? neg_errno() : 0;
}

int xen_server_disable(struct xen_host *x, uint16_t domid, uint16_t id)
{
    return xendevicemodel_set_ioreq_server_state(x->dm, domid, id, 0) ? neg_errno() : 0;
}

int xen_server_destroy(struct xen_host *x, uint16_t domid, uint16_t id)
{
    return xendevicemodel_destroy_ioreq_server(x->dm, domid, id) ? neg_errno() : 0;
}

int xen_domain_state(struct xen_host *x, uint16_t domid, struct xen_domain_state *st)
{
    xc_domaininfo_t info;
    int n;

    memset(st, 0, sizeof(*st));
    n = xc_domain_getinfolist(x->xc, domid, 1, &info);
    if (n < 0)
        return errno == ESRCH ? 0 : neg_errno();
    if (n == 0 || info.domain != domid)
        return 0; /* the next domain up, or none: ours is gone */
    st->exists = true;
    st->dying = (info.flags & (XEN_DOMINF_dying | XEN_DOMINF_shutdown)) != 0;
    return 0;
}

int xen_domain_pause(struct xen_host *x, uint16_t domid)
{
    return xc_domain_pause(x->xc, domid) ? neg_errno() : 0;
}

int xen_domain_unpause(struct xen_host *x, uint16_t domid)
{
    return xc_domain_unpause(x->xc, domid) ? neg_errno() : 0;
}

int xen_xs_fd(struct xen_host *x)
{
    return xs_fileno(x->xs);
}

int xen_xs_watch(struct xen_host *x, const char *path, const char *token)
{
    return xs_watch(x->xs, path, token) ? 0 : neg_errno();
}

int xen_xs_next_watch(struct xen_host *x, char **path, char **token)
{
    char **v = xs_check_watch(x->xs);

    if (!v)
        return errno == EAGAIN ? -EAGAIN : neg_errno();
    *path = strdup(v[XS_WATCH_PATH]);
    *token = strdup(v[XS_WATCH_TOKEN]);
    free(v);
    if (!*path || !*token) {
        free(*path);
        free(*token);
        return -ENOMEM;
    }
    return 0;
}

char *xen_xs_read(struct xen_host *x, const char *path)
{
    unsigned int len;
    char *v = xs_read(x->xs, XBT_NULL, path, &len);

    /* libxenstore NUL-terminates what it returns; a NUL inside would cut
     * the value short unseen. */
    if (v && strlen(v) != len) {
        free(v);
        errno = EILSEQ;
        return NULL;
    }
    return v;
}

char **xen_xs_dir(struct xen_host *x, const char *path, unsigned *n)
{
    return xs_directory(x->xs, XBT_NULL, path, n);
}

int xen_xs_write(struct xen_host *x, const char *path, const char *value)
{
    return xs_write(x->xs, XBT_NULL, path, value, strlen(value)) ? 0 : neg_errno();
}

int xen_xs_rm(struct xen_host *x, const char *path)
{
    if (xs_rm(x->xs, XBT_NULL, path) || errno == ENOENT)
        return 0;
    return neg_errno();
}
