/*
 * Teardown with requests in flight: a server destroyed or disabled while a
 * vCPU waits on it, the domain destroyed under a waiting vCPU, a waiting
 * vCPU taken offline, stale vCPU handles, and the host freed with live
 * servers.  The on_block hook plays the control plane (dm_ops, domain and
 * vCPU calls) at the moment the vCPU waits; the core has dropped its lock.
 * ASan catches any use of freed memory; fixture_teardown any leak.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

#define UART_FIRST 0x3f8
#define UART_LAST 0x3ff
#define UART2_FIRST 0x2f8
#define UART2_LAST 0x2ff

enum action {
    ANSWER,           /* IORESP_READY with `answer` */
    INPROCESS,        /* emulator working on it */
    DESTROY_SERVER,   /* dm_op destroy */
    DISABLE_SERVER,   /* dm_op set_state(false) */
    RECREATE_SERVER,  /* destroy, then create a new one on the UART ports */
    DESTROY_DOMAIN,   /* hvio_domain_destroy(GUEST) */
    REMOVE_VCPU,      /* hvio_vcpu_remove(GUEST, the blocked vCPU) */
};

struct step {
    enum action action;
    ioservid_t id; /* the server it acts on */
};

#define MAX_STEPS 4

/* What happens at each block of the vCPU, in order. */
struct script {
    struct fixture *f;
    shared_iopage_t *page[HVIO_MAX_SERVERS]; /* NULL once freed */
    struct step step[MAX_STEPS];
    unsigned int nr_steps;
    uint64_t answer;
    unsigned int calls;
    unsigned int kicks_seen; /* kicks of the vCPU during the last step */
};

static void run_script(struct fake_platform *fp, domid_t domid, unsigned int vcpu)
{
    struct script *s = fp->hook_data;
    struct fixture *f = s->f;

    assert_int_equal(domid, GUEST);
    if (s->calls >= s->nr_steps)
        fail_msg("vCPU %u blocked again after the script ended", vcpu);

    unsigned int kicks_before = fp->kicks[GUEST][vcpu];
    struct step st = s->step[s->calls++];
    ioservid_t id = st.id;

    switch (st.action) {
    case ANSWER:
        assert_non_null(s->page[id]);
        assert_int_not_equal(s->page[id]->vcpu_ioreq[vcpu].state, STATE_IOREQ_NONE);
        s->page[id]->vcpu_ioreq[vcpu].data = s->answer;
        s->page[id]->vcpu_ioreq[vcpu].state = STATE_IORESP_READY;
        break;
    case INPROCESS:
        assert_non_null(s->page[id]);
        assert_int_equal(s->page[id]->vcpu_ioreq[vcpu].state, STATE_IOREQ_READY);
        s->page[id]->vcpu_ioreq[vcpu].state = STATE_IOREQ_INPROCESS;
        break;
    case DESTROY_SERVER:
        assert_int_equal(dm_destroy(f, DOM0, GUEST, id), 0);
        s->page[id] = NULL;
        break;
    case DISABLE_SERVER:
        assert_int_equal(dm_set_state(f, DOM0, GUEST, id, false), 0);
        break;
    case RECREATE_SERVER:
        assert_int_equal(dm_destroy(f, DOM0, GUEST, id), 0);
        s->page[id] = NULL;
        assert_int_equal(server_with_range(f, HVM_IOREQSRV_BUFIOREQ_LEGACY,
                                           XEN_DMOP_IO_RANGE_PORT, UART_FIRST,
                                           UART_LAST), id); /* lowest free id */
        s->page[id] = ioreq_page_of(f, id);
        break;
    case DESTROY_DOMAIN:
        assert_int_equal(hvio_domain_destroy(f->host, GUEST), 0);
        memset(s->page, 0, sizeof(s->page));
        break;
    case REMOVE_VCPU:
        assert_int_equal(hvio_vcpu_remove(f->host, GUEST, vcpu), 0);
        break;
    }
    s->kicks_seen = fp->kicks[GUEST][vcpu] - kicks_before;
}

/* Install the hook; s->page[] is the test's to fill. */
static void script_start(struct fixture *f, struct script *s,
                         const struct step *steps, unsigned int nr)
{
    assert_true(nr <= MAX_STEPS);
    s->f = f;
    memcpy(s->step, steps, nr * sizeof(*steps));
    s->nr_steps = nr;
    s->calls = 0;
    s->kicks_seen = 0;
    s->answer = 0x77;
    f->fp.hook_data = s;
    f->fp.on_block = run_script;
}

static struct hvio_vcpu *vcpu_of(struct fixture *f, unsigned int id)
{
    struct hvio_vcpu *v = NULL;

    assert_int_equal(hvio_vcpu_get(f->host, GUEST, id, &v), 0);
    return v;
}

static ioreq_t port_read(uint64_t addr, uint32_t size)
{
    return (ioreq_t){ .type = IOREQ_TYPE_PIO, .addr = addr, .size = size,
                      .count = 1, .dir = IOREQ_READ, .data = 0x1234 };
}

static ioservid_t uart_server(struct fixture *f, uint64_t first, uint64_t last)
{
    return server_with_range(f, HVM_IOREQSRV_BUFIOREQ_LEGACY,
                             XEN_DMOP_IO_RANGE_PORT, first, last);
}

static ioservid_t plain_server(struct fixture *f, uint8_t bufioreq)
{
    ioservid_t id;

    assert_int_equal(dm_create(f, DOM0, GUEST, bufioreq, &id), 0);
    assert_int_equal(dm_set_state(f, DOM0, GUEST, id, true), 0);
    return id;
}

/* ---- server destroy ------------------------------------------------- */

static void test_destroy_server_while_vcpu_waits(void **state)
{
    static const ioreq_t accesses[] = {
        { .type = IOREQ_TYPE_PIO, .addr = UART_FIRST, .size = 4, .count = 1,
          .dir = IOREQ_READ, .data = 0x1234 },
        { .type = IOREQ_TYPE_PIO, .addr = UART_FIRST, .size = 1, .count = 1,
          .dir = IOREQ_WRITE, .data = 0x41 },
        { .type = IOREQ_TYPE_PIO, .addr = UART_FIRST, .size = 1, .count = 4,
          .dir = IOREQ_READ, .data_is_ptr = 1, .data = 0x9000 },
    };
    (void)state;

    for (unsigned int i = 0; i < 3; i++) {
        struct fixture f;
        struct script s = { 0 };

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
        const struct step destroy[] = { { DESTROY_SERVER, id } };
        script_start(&f, &s, destroy, 1);
        s.page[id] = ioreq_page_of(&f, id);
        struct hvio_vcpu *v = vcpu_of(&f, 1);

        ioreq_t p = accesses[i];
        assert_int_equal(hvio_emulate(v, &p), HVIO_UNHANDLED);
        assert_int_equal(s.calls, 1);  /* completed, no second wait */
        assert_true(s.kicks_seen > 0); /* the destroy woke the vCPU */
        if (p.dir == IOREQ_READ && !p.data_is_ptr)
            assert_int_equal(p.data, 0xffffffff);
        else
            assert_int_equal(p.data, accesses[i].data);

        /* Everything the server held is gone already. */
        assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 0);
        assert_int_equal(fake_ports_live(&f.fp), 0);
        assert_int_equal(f.fp.live[FAKE_PAGE], 0);
        assert_int_equal(f.fp.crashes, 0);
        assert_int_equal(f.fp.pause_depth[GUEST], 0);

        /* The port is the null handler's now: no block. */
        ioreq_t q = port_read(UART_FIRST, 2);
        assert_int_equal(hvio_emulate(v, &q), HVIO_UNHANDLED);
        assert_int_equal(q.data, 0xffff);
        assert_int_equal(s.calls, 1);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

/* A new server in the same id must not inherit the old one's request. */
static void test_destroy_and_recreate_while_vcpu_waits(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
    const struct step recreate[] = { { RECREATE_SERVER, id } };
    script_start(&f, &s, recreate, 1);
    s.page[id] = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &p), HVIO_UNHANDLED);
    assert_int_equal(p.data, 0xff);
    assert_int_equal(s.calls, 1);
    /* The new server never saw the old request. */
    struct hvio_server_view view;
    assert_int_equal(hvio_server_view(f.host, GUEST, id, &view), 0);
    assert_int_equal(s.page[id]->vcpu_ioreq[0].state, STATE_IOREQ_NONE);
    assert_int_equal(f.fp.port[view.vcpu_port[0]].notified, 0);

    /* And serves the next one normally. */
    const struct step answer[] = { { ANSWER, id } };
    script_start(&f, &s, answer, 1);
    ioreq_t q = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &q), HVIO_EMULATED);
    assert_int_equal(q.data, 0x77);
    assert_int_equal(f.fp.port[view.vcpu_port[0]].notified, 1);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_destroy_other_server_while_vcpu_waits(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t waited = uart_server(&f, UART_FIRST, UART_LAST);
    ioservid_t other = uart_server(&f, UART2_FIRST, UART2_LAST);
    const struct step steps[] = { { DESTROY_SERVER, other }, { ANSWER, waited } };
    script_start(&f, &s, steps, 2);
    s.page[waited] = ioreq_page_of(&f, waited);
    s.page[other] = ioreq_page_of(&f, other);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    ioreq_t p = port_read(UART_FIRST + 5, 1);
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(p.data, 0x77);
    assert_int_equal(s.calls, 2); /* still waited after the other went */
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 1);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_destroy_one_server_during_invalidate(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t stays = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_OFF);
    ioservid_t goes = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY);
    const struct step steps[] = { { DESTROY_SERVER, goes }, { ANSWER, stays } };
    script_start(&f, &s, steps, 2);
    s.page[stays] = ioreq_page_of(&f, stays);
    s.page[goes] = ioreq_page_of(&f, goes);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    assert_int_equal(hvio_send_invalidate(v), 0);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.page[stays]->vcpu_ioreq[0].state, STATE_IOREQ_NONE);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- disable ----------------------------------------------------------- */

static void test_disable_while_vcpu_waits(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
    const struct step steps[] = { { DISABLE_SERVER, id }, { INPROCESS, id },
                                  { ANSWER, id } };
    script_start(&f, &s, steps, 3);
    s.page[id] = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    /* Disabling does not abandon the request: it is still answered. */
    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(p.data, 0x77);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.page[id]->vcpu_ioreq[0].state, STATE_IOREQ_NONE);
    assert_int_equal(f.fp.crashes, 0);

    /* From now on the server is skipped, but it still exists. */
    ioreq_t q = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &q), HVIO_UNHANDLED);
    assert_int_equal(q.data, 0xff);
    assert_int_equal(s.calls, 3);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 1);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- domain destroy ---------------------------------------------------- */

/* Every entry point through a handle of a destroyed domain: -ESRCH. */
static void assert_handle_dead(struct fixture *f, struct hvio_vcpu *v,
                               unsigned int vcpu_id)
{
    unsigned int blocks = f->fp.blocks;
    ioreq_t p = port_read(UART_FIRST, 1);
    ioreq_t nobody = port_read(0x80, 1);
    struct hvio_vcpu *again = NULL;

    assert_int_equal(hvio_emulate(v, &p), -ESRCH);
    assert_int_equal(p.data, 0x1234);
    assert_int_equal(hvio_emulate(v, &nobody), -ESRCH);
    assert_int_equal(hvio_send_invalidate(v), -ESRCH);
    assert_int_equal(hvio_send_timeoffset(v, 1), -ESRCH);
    assert_int_equal(hvio_vcpu_get(f->host, GUEST, vcpu_id, &again), -ESRCH);
    assert_int_equal(hvio_vcpu_remove(f->host, GUEST, vcpu_id), -ESRCH);
    assert_int_equal(hvio_vcpu_add(f->host, GUEST, vcpu_id), -ESRCH);
    assert_int_equal(hvio_domain_destroy(f->host, GUEST), -ESRCH);
    assert_int_equal(hvio_domain_nr_servers(f->host, GUEST), -ESRCH);
    assert_int_equal(f->fp.blocks, blocks);
}

static void test_domain_destroy_while_vcpu_waits(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
    uart_server(&f, UART2_FIRST, UART2_LAST);
    const struct step steps[] = { { DESTROY_DOMAIN, id } };
    script_start(&f, &s, steps, 1);
    s.page[id] = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &p), -ESRCH);
    assert_int_equal(s.calls, 1);
    assert_true(s.kicks_seen > 0);
    assert_int_equal(f.fp.crashes, 0);

    /* Servers, pages and channels went with the domain... */
    assert_int_equal(fake_ports_live(&f.fp), 0);
    assert_int_equal(f.fp.live[FAKE_PAGE], 0);
    assert_int_equal(f.fp.pause_depth[GUEST], 0);
    /* ...while the handle keeps the domain's memory for the vCPU thread. */
    assert_handle_dead(&f, v, 1);
    long mem = f.fp.live[FAKE_MEM];
    hvio_vcpu_put(v); /* last reference: ASan sees any use after this */
    assert_true(f.fp.live[FAKE_MEM] < mem);

    fixture_teardown(&f);
}

static void test_domain_destroy_during_invalidate(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t a = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    ioservid_t b = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_OFF);
    const struct step steps[] = { { ANSWER, a }, { DESTROY_DOMAIN, b } };
    script_start(&f, &s, steps, 2);
    s.page[a] = ioreq_page_of(&f, a);
    s.page[b] = ioreq_page_of(&f, b);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    assert_int_equal(hvio_send_invalidate(v), -ESRCH);
    assert_int_equal(s.calls, 2);
    assert_handle_dead(&f, v, 0);
    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* A handle outlives its domain and must not reach a new one of that id. */
static void test_old_handle_after_domain_destroy(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    uart_server(&f, UART_FIRST, UART_LAST);
    struct hvio_vcpu *old = vcpu_of(&f, 0);
    assert_int_equal(hvio_domain_destroy(f.host, GUEST), 0);
    assert_handle_dead(&f, old, 0);

    /* The same domid again, with a server on the same ports. */
    struct hvio_domain_config cfg = { .domid = GUEST, .max_vcpus = 8, .hvm = true,
                                      .emulated_pic = true,
                                      .dm_target = DOMID_INVALID };
    assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
    assert_int_equal(hvio_vcpu_add(f.host, GUEST, 0), 0);
    ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
    const struct step answer[] = { { ANSWER, id } };
    script_start(&f, &s, answer, 1);
    s.page[id] = ioreq_page_of(&f, id);

    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(old, &p), -ESRCH);
    assert_int_equal(s.calls, 0);
    assert_int_equal(s.page[id]->vcpu_ioreq[0].state, STATE_IOREQ_NONE);
    assert_int_equal(f.fp.notifications, 0);
    hvio_vcpu_put(old);

    struct hvio_vcpu *fresh = vcpu_of(&f, 0);
    ioreq_t q = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(fresh, &q), HVIO_EMULATED);
    assert_int_equal(q.data, 0x77);
    hvio_vcpu_put(fresh);
    fixture_teardown(&f);
}

/* ---- vCPU removal ------------------------------------------------------- */

static void test_remove_waiting_vcpu(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_server(&f, UART_FIRST, UART_LAST);
    const struct step steps[] = { { REMOVE_VCPU, id } };
    script_start(&f, &s, steps, 1);
    s.page[id] = ioreq_page_of(&f, id);
    struct hvio_server_view view;
    assert_int_equal(hvio_server_view(f.host, GUEST, id, &view), 0);
    evtchn_port_t old_port = view.vcpu_port[1];
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &p), -ESRCH);
    assert_int_equal(s.calls, 1);
    assert_true(s.kicks_seen > 0);
    assert_int_equal(f.fp.crashes, 0);

    /* Its channel is gone and no longer advertised. */
    assert_int_equal(hvio_server_view(f.host, GUEST, id, &view), 0);
    assert_int_equal(view.vcpu_port[1], 0);
    assert_false(f.fp.port[old_port].used);
    assert_int_equal(s.page[id]->vcpu_ioreq[1].vp_eport, 0);

    /* Offline: the handle gets -ESRCH without blocking; removing again fails. */
    ioreq_t q = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &q), -ESRCH);
    assert_int_equal(hvio_send_invalidate(v), -ESRCH);
    assert_int_equal(s.calls, 1);
    assert_int_equal(hvio_vcpu_remove(f.host, GUEST, 1), -ENOENT);

    /* The other vCPU is unaffected. */
    const struct step answer[] = { { ANSWER, id } };
    script_start(&f, &s, answer, 1);
    struct hvio_vcpu *v0 = vcpu_of(&f, 0);
    ioreq_t r = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v0, &r), HVIO_EMULATED);
    assert_int_equal(r.data, 0x77);
    hvio_vcpu_put(v0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/*
 * vCPU add/remove may happen at any time.  A vCPU removed while its request
 * was in flight and later brought back must be able to do I/O: the stale
 * request is the core's own leftover, not emulator misbehaviour, so it must
 * not crash the guest.
 */
struct readd {
    struct fixture f;
    struct hvio_vcpu *v;
};

static struct readd readd_state;

/* Set-up and tear-down outside the test body, so a failure leaks nothing. */
static int readd_setup(void **state)
{
    memset(&readd_state, 0, sizeof(readd_state));
    fixture_setup(&readd_state.f, GUEST_VCPUS);
    *state = &readd_state;
    return 0;
}

static int readd_teardown(void **state)
{
    struct readd *r = *state;

    hvio_vcpu_put(r->v);
    fixture_teardown(&r->f);
    return 0;
}

static void test_readded_vcpu_after_remove_while_waiting(void **state)
{
    struct readd *r = *state;
    struct fixture *f = &r->f;
    struct script s = { 0 };

    ioservid_t id = uart_server(f, UART_FIRST, UART_LAST);
    const struct step steps[] = { { REMOVE_VCPU, id } };
    script_start(f, &s, steps, 1);
    s.page[id] = ioreq_page_of(f, id);
    r->v = vcpu_of(f, 1);

    ioreq_t p = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(r->v, &p), -ESRCH);

    /* Back online: a fresh channel, published in the slot. */
    assert_int_equal(hvio_vcpu_add(f->host, GUEST, 1), 0);
    struct hvio_server_view view;
    assert_int_equal(hvio_server_view(f->host, GUEST, id, &view), 0);
    assert_int_not_equal(view.vcpu_port[1], 0);
    assert_int_equal(s.page[id]->vcpu_ioreq[1].vp_eport, view.vcpu_port[1]);

    const struct step answer[] = { { ANSWER, id } };
    script_start(f, &s, answer, 1);
    ioreq_t q = port_read(UART_FIRST + 1, 1);
    int rc = hvio_emulate(r->v, &q);
    if (f->fp.crashes)
        print_message("guest crashed: %s (slot state %u)\n", f->fp.crash_reason,
                      (unsigned int)s.page[id]->vcpu_ioreq[1].state);
    assert_int_equal(f->fp.crashes, 0);
    assert_int_equal(rc, HVIO_EMULATED);
    assert_int_equal(q.data, 0x77);
    assert_int_equal(s.calls, 1);
}

/* ---- host free ---------------------------------------------------------- */

static void test_host_free_with_live_servers(void **state)
{
    struct fixture f;
    struct script s = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    /* A second guest, so that more than one domain holds servers. */
    struct hvio_domain_config cfg = { .domid = 2, .max_vcpus = 4, .hvm = true,
                                      .emulated_pic = true,
                                      .dm_target = DOMID_INVALID };
    assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
    assert_int_equal(hvio_vcpu_add(f.host, 2, 0), 0);
    assert_int_equal(hvio_vcpu_add(f.host, 2, 3), 0);
    assert_int_equal(dm_create(&f, DOM0, 2, HVM_IOREQSRV_BUFIOREQ_ATOMIC, NULL), 0);

    /* GUEST: ranges of every type, pages handed out both ways, one disabled. */
    ioservid_t a = uart_server(&f, UART_FIRST, UART_LAST);
    assert_int_equal(dm_map(&f, DOM0, GUEST, a, XEN_DMOP_IO_RANGE_MEMORY,
                            0xa0000, 0xbffff), 0);
    assert_int_equal(dm_map(&f, DOM0, GUEST, a, XEN_DMOP_IO_RANGE_PCI,
                            0x28, 0x28), 0);
    ioservid_t b;
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_ATOMIC, &b), 0);
    for (uint64_t port = 0x100; port < 0x100 + 64 * 4; port += 4)
        assert_int_equal(dm_map(&f, DOM0, GUEST, b, XEN_DMOP_IO_RANGE_PORT,
                                port, port + 1), 0);
    ioservid_t c;
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &c), 0);
    assert_int_equal(dm_get_info(&f, DOM0, GUEST, c, 0, NULL), 0); /* gfns */

    /* Traffic: buffered entries left undrained, one answered request. */
    const struct step answer[] = { { ANSWER, a } };
    script_start(&f, &s, answer, 1);
    s.page[a] = ioreq_page_of(&f, a);
    struct hvio_vcpu *v = vcpu_of(&f, 1);
    ioreq_t w = { .type = IOREQ_TYPE_COPY, .addr = 0xa0000, .size = 8,
                  .count = 1, .dir = IOREQ_WRITE, .data = 1 };
    assert_int_equal(hvio_emulate(v, &w), HVIO_EMULATED);
    ioreq_t r = port_read(UART_FIRST, 1);
    assert_int_equal(hvio_emulate(v, &r), HVIO_EMULATED);
    assert_int_equal(s.calls, 1);
    assert_int_equal(buf_page_of(&f, a)->write_pointer, 2);
    hvio_vcpu_put(v);

    /* 2 + 2 + 1 pages in GUEST, 2 in domain 2; their channels. */
    assert_int_equal(f.fp.live[FAKE_PAGE], 7);
    assert_int_equal(fake_ports_live(&f.fp), (2 + 1) + (2 + 1) + 2 + (2 + 1));
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), 3);

    fixture_teardown(&f); /* hvio_host_free, then: nothing may be left */
}

static void test_domain_destroy_releases_servers_at_once(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t a = uart_server(&f, UART_FIRST, UART_LAST);
    uart_server(&f, UART2_FIRST, UART2_LAST);
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, NULL), 0);
    assert_int_not_equal(buf_page_of(&f, a), NULL);
    long mem = f.fp.live[FAKE_MEM];

    assert_int_equal(hvio_domain_destroy(f.host, GUEST), 0);
    assert_int_equal(fake_ports_live(&f.fp), 0);
    assert_int_equal(f.fp.live[FAKE_PAGE], 0);
    assert_true(f.fp.live[FAKE_MEM] < mem);
    assert_int_equal(hvio_domain_nr_servers(f.host, GUEST), -ESRCH);
    assert_int_equal(hvio_domain_nr_servers(f.host, DOM0), 0); /* untouched */
    assert_int_equal(f.fp.pause_depth[GUEST], 0);

    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroy_server_while_vcpu_waits),
        cmocka_unit_test(test_destroy_and_recreate_while_vcpu_waits),
        cmocka_unit_test(test_destroy_other_server_while_vcpu_waits),
        cmocka_unit_test(test_destroy_one_server_during_invalidate),
        cmocka_unit_test(test_disable_while_vcpu_waits),
        cmocka_unit_test(test_domain_destroy_while_vcpu_waits),
        cmocka_unit_test(test_domain_destroy_during_invalidate),
        cmocka_unit_test(test_old_handle_after_domain_destroy),
        cmocka_unit_test(test_remove_waiting_vcpu),
        cmocka_unit_test_setup_teardown(test_readded_vcpu_after_remove_while_waiting,
                                        readd_setup, readd_teardown),
        cmocka_unit_test(test_host_free_with_live_servers),
        cmocka_unit_test(test_domain_destroy_releases_servers_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
