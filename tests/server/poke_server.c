/*
 * poke_server: scribble on an ioreq server's shared pages from outside, to
 * show that an emulator answers garbage instead of crashing.  Use it while
 * the emulator is stopped (SIGSTOP) or idle.
 *
 *   poke_server DOMID ID slot VCPU [KEY=VALUE...]
 *       rewrite fields of a READY request: addr data count size type ptr dir df;
 *       exits 3 when the slot is not READY (so, with no KEY=VALUE: a check
 *       that VCPU's request waits there), 1 on other failures
 *   poke_server DOMID ID ring-push TYPE DIR SIZECODE ADDR DATA [TYPE DIR ...]
 *       append raw buf_ioreq_t entries and publish them (write_pointer)
 *   poke_server DOMID ID ring-pointers RP WP
 */
#define __XEN_TOOLS__ 1
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenforeignmemory.h>
#include <xen/hvm/hvm_info_table.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

static unsigned long long num(const char *s)
{
    return strtoull(s, NULL, 0);
}

static int poke_slot(ioreq_t *slot, int argc, char **argv)
{
    uint8_t *flags = (uint8_t *)slot + 30;

    if ((*flags & 0xf) != STATE_IOREQ_READY) {
        fprintf(stderr, "poke_server: the slot is not READY (state %u)\n", *flags & 0xf);
        return 3;
    }
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return 2;
        *eq = 0;
        unsigned long long v = num(eq + 1);
        const char *k = argv[i];
        unsigned int bit = !strcmp(k, "ptr") ? 4 : !strcmp(k, "dir") ? 5 : !strcmp(k, "df") ? 6 : 0;

        if (!strcmp(k, "addr"))
            slot->addr = v;
        else if (!strcmp(k, "data"))
            slot->data = v;
        else if (!strcmp(k, "count"))
            slot->count = (uint32_t)v;
        else if (!strcmp(k, "size"))
            slot->size = (uint32_t)v;
        else if (!strcmp(k, "type"))
            slot->type = (uint8_t)v;
        else if (bit)
            *flags = (uint8_t)((*flags & ~(1u << bit)) | (v ? 1u << bit : 0));
        else
            return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        goto usage;
    xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);
    xenforeignmemory_resource_handle *res = NULL;
    uint32_t domid = (uint32_t)num(argv[1]), id = (uint32_t)num(argv[2]);
    bool slot = !strcmp(argv[3], "slot");
    void *page = NULL;
    int rc = 0;

    if (fmem)
        res = xenforeignmemory_map_resource(fmem, (domid_t)domid, XENMEM_resource_ioreq_server,
                                            id, slot ? 1 : 0, 1, &page, PROT_READ | PROT_WRITE,
                                            0);
    if (!res) {
        perror("poke_server: map_resource");
        return 1;
    }
    buffered_iopage_t *pg = page;
    if (slot && num(argv[4]) >= HVM_MAX_VCPUS) {
        rc = 2;
    } else if (slot) {
        rc = poke_slot(&((shared_iopage_t *)page)->vcpu_ioreq[num(argv[4])], argc - 5, argv + 5);
    } else if (!strcmp(argv[3], "ring-pointers") && argc == 6) {
        uint64_t both = num(argv[5]) << 32 | (uint32_t)num(argv[4]);
        __atomic_store_n((uint64_t *)page, both, __ATOMIC_SEQ_CST);
    } else if (!strcmp(argv[3], "ring-push") && (argc - 4) % 5 == 0) {
        uint32_t wp = pg->write_pointer;
        for (int i = 4; i + 4 < argc; i += 5, wp++) {
            buf_ioreq_t b = { .type = (uint8_t)num(argv[i]), .dir = num(argv[i + 1]) & 1,
                              .size = num(argv[i + 2]) & 3, .addr = num(argv[i + 3]) & 0xfffff,
                              .data = (uint32_t)num(argv[i + 4]) };
            pg->buf_ioreq[wp % IOREQ_BUFFER_SLOT_NUM] = b;
        }
        __atomic_store_n(&pg->write_pointer, wp, __ATOMIC_RELEASE);
    } else {
        rc = 2;
    }
    xenforeignmemory_unmap_resource(fmem, res);
    xenforeignmemory_close(fmem);
    if (rc != 2)
        return rc;

usage:
    fprintf(stderr, "usage: poke_server DOMID ID slot VCPU [KEY=VALUE...] | ring-push T D S A V... "
                    "| ring-pointers RP WP\n");
    return 2;
}
