/*
 * make_server: create an ioreq server for a domain and map its ranges, as
 * the router does, then exit (the server outlives this process) printing
 * its id.  The integration tests attach emulators to it.
 *
 *   make_server DOMID [port A-B | mmio A-B | pci DD.F]...
 */
#define __XEN_TOOLS__ 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xendevicemodel.h>
#include <xen/hvm/hvm_op.h>

int main(int argc, char **argv)
{
    xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
    ioservid_t id;

    if (argc < 2 || argc % 2) {
        fprintf(stderr, "usage: make_server DOMID [port A-B | mmio A-B | pci DD.F]...\n");
        return 2;
    }
    domid_t domid = (domid_t)strtoul(argv[1], NULL, 0);
    if (!dm || xendevicemodel_create_ioreq_server(dm, domid, HVM_IOREQSRV_BUFIOREQ_OFF, &id)) {
        perror("make_server: create");
        return 1;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        unsigned long long a, b;
        unsigned int dev, fn;
        int rc;

        if (!strcmp(argv[i], "pci") && sscanf(argv[i + 1], "%x.%x", &dev, &fn) == 2)
            rc = xendevicemodel_map_pcidev_to_ioreq_server(dm, domid, id, 0, 0, (uint8_t)dev,
                                                           (uint8_t)fn);
        else if (sscanf(argv[i + 1], "%lli-%lli", &a, &b) == 2 &&
                 (!strcmp(argv[i], "port") || !strcmp(argv[i], "mmio")))
            rc = xendevicemodel_map_io_range_to_ioreq_server(dm, domid, id,
                                                             !strcmp(argv[i], "mmio"), a, b);
        else {
            fprintf(stderr, "make_server: bad range %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
        if (rc) {
            perror("make_server: map");
            return 1;
        }
    }
    printf("%u\n", id);
    xendevicemodel_close(dm);
    return 0;
}
