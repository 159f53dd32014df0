/*
 * xc_probe: libxenctrl calls from the command line, for test_xenctrl.sh.
 * Built against Debian's <xenctrl.h> and linked with plain -lxenctrl
 * (Debian's library at link time); under `xensim run` the drop-in answers.
 *
 *   xc_probe list FIRST MAX       xc_domain_getinfolist
 *   xc_probe getinfo FIRST MAX    xc_domain_getinfo
 *   xc_probe pause DOMID [N]      xc_domain_pause, N times (default 1); after
 *                                 k successes, a failure prints "paused k, then error E"
 *   xc_probe unpause DOMID        xc_domain_unpause
 *   xc_probe restricted           xentoolcore_restrict_all(), then list and pause
 *   xc_probe missing              calls xc_domain_destroy, which the drop-in lacks
 *
 * Numbers are decimal or 0x hex.  Prints "n=COUNT" and one line per domain,
 * "ok", or "error ENAME" (exit status 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xentoolcore.h>

static const char *errname(int e)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {
        { ESRCH, "ESRCH" }, { EINVAL, "EINVAL" }, { EPERM, "EPERM" },
        { EOVERFLOW, "EOVERFLOW" }, { ENOTTY, "ENOTTY" }, { EBADF, "EBADF" },
        { EFAULT, "EFAULT" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
    };
    static char other[32];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(other, sizeof(other), "errno%d", e);
    return other;
}

static int error(void)
{
    printf("error %s\n", errname(errno));
    return 1;
}

static uint32_t number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);

    if (!*s || *end) {
        fprintf(stderr, "xc_probe: not a number: %s\n", s);
        exit(2);
    }
    return (uint32_t)v;
}

static int list(xc_interface *xch, uint32_t first, unsigned int max)
{
    xc_domaininfo_t *info = calloc(max ? max : 1, sizeof(*info));
    int n = xc_domain_getinfolist(xch, first, max, info);

    if (n < 0) {
        free(info);
        return error();
    }
    printf("n=%d\n", n);
    for (int i = 0; i < n; i++)
        printf("domid %u flags 0x%x emu 0x%x vcpus %u maxid 0x%x tot %llu max %llu\n",
               info[i].domain, info[i].flags, info[i].arch_config.emulation_flags,
               info[i].nr_online_vcpus, info[i].max_vcpu_id,
               (unsigned long long)info[i].tot_pages, (unsigned long long)info[i].max_pages);
    free(info);
    return 0;
}

static int getinfo(xc_interface *xch, uint32_t first, unsigned int max)
{
    xc_dominfo_t *info = calloc(max ? max : 1, sizeof(*info));
    int n = xc_domain_getinfo(xch, first, max, info);

    if (n < 0) {
        free(info);
        return error();
    }
    printf("n=%d\n", n);
    for (int i = 0; i < n; i++)
        printf("domid %u hvm %u paused %u dying %u shutdown %u crashed %u reason %u "
               "vcpus %u maxid 0x%x pages %lu maxkb %lu emu 0x%x\n",
               info[i].domid, info[i].hvm, info[i].paused, info[i].dying, info[i].shutdown,
               info[i].crashed, info[i].shutdown_reason, info[i].nr_online_vcpus,
               info[i].max_vcpu_id, info[i].nr_pages, info[i].max_memkb,
               info[i].arch_config.emulation_flags);
    free(info);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: xc_probe list|getinfo|pause|unpause|restricted|missing ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    int rc = 2;

    if (!xch)
        return error();
    if (strcmp(cmd, "list") == 0 && argc == 4) {
        rc = list(xch, number(argv[2]), number(argv[3]));
    } else if (strcmp(cmd, "getinfo") == 0 && argc == 4) {
        rc = getinfo(xch, number(argv[2]), number(argv[3]));
    } else if (strcmp(cmd, "pause") == 0 && (argc == 3 || argc == 4)) {
        uint32_t n = argc == 4 ? number(argv[3]) : 1, done = 0;
        for (; done < n; done++)
            if (xc_domain_pause(xch, number(argv[2])) < 0)
                break;
        if (done > 0 && done < n)
            printf("paused %u, then ", done);
        rc = done == n ? (printf("ok\n"), 0) : error();
    } else if (strcmp(cmd, "unpause") == 0 && argc == 3) {
        rc = xc_domain_unpause(xch, number(argv[2])) < 0 ? error() : (printf("ok\n"), 0);
    } else if (strcmp(cmd, "restricted") == 0 && argc == 2) {
        xc_domaininfo_t info;
        if (xentoolcore_restrict_all(1) < 0)
            return error();
        /* Both must fail: the output tells how. */
        if (xc_domain_getinfolist(xch, 0, 1, &info) < 0)
            error();
        else
            printf("listed\n");
        if (xc_domain_pause(xch, 1) < 0)
            error();
        else
            printf("paused\n");
        rc = 0;
    } else if (strcmp(cmd, "missing") == 0 && argc == 2) {
        rc = xc_domain_destroy(xch, 1) < 0 ? error() : (printf("destroyed\n"), 0);
    } else {
        fprintf(stderr, "xc_probe: bad arguments\n");
    }
    xc_interface_close(xch);
    return rc;
}
