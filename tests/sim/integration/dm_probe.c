/*
 * dm_probe: an emulator whose domain goes away under it.  Built only
 * against Debian's Xen headers and libraries, like mini_emulator.
 *
 *   dm_probe --domid D --ready-file PATH --go-file PATH
 *
 * Sets up as a device model does (create an ioreq server, map a port
 * range, map its ioreq page by acquire_resource, enable it, bind vCPU 0's
 * port), writes the server id to the ready file, then waits (at most 30 s)
 * for the go file to exist.  Then it makes the calls below and prints one
 * line for each, "CALL: ok" or "CALL: ERRNO_NAME", on stdout:
 *
 *   get_ioreq_server_info, map_io_range, set_ioreq_server_state,
 *   set_isa_irq_level, destroy_ioreq_server        (dm_ops)
 *   nr_vcpus, map_guest_frame, map_resource, resource_size (other calls)
 *   evtchn_notify, evtchn_bind_interdomain
 *
 * Exit status 0 once everything was printed, 1 if the set-up failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

static void report(const char *call, int failed, int err)
{
    const char *name = failed ? strerrorname_np(err) : NULL;

    if (!failed)
        printf("%s: ok\n", call);
    else
        printf("%s: %s\n", call, name ? name : "unknown-errno");
    fflush(stdout);
}

static int setup_fail(const char *what)
{
    fprintf(stderr, "dm_probe: %s: %s\n", what, strerror(errno));
    return 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "domid", required_argument, NULL, 'd' },
        { "ready-file", required_argument, NULL, 'r' },
        { "go-file", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    const char *ready = NULL, *go = NULL;
    domid_t domid = 0;
    int opt;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            domid = (domid_t)strtoul(optarg, NULL, 0);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'g':
            go = optarg;
            break;
        default:
            return 2;
        }
    }
    if (!domid || !ready || !go) {
        fprintf(stderr, "usage: dm_probe --domid D --ready-file PATH --go-file PATH\n");
        return 2;
    }

    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    ioservid_t id;
    void *page = NULL;
    evtchn_port_t remote;

    if (!dm || !fmem || !xce)
        return setup_fail("open");
    if (xendevicemodel_create_ioreq_server(dm, domid, HVM_IOREQSRV_BUFIOREQ_OFF, &id))
        return setup_fail("create_ioreq_server");
    if (xendevicemodel_map_io_range_to_ioreq_server(dm, domid, id, 0, 0x500, 0x50f))
        return setup_fail("map_io_range");
    xenforeignmemory_resource_handle *res =
        xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, id, 1, 1,
                                      &page, PROT_READ | PROT_WRITE, 0);
    if (!res)
        return setup_fail("map_resource");
    if (xendevicemodel_set_ioreq_server_state(dm, domid, id, 1))
        return setup_fail("enable");
    remote = ((shared_iopage_t *)page)->vcpu_ioreq[0].vp_eport;
    xenevtchn_port_or_error_t local = xenevtchn_bind_interdomain(xce, domid, remote);
    if (local < 0)
        return setup_fail("bind vCPU 0 port");

    FILE *f = fopen(ready, "w");
    if (!f || fprintf(f, "%u\n", id) < 0 || fclose(f))
        return setup_fail("ready file");
    for (int waited = 0; access(go, F_OK) != 0; waited += 20) {
        if (waited >= 30000) {
            fprintf(stderr, "dm_probe: no go file after 30 s\n");
            return 1;
        }
        sleep_ms(20);
    }

    int rc;
    evtchn_port_t port;
    rc = xendevicemodel_get_ioreq_server_info(dm, domid, id, NULL, NULL, &port);
    report("get_ioreq_server_info", rc != 0, errno);
    rc = xendevicemodel_map_io_range_to_ioreq_server(dm, domid, id, 0, 0x600, 0x60f);
    report("map_io_range", rc != 0, errno);
    rc = xendevicemodel_set_ioreq_server_state(dm, domid, id, 0);
    report("set_ioreq_server_state", rc != 0, errno);
    rc = xendevicemodel_set_isa_irq_level(dm, domid, 3, 1);
    report("set_isa_irq_level", rc != 0, errno);
    rc = xendevicemodel_destroy_ioreq_server(dm, domid, id);
    report("destroy_ioreq_server", rc != 0, errno);

    unsigned int vcpus = 0;
    rc = xendevicemodel_nr_vcpus(dm, domid, &vcpus);
    report("nr_vcpus", rc != 0, errno);
    xen_pfn_t gfn = 0;
    int err = 0;
    void *map = xenforeignmemory_map(fmem, domid, PROT_READ, 1, &gfn, &err);
    report("map_guest_frame", map == NULL, errno);
    if (map)
        xenforeignmemory_unmap(fmem, map, 1);
    void *page2 = NULL;
    xenforeignmemory_resource_handle *res2 =
        xenforeignmemory_map_resource(fmem, domid, XENMEM_resource_ioreq_server, id, 1, 1,
                                      &page2, PROT_READ | PROT_WRITE, 0);
    report("map_resource", res2 == NULL, errno);
    if (res2)
        xenforeignmemory_unmap_resource(fmem, res2);
    size_t size = 0;
    rc = xenforeignmemory_resource_size(fmem, domid, XENMEM_resource_ioreq_server, id, &size);
    report("resource_size", rc != 0, errno);

    rc = xenevtchn_notify(xce, (evtchn_port_t)local);
    report("evtchn_notify", rc != 0, errno);
    xenevtchn_port_or_error_t again = xenevtchn_bind_interdomain(xce, domid, remote);
    report("evtchn_bind_interdomain", again < 0, errno);

    /* The page stays mapped, as on Xen, until we let go of it. */
    ((volatile shared_iopage_t *)page)->vcpu_ioreq[0].data = 1;
    xenforeignmemory_unmap_resource(fmem, res);
    xenevtchn_close(xce);
    xenforeignmemory_close(fmem);
    xendevicemodel_close(dm);
    return 0;
}
