/*
 * Drop-in libxenctrl.so.4.17, a subset: opening and closing the interface,
 * domain information (xc_domain_getinfolist, xc_domain_getinfo) and the
 * toolstack's pause (xc_domain_pause, xc_domain_unpause), each sent to the
 * xensim daemon as XENSIM_DOMAIN_GETINFO / _PAUSE / _UNPAUSE.  The other
 * functions of Debian's library are not exported at all, so a program that
 * needs one fails to load and the dynamic linker names it.
 *
 * Semantics are Xen 4.17's: getinfolist returns the domains with domid >=
 * first (truncated to a domid_t, as the sysctl's field is), ascending, up to
 * max, and 0 when there are none; getinfo is the older loop over
 * XEN_DOMCTL_getdomaininfo (the next domain at or after the one asked for;
 * ESRCH when there is none, EINVAL past the last valid domid); pause and
 * unpause move the toolstack's pause count (EINVAL unpausing at 0).
 *
 * As the real handle's libxencall fd does, the connection turns into
 * /dev/null on xentoolcore_restrict_all(): every later call fails with
 * ENOTTY, as an ioctl on /dev/null would.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xen/sched.h>

#include "xsc_client.h"
#include "xsc_toolcore.h"

struct xc_interface_core {
    Xentoolcore__Active_Handle tc_ah;
    struct xsc_conn conn;
    bool dummy;     /* XC_OPENFLAG_DUMMY: nothing opened, nothing registered */
    int restricted; /* atomic: xentoolcore_restrict_all() took the connection away */
};

/* 0 if the handle can talk to the daemon, else -1 with errno. */
static int usable(xc_interface *xch)
{
    if (!xch || xch->dummy) {
        errno = EBADF;
        return -1;
    }
    if (__atomic_load_n(&xch->restricted, __ATOMIC_ACQUIRE)) {
        errno = ENOTTY; /* the hypercall ioctl, on /dev/null */
        return -1;
    }
    return 0;
}

static int restrict_cb(Xentoolcore__Active_Handle *ah, domid_t domid)
{
    xc_interface *xch = XSC_CONTAINER_OF(ah, xc_interface, tc_ah);

    (void)domid; /* libxencall cannot restrict to a domain: it gives the fd up */
    __atomic_store_n(&xch->restricted, 1, __ATOMIC_RELEASE);
    return xentoolcore__restrict_by_dup2_null(xch->conn.sock);
}

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    xc_interface *xch = calloc(1, sizeof(*xch));
    const char *what = "cannot allocate a handle";

    (void)dombuild_logger; /* nothing here builds domains */
    if (xch && (open_flags & XC_OPENFLAG_DUMMY)) {
        xch->dummy = true;
        xch->conn.sock = -1;
        return xch;
    }
    if (!xch || xsc_open(&xch->conn, XENSIM_CLIENT_XENCTRL, true, NULL, NULL, &what) < 0) {
        int err = errno;
        free(xch);
        xsc_log_open_failure(logger, "xenctrl", err, what);
        errno = err;
        return NULL;
    }
    xch->tc_ah.restrict_callback = restrict_cb;
    xentoolcore__register_active_handle(&xch->tc_ah);
    return xch;
}

int xc_interface_close(xc_interface *xch)
{
    if (!xch)
        return 0;
    if (!xch->dummy) {
        xentoolcore__deregister_active_handle(&xch->tc_ah);
        xsc_close(&xch->conn);
    }
    free(xch);
    return 0;
}

/* ---- pause ---- */

static int pause_op(xc_interface *xch, uint32_t type, uint32_t domid)
{
    /* domctl.domain is a domid_t: the upper bits are lost on the way, as with Xen. */
    struct xensim_domain_ref req = { .hdr = { .type = type }, .domid = (domid_t)domid };
    struct xensim_hdr rep;

    if (usable(xch) < 0)
        return -1;
    return xsc_call(&xch->conn, &req, sizeof(req), &rep, sizeof(rep), sizeof(rep), NULL, NULL) < 0
               ? -1
               : 0;
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
    return pause_op(xch, XENSIM_DOMAIN_PAUSE, domid);
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
    return pause_op(xch, XENSIM_DOMAIN_UNPAUSE, domid);
}

/* ---- domain information ---- */

/*
 * Up to `max` (at most XENSIM_GETINFO_MAX) domains with domid >= first into
 * `rep` (XENSIM_MSG_MAX bytes): their count, or -1 with errno.
 */
static long query(xc_interface *xch, uint32_t first, uint32_t max,
                  struct xensim_domain_getinfo_reply *rep)
{
    struct xensim_domain_getinfo req = {
        .hdr = { .type = XENSIM_DOMAIN_GETINFO }, .first_domid = first, .max = max,
    };
    long n = xsc_call(&xch->conn, &req, sizeof(req), rep, XENSIM_MSG_MAX, sizeof(*rep), NULL,
                      NULL);

    if (n < 0)
        return -1;
    bool ok = rep->count <= max &&
              (size_t)n == sizeof(*rep) + (size_t)rep->count * sizeof(rep->info[0]);
    for (uint32_t i = 0; ok && i < rep->count; i++) /* ascending, from `first`, valid ids */
        ok = rep->info[i].domid >= (i ? rep->info[i - 1].domid + 1 : first) &&
             rep->info[i].domid < DOMID_FIRST_RESERVED;
    if (!ok) {
        errno = EIO;
        return -1;
    }
    return rep->count;
}

static void to_domaininfo(const struct xensim_dominfo *s, xc_domaininfo_t *d)
{
    memset(d, 0, sizeof(*d));
    d->domain = (domid_t)s->domid;
    d->flags = s->flags;
    d->tot_pages = s->tot_pages;
    d->max_pages = s->max_pages;
    d->nr_online_vcpus = s->nr_online_vcpus;
    d->max_vcpu_id = s->max_vcpu_id;
    d->cpupool = 0; /* Pool-0 */
    d->arch_config.emulation_flags = s->emulation_flags;
}

/* As libxenctrl 4.17 turns a struct xen_domctl_getdomaininfo into an xc_dominfo_t. */
static void to_dominfo(const struct xensim_dominfo *s, xc_dominfo_t *d)
{
    const uint32_t f = s->flags;

    memset(d, 0, sizeof(*d));
    d->domid = s->domid;
    d->dying = !!(f & XEN_DOMINF_dying);
    d->shutdown = !!(f & XEN_DOMINF_shutdown);
    d->paused = !!(f & XEN_DOMINF_paused);
    d->blocked = !!(f & XEN_DOMINF_blocked);
    d->running = !!(f & XEN_DOMINF_running);
    d->hvm = !!(f & XEN_DOMINF_hvm_guest);
    d->debugged = !!(f & XEN_DOMINF_debugged);
    d->xenstore = !!(f & XEN_DOMINF_xs_domain);
    d->hap = !!(f & XEN_DOMINF_hap);
    d->shutdown_reason = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    if (d->shutdown && d->shutdown_reason == SHUTDOWN_crash) {
        d->shutdown = 0;
        d->crashed = 1;
    }
    d->nr_pages = s->tot_pages;
    d->max_memkb = s->max_pages << (XC_PAGE_SHIFT - 10);
    d->nr_online_vcpus = s->nr_online_vcpus;
    d->max_vcpu_id = s->max_vcpu_id;
    d->cpupool = 0;
    d->arch_config.emulation_flags = s->emulation_flags;
}

static uint32_t chunk(unsigned int left)
{
    return left < XENSIM_GETINFO_MAX ? left : (uint32_t)XENSIM_GETINFO_MAX;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
                          xc_domaininfo_t *info)
{
    if (usable(xch) < 0)
        return -1;
    if (max_domains > 0 && !info) {
        errno = EFAULT;
        return -1;
    }
    struct xensim_domain_getinfo_reply *rep = malloc(XENSIM_MSG_MAX);
    if (!rep)
        return -1;

    /* The sysctl's first_domain is a domid_t. */
    uint32_t next = (domid_t)first_domain;
    unsigned int n = 0;
    do { /* one request even for max_domains == 0: the daemon may refuse (EPERM) */
        const uint32_t want = chunk(max_domains - n);
        long got = query(xch, next, want, rep);
        if (got < 0) {
            int err = errno;
            free(rep);
            errno = err;
            return -1;
        }
        for (long i = 0; i < got; i++)
            to_domaininfo(&rep->info[i], &info[n + (unsigned int)i]);
        n += (unsigned int)got;
        if ((uint32_t)got < want || got == 0)
            break;
        next = rep->info[got - 1].domid + 1;
    } while (n < max_domains && next < DOMID_FIRST_RESERVED);
    free(rep);
    return (int)n;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
                      xc_dominfo_t *info)
{
    if (max_doms > 0 && !info) {
        errno = EFAULT;
        return -1;
    }
    if (max_doms > 0)
        memset(info, 0, max_doms * sizeof(*info));
    if (max_doms == 0) /* libxenctrl makes no hypercall then */
        return 0;
    if (usable(xch) < 0)
        return -1;
    struct xensim_domain_getinfo_reply *rep = malloc(XENSIM_MSG_MAX);
    if (!rep)
        return -1;

    /*
     * Each XEN_DOMCTL_getdomaininfo gets the domain at or after domctl.domain
     * (a domid_t); the loop goes on from the domid found + 1.  ESRCH when no
     * domain follows, EINVAL once past the last valid domid.
     */
    uint32_t next = first_domid;
    unsigned int nr = 0;
    int err = 0;
    while (nr < max_doms) {
        const domid_t dom = (domid_t)next;
        if (dom >= DOMID_FIRST_RESERVED) {
            err = EINVAL;
            break;
        }
        const uint32_t want = chunk(max_doms - nr);
        long got = query(xch, dom, want, rep);
        if (got <= 0) {
            err = got < 0 ? errno : ESRCH;
            break;
        }
        for (long i = 0; i < got; i++)
            to_dominfo(&rep->info[i], &info[nr + (unsigned int)i]);
        nr += (unsigned int)got;
        next = (domid_t)rep->info[got - 1].domid + 1u;
        if ((uint32_t)got < want) {
            err = ESRCH;
            break;
        }
    }
    free(rep);
    if (nr == 0) {
        errno = err;
        return -1;
    }
    return (int)nr;
}
