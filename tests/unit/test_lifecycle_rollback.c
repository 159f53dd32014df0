/*
 * Server and vCPU lifecycle (channels for vCPUs that come and go, servers
 * created before or after them, domain teardown, domain pausing), and
 * rollback: every allocation step of server create, vCPU add and range map /
 * unmap is failed in turn, and each failure must leave no leak and no
 * visible change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

#define STUB 3     /* a stub device-model domain serving GUEST */
#define GUEST2 5   /* a guest created and destroyed by the tests */
#define MAX_STEPS 200 /* no single call takes this many allocations */

static struct hvio_server_view view_of(struct fixture *f, domid_t domid,
                                       ioservid_t id)
{
    struct hvio_server_view v;

    memset(&v, 0, sizeof(v));
    assert_int_equal(hvio_server_view(f->host, domid, id, &v), 0);
    return v;
}

static void add_stub(struct fixture *f)
{
    struct hvio_domain_config cfg = { .domid = STUB, .dm_target = GUEST };

    assert_int_equal(hvio_domain_create(f->host, &cfg), 0);
}

/* ---- answering guest accesses ----------------------------------------- */

/* Plays every server's emulator: answers with 0xa0 + server id. */
struct responder {
    shared_iopage_t *page[HVIO_MAX_SERVERS];
    unsigned int answered[HVIO_MAX_SERVERS];
};

static void answer_ready(struct fake_platform *fp, domid_t domid, unsigned int vcpu)
{
    struct responder *r = fp->hook_data;

    (void)domid;
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        ioreq_t *slot = r->page[id] ? &r->page[id]->vcpu_ioreq[vcpu] : NULL;

        if (slot && slot->state == STATE_IOREQ_READY) {
            slot->data = 0xa0 + id;
            slot->state = STATE_IORESP_READY;
            r->answered[id]++;
        }
    }
}

static void install_responder(struct fixture *f, struct responder *r)
{
    f->fp.hook_data = r;
    f->fp.on_block = answer_ready;
}

/* A 1-byte read of `port` (or, with mmio, of address `port`) by `vcpu`. */
static int guest_read(struct fixture *f, unsigned int vcpu, uint64_t addr, bool mmio,
                      uint64_t *data)
{
    struct hvio_vcpu *v;
    ioreq_t p = { .type = mmio ? IOREQ_TYPE_COPY : IOREQ_TYPE_PIO, .addr = addr,
                  .size = 1, .count = 1, .dir = IOREQ_READ };

    assert_int_equal(hvio_vcpu_get(f->host, GUEST, vcpu, &v), 0);
    f->fp.blocks = 0; /* the fake's hang limit is per access here */
    int rc = hvio_emulate(v, &p);
    hvio_vcpu_put(v);
    *data = p.data;
    return rc;
}

/* Which server answers a port read: its id, or -1 for the null handler. */
static int who_serves(struct fixture *f, unsigned int vcpu, uint64_t addr, bool mmio)
{
    uint64_t data = 0;
    int rc = guest_read(f, vcpu, addr, mmio, &data);

    assert_int_equal(f->fp.crashes, 0);
    if (rc == HVIO_UNHANDLED) {
        assert_true(data == 0xff);
        return -1;
    }
    assert_int_equal(rc, HVIO_EMULATED);
    assert_true(data >= 0xa0 && data < 0xa0 + HVIO_MAX_SERVERS);
    return (int)(data - 0xa0);
}

/* ---- vCPUs and servers ------------------------------------------------- */

static void test_vcpu_added_after_servers(void **state)
{
    struct fixture f;
    struct responder r = { 0 };
    ioservid_t on, off, stubs;
    (void)state;

    fixture_setup(&f, 1);
    add_stub(&f);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &on), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &off), 0);
    assert_int_equal(dm_create(&f, STUB, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &stubs), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, on, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x60), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, off, XEN_DMOP_IO_RANGE_PORT, 0x70, 0x70), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, on, true), 0);
    r.page[on] = ioreq_page_of(&f, on);
    r.page[off] = ioreq_page_of(&f, off);
    shared_iopage_t *stub_page = NULL;
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, STUB, GUEST, stubs,
                     XENMEM_resource_ioreq_server_frame_ioreq(0),
                     (void **)&stub_page), 0);
    unsigned int ports = fake_ports_live(&f.fp);

    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 3), 0);
    assert_int_equal(fake_ports_live(&f.fp), ports + 3);

    struct hvio_server_view von = view_of(&f, GUEST, on), voff = view_of(&f, GUEST, off),
                            vstub = view_of(&f, GUEST, stubs);
    evtchn_port_t p[3] = { von.vcpu_port[3], voff.vcpu_port[3], vstub.vcpu_port[3] };
    domid_t owner[3] = { DOM0, DOM0, STUB };
    for (unsigned int i = 0; i < 3; i++) {
        assert_true(p[i] > 0 && p[i] < FAKE_MAX_PORTS);
        assert_true(f.fp.port[p[i]].used);
        assert_int_equal(f.fp.port[p[i]].domid, GUEST);
        assert_int_equal(f.fp.port[p[i]].vcpu_id, 3);
        assert_int_equal(f.fp.port[p[i]].remote, owner[i]);
        for (unsigned int j = 0; j < i; j++)
            assert_int_not_equal(p[i], p[j]);
    }
    /* Published in the enabled server only. */
    assert_int_equal(r.page[on]->vcpu_ioreq[3].vp_eport, p[0]);
    assert_int_equal(r.page[off]->vcpu_ioreq[3].vp_eport, 0);
    assert_int_equal(stub_page->vcpu_ioreq[3].vp_eport, 0);
    /* Other vCPUs' ports did not move. */
    assert_int_equal(r.page[on]->vcpu_ioreq[0].vp_eport, von.vcpu_port[0]);

    /* The new vCPU is served through its new channel. */
    install_responder(&f, &r);
    unsigned int notified = f.fp.port[p[0]].notified;
    assert_int_equal(who_serves(&f, 3, 0x60, false), on);
    assert_int_equal(f.fp.port[p[0]].notified, notified + 1);

    /* Enabling later publishes it too, and it works. */
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, off, true), 0);
    assert_int_equal(r.page[off]->vcpu_ioreq[3].vp_eport, p[1]);
    assert_int_equal(who_serves(&f, 3, 0x70, false), off);
    assert_int_equal(f.fp.port[p[1]].notified, 1);
    assert_int_equal(dm_set_state(&f, STUB, GUEST, stubs, true), 0);
    assert_int_equal(stub_page->vcpu_ioreq[3].vp_eport, p[2]);
    fixture_teardown(&f);
}

static void test_server_created_after_vcpus(void **state)
{
    struct fixture f;
    struct responder r = { 0 };
    ioservid_t id;
    static const unsigned int online[] = { 0, 2, 5, 7 };
    (void)state;

    fixture_setup(&f, 0);
    for (unsigned int i = 0; i < 4; i++)
        assert_int_equal(hvio_vcpu_add(f.host, GUEST, online[i]), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY,
                            0xfed00000, 0xfed00fff), 0);
    r.page[id] = ioreq_page_of(&f, id);
    assert_int_equal(fake_ports_live(&f.fp), 4);

    struct hvio_server_view v = view_of(&f, GUEST, id);
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++) {
        bool is_online = i == 0 || i == 2 || i == 5 || i == 7;

        assert_int_equal(v.vcpu_port[i] != 0, is_online);
        if (is_online) {
            assert_int_equal(f.fp.port[v.vcpu_port[i]].vcpu_id, i);
            assert_int_equal(f.fp.port[v.vcpu_port[i]].remote, DOM0);
        }
        assert_int_equal(r.page[id]->vcpu_ioreq[i].vp_eport, 0);
    }
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        assert_int_equal(r.page[id]->vcpu_ioreq[i].vp_eport, v.vcpu_port[i]);

    install_responder(&f, &r);
    for (unsigned int i = 0; i < 4; i++)
        assert_int_equal(who_serves(&f, online[i], 0xfed00010, true), id);
    assert_int_equal(r.answered[id], 4);
    fixture_teardown(&f);
}

static void test_vcpu_remove(void **state)
{
    struct fixture f;
    struct responder r = { 0 };
    ioservid_t a, b;
    (void)state;

    fixture_setup(&f, 3);
    unsigned int ports0 = fake_ports_live(&f.fp);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &a), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &b), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, a, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x60), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, a, true), 0);
    r.page[a] = ioreq_page_of(&f, a);
    r.page[b] = ioreq_page_of(&f, b);
    struct hvio_server_view va = view_of(&f, GUEST, a), vb = view_of(&f, GUEST, b);
    unsigned int ports = fake_ports_live(&f.fp);
    assert_int_equal(ports, ports0 + 3 + 1 + 3);

    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 1), 0);
    assert_int_equal(fake_ports_live(&f.fp), ports - 2);
    assert_false(f.fp.port[va.vcpu_port[1]].used);
    assert_false(f.fp.port[vb.vcpu_port[1]].used);
    struct hvio_server_view na = view_of(&f, GUEST, a), nb = view_of(&f, GUEST, b);
    assert_int_equal(na.vcpu_port[1], 0);
    assert_int_equal(nb.vcpu_port[1], 0);
    assert_int_equal(r.page[a]->vcpu_ioreq[1].vp_eport, 0);
    assert_int_equal(r.page[b]->vcpu_ioreq[1].vp_eport, 0);
    /* The others keep their ports, and the ring its port. */
    for (unsigned int i = 0; i < 3; i += 2) {
        assert_int_equal(na.vcpu_port[i], va.vcpu_port[i]);
        assert_int_equal(nb.vcpu_port[i], vb.vcpu_port[i]);
        assert_int_equal(r.page[a]->vcpu_ioreq[i].vp_eport, va.vcpu_port[i]);
        assert_true(f.fp.port[va.vcpu_port[i]].used);
    }
    assert_int_equal(na.bufioreq_port, va.bufioreq_port);
    assert_true(f.fp.port[na.bufioreq_port].used);

    /* Offline: no access, and removing again is -ENOENT. */
    struct hvio_vcpu *v;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 1, &v), 0);
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x60, .size = 1, .count = 1,
                  .dir = IOREQ_READ };
    assert_int_equal(hvio_emulate(v, &p), -ESRCH);
    hvio_vcpu_put(v);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 1), -ENOENT);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 6), -ENOENT);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 8), -EINVAL);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST2, 0), -ESRCH);
    assert_int_equal(fake_ports_live(&f.fp), ports - 2);

    /* Back online: fresh ports, published where enabled, and it is served. */
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 1), 0);
    assert_int_equal(fake_ports_live(&f.fp), ports);
    na = view_of(&f, GUEST, a);
    assert_int_not_equal(na.vcpu_port[1], 0);
    assert_int_equal(r.page[a]->vcpu_ioreq[1].vp_eport, na.vcpu_port[1]);
    assert_int_equal(r.page[b]->vcpu_ioreq[1].vp_eport, 0);
    install_responder(&f, &r);
    assert_int_equal(who_serves(&f, 1, 0x60, false), a);

    /* Removing every vCPU leaves only the ring's channel. */
    for (unsigned int i = 0; i < 3; i++)
        assert_int_equal(hvio_vcpu_remove(f.host, GUEST, i), 0);
    assert_int_equal(fake_ports_live(&f.fp), ports0 + 1);
    fixture_teardown(&f);
}

static void test_vcpu_add_errors(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_server_view before = view_of(&f, GUEST, id);
    long live = fake_live_total(&f.fp);
    unsigned int ports = fake_ports_live(&f.fp);

    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 0), -EEXIST);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 1), -EEXIST);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 8), -EINVAL);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, HVIO_MAX_VCPUS), -EINVAL);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, ~0u), -EINVAL);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST2, 0), -ESRCH);
    assert_int_equal(hvio_vcpu_add(f.host, DOMID_FIRST_RESERVED, 0), -ESRCH);
    struct hvio_vcpu *v;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 8, &v), -EINVAL);
    assert_int_equal(hvio_vcpu_get(f.host, GUEST2, 0, &v), -ESRCH);

    /* Nothing leaked, nothing changed: ports and published ports kept. */
    assert_int_equal(fake_live_total(&f.fp), live);
    assert_int_equal(fake_ports_live(&f.fp), ports);
    struct hvio_server_view after = view_of(&f, GUEST, id);
    assert_memory_equal(after.vcpu_port, before.vcpu_port, sizeof(before.vcpu_port));
    assert_int_equal(page->vcpu_ioreq[0].vp_eport, before.vcpu_port[0]);
    assert_int_equal(page->vcpu_ioreq[1].vp_eport, before.vcpu_port[1]);
    fixture_teardown(&f);
}

static void test_domain_destroy_frees_everything(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    add_stub(&f);
    long baseline = fake_live_total(&f.fp);
    unsigned int ports = fake_ports_live(&f.fp);

    for (int round = 0; round < 2; round++) {
        struct hvio_domain_config cfg = {
            .domid = GUEST2, .max_vcpus = 4, .hvm = true, .emulated_pic = true,
            .dm_target = DOMID_INVALID, .ioreq_gfn_base = 0x2000, .nr_ioreq_gfns = 8 };
        assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
        /* A fresh domain: nothing left over from the last round. */
        assert_int_equal(hvio_domain_nr_servers(f.host, GUEST2), 0);
        for (unsigned int i = 0; i < 3; i++)
            assert_int_equal(hvio_vcpu_add(f.host, GUEST2, i), 0);
        for (unsigned int s = 0; s < 4; s++) {
            assert_int_equal(dm_create(&f, DOM0, GUEST2, (uint8_t)(s % 3), &id), 0);
            assert_int_equal(id, s);
            assert_int_equal(dm_map(&f, DOM0, GUEST2, id, XEN_DMOP_IO_RANGE_PORT,
                                    0x100 * s, 0x100 * s + 7), 0);
            assert_int_equal(dm_map(&f, DOM0, GUEST2, id, XEN_DMOP_IO_RANGE_MEMORY,
                                    0x100000 * s, 0x100000 * s + 0xfff), 0);
            assert_int_equal(dm_map(&f, DOM0, GUEST2, id, XEN_DMOP_IO_RANGE_PCI, s, s), 0);
            assert_int_equal(dm_set_state(&f, DOM0, GUEST2, id, s & 1), 0);
            if (s >= 2) /* some servers' pages by gfn, the others' by resource */
                assert_int_equal(dm_get_info(&f, DOM0, GUEST2, id, 0, NULL), 0);
            else
                assert_int_equal(hvio_acquire_ioreq_frame(f.host, DOM0, GUEST2, id,
                                 XENMEM_resource_ioreq_server_frame_ioreq(0),
                                 &(void *){ NULL }), 0);
        }
        /* A server of the stub on GUEST: GUEST2's end must not touch it. */
        assert_int_equal(dm_create(&f, STUB, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &id), 0);
        unsigned int guest_ports = GUEST_VCPUS + 1;

        /* A vCPU handle keeps the domain's memory alive, not the domain. */
        struct hvio_vcpu *v;
        assert_int_equal(hvio_vcpu_get(f.host, GUEST2, 2, &v), 0);
        unsigned int pauses = f.fp.pauses;
        assert_int_equal(hvio_domain_destroy(f.host, GUEST2), 0);
        assert_int_equal(f.fp.pauses, pauses); /* a dying domain is not paused */
        assert_int_equal(f.fp.pause_depth[GUEST2], 0);
        /* Every channel and page of GUEST2 is released at once. */
        assert_int_equal(fake_ports_live(&f.fp), ports + guest_ports);
        assert_int_equal(f.fp.live[FAKE_PAGE], 2);
        assert_int_equal(hvio_domain_nr_servers(f.host, GUEST2), -ESRCH);
        assert_int_equal(dm_create(&f, DOM0, GUEST2, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -ESRCH);
        assert_int_equal(dm_destroy(&f, DOM0, GUEST2, 0), -ESRCH);
        assert_int_equal(hvio_vcpu_add(f.host, GUEST2, 3), -ESRCH);
        assert_int_equal(hvio_vcpu_remove(f.host, GUEST2, 0), -ESRCH);
        assert_int_equal(hvio_domain_destroy(f.host, GUEST2), -ESRCH);
        ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x100, .size = 1, .count = 1,
                      .dir = IOREQ_READ };
        assert_int_equal(hvio_emulate(v, &p), -ESRCH);
        assert_true(fake_live_total(&f.fp) > baseline);
        hvio_vcpu_put(v);

        /* The stub's server is intact; without it we are back to baseline. */
        struct hvio_server_view sv = view_of(&f, GUEST, 0);
        assert_int_equal(sv.emulator, STUB);
        assert_true(f.fp.port[sv.bufioreq_port].used);
        assert_int_equal(dm_destroy(&f, STUB, GUEST, 0), 0);
        assert_int_equal(fake_live_total(&f.fp), baseline);
        assert_int_equal(fake_ports_live(&f.fp), ports);
    }
    fixture_teardown(&f);
}

static void test_pause_depth(void **state)
{
    struct fixture f;
    ioservid_t id;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    add_stub(&f);
    unsigned int pauses = f.fp.pauses;

    /* As in Xen, create, set_state and destroy pause the guest: once. */
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, &id), 0);
    assert_true(f.fp.pauses > pauses);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);
    pauses = f.fp.pauses;
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), 0);
    assert_true(f.fp.pauses > pauses);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);
    pauses = f.fp.pauses;
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, id), 0);
    assert_true(f.fp.pauses > pauses);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);

    /* Error paths are balanced too. */
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, id), -ENOENT);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, id, true), -ENOENT);
    assert_int_equal(dm_create(&f, DOM0, GUEST, 7, &id), -EINVAL);
    for (unsigned int i = 0; i < HVIO_MAX_SERVERS; i++)
        assert_int_equal(dm_create(&f, i & 1 ? STUB : DOM0, GUEST,
                                   HVM_IOREQSRV_BUFIOREQ_ATOMIC, &id), 0);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &id), -ENOSPC);
    assert_int_equal(dm_destroy(&f, DOM0, GUEST, 1), -EPERM);
    assert_int_equal(dm_set_state(&f, STUB, GUEST, 0, true), -EPERM);
    for (unsigned int i = 0; i < HVIO_MAX_SERVERS; i++) {
        assert_int_equal(dm_map(&f, i & 1 ? STUB : DOM0, GUEST, (ioservid_t)i,
                                XEN_DMOP_IO_RANGE_PORT, i, i), 0);
        assert_int_equal(dm_set_state(&f, i & 1 ? STUB : DOM0, GUEST, (ioservid_t)i,
                                      true), 0);
    }
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 4), 0);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 0), 0);
    for (unsigned int i = 0; i < HVIO_MAX_SERVERS; i += 2)
        assert_int_equal(dm_destroy(&f, DOM0, GUEST, (ioservid_t)i), 0);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);

    /* Failing allocations inside create unpause as well. */
    for (unsigned long n = 1; n < 8; n++) {
        f.fp.fail_at = f.fp.acquired + n;
        (void)dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_LEGACY, NULL);
        f.fp.fail_at = 0;
        assert_int_equal(f.fp.pause_depth[GUEST], 0);
    }
    /* Domain teardown destroys the remaining servers without pausing. */
    unsigned int before_teardown = f.fp.pauses;
    assert_int_equal(hvio_domain_destroy(f.host, GUEST), 0);
    assert_int_equal(f.fp.pauses, before_teardown);

    assert_int_equal(f.fp.max_pause_depth, 1);
    for (int d = 0; d < FAKE_MAX_DOMAINS; d++)
        assert_int_equal(f.fp.pause_depth[d], 0);
    fixture_teardown(&f);
}

/* ---- rollback ---------------------------------------------------------- */

/* Everything a failed call must leave exactly as it was. */
struct snapshot {
    long live[FAKE_NR_KINDS];
    unsigned int ports;
    bool port_used[FAKE_MAX_PORTS];
    int nr_servers;
    bool present[HVIO_MAX_SERVERS];
    struct hvio_server_view view[HVIO_MAX_SERVERS];
    uint32_t eport[HVIO_MAX_SERVERS][HVIO_MAX_VCPUS]; /* where the page is known */
    int pause_depth;
};

static void take_snapshot(struct fixture *f, shared_iopage_t *const pages[],
                          struct snapshot *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->live, f->fp.live, sizeof(s->live));
    s->ports = fake_ports_live(&f->fp);
    for (unsigned int p = 0; p < FAKE_MAX_PORTS; p++)
        s->port_used[p] = f->fp.port[p].used;
    s->nr_servers = hvio_domain_nr_servers(f->host, GUEST);
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        int rc = hvio_server_view(f->host, GUEST, id, &s->view[id]);

        assert_true(rc == 0 || rc == -ENOENT);
        s->present[id] = rc == 0;
        if (pages && pages[id])
            for (unsigned int v = 0; v < HVIO_MAX_VCPUS; v++)
                s->eport[id][v] = pages[id]->vcpu_ioreq[v].vp_eport;
    }
    s->pause_depth = f->fp.pause_depth[GUEST];
}

static void assert_same_view(const struct hvio_server_view *a,
                             const struct hvio_server_view *b)
{
    assert_int_equal(a->emulator, b->emulator);
    assert_int_equal(a->enabled, b->enabled);
    assert_int_equal(a->bufioreq_handling, b->bufioreq_handling);
    assert_int_equal(a->bufioreq_port, b->bufioreq_port);
    assert_memory_equal(a->vcpu_port, b->vcpu_port, sizeof(a->vcpu_port));
    assert_memory_equal(a->nr_ranges, b->nr_ranges, sizeof(a->nr_ranges));
}

static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
    for (int k = 0; k < FAKE_NR_KINDS; k++)
        assert_int_equal(a->live[k], b->live[k]);
    assert_int_equal(a->ports, b->ports);
    assert_memory_equal(a->port_used, b->port_used, sizeof(a->port_used));
    assert_int_equal(a->nr_servers, b->nr_servers);
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        assert_int_equal(a->present[id], b->present[id]);
        if (a->present[id])
            assert_same_view(&a->view[id], &b->view[id]);
    }
    assert_memory_equal(a->eport, b->eport, sizeof(a->eport));
    assert_int_equal(a->pause_depth, b->pause_depth);
}

static struct snapshot snap_before, snap_after; /* large: keep off the stack */

/*
 * Server create with every allocation failing in turn.  `existing` servers
 * (enabled, with a range and acquired pages) are there beforehand.
 */
static void rollback_create_case(uint8_t mode, unsigned int nr_vcpus,
                                 unsigned int existing)
{
    struct fixture f;
    shared_iopage_t *pages[HVIO_MAX_SERVERS] = { 0 };

    fixture_setup(&f, 0);
    /* Online vCPUs with a gap, so "all online" is not "the first N". */
    for (unsigned int i = 0; i < nr_vcpus; i++)
        assert_int_equal(hvio_vcpu_add(f.host, GUEST, nr_vcpus < 8 ? 2 * i % 8 + i / 4 : i),
                         0);
    for (unsigned int i = 0; i < existing; i++) {
        ioservid_t id = server_with_range(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY,
                                          XEN_DMOP_IO_RANGE_PORT, 0x10 * i, 0x10 * i + 3);
        pages[id] = ioreq_page_of(&f, id);
    }
    /* A hole below the others: the new server must take it. */
    ioservid_t expect_id = 0;
    if (existing > 1) {
        assert_int_equal(dm_destroy(&f, DOM0, GUEST, 0), 0);
        pages[0] = NULL;
    } else {
        expect_id = (ioservid_t)existing;
    }

    unsigned long n;
    int rc = -1;
    ioservid_t id = 0xffff;
    for (n = 1; n < MAX_STEPS; n++) {
        take_snapshot(&f, pages, &snap_before);
        unsigned long fail_at = f.fp.acquired + n;
        f.fp.fail_at = fail_at;
        rc = dm_create(&f, DOM0, GUEST, mode, &id);
        f.fp.fail_at = 0;
        assert_false(rc == 0 && f.fp.acquired >= fail_at);
        if (rc == 0)
            break;
        assert_true(rc < 0);
        assert_int_equal(id, 0xffff);
        take_snapshot(&f, pages, &snap_after);
        assert_same(&snap_before, &snap_after);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(id, expect_id);
    /* Every step was exercised: at least the ioreq page and a port per vCPU. */
    unsigned int minimum = 1 + nr_vcpus + (mode != HVM_IOREQSRV_BUFIOREQ_OFF ? 2 : 0);
    assert_true(n - 1 >= minimum);

    /* The server that finally came out is complete. */
    struct hvio_server_view v = view_of(&f, GUEST, id);
    unsigned int ports = 0;
    for (unsigned int i = 0; i < HVIO_MAX_VCPUS; i++)
        ports += v.vcpu_port[i] != 0;
    assert_int_equal(ports, nr_vcpus);
    assert_int_equal(v.bufioreq_port != 0, mode != HVM_IOREQSRV_BUFIOREQ_OFF);
    assert_int_equal(v.bufioreq_handling, mode);
    assert_int_equal(fake_ports_live(&f.fp),
                     snap_before.ports + nr_vcpus + (mode != HVM_IOREQSRV_BUFIOREQ_OFF));
    fixture_teardown(&f);
}

static void test_rollback_server_create(void **state)
{
    static const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_OFF,
                                     HVM_IOREQSRV_BUFIOREQ_LEGACY,
                                     HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    static const unsigned int vcpus[] = { 0, 1, 2, 5, 8 };
    static const unsigned int existing[] = { 0, 1, 3 };
    (void)state;

    for (unsigned int m = 0; m < 3; m++)
        for (unsigned int v = 0; v < sizeof(vcpus) / sizeof(vcpus[0]); v++)
            for (unsigned int e = 0; e < 3; e++)
                rollback_create_case(modes[m], vcpus[v], existing[e]);
}

/* vCPU add with every allocation failing in turn, `nr_servers` servers present. */
static void rollback_vcpu_add_case(unsigned int nr_servers)
{
    struct fixture f;
    struct responder r = { 0 };

    fixture_setup(&f, GUEST_VCPUS);
    add_stub(&f);
    for (unsigned int i = 0; i < nr_servers; i++) {
        domid_t owner = i % 3 == 2 ? STUB : DOM0;
        ioservid_t id;

        assert_int_equal(dm_create(&f, owner, GUEST, (uint8_t)(i % 3), &id), 0);
        assert_int_equal(dm_map(&f, owner, GUEST, id, XEN_DMOP_IO_RANGE_PORT,
                                0x100 + id, 0x100 + id), 0);
        if (i % 2 == 0)
            assert_int_equal(dm_set_state(&f, owner, GUEST, id, true), 0);
        assert_int_equal(hvio_acquire_ioreq_frame(f.host, owner, GUEST, id,
                         XENMEM_resource_ioreq_server_frame_ioreq(0),
                         (void **)&r.page[id]), 0);
    }

    unsigned long n;
    int rc = -1;
    for (n = 1; n < MAX_STEPS; n++) {
        take_snapshot(&f, r.page, &snap_before);
        unsigned long fail_at = f.fp.acquired + n;
        f.fp.fail_at = fail_at;
        rc = hvio_vcpu_add(f.host, GUEST, 6);
        f.fp.fail_at = 0;
        assert_false(rc == 0 && f.fp.acquired >= fail_at);
        if (rc == 0)
            break;
        /* -EEXIST would mean an earlier failure left the vCPU online. */
        assert_true(rc < 0 && rc != -EEXIST);
        take_snapshot(&f, r.page, &snap_after);
        assert_same(&snap_before, &snap_after);
        /* Still offline. */
        struct hvio_vcpu *v;
        assert_int_equal(hvio_vcpu_get(f.host, GUEST, 6, &v), 0);
        ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x100, .size = 1, .count = 1,
                      .dir = IOREQ_READ };
        assert_int_equal(hvio_emulate(v, &p), -ESRCH);
        hvio_vcpu_put(v);
    }
    assert_int_equal(rc, 0);
    assert_true(n - 1 >= nr_servers);

    /* Now it has a port in every server, published where enabled, working. */
    install_responder(&f, &r);
    assert_int_equal(fake_ports_live(&f.fp), snap_before.ports + nr_servers);
    for (unsigned int id = 0; id < nr_servers; id++) {
        struct hvio_server_view v = view_of(&f, GUEST, (ioservid_t)id);

        assert_int_not_equal(v.vcpu_port[6], 0);
        assert_int_equal(f.fp.port[v.vcpu_port[6]].vcpu_id, 6);
        assert_int_equal(f.fp.port[v.vcpu_port[6]].remote, v.emulator);
        assert_int_equal(r.page[id]->vcpu_ioreq[6].vp_eport,
                         v.enabled ? v.vcpu_port[6] : 0);
        if (v.enabled)
            assert_int_equal(who_serves(&f, 6, 0x100 + id, false), (int)id);
    }
    assert_int_equal(f.fp.crashes, 0);
    fixture_teardown(&f);
}

static void test_rollback_vcpu_add(void **state)
{
    static const unsigned int servers[] = { 0, 1, 3, HVIO_MAX_SERVERS };
    (void)state;

    for (unsigned int i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        rollback_vcpu_add_case(servers[i]);
}

/* The ranges of every server of one type, for comparison. */
struct range_dump {
    int nr[HVIO_MAX_SERVERS];
    struct hvio_range r[HVIO_MAX_SERVERS][8];
};

static void dump_ranges(struct fixture *f, uint32_t type, struct range_dump *d)
{
    memset(d, 0, sizeof(*d));
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        d->nr[id] = hvio_server_ranges(f->host, GUEST, (ioservid_t)id, type, d->r[id], 8);
        assert_true(d->nr[id] <= 8);
    }
}

/*
 * Port routing over 0x100..0x1ff: server 0 has [0x100, 0x1ff], server 1
 * [0x180, 0x18f] and [0x1a0, 0x1af] (so it wins there, being the higher id).
 */
static void routing_of(struct fixture *f, int out[0x100])
{
    for (unsigned int port = 0; port < 0x100; port++)
        out[port] = who_serves(f, 0, 0x100 + port, false);
}

static void setup_two_servers(struct fixture *f, struct responder *r)
{
    ioservid_t low = server_with_range(f, HVM_IOREQSRV_BUFIOREQ_OFF,
                                       XEN_DMOP_IO_RANGE_PORT, 0x100, 0x1ff);
    ioservid_t high = server_with_range(f, HVM_IOREQSRV_BUFIOREQ_OFF,
                                        XEN_DMOP_IO_RANGE_PORT, 0x180, 0x18f);

    assert_int_equal(low, 0);
    assert_int_equal(high, 1);
    assert_int_equal(dm_map(f, DOM0, GUEST, high, XEN_DMOP_IO_RANGE_PORT, 0x1a0, 0x1af), 0);
    r->page[low] = ioreq_page_of(f, low);
    r->page[high] = ioreq_page_of(f, high);
    install_responder(f, r);
}

/* Fail each allocation of `op` (map when `map`) on server 1 until it succeeds. */
static unsigned long failing_range_op(struct fixture *f, bool map, uint64_t start,
                                      uint64_t end)
{
    static int routes_before[0x100], routes_after[0x100];
    static struct range_dump ranges_before, ranges_after;
    unsigned long n;
    int rc = -1;

    for (n = 1; n < MAX_STEPS; n++) {
        routing_of(f, routes_before);
        dump_ranges(f, XEN_DMOP_IO_RANGE_PORT, &ranges_before);
        long live = fake_live_total(&f->fp);

        unsigned long fail_at = f->fp.acquired + n;
        f->fp.fail_at = fail_at;
        rc = map ? dm_map(f, DOM0, GUEST, 1, XEN_DMOP_IO_RANGE_PORT, start, end)
                 : dm_unmap(f, DOM0, GUEST, 1, XEN_DMOP_IO_RANGE_PORT, start, end);
        f->fp.fail_at = 0;
        /* An allocation failed inside the call, yet it claims success? */
        assert_false(rc == 0 && f->fp.acquired >= fail_at);
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(fake_live_total(&f->fp), live);
        dump_ranges(f, XEN_DMOP_IO_RANGE_PORT, &ranges_after);
        assert_memory_equal(&ranges_before, &ranges_after, sizeof(ranges_before));
        routing_of(f, routes_after);
        assert_memory_equal(routes_before, routes_after, sizeof(routes_before));
    }
    assert_int_equal(rc, 0);
    return n - 1;
}

static void test_rollback_map_unmap(void **state)
{
    struct fixture f;
    struct responder r = { 0 };
    int routes[0x100];
    (void)state;

    fixture_setup(&f, 1);
    setup_two_servers(&f, &r);
    routing_of(&f, routes);
    assert_int_equal(routes[0x00], 0);
    assert_int_equal(routes[0x80], 1);
    assert_int_equal(routes[0x8f], 1);
    assert_int_equal(routes[0x90], 0);
    assert_int_equal(routes[0xa5], 1);

    /* Map [0x1c0, 0x1cf] to server 1: at least the rebuild allocates. */
    assert_true(failing_range_op(&f, true, 0x1c0, 0x1cf) >= 1);
    routing_of(&f, routes);
    assert_int_equal(routes[0xc0], 1);
    assert_int_equal(routes[0xcf], 1);
    assert_int_equal(routes[0xd0], 0);

    /* Map the gap [0x190, 0x19f]: merges three ranges into one. */
    assert_true(failing_range_op(&f, true, 0x190, 0x19f) >= 1);
    struct hvio_range got[4];
    assert_int_equal(hvio_server_ranges(f.host, GUEST, 1, XEN_DMOP_IO_RANGE_PORT, got, 4), 2);
    assert_true(got[0].start == 0x180 && got[0].end == 0x1af);
    routing_of(&f, routes);
    assert_int_equal(routes[0x95], 1);

    /* Unmap from the middle (a split) and a whole range. */
    assert_true(failing_range_op(&f, false, 0x198, 0x19b) >= 1);
    routing_of(&f, routes);
    assert_int_equal(routes[0x97], 1);
    assert_int_equal(routes[0x98], 0);
    assert_int_equal(routes[0x9b], 0);
    assert_int_equal(routes[0x9c], 1);
    assert_true(failing_range_op(&f, false, 0x1c0, 0x1cf) >= 1);
    routing_of(&f, routes);
    assert_int_equal(routes[0xc0], 0);
    assert_int_equal(f.fp.crashes, 0);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcpu_added_after_servers),
        cmocka_unit_test(test_server_created_after_vcpus),
        cmocka_unit_test(test_vcpu_remove),
        cmocka_unit_test(test_vcpu_add_errors),
        cmocka_unit_test(test_domain_destroy_frees_everything),
        cmocka_unit_test(test_pause_depth),
        cmocka_unit_test(test_rollback_server_create),
        cmocka_unit_test(test_rollback_vcpu_add),
        cmocka_unit_test(test_rollback_map_unmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
