/*
 * A new port device on libioreq: a scratch register at port 0x510 and a
 * counter of reads at 0x511.  Build:  cc port_device.c $(pkg-config --cflags --libs libioreq)
 * Run:  port_device DOMID [IOSERVID]   (without IOSERVID it creates its own server)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libioreq.h>

struct dev {
    uint8_t scratch, reads;
};

static uint64_t dev_read(void *opaque, uint64_t offset, unsigned int size)
{
    struct dev *d = opaque;
    (void)size;
    return offset == 0 ? d->scratch : ++d->reads;
}

static void dev_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
    struct dev *d = opaque;
    (void)size;
    if (offset == 0)
        d->scratch = (uint8_t)value;
}

int main(int argc, char **argv)
{
    static const struct ioreq_region_ops ops = { .read = dev_read, .write = dev_write };
    struct ioreq_options opts = { .ioservid = argc > 2 ? atoi(argv[2]) : -1, .has_pic = true };
    struct ioreq_ctx *ctx;
    struct dev dev = { 0 };
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DOMID [IOSERVID]\n", argv[0]);
        return 2;
    }
    opts.domid = (domid_t)atoi(argv[1]);
    if ((rc = ioreq_open(&opts, &ctx)) < 0) {
        fprintf(stderr, "port_device: %s\n", strerror(-rc));
        return 1;
    }
    if ((rc = ioreq_add_port_region(ctx, 0x510, 2, &ops, &dev, NULL)) == 0 &&
        (rc = ioreq_start(ctx)) == 0) {
        printf("port_device: serving ports 0x510-0x511 of domain %s\n", argv[1]);
        fflush(stdout);
        rc = ioreq_run(ctx); /* until SIGTERM or SIGINT */
    }
    ioreq_close(ctx);
    if (rc < 0)
        fprintf(stderr, "port_device: %s\n", strerror(-rc));
    return rc < 0;
}
