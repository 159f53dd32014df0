/*
 * The dm_op control surface, driven through hvio_dm_op() with real
 * `struct xen_dm_op` buffers: every op, its validation, Xen's error codes,
 * the permission rules, the ABI framing (buffer sizes, pads, write-back)
 * and hvio_acquire_ioreq_frame().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

/* Domains beside the fixture's DOM0 and GUEST. */
#define PRIV2 2    /* a second privileged domain */
#define STUB 3     /* a stub device-model domain serving GUEST */
#define UNPRIV 4   /* an ordinary guest with no device-model rights */
#define GUEST2 5   /* another HVM guest */
#define PVGUEST 6  /* a PV guest: dm_op is -EINVAL */
#define PVHGUEST 7 /* a PVH guest: no emulated PIC/IOAPIC */
#define NOBODY 42  /* no such domain */

#define HEADER offsetof(struct xen_dm_op, u)
#define SENTINEL16 0x5a5a
#define SENTINEL32 0xdeadbeefu
#define SENTINEL64 0x0123456789abcdefull

static void add_domain(struct fixture *f, domid_t domid, bool hvm, bool pic,
                       bool privileged, domid_t dm_target, unsigned int vcpus)
{
    struct hvio_domain_config cfg = {
        .domid = domid, .max_vcpus = 4, .hvm = hvm, .emulated_pic = pic,
        .privileged = privileged, .dm_target = dm_target,
        .ioreq_gfn_base = 0x1000, .nr_ioreq_gfns = 4,
    };

    assert_int_equal(hvio_domain_create(f->host, &cfg), 0);
    for (unsigned int i = 0; i < vcpus; i++)
        assert_int_equal(hvio_vcpu_add(f->host, domid, i), 0);
}

/* The fixture plus every kind of domain the permission rules distinguish. */
static void setup_world(struct fixture *f)
{
    fixture_setup(f, GUEST_VCPUS);
    add_domain(f, PRIV2, false, false, true, DOMID_INVALID, 0);
    add_domain(f, STUB, false, false, false, GUEST, 0);
    add_domain(f, UNPRIV, true, true, false, DOMID_INVALID, 1);
    add_domain(f, GUEST2, true, true, false, DOMID_INVALID, 1);
    add_domain(f, PVGUEST, false, false, false, DOMID_INVALID, 1);
    add_domain(f, PVHGUEST, true, false, false, DOMID_INVALID, 1);
}

static int dm_raw(struct fixture *f, domid_t caller, domid_t target,
                  struct xen_dm_op *op)
{
    return hvio_dm_op(f->host, caller, target, op, sizeof(*op));
}

static int acquire(struct fixture *f, domid_t caller, ioservid_t id,
                   unsigned long idx, void **page)
{
    return hvio_acquire_ioreq_frame(f->host, caller, GUEST, id, idx, page);
}

static struct hvio_server_view view_of(struct fixture *f, domid_t domid,
                                       ioservid_t id)
{
    struct hvio_server_view v;

    memset(&v, 0, sizeof(v));
    assert_int_equal(hvio_server_view(f->host, domid, id, &v), 0);
    return v;
}

/* How many ranges of `type` server `id` has; copies up to `max` into `out`. */
static int nr_ranges(struct fixture *f, ioservid_t id, uint32_t type,
                     struct hvio_range *out, unsigned int max)
{
    struct hvio_range scratch;

    return hvio_server_ranges(f->host, GUEST, id, type, out ? out : &scratch,
                              out ? max : 0);
}

static void assert_one_range(struct fixture *f, ioservid_t id, uint32_t type,
                             uint64_t start, uint64_t end)
{
    struct hvio_range r[4];

    assert_int_equal(nr_ranges(f, id, type, r, 4), 1);
    assert_true(r[0].start == start);
    assert_true(r[0].end == end);
}

/* A sync guest access from vCPU 0 that no hook may answer: returns the outcome. */
static int guest_port_read_unanswered(struct fixture *f, uint16_t port)
{
    struct hvio_vcpu *v;
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = port, .size = 1, .count = 1,
                  .dir = IOREQ_READ };

    assert_int_equal(hvio_vcpu_get(f->host, GUEST, 0, &v), 0);
    int rc = hvio_emulate(v, &p);
    hvio_vcpu_put(v);
    return rc;
}

/* ---- create ------------------------------------------------------------ */

static void test_create_modes(void **state)
{
    static const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_OFF,
                                     HVM_IOREQSRV_BUFIOREQ_LEGACY,
                                     HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    for (unsigned int m = 0; m < 3; m++) {
        ioservid_t id = 0xffff;
        unsigned int ports_before = fake_ports_live(&f.fp);

        assert_int_equal(dm_create(&f, DOM0, GUEST, modes[m], &id), 0);
        assert_int_equal(id, m);

        struct hvio_server_view v = view_of(&f, GUEST, id);
        assert_int_equal(v.emulator, DOM0);
        assert_false(v.enabled); /* servers start disabled, as in Xen */
        assert_int_equal(v.bufioreq_handling, modes[m]);
        for (unsigned int i = 0; i < 3; i++)
            assert_int_equal(v.nr_ranges[i], 0);

        /* A channel per online vCPU, none for offline ones. */
        for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++) {
            if (i < GUEST_VCPUS) {
                evtchn_port_t p = v.vcpu_port[i];

                assert_true(p > 0 && p < FAKE_MAX_PORTS);
                assert_true(f.fp.port[p].used);
                assert_int_equal(f.fp.port[p].domid, GUEST);
                assert_int_equal(f.fp.port[p].remote, DOM0);
                assert_int_equal(f.fp.port[p].vcpu_id, i);
            } else {
                assert_int_equal(v.vcpu_port[i], 0);
            }
        }
        assert_int_not_equal(v.vcpu_port[0], v.vcpu_port[1]);

        void *page = NULL;
        if (modes[m] == HVM_IOREQSRV_BUFIOREQ_OFF) {
            assert_int_equal(v.bufioreq_port, 0);
            assert_int_equal(fake_ports_live(&f.fp), ports_before + GUEST_VCPUS);
            assert_int_equal(acquire(&f, DOM0, id,
                             XENMEM_resource_ioreq_server_frame_bufioreq, &page),
                             -ENOENT);
        } else {
            evtchn_port_t bp = v.bufioreq_port;

            assert_true(bp > 0 && bp < FAKE_MAX_PORTS);
            assert_true(f.fp.port[bp].used);
            assert_int_equal(f.fp.port[bp].domid, GUEST);
            assert_int_equal(f.fp.port[bp].remote, DOM0);
            assert_int_not_equal(bp, v.vcpu_port[0]);
            assert_int_not_equal(bp, v.vcpu_port[1]);
            assert_int_equal(fake_ports_live(&f.fp), ports_before + GUEST_VCPUS + 1);
            assert_int_equal(acquire(&f, DOM0, id,
                             XENMEM_resource_ioreq_server_frame_bufioreq, &page), 0);
            assert_non_null(page);
        }
        void *ioreq = NULL;
        assert_int_equal(acquire(&f, DOM0, id,
                         XENMEM_resource_ioreq_server_frame_ioreq(0), &ioreq), 0);
        assert_non_null(ioreq);
        assert_ptr_not_equal(ioreq, page);
    }
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 3);
    fixture_teardown(&f);
}

static void test_create_bad_handle_bufioreq(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long live = fake_live_total(&f.fp);
    static const uint8_t bad[] = { HVM_IOREQSRV_BUFIOREQ_ATOMIC + 1, 0x80, 0xff };

    for (unsigned int i = 0; i < sizeof(bad); i++) {
        struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };

        op.u.create_ioreq_server.handle_bufioreq = bad[i];
        op.u.create_ioreq_server.id = SENTINEL16;
        assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
        assert_int_equal(op.u.create_ioreq_server.id, SENTINEL16);
    }
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    assert_int_equal(fake_live_total(&f.fp), live);
    fixture_teardown(&f);
}

static void test_create_pad(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long live = fake_live_total(&f.fp);
    for (unsigned int i = 0; i < 3; i++) {
        struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };

        op.u.create_ioreq_server.pad[i] = 1;
        op.u.create_ioreq_server.id = SENTINEL16;
        assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
        assert_int_equal(op.u.create_ioreq_server.id, SENTINEL16);
    }
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    assert_int_equal(fake_live_total(&f.fp), live);
    fixture_teardown(&f);
}

static void test_create_ninth_enospc(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    add_domain(&f, PRIV2, false, false, true, DOMID_INVALID, 0);
    for (unsigned int i = 0; i < HVIO_MAX_SERVERS; i++) {
        assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &id), 0);
        assert_int_equal(id, i);
    }
    long live = fake_live_total(&f.fp);
    unsigned int ports = fake_ports_live(&f.fp);

    struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };
    op.u.create_ioreq_server.handle_bufioreq = HVM_IOREQSRV_BUFIOREQ_ATOMIC;
    op.u.create_ioreq_server.id = SENTINEL16;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -ENOSPC);
    assert_int_equal(op.u.create_ioreq_server.id, SENTINEL16);
    /* Another emulator domain is bound by the same per-domain limit. */
    assert_int_equal(dm_create(&f, PRIV2, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id),
                     -ENOSPC);

    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), HVIO_MAX_SERVERS);
    assert_int_equal(fake_live_total(&f.fp), live);
    assert_int_equal(fake_ports_live(&f.fp), ports);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);
    fixture_teardown(&f);
}

static void test_create_lowest_free_id(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    for (unsigned int i = 0; i < 5; i++) {
        assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
        assert_int_equal(id, i);
    }
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, 3), 0);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, 1), 0);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 3);

    /* Freed ids are reused, lowest first, before any new one. */
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(view_of(&f, GUEST, 1).bufioreq_handling, HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(id, 3);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(id, 5);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, 0), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 6);

    /* A reused id starts afresh: no ranges, disabled. */
    assert_int_equal(dm_map(&f, DOM0, GUEST, 2, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, 2, true), 0);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, 2), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(id, 2);
    struct hvio_server_view v = view_of(&f, GUEST, 2);
    assert_false(v.enabled);
    assert_int_equal(v.nr_ranges[XEN_DMOP_IO_RANGE_PORT], 0);
    fixture_teardown(&f);
}

/* ---- get_info ---------------------------------------------------------- */

static struct xen_dm_op info_op(ioservid_t id, uint16_t flags)
{
    struct xen_dm_op op = { .op = XEN_DMOP_get_ioreq_server_info };

    op.u.get_ioreq_server_info.id = id;
    op.u.get_ioreq_server_info.flags = flags;
    op.u.get_ioreq_server_info.bufioreq_port = SENTINEL32;
    op.u.get_ioreq_server_info.ioreq_gfn = SENTINEL64;
    op.u.get_ioreq_server_info.bufioreq_gfn = SENTINEL64;
    return op;
}

static void test_get_info_no_gfns(void **state)
{
    struct fixture f;
    ioservid_t off, legacy;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &off), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &legacy), 0);

    /* Unbuffered: no port, and with no_gfns nothing at all is written. */
    struct xen_dm_op op = info_op(off, XEN_DMOP_no_gfns);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == SENTINEL64);
    assert_true(op.u.get_ioreq_server_info.bufioreq_gfn == SENTINEL64);
    assert_int_equal(op.u.get_ioreq_server_info.id, off);
    assert_int_equal(op.u.get_ioreq_server_info.flags, XEN_DMOP_no_gfns);

    /* Buffered: the port of the ring, gfns untouched. */
    op = info_op(legacy, XEN_DMOP_no_gfns);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    evtchn_port_t bp = view_of(&f, GUEST, legacy).bufioreq_port;
    assert_int_not_equal(bp, 0);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, bp);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == SENTINEL64);
    assert_true(op.u.get_ioreq_server_info.bufioreq_gfn == SENTINEL64);

    /* no_gfns claims no pages: acquire_resource still works afterwards. */
    void *page;
    assert_int_equal(acquire(&f, DOM0, legacy,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), 0);
    fixture_teardown(&f);
}

static bool in_pool(uint64_t gfn)
{
    return gfn >= GUEST_GFN_BASE && gfn < GUEST_GFN_BASE + GUEST_NR_GFNS;
}

static void test_get_info_gfns(void **state)
{
    struct fixture f;
    ioservid_t off, buf;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &off), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &buf), 0);
    long live = fake_live_total(&f.fp);

    struct xen_dm_op op = info_op(off, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    uint64_t off_gfn = op.u.get_ioreq_server_info.ioreq_gfn;
    assert_true(in_pool(off_gfn));
    /* Unbuffered: no ring gfn, no port. */
    assert_true(op.u.get_ioreq_server_info.bufioreq_gfn == SENTINEL64);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);

    op = info_op(buf, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    uint64_t ioreq_gfn = op.u.get_ioreq_server_info.ioreq_gfn;
    uint64_t ring_gfn = op.u.get_ioreq_server_info.bufioreq_gfn;
    assert_true(in_pool(ioreq_gfn));
    assert_true(in_pool(ring_gfn));
    assert_true(ioreq_gfn != ring_gfn);
    assert_true(ioreq_gfn != off_gfn && ring_gfn != off_gfn);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port,
                     view_of(&f, GUEST, buf).bufioreq_port);

    /* Asking again gives the same frames and takes no more of the pool. */
    op = info_op(buf, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == ioreq_gfn);
    assert_true(op.u.get_ioreq_server_info.bufioreq_gfn == ring_gfn);
    assert_int_equal(fake_live_total(&f.fp), live);

    /* The gfns resolve to the server's own pages. */
    void *ioreq_page = NULL, *ring_page = NULL, *off_page = NULL;
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, ioreq_gfn, &ioreq_page), 0);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, ring_gfn, &ring_page), 0);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, off_gfn, &off_page), 0);
    assert_ptr_not_equal(ioreq_page, ring_page);
    assert_ptr_not_equal(ioreq_page, off_page);

    /* ioreq page: enabling publishes the vCPU ports there. */
    assert_int_equal(dm_map(&f, DOM0, GUEST, buf, XEN_DMOP_IO_RANGE_MEMORY,
                            0xa0000, 0xbffff), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, buf, true), 0);
    struct hvio_server_view v = view_of(&f, GUEST, buf);
    shared_iopage_t *sp = ioreq_page;
    for (unsigned int i = 0; i < GUEST_VCPUS; i++)
        assert_int_equal(sp->vcpu_ioreq[i].vp_eport, v.vcpu_port[i]);

    /* Ring page: a posted VGA write lands there. */
    struct hvio_vcpu *vcpu;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 0, &vcpu), 0);
    ioreq_t p = { .type = IOREQ_TYPE_COPY, .addr = 0xa0010, .size = 1,
                  .count = 1, .dir = IOREQ_WRITE, .data = 0x77 };
    assert_int_equal(hvio_emulate(vcpu, &p), HVIO_EMULATED);
    hvio_vcpu_put(vcpu);
    buffered_iopage_t *ring = ring_page;
    assert_int_equal(ring->write_pointer, 1);
    assert_int_equal(ring->buf_ioreq[0].addr, 0xa0010);
    assert_int_equal(ring->buf_ioreq[0].data, 0x77);

    /* Frames outside any server do not resolve. */
    void *none = NULL;
    for (uint64_t g = GUEST_GFN_BASE; g < GUEST_GFN_BASE + GUEST_NR_GFNS; g++)
        if (g != ioreq_gfn && g != ring_gfn && g != off_gfn)
            assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, g, &none), -ENOENT);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, GUEST_GFN_BASE - 1, &none),
                     -ENOENT);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, NOBODY, ioreq_gfn, &none), -ESRCH);

    /* After destroy the frames no longer resolve. */
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, buf), 0);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, ioreq_gfn, &none), -ENOENT);
    assert_int_equal(hvio_ioreq_gfn_page(f.host, GUEST, ring_gfn, &none), -ENOENT);
    assert_null(none);
    fixture_teardown(&f);
}

static void test_get_info_gfn_pool_exhaustion(void **state)
{
    struct fixture f;
    ioservid_t a, b, c, d;
    (void)state;

    /* The pool has four frames: a buffered server takes two. */
    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &a), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &b), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &c), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &d), 0);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, a, 0, NULL), 0);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, b, 0, NULL), 0);

    /* One frame left; a buffered server needs two: all or nothing. */
    struct xen_dm_op op = info_op(c, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -ENOMEM);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == SENTINEL64);
    assert_true(op.u.get_ioreq_server_info.bufioreq_gfn == SENTINEL64);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);

    /* ...so the last frame is still there for an unbuffered one. */
    op = info_op(d, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    uint64_t last = op.u.get_ioreq_server_info.ioreq_gfn;
    assert_true(in_pool(last));

    /* The failed server did not claim its pages either way. */
    void *page;
    assert_int_equal(acquire(&f, DOM0, c, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &page), 0);

    /* Pool empty now: even an unbuffered server gets -ENOMEM. */
    ioservid_t e;
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &e), 0);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, e, 0, NULL), -ENOMEM);
    /* With no_gfns it still works. */
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, e, XEN_DMOP_no_gfns, NULL), 0);

    /* Destroying a server returns its frames to the pool. */
    struct xen_dm_op oa = info_op(a, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &oa), 0);
    uint64_t freed[2] = { oa.u.get_ioreq_server_info.ioreq_gfn,
                          oa.u.get_ioreq_server_info.bufioreq_gfn };
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, a), 0);
    op = info_op(e, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == freed[0] ||
                op.u.get_ioreq_server_info.ioreq_gfn == freed[1]);
    fixture_teardown(&f);
}

static void test_gfns_and_acquire_exclusive(void **state)
{
    struct fixture f;
    ioservid_t by_resource, by_gfn;
    void *page = NULL;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY,
                               &by_resource), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &by_gfn), 0);

    /* Pages acquired: legacy gfns are refused, no_gfns is fine. */
    assert_int_equal(acquire(&f, DOM0, by_resource,
                             XENMEM_resource_ioreq_server_frame_ioreq(0), &page), 0);
    struct xen_dm_op op = info_op(by_resource, 0);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EPERM);
    assert_true(op.u.get_ioreq_server_info.ioreq_gfn == SENTINEL64);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, by_resource, XEN_DMOP_no_gfns, NULL), 0);
    /* The refusal took nothing from the pool: four frames are left. */
    ioservid_t extra;
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &extra), 0);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, extra, 0, NULL), 0);

    /* gfns handed out: acquire is refused, for either frame. */
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, by_gfn, 0, NULL), 0);
    page = NULL;
    assert_int_equal(acquire(&f, DOM0, by_gfn,
                             XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EPERM);
    assert_int_equal(acquire(&f, DOM0, by_gfn,
                             XENMEM_resource_ioreq_server_frame_bufioreq, &page), -EPERM);
    assert_null(page);
    /* ...and gfns keep working. */
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, by_gfn, 0, NULL), 0);
    fixture_teardown(&f);
}

static void test_get_info_bad_flags_and_ids(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &id), 0);
    static const uint16_t bad[] = { 2, 4, 0x8000, 0xffff, XEN_DMOP_no_gfns | 2 };

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct xen_dm_op op = info_op(id, bad[i]);

        assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
        assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);
    }
    /* The invalid calls claimed no gfns: acquire_resource still works. */
    void *page;
    assert_int_equal(acquire(&f, DOM0, id, XENMEM_resource_ioreq_server_frame_bufioreq,
                             &page), 0);

    static const ioservid_t missing[] = { 1, HVIO_MAX_SERVERS - 1, HVIO_MAX_SERVERS, 0xffff };
    for (unsigned int i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        assert_int_equal(dm_get_info(&f, DOM0, GUEST, missing[i], XEN_DMOP_no_gfns, NULL),
                         -ENOENT);
    fixture_teardown(&f);
}

/* ---- map / unmap ------------------------------------------------------- */

static const uint32_t range_types[] = { XEN_DMOP_IO_RANGE_PORT,
                                        XEN_DMOP_IO_RANGE_MEMORY,
                                        XEN_DMOP_IO_RANGE_PCI };

/* Two distinct, non-touching base ranges per type, in that type's units. */
static uint64_t base_of(uint32_t type)
{
    switch (type) {
    case XEN_DMOP_IO_RANGE_PORT:
        return 0x100;
    case XEN_DMOP_IO_RANGE_MEMORY:
        return 0xfe000000ull;
    default:
        return XEN_DMOP_PCI_SBDF(0, 0, 4, 0);
    }
}

static void test_map_start_after_end(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint64_t b = base_of(range_types[t]);

        assert_int_equal(dm_map(&f, DOM0, GUEST, id, range_types[t], b + 1, b), -EINVAL);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, range_types[t], UINT64_MAX, 0),
                         -EINVAL);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, range_types[t], b + 1, b), -EINVAL);
        /* A single unit is a valid range. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, range_types[t], b, b), 0);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, range_types[t], b + 5, b + 4),
                         -EINVAL);
        assert_one_range(&f, id, range_types[t], b, b);
    }
    /* start > end is checked before the server: even for a missing one. */
    assert_int_equal(dm_map(&f, DOM0, GUEST, 5, XEN_DMOP_IO_RANGE_PORT, 2, 1), -EINVAL);
    fixture_teardown(&f);
}

static void test_map_overlap_same_server(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint32_t type = range_types[t];
        uint64_t b = base_of(type);

        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x10, b + 0x1f), 0);
        /* Every kind of overlap: equal, inside, around, either edge. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x10, b + 0x1f), -EEXIST);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x14, b + 0x15), -EEXIST);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b, b + 0x30), -EEXIST);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b, b + 0x10), -EEXIST);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x1f, b + 0x20), -EEXIST);
        assert_one_range(&f, id, type, b + 0x10, b + 0x1f);
        /* The same addresses in another type are independent. */
        uint32_t other = range_types[(t + 1) % 3];
        assert_int_equal(nr_ranges(&f, id, other, NULL, 0), t == 2 ? 1 : 0);
    }
    fixture_teardown(&f);
}

static void test_map_cross_server_overlap_allowed(void **state)
{
    struct fixture f;
    ioservid_t a, b;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    add_domain(&f, PRIV2, false, false, true, DOMID_INVALID, 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &a), 0);
    assert_int_equal(dm_create(&f, PRIV2, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &b), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint64_t base = base_of(range_types[t]);

        assert_int_equal(dm_map(&f, DOM0, GUEST, a, range_types[t], base, base + 0xf), 0);
        assert_int_equal(dm_map(&f, PRIV2, GUEST, b, range_types[t], base + 8,
                                base + 0x17), 0);
        assert_one_range(&f, a, range_types[t], base, base + 0xf);
        assert_one_range(&f, b, range_types[t], base + 8, base + 0x17);
    }
    fixture_teardown(&f);
}

static void test_map_adjacent_ranges_merge(void **state)
{
    struct fixture f;
    ioservid_t id;
    struct hvio_range r[4];
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint32_t type = range_types[t];
        uint64_t b = base_of(type);

        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x30, b + 0x3f), 0);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x10, b + 0x1f), 0);
        assert_int_equal(nr_ranges(&f, id, type, r, 4), 2);
        /* Ascending order, whatever the order of mapping. */
        assert_true(r[0].start == b + 0x10 && r[1].start == b + 0x30);

        /* The gap filled exactly: one range. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x20, b + 0x2f), 0);
        assert_one_range(&f, id, type, b + 0x10, b + 0x3f);
        /* Touching either end extends it. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x40, b + 0x40), 0);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b, b + 0xf), 0);
        assert_one_range(&f, id, type, b, b + 0x40);
        assert_int_equal(view_of(&f, GUEST, id).nr_ranges[type], 1);
        /* A gap of one unit keeps them apart. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x42, b + 0x50), 0);
        assert_int_equal(nr_ranges(&f, id, type, r, 4), 2);
        /* The merged range can be unmapped as a whole. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b, b + 0x40), 0);
        assert_one_range(&f, id, type, b + 0x42, b + 0x50);
    }
    /* The very top of the space merges without wrapping. */
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY,
                            UINT64_MAX - 0xf, UINT64_MAX), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY,
                            UINT64_MAX - 0x1f, UINT64_MAX - 0x10), 0);
    assert_int_equal(nr_ranges(&f, id, XEN_DMOP_IO_RANGE_MEMORY, r, 4), 2);
    assert_true(r[1].start == UINT64_MAX - 0x1f && r[1].end == UINT64_MAX);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY, 0, 0), 0);
    assert_int_equal(nr_ranges(&f, id, XEN_DMOP_IO_RANGE_MEMORY, r, 4), 3);
    assert_true(r[0].start == 0 && r[0].end == 0);
    fixture_teardown(&f);
}

static void test_unmap_splits_and_trims(void **state)
{
    struct fixture f;
    ioservid_t id;
    struct hvio_range r[4];
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint32_t type = range_types[t];
        uint64_t b = base_of(type);

        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b, b + 0xff), 0);
        /* The middle: two ranges remain. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0x40, b + 0x4f), 0);
        assert_int_equal(nr_ranges(&f, id, type, r, 4), 2);
        assert_true(r[0].start == b && r[0].end == b + 0x3f);
        assert_true(r[1].start == b + 0x50 && r[1].end == b + 0xff);
        /* The head and the tail: trimmed. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b, b), 0);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0xf0, b + 0xff), 0);
        assert_int_equal(nr_ranges(&f, id, type, r, 4), 2);
        assert_true(r[0].start == b + 1 && r[0].end == b + 0x3f);
        assert_true(r[1].start == b + 0x50 && r[1].end == b + 0xef);
        /* Mapping the hole again merges back to one. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x40, b + 0x4f), 0);
        assert_one_range(&f, id, type, b + 1, b + 0xef);
    }
    fixture_teardown(&f);
}

static void test_unmap_not_contained(void **state)
{
    struct fixture f;
    ioservid_t id, other;
    struct hvio_range r[4];
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &other), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint32_t type = range_types[t];
        uint64_t b = base_of(type);

        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x10, b + 0x1f), 0);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, b + 0x30, b + 0x3f), 0);
        assert_int_equal(dm_map(&f, DOM0, GUEST, other, type, b + 0x20, b + 0x2f), 0);

        /* Straddling an edge, outside, or spanning the gap between two. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0xf, b + 0x10), -ENOENT);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0x1f, b + 0x20), -ENOENT);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b, b + 0x4f), -ENOENT);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0x18, b + 0x37), -ENOENT);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0x50, b + 0x50), -ENOENT);
        /* Another server's range is not this server's. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, b + 0x20, b + 0x2f), -ENOENT);
        /* The same addresses in another type are not this type's. */
        uint32_t next = range_types[(t + 1) % 3];
        if (nr_ranges(&f, id, next, NULL, 0) == 0)
            assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, next, b + 0x10, b + 0x1f),
                             -ENOENT);

        assert_int_equal(nr_ranges(&f, id, type, r, 4), 2);
        assert_true(r[0].start == b + 0x10 && r[0].end == b + 0x1f);
        assert_true(r[1].start == b + 0x30 && r[1].end == b + 0x3f);
        assert_one_range(&f, other, type, b + 0x20, b + 0x2f);
    }
    fixture_teardown(&f);
}

static void test_map_bad_type_and_server(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    static const uint32_t bad[] = { 3, 4, 0x80000000u, 0xffffffffu };

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, bad[i], 0x10, 0x1f), -EINVAL);
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, bad[i], 0x10, 0x1f), -EINVAL);
    }
    struct hvio_server_view v = view_of(&f, GUEST, id);
    for (unsigned int t = 0; t < 3; t++)
        assert_int_equal(v.nr_ranges[t], 0);
    assert_int_equal(hvio_server_ranges(f.host, GUEST, id, 3, NULL, 0), -EINVAL);

    /* Missing servers: -ENOENT. */
    assert_int_equal(dm_map(&f, DOM0, GUEST, 1, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f), -ENOENT);
    assert_int_equal(dm_map(&f, DOM0, GUEST, HVIO_MAX_SERVERS, XEN_DMOP_IO_RANGE_PORT,
                            0x10, 0x1f), -ENOENT);
    assert_int_equal(dm_unmap(&f, DOM0, GUEST, 0xffff, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f),
                     -ENOENT);
    fixture_teardown(&f);
}

static void test_map_range_limit(void **state)
{
    struct fixture f;
    ioservid_t id, other;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &other), 0);
    for (unsigned int t = 0; t < 3; t++) {
        uint32_t type = range_types[t];

        for (uint64_t i = 0; i < HVIO_MAX_RANGES; i++)
            assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, 4 * i, 4 * i + 1), 0);
        assert_int_equal(nr_ranges(&f, id, type, NULL, 0), HVIO_MAX_RANGES);

        /* A 257th disjoint range: -ENOMEM, nothing changes. */
        uint64_t past = 4 * HVIO_MAX_RANGES;
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, past + 8, past + 9), -ENOMEM);
        assert_int_equal(nr_ranges(&f, id, type, NULL, 0), HVIO_MAX_RANGES);
        /* Growing an existing range needs no new one. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, 2, 2), 0);
        /* Splitting one would make a 257th: -ENOMEM. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, 1, 1), -ENOMEM);
        struct hvio_range r[2];
        assert_int_equal(nr_ranges(&f, id, type, r, 2), HVIO_MAX_RANGES);
        assert_true(r[0].start == 0 && r[0].end == 2);
        /* Removing a whole range makes room again. */
        assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, type, 4, 5), 0);
        assert_int_equal(dm_map(&f, DOM0, GUEST, id, type, past + 8, past + 9), 0);
        /* The limit is per server: another one still has room. */
        assert_int_equal(dm_map(&f, DOM0, GUEST, other, type, past + 8, past + 9), 0);
    }
    fixture_teardown(&f);
}

static void test_map_unmap_pad(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    struct xen_dm_op op = { .op = XEN_DMOP_map_io_range_to_ioreq_server };
    op.u.map_io_range_to_ioreq_server = (struct xen_dm_op_ioreq_server_range){
        .id = id, .pad = 1, .type = XEN_DMOP_IO_RANGE_PORT, .start = 0x10, .end = 0x1f };
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_int_equal(nr_ranges(&f, id, XEN_DMOP_IO_RANGE_PORT, NULL, 0), 0);

    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f), 0);
    op.op = XEN_DMOP_unmap_io_range_from_ioreq_server;
    op.u.unmap_io_range_from_ioreq_server.pad = 0x8000;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_one_range(&f, id, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f);
    op.u.unmap_io_range_from_ioreq_server.pad = 0;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_int_equal(nr_ranges(&f, id, XEN_DMOP_IO_RANGE_PORT, NULL, 0), 0);
    fixture_teardown(&f);
}

/* ---- set_state, destroy, nr_vcpus -------------------------------------- */

static void test_set_state_publishes_ports(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 5), 0); /* a gap: 0, 1, 5 */
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    shared_iopage_t *page = ioreq_page_of(&f, id);

    /* Disabled: nothing published yet. */
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        assert_int_equal(page->vcpu_ioreq[i].vp_eport, 0);

    /* A non-zero pad changes nothing. */
    struct xen_dm_op op = { .op = XEN_DMOP_set_ioreq_server_state };
    op.u.set_ioreq_server_state.id = id;
    op.u.set_ioreq_server_state.enabled = 1;
    op.u.set_ioreq_server_state.pad = 1;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_false(view_of(&f, GUEST, id).enabled);
    assert_int_equal(page->vcpu_ioreq[0].vp_eport, 0);

    /* Any non-zero `enabled` enables. */
    op.u.set_ioreq_server_state.pad = 0;
    op.u.set_ioreq_server_state.enabled = 0x80;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    struct hvio_server_view v = view_of(&f, GUEST, id);
    assert_true(v.enabled);
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++) {
        bool online = i < GUEST_VCPUS || i == 5;

        assert_int_equal(page->vcpu_ioreq[i].vp_eport, v.vcpu_port[i]);
        assert_int_equal(v.vcpu_port[i] != 0, online);
    }

    /* Disable and enable again: the same ports, still published. */
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, false), 0);
    assert_false(view_of(&f, GUEST, id).enabled);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, false), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    struct hvio_server_view again = view_of(&f, GUEST, id);
    assert_true(again.enabled);
    assert_memory_equal(again.vcpu_port, v.vcpu_port, sizeof(v.vcpu_port));
    assert_int_equal(page->vcpu_ioreq[5].vp_eport, v.vcpu_port[5]);

    assert_int_equal(dm_set_state(&f, DOM0, GUEST, 4, true), -ENOENT);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, 0xffff, false), -ENOENT);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);
    fixture_teardown(&f);
}

static void test_set_state_controls_routing(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x64), 0);
    /* Disabled: the null handler (no hook is installed: a send would abort). */
    assert_int_equal(guest_port_read_unanswered(&f, 0x60), HVIO_UNHANDLED);
    assert_int_equal(f.fp.notifications, 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, false), 0);
    assert_int_equal(guest_port_read_unanswered(&f, 0x60), HVIO_UNHANDLED);
    assert_int_equal(f.fp.notifications, 0);
    fixture_teardown(&f);
}

static void test_destroy(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long pages = f.fp.live[FAKE_PAGE], channels = f.fp.live[FAKE_EVTCHN];
    unsigned int ports = fake_ports_live(&f.fp);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PCI, 8, 8), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    assert_true(fake_ports_live(&f.fp) > ports);

    struct xen_dm_op op = { .op = XEN_DMOP_destroy_ioreq_server };
    op.u.destroy_ioreq_server.id = id;
    op.u.destroy_ioreq_server.pad = 1;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 1);
    assert_true(view_of(&f, GUEST, id).enabled);

    op.u.destroy_ioreq_server.pad = 0;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    /* Everything the server held is released at once. */
    assert_int_equal(fake_ports_live(&f.fp), ports);
    assert_int_equal(f.fp.live[FAKE_PAGE], pages);
    assert_int_equal(f.fp.live[FAKE_EVTCHN], channels);

    /* Gone for every op. */
    struct hvio_server_view v;
    assert_int_equal(hvio_server_view(f.host, GUEST, id, &v), -ENOENT);
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -ENOENT);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, id, XEN_DMOP_no_gfns, NULL), -ENOENT);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), -ENOENT);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PCI, 9, 9), -ENOENT);
    assert_int_equal(dm_unmap(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PCI, 8, 8), -ENOENT);
    void *page;
    assert_int_equal(acquire(&f, DOM0, id, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &page), -ENOENT);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, HVIO_MAX_SERVERS), -ENOENT);
    fixture_teardown(&f);
}

static void test_nr_vcpus(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    /* max_vcpus, not the number online. */
    struct xen_dm_op op = { .op = XEN_DMOP_nr_vcpus };
    op.u.nr_vcpus.vcpus = SENTINEL32;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_int_equal(op.u.nr_vcpus.vcpus, 8);

    struct hvio_domain_config cfg = { .domid = GUEST2, .max_vcpus = 3, .hvm = true,
                                      .dm_target = DOMID_INVALID };
    assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
    op.u.nr_vcpus.vcpus = SENTINEL32;
    assert_int_equal(dm_raw(&f, DOM0, GUEST2, &op), 0);
    assert_int_equal(op.u.nr_vcpus.vcpus, 3);
    fixture_teardown(&f);
}

/* ---- interrupts -------------------------------------------------------- */

static int isa_irq(struct fixture *f, domid_t caller, domid_t target, uint8_t irq,
                   uint8_t level)
{
    struct xen_dm_op op = { .op = XEN_DMOP_set_isa_irq_level };

    op.u.set_isa_irq_level.isa_irq = irq;
    op.u.set_isa_irq_level.level = level;
    return dm_raw(f, caller, target, &op);
}

static int pci_intx(struct fixture *f, domid_t caller, domid_t target,
                    uint16_t seg, uint8_t bus, uint8_t dev, uint8_t intx,
                    uint8_t level)
{
    struct xen_dm_op op = { .op = XEN_DMOP_set_pci_intx_level };

    op.u.set_pci_intx_level = (struct xen_dm_op_set_pci_intx_level){
        .domain = seg, .bus = bus, .device = dev, .intx = intx, .level = level };
    return dm_raw(f, caller, target, &op);
}

static int msi(struct fixture *f, domid_t caller, domid_t target, uint64_t addr,
               uint32_t data, uint32_t pad)
{
    struct xen_dm_op op = { .op = XEN_DMOP_inject_msi };

    op.u.inject_msi = (struct xen_dm_op_inject_msi){ .data = data, .pad = pad,
                                                     .addr = addr };
    return dm_raw(f, caller, target, &op);
}

static void test_isa_irq_level(void **state)
{
    struct fixture f;
    (void)state;

    setup_world(&f);
    assert_int_equal(isa_irq(&f, DOM0, GUEST, 16, 1), -EINVAL);
    assert_int_equal(isa_irq(&f, DOM0, GUEST, 0xff, 0), -EINVAL);
    assert_int_equal(isa_irq(&f, DOM0, GUEST, 4, 2), -EINVAL);
    assert_int_equal(isa_irq(&f, DOM0, GUEST, 4, 0xff), -EINVAL);
    assert_int_equal(f.fp.nr_irqs, 0);

    assert_int_equal(isa_irq(&f, DOM0, GUEST, 4, 1), 0);
    assert_int_equal(isa_irq(&f, STUB, GUEST, 15, 0), 0);
    assert_int_equal(f.fp.nr_irqs, 2);
    assert_int_equal(f.fp.irq_domid[0], GUEST);
    assert_int_equal(f.fp.irq[0].kind, HVIO_IRQ_ISA);
    assert_int_equal(f.fp.irq[0].source, DOM0);
    assert_int_equal(f.fp.irq[0].isa_irq, 4);
    assert_int_equal(f.fp.irq[0].level, 1);
    assert_int_equal(f.fp.irq_domid[1], GUEST);
    assert_int_equal(f.fp.irq[1].source, STUB);
    assert_int_equal(f.fp.irq[1].isa_irq, 15);
    assert_int_equal(f.fp.irq[1].level, 0);

    /* PVH has no PIC: refused, nothing recorded. */
    assert_int_equal(isa_irq(&f, DOM0, PVHGUEST, 4, 1), -EOPNOTSUPP);
    assert_int_equal(isa_irq(&f, DOM0, PVHGUEST, 0, 0), -EOPNOTSUPP);
    assert_int_equal(f.fp.nr_irqs, 2);
    fixture_teardown(&f);
}

static void test_pci_intx_level(void **state)
{
    struct fixture f;
    (void)state;

    setup_world(&f);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 1, 0, 3, 0, 1), -EINVAL);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 1, 3, 0, 1), -EINVAL);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 0, 0x20, 0, 1), -EINVAL);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 0, 3, 4, 1), -EINVAL);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 0, 3, 0, 2), -EINVAL);
    assert_int_equal(f.fp.nr_irqs, 0);

    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 0, 0x1f, 3, 1), 0);
    assert_int_equal(pci_intx(&f, DOM0, GUEST, 0, 0, 5, 1, 0), 0);
    assert_int_equal(f.fp.nr_irqs, 2);
    assert_int_equal(f.fp.irq_domid[0], GUEST);
    assert_int_equal(f.fp.irq[0].kind, HVIO_IRQ_PCI_INTX);
    assert_int_equal(f.fp.irq[0].source, DOM0);
    assert_int_equal(f.fp.irq[0].device, 0x1f);
    assert_int_equal(f.fp.irq[0].intx, 3);
    assert_int_equal(f.fp.irq[0].level, 1);
    assert_int_equal(f.fp.irq[1].device, 5);
    assert_int_equal(f.fp.irq[1].intx, 1);
    assert_int_equal(f.fp.irq[1].level, 0);

    assert_int_equal(pci_intx(&f, DOM0, PVHGUEST, 0, 0, 3, 0, 1), -EOPNOTSUPP);
    assert_int_equal(f.fp.nr_irqs, 2);
    fixture_teardown(&f);
}

static void test_inject_msi(void **state)
{
    struct fixture f;
    (void)state;

    setup_world(&f);
    assert_int_equal(msi(&f, DOM0, GUEST, 0xfee00000, 0x4041, 1), -EINVAL);
    assert_int_equal(msi(&f, DOM0, GUEST, 0xfee00000, 0x4041, 0x80000000u), -EINVAL);
    assert_int_equal(f.fp.nr_irqs, 0);

    assert_int_equal(msi(&f, DOM0, GUEST, 0x1fee01000ull, 0x4041, 0), 0);
    assert_int_equal(f.fp.nr_irqs, 1);
    assert_int_equal(f.fp.irq_domid[0], GUEST);
    assert_int_equal(f.fp.irq[0].kind, HVIO_IRQ_MSI);
    assert_int_equal(f.fp.irq[0].source, DOM0);
    assert_true(f.fp.irq[0].msi_addr == 0x1fee01000ull);
    assert_int_equal(f.fp.irq[0].msi_data, 0x4041);

    /*
     * MSIs are delivered through the LAPIC, which PVH guests have: Xen
     * accepts inject_msi for them (only the PIC/IOAPIC paths are missing).
     */
    assert_int_equal(msi(&f, STUB, GUEST, 0xfee00000, 0x31, 0), 0);
    assert_int_equal(msi(&f, DOM0, PVHGUEST, 0xfee00000, 0x30, 0), 0);
    assert_int_equal(f.fp.nr_irqs, 3);
    assert_int_equal(f.fp.irq[1].source, STUB);
    assert_int_equal(f.fp.irq_domid[2], PVHGUEST);
    assert_int_equal(f.fp.irq[2].msi_data, 0x30);
    fixture_teardown(&f);
}

/* ---- the xen_dm_op frame ----------------------------------------------- */

static void test_unmodelled_and_unknown_ops(void **state)
{
    static const uint32_t unmodelled[] = {
        XEN_DMOP_track_dirty_vram, XEN_DMOP_set_pci_link_route,
        XEN_DMOP_modified_memory, XEN_DMOP_set_mem_type, XEN_DMOP_inject_event,
        XEN_DMOP_map_mem_type_to_ioreq_server, XEN_DMOP_remote_shutdown,
        XEN_DMOP_relocate_memory, XEN_DMOP_pin_memory_cacheattr,
        XEN_DMOP_set_irq_level,
    };
    static const uint32_t unknown[] = { 0, XEN_DMOP_nr_vcpus + 1, 64, 0x80000000u,
                                        0xffffffffu };
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long live = fake_live_total(&f.fp);
    for (unsigned int i = 0; i < sizeof(unmodelled) / sizeof(unmodelled[0]); i++) {
        struct xen_dm_op op = { .op = unmodelled[i] };

        assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EOPNOTSUPP);
    }
    for (unsigned int i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct xen_dm_op op = { .op = unknown[i] };

        assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EOPNOTSUPP);
        /* The op number is judged from the header alone. */
        assert_int_equal(hvio_dm_op(f.host, DOM0, GUEST, &op, HEADER), -EOPNOTSUPP);
    }
    assert_int_equal(fake_live_total(&f.fp), live);
    assert_int_equal(f.fp.nr_irqs, 0);
    fixture_teardown(&f);
}

/* Issue `op` from a heap buffer of exactly `size` bytes (ASan sees overruns). */
static int dm_sized(struct fixture *f, domid_t caller, domid_t target,
                    const struct xen_dm_op *op, size_t size, struct xen_dm_op *back)
{
    unsigned char *buf = malloc(size ? size : 1);

    assert_non_null(buf);
    memcpy(buf, op, size < sizeof(*op) ? size : sizeof(*op));
    int rc = hvio_dm_op(f->host, caller, target, buf, size);
    if (back) {
        *back = *op;
        memcpy(back, buf, size < sizeof(*op) ? size : sizeof(*op));
    }
    free(buf);
    return rc;
}

static void test_short_buffers(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long live = fake_live_total(&f.fp);
    struct xen_dm_op create = { .op = XEN_DMOP_create_ioreq_server };
    const size_t create_size = HEADER + sizeof(struct xen_dm_op_create_ioreq_server);

    /* Shorter than the header, or no buffer at all. */
    assert_int_equal(hvio_dm_op(f.host, DOM0, GUEST, NULL, 0), -EFAULT);
    assert_int_equal(hvio_dm_op(f.host, DOM0, GUEST, NULL, sizeof(create)), -EFAULT);
    for (size_t size = 0; size < HEADER; size++)
        assert_int_equal(dm_sized(&f, DOM0, GUEST, &create, size, NULL), -EFAULT);
    /* Header, but not all of the op's member. */
    for (size_t size = HEADER; size < create_size; size++)
        assert_int_equal(dm_sized(&f, DOM0, GUEST, &create, size, NULL), -EFAULT);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    assert_int_equal(fake_live_total(&f.fp), live);

    /* Exactly header + member is enough, and the id comes back in it. */
    struct xen_dm_op back;
    create.u.create_ioreq_server.handle_bufioreq = HVM_IOREQSRV_BUFIOREQ_LEGACY;
    assert_int_equal(dm_sized(&f, DOM0, GUEST, &create, create_size, NULL), 0);
    assert_int_equal(dm_sized(&f, DOM0, GUEST, &create, create_size, &back), 0);
    assert_int_equal(back.u.create_ioreq_server.id, 1);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 2);

    /* The same for every op this core implements. */
    struct xen_dm_op ops[] = {
        { .op = XEN_DMOP_get_ioreq_server_info,
          .u.get_ioreq_server_info = { .id = 1, .flags = XEN_DMOP_no_gfns } },
        { .op = XEN_DMOP_map_io_range_to_ioreq_server,
          .u.map_io_range_to_ioreq_server = { .id = 1, .type = XEN_DMOP_IO_RANGE_PORT,
                                              .start = 0x10, .end = 0x1f } },
        { .op = XEN_DMOP_unmap_io_range_from_ioreq_server,
          .u.unmap_io_range_from_ioreq_server = { .id = 1, .type = XEN_DMOP_IO_RANGE_PORT,
                                                  .start = 0x10, .end = 0x1f } },
        { .op = XEN_DMOP_set_ioreq_server_state,
          .u.set_ioreq_server_state = { .id = 1, .enabled = 1 } },
        { .op = XEN_DMOP_set_isa_irq_level, .u.set_isa_irq_level = { .isa_irq = 3,
                                                                     .level = 1 } },
        { .op = XEN_DMOP_set_pci_intx_level, .u.set_pci_intx_level = { .device = 2,
                                                                       .level = 1 } },
        { .op = XEN_DMOP_inject_msi, .u.inject_msi = { .addr = 0xfee00000, .data = 1 } },
        { .op = XEN_DMOP_nr_vcpus },
        { .op = XEN_DMOP_destroy_ioreq_server, .u.destroy_ioreq_server = { .id = 1 } },
    };
    static const size_t member[] = {
        sizeof(struct xen_dm_op_get_ioreq_server_info),
        sizeof(struct xen_dm_op_ioreq_server_range),
        sizeof(struct xen_dm_op_ioreq_server_range),
        sizeof(struct xen_dm_op_set_ioreq_server_state),
        sizeof(struct xen_dm_op_set_isa_irq_level),
        sizeof(struct xen_dm_op_set_pci_intx_level),
        sizeof(struct xen_dm_op_inject_msi),
        sizeof(struct xen_dm_op_nr_vcpus),
        sizeof(struct xen_dm_op_destroy_ioreq_server),
    };
    for (unsigned int i = 0; i < sizeof(member) / sizeof(member[0]); i++) {
        assert_int_equal(dm_sized(&f, DOM0, GUEST, &ops[i], HEADER + member[i] - 1, NULL),
                         -EFAULT);
        assert_int_equal(dm_sized(&f, DOM0, GUEST, &ops[i], HEADER + member[i], &back), 0);
        if (ops[i].op == XEN_DMOP_get_ioreq_server_info)
            assert_int_equal(back.u.get_ioreq_server_info.bufioreq_port,
                             view_of(&f, GUEST, 1).bufioreq_port);
        if (ops[i].op == XEN_DMOP_nr_vcpus)
            assert_int_equal(back.u.nr_vcpus.vcpus, 8);
        if (ops[i].op == XEN_DMOP_map_io_range_to_ioreq_server)
            assert_one_range(&f, 1, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f);
        if (ops[i].op == XEN_DMOP_set_ioreq_server_state)
            assert_true(view_of(&f, GUEST, 1).enabled);
    }
    assert_int_equal(f.fp.nr_irqs, 3);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 1);
    fixture_teardown(&f);
}

static void test_header_pad(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    long live = fake_live_total(&f.fp);
    struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server, .pad = 1 };
    op.u.create_ioreq_server.id = SENTINEL16;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_int_equal(op.u.create_ioreq_server.id, SENTINEL16);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    assert_int_equal(fake_live_total(&f.fp), live);

    op = (struct xen_dm_op){ .op = XEN_DMOP_nr_vcpus, .pad = 0x80000000u };
    op.u.nr_vcpus.vcpus = SENTINEL32;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_int_equal(op.u.nr_vcpus.vcpus, SENTINEL32);

    op = (struct xen_dm_op){ .op = XEN_DMOP_set_isa_irq_level, .pad = 1 };
    op.u.set_isa_irq_level.isa_irq = 1;
    op.u.set_isa_irq_level.level = 1;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -EINVAL);
    assert_int_equal(f.fp.nr_irqs, 0);
    fixture_teardown(&f);
}

static void test_write_back_only_on_success(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    setup_world(&f);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &id), 0);

    /* Failing get_info (not the owner): the buffer is left as it was. */
    struct xen_dm_op op = info_op(id, XEN_DMOP_no_gfns);
    struct xen_dm_op before = op;
    assert_int_equal(dm_raw(&f, PRIV2, GUEST, &op), -EPERM);
    assert_memory_equal(&op, &before, sizeof(op));

    /* Failing create (-ENOSPC): no id written. */
    for (unsigned int i = 1; i < HVIO_MAX_SERVERS; i++)
        assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, NULL), 0);
    op = (struct xen_dm_op){ .op = XEN_DMOP_create_ioreq_server };
    op.u.create_ioreq_server.id = SENTINEL16;
    before = op;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), -ENOSPC);
    assert_memory_equal(&op, &before, sizeof(op));

    /*
     * On success only the op's own member is written back: bytes of the
     * buffer beyond it (here: after nr_vcpus' 4 bytes) stay as they were.
     */
    memset(&op, 0xa5, sizeof(op));
    op.op = XEN_DMOP_nr_vcpus;
    op.pad = 0;
    assert_int_equal(dm_raw(&f, DOM0, GUEST, &op), 0);
    assert_int_equal(op.u.nr_vcpus.vcpus, 8);
    const unsigned char *tail = (const unsigned char *)&op.u + sizeof(op.u.nr_vcpus);
    for (size_t i = 0; i < sizeof(op.u) - sizeof(op.u.nr_vcpus); i++)
        assert_int_equal(tail[i], 0xa5);
    fixture_teardown(&f);
}

/* ---- permissions ------------------------------------------------------- */

static void assert_untouched(struct fixture *f, ioservid_t id, domid_t owner)
{
    struct hvio_server_view v = view_of(f, GUEST, id);

    assert_int_equal(v.emulator, owner);
    assert_false(v.enabled);
    assert_one_range(f, id, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f);
    assert_int_equal(v.nr_ranges[XEN_DMOP_IO_RANGE_MEMORY], 0);
}

/* Every owner-only op from `intruder` on `id` (owned by `owner`) is -EPERM. */
static void assert_owner_only(struct fixture *f, domid_t intruder, ioservid_t id,
                              domid_t owner)
{
    void *page = NULL;
    struct xen_dm_op op = info_op(id, XEN_DMOP_no_gfns);

    assert_int_equal(dm_raw(f, intruder, GUEST, &op), -EPERM);
    assert_int_equal(op.u.get_ioreq_server_info.bufioreq_port, SENTINEL32);
    assert_int_equal(dm_get_info(f, intruder, GUEST, id, 0, NULL), -EPERM);
    assert_int_equal(dm_map(f, intruder, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY, 0, 0xfff),
                     -EPERM);
    assert_int_equal(dm_unmap(f, intruder, GUEST, id, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f),
                     -EPERM);
    assert_int_equal(dm_set_state(f, intruder, GUEST, id, true), -EPERM);
    assert_int_equal(dm_destroy(f, intruder, GUEST, id), -EPERM);
    assert_int_equal(hvio_acquire_ioreq_frame(f->host, intruder, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EPERM);
    assert_int_equal(hvio_acquire_ioreq_frame(f->host, intruder, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_bufioreq, &page), -EPERM);
    assert_null(page);
    assert_untouched(f, id, owner);
    /* A missing server is still -ENOENT for anyone with rights. */
    assert_int_equal(dm_destroy(f, intruder, GUEST, HVIO_MAX_SERVERS - 1), -ENOENT);
}

static void test_owner_only(void **state)
{
    struct fixture f;
    ioservid_t mine, stubs;
    (void)state;

    setup_world(&f);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &mine), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, mine, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f), 0);
    assert_int_equal(dm_create(&f, STUB, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &stubs), 0);
    assert_int_equal(dm_map(&f, STUB, GUEST, stubs, XEN_DMOP_IO_RANGE_PORT, 0x10, 0x1f), 0);

    /* Another privileged domain, and the guest's own stub domain. */
    assert_owner_only(&f, PRIV2, mine, DOM0);
    assert_owner_only(&f, STUB, mine, DOM0);
    /* Privilege is no ownership: dom0 cannot touch the stub's server. */
    assert_owner_only(&f, DOM0, stubs, STUB);

    /* The owners still can. */
    void *page;
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, mine, true), 0);
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, STUB, GUEST, stubs,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), 0);
    assert_int_equal(dm_destroy(&f, STUB, GUEST, stubs), 0);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, mine), 0);
    fixture_teardown(&f);
}

static void test_target_checks(void **state)
{
    struct fixture f;
    ioservid_t id;
    void *page;
    (void)state;

    setup_world(&f);
    long live = fake_live_total(&f.fp);

    /* Never against the caller's own domain, whatever its rights. */
    assert_int_equal(dm_create(&f, GUEST, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    assert_int_equal(dm_create(&f, PVHGUEST, PVHGUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id),
                     -EPERM);
    assert_int_equal(dm_create(&f, DOM0, DOM0, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    struct xen_dm_op op = { .op = XEN_DMOP_nr_vcpus };
    op.u.nr_vcpus.vcpus = SENTINEL32;
    assert_int_equal(dm_raw(&f, GUEST, GUEST, &op), -EPERM);
    assert_int_equal(op.u.nr_vcpus.vcpus, SENTINEL32);

    /* No such target. */
    assert_int_equal(dm_create(&f, DOM0, NOBODY, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -ESRCH);
    assert_int_equal(dm_create(&f, DOM0, DOMID_SELF, HVM_IOREQSRV_BUFIOREQ_OFF, &id),
                     -ESRCH);
    assert_int_equal(dm_create(&f, DOM0, DOMID_INVALID, HVM_IOREQSRV_BUFIOREQ_OFF, &id),
                     -ESRCH);
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, DOM0, NOBODY, 0,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -ESRCH);

    /* PV targets have no ioreq servers, whoever asks. */
    assert_int_equal(dm_create(&f, DOM0, PVGUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EINVAL);
    assert_int_equal(dm_raw(&f, DOM0, PVGUEST, &op), -EINVAL);
    assert_int_equal(isa_irq(&f, DOM0, PVGUEST, 1, 1), -EINVAL);
    assert_int_equal(isa_irq(&f, UNPRIV, PVGUEST, 1, 1), -EINVAL);
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, DOM0, PVGUEST, 0,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EINVAL);

    /* No device-model rights: an ordinary guest, or a caller that does not exist. */
    assert_int_equal(dm_create(&f, UNPRIV, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    assert_int_equal(dm_create(&f, GUEST, UNPRIV, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    assert_int_equal(dm_create(&f, GUEST2, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    assert_int_equal(dm_create(&f, NOBODY, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -EPERM);
    assert_int_equal(isa_irq(&f, UNPRIV, GUEST, 1, 1), -EPERM);
    assert_int_equal(msi(&f, UNPRIV, GUEST, 0xfee00000, 1, 0), -EPERM);
    assert_int_equal(dm_raw(&f, UNPRIV, GUEST, &op), -EPERM);
    assert_int_equal(op.u.nr_vcpus.vcpus, SENTINEL32);

    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    assert_int_equal(f.fp.nr_irqs, 0);
    assert_int_equal(fake_live_total(&f.fp), live);

    /* A server exists, but the caller has no rights: -EPERM, not -ENOENT. */
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_get_info(&f, UNPRIV, GUEST, id, XEN_DMOP_no_gfns, NULL), -EPERM);
    assert_int_equal(dm_destroy(&f, UNPRIV, GUEST, id), -EPERM);
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, UNPRIV, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EPERM);
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, GUEST, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EPERM);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 1);
    fixture_teardown(&f);
}

static void test_stub_domain(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    setup_world(&f);
    /* The stub may create on its target; the server is its own. */
    assert_int_equal(dm_create(&f, STUB, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id), 0);
    struct hvio_server_view v = view_of(&f, GUEST, id);
    assert_int_equal(v.emulator, STUB);
    /* Channels are for the stub to bind. */
    assert_int_equal(f.fp.port[v.bufioreq_port].remote, STUB);
    for (unsigned int i = 0; i < GUEST_VCPUS; i++)
        assert_int_equal(f.fp.port[v.vcpu_port[i]].remote, STUB);
    assert_int_equal(dm_map(&f, STUB, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY, 0x1000, 0x1fff),
                     0);
    assert_int_equal(dm_set_state(&f, STUB, GUEST, id, true), 0);
    assert_int_equal(dm_get_info(&f, STUB, GUEST, id, 0, NULL), 0);

    /* ...but has no rights over any other guest. */
    ioservid_t other;
    assert_int_equal(dm_create(&f, DOM0, GUEST2, HVM_IOREQSRV_BUFIOREQ_OFF, &other), 0);
    assert_int_equal(dm_create(&f, STUB, GUEST2, HVM_IOREQSRV_BUFIOREQ_OFF, NULL), -EPERM);
    assert_int_equal(dm_create(&f, STUB, PVHGUEST, HVM_IOREQSRV_BUFIOREQ_OFF, NULL), -EPERM);
    assert_int_equal(isa_irq(&f, STUB, GUEST2, 1, 1), -EPERM);
    assert_int_equal(dm_destroy(&f, STUB, GUEST2, other), -EPERM);
    void *page;
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, STUB, GUEST2, other,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), -EPERM);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST2), 1);
    assert_int_equal(hvio_domain_nr_servers(f.host, PVHGUEST), 0);

    assert_int_equal(dm_destroy(&f, STUB, GUEST, id), 0);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
    fixture_teardown(&f);
}

static void test_acquire_frame_indices(void **state)
{
    struct fixture f;
    ioservid_t off, buf;
    void *page = NULL;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &off), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &buf), 0);

    assert_int_equal(acquire(&f, DOM0, off, XENMEM_resource_ioreq_server_frame_bufioreq,
                             &page), -ENOENT);
    assert_null(page);
    static const unsigned long bad[] = { XENMEM_resource_ioreq_server_frame_ioreq(1),
                                         3, 0x100, ~0ul };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(acquire(&f, DOM0, off, bad[i], &page), -EINVAL);
        assert_int_equal(acquire(&f, DOM0, buf, bad[i], &page), -EINVAL);
    }
    assert_null(page);
    assert_int_equal(acquire(&f, DOM0, 5, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &page), -ENOENT);
    assert_int_equal(acquire(&f, DOM0, 0xffff, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &page), -ENOENT);
    assert_null(page);

    /* The two frames are distinct, stable pages. */
    void *ring = NULL, *ioreq = NULL, *again = NULL;
    assert_int_equal(acquire(&f, DOM0, buf, XENMEM_resource_ioreq_server_frame_bufioreq,
                             &ring), 0);
    assert_int_equal(acquire(&f, DOM0, buf, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &ioreq), 0);
    assert_int_equal(acquire(&f, DOM0, buf, XENMEM_resource_ioreq_server_frame_ioreq(0),
                             &again), 0);
    assert_non_null(ring);
    assert_ptr_not_equal(ring, ioreq);
    assert_ptr_equal(ioreq, again);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_modes),
        cmocka_unit_test(test_create_bad_handle_bufioreq),
        cmocka_unit_test(test_create_pad),
        cmocka_unit_test(test_create_ninth_enospc),
        cmocka_unit_test(test_create_lowest_free_id),
        cmocka_unit_test(test_get_info_no_gfns),
        cmocka_unit_test(test_get_info_gfns),
        cmocka_unit_test(test_get_info_gfn_pool_exhaustion),
        cmocka_unit_test(test_gfns_and_acquire_exclusive),
        cmocka_unit_test(test_get_info_bad_flags_and_ids),
        cmocka_unit_test(test_map_start_after_end),
        cmocka_unit_test(test_map_overlap_same_server),
        cmocka_unit_test(test_map_cross_server_overlap_allowed),
        cmocka_unit_test(test_map_adjacent_ranges_merge),
        cmocka_unit_test(test_unmap_splits_and_trims),
        cmocka_unit_test(test_unmap_not_contained),
        cmocka_unit_test(test_map_bad_type_and_server),
        cmocka_unit_test(test_map_range_limit),
        cmocka_unit_test(test_map_unmap_pad),
        cmocka_unit_test(test_set_state_publishes_ports),
        cmocka_unit_test(test_set_state_controls_routing),
        cmocka_unit_test(test_destroy),
        cmocka_unit_test(test_nr_vcpus),
        cmocka_unit_test(test_isa_irq_level),
        cmocka_unit_test(test_pci_intx_level),
        cmocka_unit_test(test_inject_msi),
        cmocka_unit_test(test_unmodelled_and_unknown_ops),
        cmocka_unit_test(test_short_buffers),
        cmocka_unit_test(test_header_pad),
        cmocka_unit_test(test_write_back_only_on_success),
        cmocka_unit_test(test_owner_only),
        cmocka_unit_test(test_target_checks),
        cmocka_unit_test(test_stub_domain),
        cmocka_unit_test(test_acquire_frame_indices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
