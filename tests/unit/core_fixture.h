/*
 * Common set-up for core unit tests: a host on the fake platform with a
 * privileged dom0 (DOM0, the emulator domain) and an HVM guest (GUEST) with
 * vCPUs online, plus one-line wrappers that issue real struct xen_dm_op
 * buffers through hvio_dm_op().
 */
#ifndef CORE_FIXTURE_H
#define CORE_FIXTURE_H

#include "fake_platform.h"
#include "hvio.h"

#define DOM0 0
#define GUEST 1
#define GUEST_VCPUS 2
#define GUEST_GFN_BASE 0xfeff0
#define GUEST_NR_GFNS 4

struct fixture {
    struct fake_platform fp;
    struct hvio_host *host;
};

/* Host, dom0, and GUEST (HVM, emulated PIC) with `nr_vcpus` vCPUs online. */
void fixture_setup(struct fixture *f, unsigned int nr_vcpus);
/* Frees the host and asserts that nothing the core took is still held. */
void fixture_teardown(struct fixture *f);

int dm_create(struct fixture *f, domid_t caller, domid_t target,
              uint8_t handle_bufioreq, ioservid_t *id);
int dm_get_info(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
                uint16_t flags, struct xen_dm_op_get_ioreq_server_info *out);
int dm_map(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
           uint32_t type, uint64_t start, uint64_t end);
int dm_unmap(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
             uint32_t type, uint64_t start, uint64_t end);
int dm_set_state(struct fixture *f, domid_t caller, domid_t target,
                 ioservid_t id, bool enabled);
int dm_destroy(struct fixture *f, domid_t caller, domid_t target, ioservid_t id);

/* Create + map one range + enable, as dom0 on GUEST; returns the id. */
ioservid_t server_with_range(struct fixture *f, uint8_t handle_bufioreq,
                             uint32_t type, uint64_t start, uint64_t end);

/* The server's pages through acquire_resource, as its owner dom0. */
shared_iopage_t *ioreq_page_of(struct fixture *f, ioservid_t id);
buffered_iopage_t *buf_page_of(struct fixture *f, ioservid_t id);

#endif
