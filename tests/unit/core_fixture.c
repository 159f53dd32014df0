/* Shared fixture for the core's unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

void fixture_setup(struct fixture *f, unsigned int nr_vcpus)
{
    fake_platform_init(&f->fp);
    assert_int_equal(hvio_host_new(&f->fp.ops, &f->fp, &f->host), 0);

    struct hvio_domain_config dom0 = { .domid = DOM0, .privileged = true,
                                       .dm_target = DOMID_INVALID };
    assert_int_equal(hvio_domain_create(f->host, &dom0), 0);

    struct hvio_domain_config guest = {
        .domid = GUEST, .max_vcpus = 8, .hvm = true, .emulated_pic = true,
        .dm_target = DOMID_INVALID, .ioreq_gfn_base = GUEST_GFN_BASE,
        .nr_ioreq_gfns = GUEST_NR_GFNS,
    };
    assert_int_equal(hvio_domain_create(f->host, &guest), 0);
    for (unsigned int i = 0; i < nr_vcpus; i++)
        assert_int_equal(hvio_vcpu_add(f->host, GUEST, i), 0);
}

void fixture_teardown(struct fixture *f)
{
    hvio_host_free(f->host);
    f->host = NULL;
    assert_int_equal(fake_live_total(&f->fp), 0);
    assert_int_equal(f->fp.locks_held, 0);
    for (int d = 0; d < FAKE_MAX_DOMAINS; d++)
        assert_int_equal(f->fp.pause_depth[d], 0);
}

static int issue(struct fixture *f, domid_t caller, domid_t target,
                 struct xen_dm_op *op)
{
    return hvio_dm_op(f->host, caller, target, op, sizeof(*op));
}

int dm_create(struct fixture *f, domid_t caller, domid_t target,
              uint8_t handle_bufioreq, ioservid_t *id)
{
    struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };

    op.u.create_ioreq_server.handle_bufioreq = handle_bufioreq;
    int rc = issue(f, caller, target, &op);
    if (!rc && id)
        *id = op.u.create_ioreq_server.id;
    return rc;
}

int dm_get_info(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
                uint16_t flags, struct xen_dm_op_get_ioreq_server_info *out)
{
    struct xen_dm_op op = { .op = XEN_DMOP_get_ioreq_server_info };

    op.u.get_ioreq_server_info.id = id;
    op.u.get_ioreq_server_info.flags = flags;
    int rc = issue(f, caller, target, &op);
    if (out)
        *out = op.u.get_ioreq_server_info;
    return rc;
}

static int range_op(struct fixture *f, uint32_t which, domid_t caller,
                    domid_t target, ioservid_t id, uint32_t type,
                    uint64_t start, uint64_t end)
{
    struct xen_dm_op op = { .op = which };

    op.u.map_io_range_to_ioreq_server = (struct xen_dm_op_ioreq_server_range){
        .id = id, .type = type, .start = start, .end = end };
    return issue(f, caller, target, &op);
}

int dm_map(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
           uint32_t type, uint64_t start, uint64_t end)
{
    return range_op(f, XEN_DMOP_map_io_range_to_ioreq_server, caller, target,
                    id, type, start, end);
}

int dm_unmap(struct fixture *f, domid_t caller, domid_t target, ioservid_t id,
             uint32_t type, uint64_t start, uint64_t end)
{
    return range_op(f, XEN_DMOP_unmap_io_range_from_ioreq_server, caller,
                    target, id, type, start, end);
}

int dm_set_state(struct fixture *f, domid_t caller, domid_t target,
                 ioservid_t id, bool enabled)
{
    struct xen_dm_op op = { .op = XEN_DMOP_set_ioreq_server_state };

    op.u.set_ioreq_server_state.id = id;
    op.u.set_ioreq_server_state.enabled = enabled;
    return issue(f, caller, target, &op);
}

int dm_destroy(struct fixture *f, domid_t caller, domid_t target, ioservid_t id)
{
    struct xen_dm_op op = { .op = XEN_DMOP_destroy_ioreq_server };

    op.u.destroy_ioreq_server.id = id;
    return issue(f, caller, target, &op);
}

ioservid_t server_with_range(struct fixture *f, uint8_t handle_bufioreq,
                             uint32_t type, uint64_t start, uint64_t end)
{
    ioservid_t id = HVIO_MAX_SERVERS; /* set by a successful create */

    assert_int_equal(dm_create(f, DOM0, GUEST, handle_bufioreq, &id), 0);
    assert_int_equal(dm_map(f, DOM0, GUEST, id, type, start, end), 0);
    assert_int_equal(dm_set_state(f, DOM0, GUEST, id, true), 0);
    return id;
}

shared_iopage_t *ioreq_page_of(struct fixture *f, ioservid_t id)
{
    void *page = NULL;

    assert_int_equal(hvio_acquire_ioreq_frame(f->host, DOM0, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), 0);
    return page;
}

buffered_iopage_t *buf_page_of(struct fixture *f, ioservid_t id)
{
    void *page = NULL;

    assert_int_equal(hvio_acquire_ioreq_frame(f->host, DOM0, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_bufioreq, &page), 0);
    return page;
}
