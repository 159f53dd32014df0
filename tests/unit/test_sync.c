/*
 * The synchronous ioreq state machine, hypervisor side: what the core puts
 * in a vCPU's slot, which port it notifies, how it follows the emulator
 * through READY -> INPROCESS -> IORESP_READY -> NONE, and how it crashes
 * the guest (never the host) when the emulator breaks the protocol.
 *
 * The fake platform's on_block hook plays the emulator: each time the core
 * blocks the vCPU, the hook finds the slot as the core left it and writes
 * the next state of a per-test script.
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
#define MMIO_FIRST 0xfe000000ull
#define MMIO_LAST 0xfe00ffffull
#define WIDE_ANSWER 0x8877665544332211ull
#define MAX_STEPS 8

/* The emulator, as the on_block hook plays it. */
struct emu {
    shared_iopage_t *page;
    unsigned int vcpu;             /* the vCPU expected to block */
    uint8_t steps[MAX_STEPS];      /* state written at each block */
    unsigned int nr_steps;
    uint64_t answer;               /* data written with STATE_IORESP_READY */
    unsigned int calls;
    ioreq_t first;                 /* the slot as found at the first block */
    uint8_t found[MAX_STEPS];      /* the slot's state found at each block */
    unsigned int notifications_at_first;
};

static void emu_run(struct fake_platform *fp, domid_t domid, unsigned int vcpu)
{
    struct emu *e = fp->hook_data;

    assert_int_equal(domid, GUEST);
    assert_int_equal(vcpu, e->vcpu);
    if (e->calls >= e->nr_steps)
        fail_msg("vCPU %u blocked again after the emulator's script ended", vcpu);

    ioreq_t *slot = &e->page->vcpu_ioreq[vcpu];
    if (e->calls == 0) {
        e->first = *slot;
        e->notifications_at_first = fp->notifications;
    }
    e->found[e->calls] = slot->state;

    uint8_t next = e->steps[e->calls++];
    if (next == STATE_IORESP_READY)
        slot->data = e->answer;
    slot->state = next & 0xf;
}

static void emu_start(struct fixture *f, struct emu *e, shared_iopage_t *page,
                      unsigned int vcpu, const uint8_t *steps,
                      unsigned int nr_steps, uint64_t answer)
{
    assert_true(nr_steps <= MAX_STEPS);
    memset(e, 0, sizeof(*e));
    e->page = page;
    e->vcpu = vcpu;
    if (nr_steps)
        memcpy(e->steps, steps, nr_steps);
    e->nr_steps = nr_steps;
    e->answer = answer;
    f->fp.hook_data = e;
    f->fp.on_block = emu_run;
}

static struct hvio_vcpu *vcpu_of(struct fixture *f, unsigned int id)
{
    struct hvio_vcpu *v = NULL;

    assert_int_equal(hvio_vcpu_get(f->host, GUEST, id, &v), 0);
    return v;
}

static evtchn_port_t vcpu_port(struct fixture *f, ioservid_t id,
                               unsigned int vcpu)
{
    struct hvio_server_view view;

    assert_int_equal(hvio_server_view(f->host, GUEST, id, &view), 0);
    assert_int_not_equal(view.vcpu_port[vcpu], 0);
    return view.vcpu_port[vcpu];
}

/* A server for the UART ports and an MMIO window, enabled, LEGACY ring. */
static ioservid_t uart_and_mmio_server(struct fixture *f)
{
    ioservid_t id = server_with_range(f, HVM_IOREQSRV_BUFIOREQ_LEGACY,
                                      XEN_DMOP_IO_RANGE_PORT, UART_FIRST, UART_LAST);

    assert_int_equal(dm_map(f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY,
                            MMIO_FIRST, MMIO_LAST), 0);
    return id;
}

static ioreq_t pio(uint64_t addr, uint32_t size, uint8_t dir, uint64_t data)
{
    return (ioreq_t){ .type = IOREQ_TYPE_PIO, .addr = addr, .size = size,
                      .count = 1, .dir = dir, .data = data };
}

static ioreq_t mmio(uint64_t addr, uint32_t size, uint8_t dir, uint64_t data)
{
    return (ioreq_t){ .type = IOREQ_TYPE_COPY, .addr = addr, .size = size,
                      .count = 1, .dir = dir, .data = data };
}

/* After a protocol violation: only the guest crashed, and it stays dead. */
static void assert_guest_crashed_for_good(struct fixture *f, struct hvio_vcpu *v,
                                          unsigned int blocks_before)
{
    assert_int_equal(f->fp.crashes, 1);
    assert_int_equal(f->fp.crashed_domid, GUEST);
    assert_non_null(f->fp.crash_reason);
    assert_int_equal(f->fp.locks_held, 0);

    /* Served port, null handler, other vCPU, broadcast: all -EIO, no block. */
    ioreq_t again = pio(UART_FIRST, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &again), -EIO);
    ioreq_t nobody = pio(0x80, 1, IOREQ_WRITE, 0);
    assert_int_equal(hvio_emulate(v, &nobody), -EIO);
    struct hvio_vcpu *other = vcpu_of(f, 0);
    ioreq_t mmio_read = mmio(MMIO_FIRST, 4, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(other, &mmio_read), -EIO);
    assert_int_equal(hvio_send_invalidate(other), -EIO);
    hvio_vcpu_put(other);
    assert_int_equal(f->fp.blocks, blocks_before);
    assert_int_equal(f->fp.crashes, 1); /* crashed once, not per access */
}

/* ---- the request and the notification ---------------------------------- */

static void test_request_lands_in_vcpu_slot_and_notifies_its_port(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, 4);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_server_view view;
    assert_int_equal(hvio_server_view(f.host, GUEST, id, &view), 0);

    const uint8_t steps[] = { STATE_IOREQ_INPROCESS, STATE_IORESP_READY };
    emu_start(&f, &e, page, 3, steps, 2, 0xabcdef60);
    struct hvio_vcpu *v = vcpu_of(&f, 3);
    unsigned int notifications = f.fp.notifications;

    ioreq_t p = pio(0x3fd, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);

    /* What the emulator found at its first wake-up. */
    assert_int_equal(e.calls, 2);
    assert_int_equal(e.first.state, STATE_IOREQ_READY);
    assert_int_equal(e.first.type, IOREQ_TYPE_PIO);
    assert_int_equal(e.first.addr, 0x3fd);
    assert_int_equal(e.first.size, 1);
    assert_int_equal(e.first.count, 1);
    assert_int_equal(e.first.dir, IOREQ_READ);
    assert_int_equal(e.first.df, 0);
    assert_int_equal(e.first.data_is_ptr, 0);
    assert_int_equal(e.first.vp_eport, view.vcpu_port[3]);
    /* The core left INPROCESS alone while waiting for the answer. */
    assert_int_equal(e.found[1], STATE_IOREQ_INPROCESS);

    /* Exactly vCPU 3's port, once, before blocking; no other port. */
    assert_int_equal(e.notifications_at_first, notifications + 1);
    assert_int_equal(f.fp.notifications, notifications + 1);
    assert_int_equal(f.fp.port[view.vcpu_port[3]].notified, 1);
    for (unsigned int i = 0; i < 3; i++)
        assert_int_equal(f.fp.port[view.vcpu_port[i]].notified, 0);
    assert_int_equal(f.fp.port[view.bufioreq_port].notified, 0);
    assert_int_equal(f.fp.port[view.vcpu_port[3]].vcpu_id, 3);
    assert_int_equal(f.fp.port[view.vcpu_port[3]].remote, DOM0);

    /* Answer masked to the size; the slot is free again. */
    assert_int_equal(p.data, 0x60);
    assert_int_equal(page->vcpu_ioreq[3].state, STATE_IOREQ_NONE);
    /* No other vCPU's slot was touched. */
    for (unsigned int i = 0; i < 3; i++) {
        assert_int_equal(page->vcpu_ioreq[i].state, STATE_IOREQ_NONE);
        assert_int_equal(page->vcpu_ioreq[i].addr, 0);
    }
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_mmio_rep_fields(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    const uint8_t steps[] = { STATE_IORESP_READY };
    emu_start(&f, &e, ioreq_page_of(&f, id), 0, steps, 1, 0);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    /* rep movsd downwards from the top of the window: 4 x 4 bytes. */
    ioreq_t p = { .type = IOREQ_TYPE_COPY, .addr = MMIO_LAST - 3, .size = 4,
                  .count = 4, .dir = IOREQ_WRITE, .df = 1, .data_is_ptr = 1,
                  .data = 0x7000 };
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(e.first.type, IOREQ_TYPE_COPY);
    assert_int_equal(e.first.addr, MMIO_LAST - 3);
    assert_int_equal(e.first.size, 4);
    assert_int_equal(e.first.count, 4);
    assert_int_equal(e.first.dir, IOREQ_WRITE);
    assert_int_equal(e.first.df, 1);
    assert_int_equal(e.first.data_is_ptr, 1);
    assert_int_equal(e.first.data, 0x7000);
    assert_int_equal(e.first.vp_eport, vcpu_port(&f, id, 0));

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- answers ------------------------------------------------------------ */

static void test_read_answer_masked_to_size(void **state)
{
    static const struct { uint32_t size; uint64_t want; } cases[] = {
        { 1, 0x11 }, { 2, 0x2211 }, { 4, 0x44332211 }, { 8, WIDE_ANSWER },
    };
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint8_t steps[] = { STATE_IOREQ_INPROCESS, STATE_IORESP_READY };
        emu_start(&f, &e, page, 1, steps, 2, WIDE_ANSWER);
        ioreq_t p = mmio(MMIO_FIRST + 0x100, cases[i].size, IOREQ_READ,
                         0xdeaddeaddeaddeadull);
        assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
        assert_int_equal(e.first.size, cases[i].size);
        assert_int_equal(e.calls, 2);
        assert_int_equal(p.data, cases[i].want);
        assert_int_equal(page->vcpu_ioreq[1].state, STATE_IOREQ_NONE);
    }
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_spurious_wakeups_keep_waiting(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    /* Woken while still READY, then twice while INPROCESS. */
    const uint8_t steps[] = { STATE_IOREQ_READY, STATE_IOREQ_INPROCESS,
                              STATE_IOREQ_INPROCESS, STATE_IORESP_READY };
    emu_start(&f, &e, page, 0, steps, 4, 0x5a);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    ioreq_t p = pio(UART_FIRST, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(e.calls, 4);
    assert_int_equal(p.data, 0x5a);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_write_data_not_changed_by_answer(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 0);
    const uint8_t steps[] = { STATE_IOREQ_INPROCESS, STATE_IORESP_READY };

    emu_start(&f, &e, page, 0, steps, 2, 0x99);
    ioreq_t out = pio(UART_FIRST, 1, IOREQ_WRITE, 0x41);
    assert_int_equal(hvio_emulate(v, &out), HVIO_EMULATED);
    assert_int_equal(e.first.dir, IOREQ_WRITE);
    assert_int_equal(e.first.data, 0x41);
    assert_int_equal(out.data, 0x41);

    emu_start(&f, &e, page, 0, steps, 2, WIDE_ANSWER);
    ioreq_t w = mmio(MMIO_FIRST, 8, IOREQ_WRITE, 0x0102030405060708ull);
    assert_int_equal(hvio_emulate(v, &w), HVIO_EMULATED);
    assert_int_equal(e.first.data, 0x0102030405060708ull);
    assert_int_equal(w.data, 0x0102030405060708ull);
    assert_int_equal(page->vcpu_ioreq[0].state, STATE_IOREQ_NONE);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_data_is_ptr_read_keeps_guest_address(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    /* rep insw into guest memory at 0x12340, answered. */
    const uint8_t answered[] = { STATE_IOREQ_INPROCESS, STATE_IORESP_READY };
    emu_start(&f, &e, page, 1, answered, 2, WIDE_ANSWER);
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = UART_FIRST, .size = 2,
                  .count = 3, .dir = IOREQ_READ, .data_is_ptr = 1,
                  .data = 0x12340 };
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(e.first.data_is_ptr, 1);
    assert_int_equal(e.first.data, 0x12340);
    assert_int_equal(e.first.count, 3);
    assert_int_equal(p.data, 0x12340);

    /* The same, but the emulator gives up (slot reset): still untouched. */
    const uint8_t reset[] = { STATE_IOREQ_NONE };
    emu_start(&f, &e, page, 1, reset, 1, 0);
    ioreq_t q = p;
    assert_int_equal(hvio_emulate(v, &q), HVIO_UNHANDLED);
    assert_int_equal(q.data, 0x12340);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_slot_reset_to_none_completes_unhandled(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    /* Reset straight away, and after INPROCESS: unhandled, all ones. */
    const uint8_t at_once[] = { STATE_IOREQ_NONE };
    emu_start(&f, &e, page, 0, at_once, 1, 0x1234);
    ioreq_t p = mmio(MMIO_FIRST, 2, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &p), HVIO_UNHANDLED);
    assert_int_equal(p.data, 0xffff);

    const uint8_t later[] = { STATE_IOREQ_INPROCESS, STATE_IOREQ_NONE };
    emu_start(&f, &e, page, 0, later, 2, 0x1234);
    ioreq_t q = mmio(MMIO_FIRST, 4, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &q), HVIO_UNHANDLED);
    assert_int_equal(q.data, 0xffffffff);
    assert_int_equal(e.calls, 2);
    assert_int_equal(f.fp.crashes, 0);

    /* The slot works normally afterwards. */
    const uint8_t ok[] = { STATE_IORESP_READY };
    emu_start(&f, &e, page, 0, ok, 1, 0x77);
    ioreq_t r = mmio(MMIO_FIRST, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v, &r), HVIO_EMULATED);
    assert_int_equal(r.data, 0x77);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- two vCPUs at once -------------------------------------------------- */

struct two_vcpus {
    struct fixture *f;
    shared_iopage_t *page;
    unsigned int calls[2];
    int inner_rc;
    uint64_t inner_data;
};

static void two_vcpus_emu(struct fake_platform *fp, domid_t domid,
                          unsigned int vcpu)
{
    struct two_vcpus *t = fp->hook_data;
    ioreq_t *s0 = &t->page->vcpu_ioreq[0], *s1 = &t->page->vcpu_ioreq[1];

    assert_int_equal(domid, GUEST);
    assert_true(vcpu < 2);
    t->calls[vcpu]++;
    if (vcpu == 0) {
        assert_int_equal(t->calls[0], 1);
        assert_int_equal(s0->state, STATE_IOREQ_READY);
        assert_int_equal(s0->addr, 0x3f8);
        assert_int_equal(s1->state, STATE_IOREQ_NONE);

        /* vCPU 1 traps while vCPU 0 still waits. */
        struct hvio_vcpu *v1 = NULL;
        assert_int_equal(hvio_vcpu_get(t->f->host, GUEST, 1, &v1), 0);
        ioreq_t p = pio(0x3f9, 1, IOREQ_READ, 0);
        t->inner_rc = hvio_emulate(v1, &p);
        t->inner_data = p.data;
        hvio_vcpu_put(v1);

        /* vCPU 1 done; vCPU 0's request untouched, still pending. */
        assert_int_equal(s1->state, STATE_IOREQ_NONE);
        assert_int_equal(s0->state, STATE_IOREQ_READY);
        assert_int_equal(s0->addr, 0x3f8);
        s0->data = 0x22;
        s0->state = STATE_IORESP_READY;
    } else {
        assert_int_equal(t->calls[1], 1);
        assert_int_equal(s1->state, STATE_IOREQ_READY);
        assert_int_equal(s1->addr, 0x3f9);
        assert_int_equal(s0->state, STATE_IOREQ_READY);
        assert_int_equal(s0->addr, 0x3f8);
        s1->data = 0x11;
        s1->state = STATE_IORESP_READY;
    }
}

static void test_two_vcpus_use_separate_slots(void **state)
{
    struct fixture f;
    struct two_vcpus t = { .f = &f };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    t.page = ioreq_page_of(&f, id);
    f.fp.hook_data = &t;
    f.fp.on_block = two_vcpus_emu;
    evtchn_port_t port0 = vcpu_port(&f, id, 0), port1 = vcpu_port(&f, id, 1);
    assert_int_not_equal(port0, port1);

    struct hvio_vcpu *v0 = vcpu_of(&f, 0);
    ioreq_t p = pio(0x3f8, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v0, &p), HVIO_EMULATED);
    assert_int_equal(p.data, 0x22);
    assert_int_equal(t.inner_rc, HVIO_EMULATED);
    assert_int_equal(t.inner_data, 0x11);
    assert_int_equal(t.calls[0], 1);
    assert_int_equal(t.calls[1], 1);
    assert_int_equal(f.fp.port[port0].notified, 1);
    assert_int_equal(f.fp.port[port1].notified, 1);
    assert_int_equal(t.page->vcpu_ioreq[0].vp_eport, port0);
    assert_int_equal(t.page->vcpu_ioreq[1].vp_eport, port1);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v0);
    fixture_teardown(&f);
}

/* ---- the emulator breaking the protocol ------------------------------- */

static void run_broken_script(const uint8_t *steps, unsigned int nr_steps)
{
    struct fixture f;
    struct emu e;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    shared_iopage_t *page = ioreq_page_of(&f, id);
    emu_start(&f, &e, page, 1, steps, nr_steps, 0x42);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    ioreq_t p = pio(UART_FIRST, 1, IOREQ_READ, 0x5555);
    assert_int_equal(hvio_emulate(v, &p), -EIO);
    /* The core stopped at the bad state: no further block. */
    assert_int_equal(e.calls, nr_steps);
    assert_int_equal(p.data, 0x5555);
    assert_guest_crashed_for_good(&f, v, f.fp.blocks);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_backwards_state_crashes_guest(void **state)
{
    (void)state;
    const uint8_t inprocess_ready[] = { STATE_IOREQ_INPROCESS, STATE_IOREQ_READY };
    run_broken_script(inprocess_ready, 2);
}

static void test_unknown_state_crashes_guest(void **state)
{
    (void)state;
    const uint8_t unknown[][2] = {
        { 7 }, { 4 }, { 15 }, { STATE_IOREQ_INPROCESS, 7 },
    };
    const unsigned int nr[] = { 1, 1, 1, 2 };

    for (unsigned int i = 0; i < 4; i++)
        run_broken_script(unknown[i], nr[i]);
}

static void test_busy_slot_at_send_crashes_guest(void **state)
{
    (void)state;
    const uint8_t leftovers[] = { STATE_IOREQ_READY, STATE_IOREQ_INPROCESS,
                                  STATE_IORESP_READY, 7 };

    for (unsigned int i = 0; i < sizeof(leftovers); i++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = uart_and_mmio_server(&f);
        shared_iopage_t *page = ioreq_page_of(&f, id);
        emu_start(&f, &e, page, 0, NULL, 0, 0); /* must not block at all */
        evtchn_port_t port = vcpu_port(&f, id, 0);

        /* Garbage the emulator left in vCPU 0's slot. */
        page->vcpu_ioreq[0].state = leftovers[i];
        page->vcpu_ioreq[0].addr = 0xbad;
        struct hvio_vcpu *v = vcpu_of(&f, 0);
        ioreq_t p = pio(UART_FIRST, 1, IOREQ_WRITE, 0x41);
        assert_int_equal(hvio_emulate(v, &p), -EIO);
        assert_int_equal(e.calls, 0);
        assert_int_equal(f.fp.port[port].notified, 0);
        assert_int_equal(page->vcpu_ioreq[0].addr, 0xbad); /* nothing posted */
        assert_guest_crashed_for_good(&f, v, 0);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

static void test_overwritten_eport_crashes_guest(void **state)
{
    (void)state;

    for (unsigned int i = 0; i < 3; i++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = uart_and_mmio_server(&f);
        shared_iopage_t *page = ioreq_page_of(&f, id);
        emu_start(&f, &e, page, 1, NULL, 0, 0);
        evtchn_port_t port = vcpu_port(&f, id, 1);
        assert_int_equal(page->vcpu_ioreq[1].vp_eport, port); /* published */

        /* Zero, another vCPU's port, junk. */
        const uint32_t bad[] = { 0, vcpu_port(&f, id, 0), 0xffffffffu };
        page->vcpu_ioreq[1].vp_eport = bad[i];
        struct hvio_vcpu *v = vcpu_of(&f, 1);
        ioreq_t p = pio(UART_FIRST, 1, IOREQ_READ, 0);
        assert_int_equal(hvio_emulate(v, &p), -EIO);
        assert_int_equal(e.calls, 0);
        assert_int_equal(f.fp.port[port].notified, 0);
        assert_int_equal(f.fp.notifications, 0);
        assert_guest_crashed_for_good(&f, v, 0);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

/* A broadcast meeting a broken slot in one server crashes the guest too. */
static void test_broadcast_to_broken_slot_crashes_guest(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t good = uart_and_mmio_server(&f);
    ioservid_t broken;
    assert_int_equal(dm_create(&f, DOM0, GUEST, HVM_IOREQSRV_BUFIOREQ_OFF, &broken), 0);
    assert_int_equal(dm_set_state(&f, DOM0, GUEST, broken, true), 0);
    shared_iopage_t *broken_page = ioreq_page_of(&f, broken);
    emu_start(&f, &e, ioreq_page_of(&f, good), 0, NULL, 0, 0);

    broken_page->vcpu_ioreq[0].state = STATE_IORESP_READY; /* stale answer */
    struct hvio_vcpu *v = vcpu_of(&f, 0);
    assert_int_equal(hvio_send_invalidate(v), -EIO);
    assert_int_equal(e.calls, 0);
    assert_int_equal(f.fp.port[vcpu_port(&f, broken, 0)].notified, 0);
    assert_guest_crashed_for_good(&f, v, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* A crash caused through one vCPU also ends another vCPU's wait. */
struct crash_other {
    struct fixture *f;
    shared_iopage_t *page;
    unsigned int calls;
    int inner_rc;
    unsigned int kicks_before;
};

static void crash_from_other_vcpu(struct fake_platform *fp, domid_t domid,
                                  unsigned int vcpu)
{
    struct crash_other *c = fp->hook_data;

    assert_int_equal(domid, GUEST);
    assert_int_equal(vcpu, 0);
    if (c->calls++ > 0)
        fail_msg("vCPU 0 blocked again after the domain crashed");

    c->kicks_before = fp->kicks[GUEST][0];
    c->page->vcpu_ioreq[1].state = 7; /* emulator garbage in vCPU 1's slot */
    struct hvio_vcpu *v1 = NULL;
    assert_int_equal(hvio_vcpu_get(c->f->host, GUEST, 1, &v1), 0);
    ioreq_t p = pio(0x3f9, 1, IOREQ_READ, 0);
    c->inner_rc = hvio_emulate(v1, &p);
    hvio_vcpu_put(v1);
    /* vCPU 0's request stays unanswered. */
}

static void test_crash_ends_wait_of_other_vcpus(void **state)
{
    struct fixture f;
    struct crash_other c = { .f = &f };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = uart_and_mmio_server(&f);
    c.page = ioreq_page_of(&f, id);
    f.fp.hook_data = &c;
    f.fp.on_block = crash_from_other_vcpu;

    struct hvio_vcpu *v0 = vcpu_of(&f, 0);
    ioreq_t p = pio(0x3f8, 1, IOREQ_READ, 0);
    assert_int_equal(hvio_emulate(v0, &p), -EIO);
    assert_int_equal(c.inner_rc, -EIO);
    assert_int_equal(c.calls, 1);
    assert_int_equal(f.fp.crashes, 1);
    assert_int_equal(f.fp.crashed_domid, GUEST);
    /* The crash kicked the waiting vCPU, as a real one would need. */
    assert_true(f.fp.kicks[GUEST][0] > c.kicks_before);

    hvio_vcpu_put(v0);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_lands_in_vcpu_slot_and_notifies_its_port),
        cmocka_unit_test(test_mmio_rep_fields),
        cmocka_unit_test(test_read_answer_masked_to_size),
        cmocka_unit_test(test_spurious_wakeups_keep_waiting),
        cmocka_unit_test(test_write_data_not_changed_by_answer),
        cmocka_unit_test(test_data_is_ptr_read_keeps_guest_address),
        cmocka_unit_test(test_slot_reset_to_none_completes_unhandled),
        cmocka_unit_test(test_two_vcpus_use_separate_slots),
        cmocka_unit_test(test_backwards_state_crashes_guest),
        cmocka_unit_test(test_unknown_state_crashes_guest),
        cmocka_unit_test(test_busy_slot_at_send_crashes_guest),
        cmocka_unit_test(test_overwritten_eport_crashes_guest),
        cmocka_unit_test(test_broadcast_to_broken_slot_crashes_guest),
        cmocka_unit_test(test_crash_ends_wait_of_other_vcpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
