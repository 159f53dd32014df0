/*
 * The buffered ioreq ring: which writes are posted to it, what a posted
 * entry looks like, full-ring fallback to the synchronous path, slot index
 * wrap-around in LEGACY and ATOMIC pointer modes, rings corrupted by the
 * emulator, and the TIMEOFFSET / INVALIDATE broadcasts.
 *
 * The tests write ring pointers as the emulator could (plain stores; the
 * tests are single-threaded).  When a request goes synchronous, the
 * on_block hook answers one READY slot per wake-up and records it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

#define SLOTS IOREQ_BUFFER_SLOT_NUM /* 511 */
#define VGA_FIRST 0xa0000ull
#define VGA_LAST 0xbffffull
/* One server range around the VGA window, so that neighbours are served. */
#define LOW_FIRST 0x90000ull
#define LOW_LAST 0xcffffull
#define HIGH_MMIO 0xfee00000ull
#define VGA_PORTS 0x3c0

/* ---- the emulator, for requests that go synchronous ------------------- */

struct emu {
    shared_iopage_t *page[HVIO_MAX_SERVERS]; /* by server id; NULL: ignore */
    bool forbid;          /* any block is a test failure */
    uint64_t answer;
    unsigned int answered;
    ioreq_t last;         /* the last request answered */
    unsigned int last_id; /* and its server */
    unsigned int last_vcpu;
};

/* Answer the lowest-id READY slot of the blocked vCPU. */
static void emu_answer_one(struct fake_platform *fp, domid_t domid,
                           unsigned int vcpu)
{
    struct emu *e = fp->hook_data;

    assert_int_equal(domid, GUEST);
    if (e->forbid)
        fail_msg("vCPU %u blocked: the request was not buffered", vcpu);
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        ioreq_t *slot = e->page[id] ? &e->page[id]->vcpu_ioreq[vcpu] : NULL;

        if (!slot || slot->state != STATE_IOREQ_READY)
            continue;
        e->last = *slot;
        e->last_id = id;
        e->last_vcpu = vcpu;
        e->answered++;
        slot->data = e->answer;
        slot->state = STATE_IORESP_READY;
        return;
    }
    fail_msg("vCPU %u blocked with no request READY", vcpu);
}

static void emu_install(struct fixture *f, struct emu *e, bool forbid)
{
    memset(e, 0, sizeof(*e));
    e->forbid = forbid;
    e->answer = 0x5a5a5a5a5a5a5a5aull;
    f->fp.hook_data = e;
    f->fp.on_block = emu_answer_one;
}

/* ---- helpers ------------------------------------------------------------ */

static struct hvio_vcpu *vcpu_of(struct fixture *f, unsigned int id)
{
    struct hvio_vcpu *v = NULL;

    assert_int_equal(hvio_vcpu_get(f->host, GUEST, id, &v), 0);
    return v;
}

static struct hvio_server_view view_of(struct fixture *f, ioservid_t id)
{
    struct hvio_server_view view;

    assert_int_equal(hvio_server_view(f->host, GUEST, id, &view), 0);
    return view;
}

/* A server for low memory around VGA, high MMIO and the VGA ports. */
static ioservid_t vga_server(struct fixture *f, uint8_t bufioreq)
{
    ioservid_t id = server_with_range(f, bufioreq, XEN_DMOP_IO_RANGE_MEMORY,
                                      LOW_FIRST, LOW_LAST);

    assert_int_equal(dm_map(f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_MEMORY,
                            HIGH_MMIO, HIGH_MMIO + 0xfff), 0);
    assert_int_equal(dm_map(f, DOM0, GUEST, id, XEN_DMOP_IO_RANGE_PORT,
                            VGA_PORTS, VGA_PORTS + 0x1f), 0);
    return id;
}

/* A server without ranges, for broadcasts. */
static ioservid_t plain_server(struct fixture *f, uint8_t bufioreq, bool enabled)
{
    ioservid_t id;

    assert_int_equal(dm_create(f, DOM0, GUEST, bufioreq, &id), 0);
    if (enabled)
        assert_int_equal(dm_set_state(f, DOM0, GUEST, id, true), 0);
    return id;
}

static ioreq_t mmio_write(uint64_t addr, uint32_t size, uint64_t data)
{
    return (ioreq_t){ .type = IOREQ_TYPE_COPY, .addr = addr, .size = size,
                      .count = 1, .dir = IOREQ_WRITE, .data = data };
}

static void set_pointers(buffered_iopage_t *pg, uint32_t rp, uint32_t wp)
{
    pg->read_pointer = rp;
    pg->write_pointer = wp;
}

/* One VGA write that must be buffered (no block). */
static void post(struct fixture *f, struct hvio_vcpu *v, uint64_t addr,
                 uint32_t size, uint64_t data)
{
    unsigned int blocks = f->fp.blocks;
    ioreq_t p = mmio_write(addr, size, data);

    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(f->fp.blocks, blocks);
}

/* One VGA write that must go synchronous and be answered once. */
static void post_sync(struct fixture *f, struct emu *e, struct hvio_vcpu *v,
                      uint64_t addr, uint32_t size, uint64_t data)
{
    unsigned int answered = e->answered, blocks = f->fp.blocks;
    ioreq_t p = mmio_write(addr, size, data);

    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(e->answered, answered + 1);
    assert_int_equal(f->fp.blocks, blocks + 1);
    assert_int_equal(e->last.type, IOREQ_TYPE_COPY);
    assert_int_equal(e->last.addr, addr);
    assert_int_equal(e->last.size, size);
    assert_int_equal(e->last.data, data);
    assert_int_equal(e->last.dir, IOREQ_WRITE);
}

static void assert_entry(const buf_ioreq_t *b, uint8_t type, uint8_t size_code,
                         uint32_t addr, uint32_t data)
{
    assert_int_equal(b->type, type);
    assert_int_equal(b->dir, IOREQ_WRITE);
    assert_int_equal(b->size, size_code);
    assert_int_equal(b->addr, addr);
    assert_int_equal(b->data, data);
}

/* ---- what is buffered ------------------------------------------------- */

static void test_vga_writes_are_buffered(void **state)
{
    static const struct { uint64_t addr; uint32_t size; uint64_t data; uint8_t code; }
        cases[] = {
            { VGA_FIRST, 1, 0x5a, 0 },
            { 0xa1234, 2, 0xbeef, 1 },
            { VGA_LAST - 3, 4, 0xcafef00d, 2 },
        };
    const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_LEGACY,
                              HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    (void)state;

    for (unsigned int m = 0; m < 2; m++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = vga_server(&f, modes[m]);
        buffered_iopage_t *pg = buf_page_of(&f, id);
        shared_iopage_t *page = ioreq_page_of(&f, id);
        struct hvio_server_view view = view_of(&f, id);
        emu_install(&f, &e, true);
        struct hvio_vcpu *v = vcpu_of(&f, 1);

        for (unsigned int i = 0; i < 3; i++) {
            post(&f, v, cases[i].addr, cases[i].size, cases[i].data);
            assert_int_equal(pg->write_pointer, i + 1);
            assert_int_equal(pg->read_pointer, 0);
            assert_entry(&pg->buf_ioreq[i], IOREQ_TYPE_COPY, cases[i].code,
                         (uint32_t)cases[i].addr, (uint32_t)cases[i].data);
            assert_int_equal(f.fp.port[view.bufioreq_port].notified, i + 1);
        }
        /* Nothing went through the vCPU's slot or ports. */
        assert_int_equal(f.fp.blocks, 0);
        assert_int_equal(f.fp.notifications, 3);
        assert_int_equal(f.fp.port[view.vcpu_port[0]].notified, 0);
        assert_int_equal(f.fp.port[view.vcpu_port[1]].notified, 0);
        assert_int_equal(page->vcpu_ioreq[1].state, STATE_IOREQ_NONE);
        assert_int_equal(page->vcpu_ioreq[1].addr, 0);
        assert_int_equal(pg->buf_ioreq[3].type, 0); /* nothing beyond */
        assert_int_equal(pg->buf_ioreq[3].data, 0);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

static void test_eight_byte_write_takes_two_slots(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY);
    buffered_iopage_t *pg = buf_page_of(&f, id);
    struct hvio_server_view view = view_of(&f, id);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    post(&f, v, 0xb0008, 8, 0x1122334455667788ull);
    assert_int_equal(pg->write_pointer, 2);
    assert_entry(&pg->buf_ioreq[0], IOREQ_TYPE_COPY, 3, 0xb0008, 0x55667788);
    assert_entry(&pg->buf_ioreq[1], IOREQ_TYPE_COPY, 3, 0xb0008, 0x11223344);
    /* One request, one notification. */
    assert_int_equal(f.fp.port[view.bufioreq_port].notified, 1);

    post(&f, v, 0xa0000, 1, 0x33);
    assert_int_equal(pg->write_pointer, 3);
    assert_entry(&pg->buf_ioreq[2], IOREQ_TYPE_COPY, 0, 0xa0000, 0x33);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_unbufferable_accesses_go_sync(void **state)
{
    static const ioreq_t cases[] = {
        /* read in the window */
        { .type = IOREQ_TYPE_COPY, .addr = 0xa0000, .size = 4, .count = 1,
          .dir = IOREQ_READ },
        /* rep stos, two elements */
        { .type = IOREQ_TYPE_COPY, .addr = 0xa0000, .size = 1, .count = 2,
          .dir = IOREQ_WRITE, .data = 0x77 },
        /* one element from guest memory */
        { .type = IOREQ_TYPE_COPY, .addr = 0xa0000, .size = 4, .count = 1,
          .dir = IOREQ_WRITE, .data_is_ptr = 1, .data = 0x8000 },
        /* just below, just above, straddling either end */
        { .type = IOREQ_TYPE_COPY, .addr = 0x9ffff, .size = 1, .count = 1,
          .dir = IOREQ_WRITE, .data = 1 },
        { .type = IOREQ_TYPE_COPY, .addr = 0xc0000, .size = 1, .count = 1,
          .dir = IOREQ_WRITE, .data = 2 },
        { .type = IOREQ_TYPE_COPY, .addr = 0x9fffe, .size = 4, .count = 1,
          .dir = IOREQ_WRITE, .data = 3 },
        { .type = IOREQ_TYPE_COPY, .addr = 0xbfffe, .size = 4, .count = 1,
          .dir = IOREQ_WRITE, .data = 4 },
        { .type = IOREQ_TYPE_COPY, .addr = 0xbfffc, .size = 8, .count = 1,
          .dir = IOREQ_WRITE, .data = 5 },
        /* above 1 MiB */
        { .type = IOREQ_TYPE_COPY, .addr = HIGH_MMIO, .size = 4, .count = 1,
          .dir = IOREQ_WRITE, .data = 6 },
        /* a port write to the VGA registers */
        { .type = IOREQ_TYPE_PIO, .addr = VGA_PORTS, .size = 1, .count = 1,
          .dir = IOREQ_WRITE, .data = 7 },
    };
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    buffered_iopage_t *pg = buf_page_of(&f, id);
    struct hvio_server_view view = view_of(&f, id);
    emu_install(&f, &e, false);
    e.page[id] = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ioreq_t p = cases[i];

        assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
        assert_int_equal(e.answered, i + 1);
        assert_int_equal(e.last_vcpu, 1);
        assert_int_equal(e.last.type, cases[i].type);
        assert_int_equal(e.last.addr, cases[i].addr);
        assert_int_equal(e.last.count, cases[i].count);
        assert_int_equal(e.last.dir, cases[i].dir);
        assert_int_equal(e.last.data_is_ptr, cases[i].data_is_ptr);
        assert_int_equal(e.last.data, cases[i].data);
    }
    assert_int_equal(pg->write_pointer, 0);
    assert_int_equal(f.fp.port[view.bufioreq_port].notified, 0);
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_server_without_ring_gets_vga_writes_sync(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_OFF);
    void *page = NULL;
    assert_int_equal(hvio_acquire_ioreq_frame(f.host, DOM0, GUEST, id,
                     XENMEM_resource_ioreq_server_frame_bufioreq, &page), -ENOENT);
    emu_install(&f, &e, false);
    e.page[id] = ioreq_page_of(&f, id);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    post_sync(&f, &e, v, 0xa0000, 4, 0x01020304);
    post_sync(&f, &e, v, 0xa0010, 8, 0x1122334455667788ull);
    assert_int_equal(e.answered, 2);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- full ring ------------------------------------------------------- */

static void test_full_ring_falls_back_to_sync(void **state)
{
    const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_LEGACY,
                              HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    (void)state;

    for (unsigned int m = 0; m < 2; m++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = vga_server(&f, modes[m]);
        buffered_iopage_t *pg = buf_page_of(&f, id);
        struct hvio_server_view view = view_of(&f, id);
        emu_install(&f, &e, false);
        e.page[id] = ioreq_page_of(&f, id);
        struct hvio_vcpu *v = vcpu_of(&f, 0);

        /* The emulator does not drain: 511 one-slot entries fit. */
        for (uint32_t i = 0; i < SLOTS; i++)
            post(&f, v, 0xa0000 + 4 * i, 4, 0x1000 + i);
        assert_int_equal(pg->read_pointer, 0);
        assert_int_equal(pg->write_pointer, SLOTS);
        assert_int_equal(f.fp.port[view.bufioreq_port].notified, SLOTS);

        /* The 512th goes synchronous and leaves the ring alone. */
        post_sync(&f, &e, v, 0xa0000, 4, 0xfeed);
        assert_int_equal(pg->write_pointer, SLOTS);
        assert_int_equal(pg->buf_ioreq[0].data, 0x1000);
        assert_int_equal(f.fp.port[view.bufioreq_port].notified, SLOTS);

        /* One slot drained: the next one is buffered again, in slot 0. */
        pg->read_pointer = 1;
        post(&f, v, 0xa0004, 4, 0xbeef);
        assert_int_equal(pg->write_pointer, SLOTS + 1);
        assert_entry(&pg->buf_ioreq[0], IOREQ_TYPE_COPY, 2, 0xa0004, 0xbeef);
        assert_int_equal(pg->buf_ioreq[1].data, 0x1001);
        assert_int_equal(f.fp.crashes, 0);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

static void test_ring_with_one_free_slot_refuses_eight_bytes(void **state)
{
    const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_LEGACY,
                              HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    (void)state;

    for (unsigned int m = 0; m < 2; m++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = vga_server(&f, modes[m]);
        buffered_iopage_t *pg = buf_page_of(&f, id);
        emu_install(&f, &e, false);
        e.page[id] = ioreq_page_of(&f, id);
        struct hvio_vcpu *v = vcpu_of(&f, 0);

        for (uint32_t i = 0; i < SLOTS - 1; i++)
            post(&f, v, 0xa0000, 1, i & 0xff);
        assert_int_equal(pg->write_pointer, SLOTS - 1);

        /* Two slots needed, one free: synchronous, whole 64-bit value. */
        post_sync(&f, &e, v, 0xb0000, 8, 0x0123456789abcdefull);
        assert_int_equal(pg->write_pointer, SLOTS - 1);
        assert_int_equal(pg->buf_ioreq[SLOTS - 1].data, 0);
        assert_int_equal(pg->buf_ioreq[0].data, 0);

        /* The free slot still takes a one-slot write; then it is full. */
        post(&f, v, 0xb0000, 2, 0x4242);
        assert_int_equal(pg->write_pointer, SLOTS);
        assert_entry(&pg->buf_ioreq[SLOTS - 1], IOREQ_TYPE_COPY, 1, 0xb0000, 0x4242);
        post_sync(&f, &e, v, 0xb0000, 1, 0x24);
        assert_int_equal(pg->write_pointer, SLOTS);
        assert_int_equal(e.answered, 2);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

/* ---- wrap-around -------------------------------------------------------- */

static void test_legacy_slot_index_wraps_at_511(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY);
    buffered_iopage_t *pg = buf_page_of(&f, id);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    /* The emulator has drained 509 entries. */
    set_pointers(pg, 509, 509);
    post(&f, v, 0xa0000, 4, 0xaaaa);                 /* slot 509 */
    post(&f, v, 0xa0008, 8, 0x000000bb000000bbull);  /* slots 510, 0 */
    post(&f, v, 0xa0010, 4, 0xcccc);                 /* slot 1 */
    assert_entry(&pg->buf_ioreq[509], IOREQ_TYPE_COPY, 2, 0xa0000, 0xaaaa);
    assert_entry(&pg->buf_ioreq[510], IOREQ_TYPE_COPY, 3, 0xa0008, 0xbb);
    assert_entry(&pg->buf_ioreq[0], IOREQ_TYPE_COPY, 3, 0xa0008, 0xbb);
    assert_entry(&pg->buf_ioreq[1], IOREQ_TYPE_COPY, 2, 0xa0010, 0xcccc);
    /* Legacy pointers just keep growing: no rebasing. */
    assert_int_equal(pg->read_pointer, 509);
    assert_int_equal(pg->write_pointer, 513);

    /* Drained further along: slot = pointer % 511, still no rebasing. */
    set_pointers(pg, 1000, 1000);
    post(&f, v, 0xa0020, 1, 0xdd);
    assert_entry(&pg->buf_ioreq[1000 % SLOTS], IOREQ_TYPE_COPY, 0, 0xa0020, 0xdd);
    assert_int_equal(pg->read_pointer, 1000);
    assert_int_equal(pg->write_pointer, 1001);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/*
 * Legacy pointers are 32-bit and 2^32 is not a multiple of 511, so at the
 * 2^32 wrap the slot index jumps from 31 to 0 (Xen's known legacy
 * limitation, which ATOMIC mode exists to avoid).  An emulator that reads
 * slot `read_pointer % 511` with the same 32-bit pointers still finds every
 * entry in order, and the core never indexes outside the ring.
 */
static void test_legacy_pointers_wrap_at_2_32(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY);
    buffered_iopage_t *pg = buf_page_of(&f, id);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 1);
    const uint32_t start = 0xfffffffdu;

    set_pointers(pg, start, start);
    for (uint32_t i = 0; i < 5; i++)
        post(&f, v, 0xa0000 + i, 1, 0x10 + i);
    assert_int_equal(pg->read_pointer, start);
    assert_int_equal(pg->write_pointer, 2); /* wrapped */

    /* Slots 29, 30, 31 then 0, 1. */
    const unsigned int want_slot[] = { 29, 30, 31, 0, 1 };
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal((uint32_t)(start + i) % SLOTS, want_slot[i]);
        assert_entry(&pg->buf_ioreq[want_slot[i]], IOREQ_TYPE_COPY, 0,
                     0xa0000 + i, 0x10 + i);
    }
    /* The emulator drains in order with its own 32-bit arithmetic. */
    uint32_t n = 0;
    for (uint32_t rp = pg->read_pointer; rp != pg->write_pointer; rp++, n++)
        assert_int_equal(pg->buf_ioreq[rp % SLOTS].data, 0x10 + n);
    assert_int_equal(n, 5);

    /* Fullness is measured across the wrap too: 511 in flight is full. */
    set_pointers(pg, 0xfffffff0u, 0xfffffff0u + SLOTS);
    emu_install(&f, &e, false);
    e.page[id] = ioreq_page_of(&f, id);
    post_sync(&f, &e, v, 0xa0000, 1, 0x99);
    assert_int_equal(pg->write_pointer, (uint32_t)(0xfffffff0u + SLOTS));
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_atomic_rebases_pointers(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = vga_server(&f, HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    buffered_iopage_t *pg = buf_page_of(&f, id);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    /* read_pointer below 511: nothing to rebase, write_pointer may pass it. */
    set_pointers(pg, 510, 510);
    post(&f, v, 0xa0000, 4, 0x510);
    assert_entry(&pg->buf_ioreq[510], IOREQ_TYPE_COPY, 2, 0xa0000, 0x510);
    assert_int_equal(pg->read_pointer, 510);
    assert_int_equal(pg->write_pointer, 511);

    /* The emulator consumes it: read_pointer reaches 511, then rebased. */
    pg->read_pointer = 511;
    post(&f, v, 0xa0008, 8, 0x2222222211111111ull); /* slots 0 and 1 */
    assert_entry(&pg->buf_ioreq[0], IOREQ_TYPE_COPY, 3, 0xa0008, 0x11111111);
    assert_entry(&pg->buf_ioreq[1], IOREQ_TYPE_COPY, 3, 0xa0008, 0x22222222);
    assert_int_equal(pg->read_pointer, 0);
    assert_int_equal(pg->write_pointer, 2);

    /* Far along, entries in flight: rebased by a multiple of 511. */
    set_pointers(pg, 5000, 5003);
    post(&f, v, 0xa0010, 2, 0x5003);
    assert_entry(&pg->buf_ioreq[5003 % SLOTS], IOREQ_TYPE_COPY, 1, 0xa0010, 0x5003);
    assert_true(pg->read_pointer < SLOTS);
    assert_int_equal(pg->read_pointer, 5000 % SLOTS);   /* same slot as before */
    assert_int_equal(pg->write_pointer - pg->read_pointer, 4); /* distance kept */

    /* Near 2^32 (set by the emulator): rebased before anything wraps. */
    set_pointers(pg, 0xfffffffdu, 0xfffffffdu);
    post(&f, v, 0xa0018, 1, 0xfd);
    assert_entry(&pg->buf_ioreq[0xfffffffdu % SLOTS], IOREQ_TYPE_COPY, 0,
                 0xa0018, 0xfd);
    assert_int_equal(pg->read_pointer, 0xfffffffdu % SLOTS);
    assert_int_equal(pg->write_pointer, 0xfffffffdu % SLOTS + 1);

    /* Many in flight with read_pointer still low: no rebase yet. */
    set_pointers(pg, 100, 600);
    post(&f, v, 0xa0020, 4, 0x600);
    assert_entry(&pg->buf_ioreq[600 % SLOTS], IOREQ_TYPE_COPY, 2, 0xa0020, 0x600);
    assert_int_equal(pg->read_pointer, 100);
    assert_int_equal(pg->write_pointer, 601);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- a ring corrupted by the emulator ------------------------------ */

static void test_corrupted_ring_goes_sync(void **state)
{
    static const struct { uint32_t rp, wp; } bad[] = {
        { 10, 5 },              /* read ahead of write */
        { 600, 100 },           /* same, with a rebase-able read pointer */
        { 0, 0xffffffffu },     /* absurdly many in flight */
        { 0, SLOTS + 7 },       /* more in flight than slots */
    };
    const uint8_t modes[] = { HVM_IOREQSRV_BUFIOREQ_LEGACY,
                              HVM_IOREQSRV_BUFIOREQ_ATOMIC };
    (void)state;

    for (unsigned int m = 0; m < 2; m++) {
        struct fixture f;
        struct emu e;

        fixture_setup(&f, GUEST_VCPUS);
        ioservid_t id = vga_server(&f, modes[m]);
        buffered_iopage_t *pg = buf_page_of(&f, id);
        struct hvio_server_view view = view_of(&f, id);
        emu_install(&f, &e, false);
        e.page[id] = ioreq_page_of(&f, id);
        struct hvio_vcpu *v = vcpu_of(&f, 1);

        for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            set_pointers(pg, bad[i].rp, bad[i].wp);
            post_sync(&f, &e, v, 0xa0000, 4, 0xc0de0000u + i);
            post_sync(&f, &e, v, 0xa0000, 8, 0xc0de0000c0de0000ull + i);
            /* The core wrote nothing and moved no pointer. */
            assert_int_equal(pg->read_pointer, bad[i].rp);
            assert_int_equal(pg->write_pointer, bad[i].wp);
        }
        for (unsigned int s = 0; s < SLOTS; s++)
            assert_int_equal(pg->buf_ioreq[s].data, 0);
        assert_int_equal(f.fp.port[view.bufioreq_port].notified, 0);
        assert_int_equal(f.fp.crashes, 0);

        /* Repaired by the emulator: buffering resumes. */
        set_pointers(pg, 7, 7);
        post(&f, v, 0xa0000, 4, 0x600d);
        assert_entry(&pg->buf_ioreq[7], IOREQ_TYPE_COPY, 2, 0xa0000, 0x600d);

        hvio_vcpu_put(v);
        fixture_teardown(&f);
    }
}

/* ---- TIMEOFFSET --------------------------------------------------------- */

static void test_timeoffset_buffered_to_every_ring(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t legacy = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY, true);
    ioservid_t off = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_OFF, true);
    ioservid_t atomic = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_ATOMIC, true);
    ioservid_t disabled = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY, false);
    buffered_iopage_t *ring[] = { buf_page_of(&f, legacy), buf_page_of(&f, atomic) };
    ioservid_t ring_id[] = { legacy, atomic };
    buffered_iopage_t *disabled_ring = buf_page_of(&f, disabled);
    shared_iopage_t *off_page = ioreq_page_of(&f, off);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 0);
    const int64_t delta = -2; /* both halves matter */

    /* The ring-less server counts as failed (Xen drops it there). */
    assert_int_equal(hvio_send_timeoffset(v, delta), 1);
    for (unsigned int i = 0; i < 2; i++) {
        struct hvio_server_view view = view_of(&f, ring_id[i]);

        assert_int_equal(ring[i]->write_pointer, 2);
        assert_int_equal(ring[i]->read_pointer, 0);
        assert_entry(&ring[i]->buf_ioreq[0], IOREQ_TYPE_TIMEOFFSET, 3, 0, 0xfffffffe);
        assert_entry(&ring[i]->buf_ioreq[1], IOREQ_TYPE_TIMEOFFSET, 3, 0, 0xffffffff);
        assert_int_equal(f.fp.port[view.bufioreq_port].notified, 1);
        assert_int_equal(f.fp.port[view.vcpu_port[0]].notified, 0);
    }
    /* Disabled: nothing.  Ring-less: nothing synchronous either. */
    assert_int_equal(disabled_ring->write_pointer, 0);
    assert_int_equal(f.fp.port[view_of(&f, disabled).bufioreq_port].notified, 0);
    assert_int_equal(off_page->vcpu_ioreq[0].state, STATE_IOREQ_NONE);
    assert_int_equal(f.fp.port[view_of(&f, off).vcpu_port[0]].notified, 0);
    assert_int_equal(f.fp.blocks, 0);
    assert_int_equal(f.fp.notifications, 2);

    /* A positive offset, again: appended after the first. */
    assert_int_equal(hvio_send_timeoffset(v, 0x123456789all), 1);
    assert_int_equal(ring[0]->write_pointer, 4);
    assert_entry(&ring[0]->buf_ioreq[2], IOREQ_TYPE_TIMEOFFSET, 3, 0, 0x3456789a);
    assert_entry(&ring[0]->buf_ioreq[3], IOREQ_TYPE_TIMEOFFSET, 3, 0, 0x12);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_timeoffset_full_ring_goes_sync(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t full = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY, true);
    ioservid_t roomy = plain_server(&f, HVM_IOREQSRV_BUFIOREQ_ATOMIC, true);
    buffered_iopage_t *full_ring = buf_page_of(&f, full);
    buffered_iopage_t *roomy_ring = buf_page_of(&f, roomy);
    emu_install(&f, &e, false);
    e.page[full] = ioreq_page_of(&f, full);
    e.page[roomy] = ioreq_page_of(&f, roomy);
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    set_pointers(full_ring, 0, SLOTS - 1); /* one slot free, two needed */
    assert_int_equal(hvio_send_timeoffset(v, 0x0000000100000002ll), 0);

    assert_int_equal(e.answered, 1);
    assert_int_equal(e.last_id, full);
    assert_int_equal(e.last_vcpu, 1);
    assert_int_equal(e.last.type, IOREQ_TYPE_TIMEOFFSET);
    assert_int_equal(e.last.size, 8);
    assert_int_equal(e.last.dir, IOREQ_WRITE);
    assert_int_equal(e.last.data, 0x0000000100000002ull);
    assert_int_equal(full_ring->write_pointer, SLOTS - 1);
    assert_int_equal(e.page[full]->vcpu_ioreq[1].state, STATE_IOREQ_NONE);

    assert_int_equal(roomy_ring->write_pointer, 2);
    assert_entry(&roomy_ring->buf_ioreq[0], IOREQ_TYPE_TIMEOFFSET, 3, 0, 2);
    assert_entry(&roomy_ring->buf_ioreq[1], IOREQ_TYPE_TIMEOFFSET, 3, 0, 1);
    assert_int_equal(e.page[roomy]->vcpu_ioreq[1].state, STATE_IOREQ_NONE);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

/* ---- INVALIDATE -------------------------------------------------------- */

struct invalidate_emu {
    shared_iopage_t *page[HVIO_MAX_SERVERS];
    bool expect[HVIO_MAX_SERVERS]; /* enabled: must get the request */
    bool done[HVIO_MAX_SERVERS];
    unsigned int calls;
};

/* Each wake-up: every unanswered server holds the request; answer one. */
static void invalidate_answer_one(struct fake_platform *fp, domid_t domid,
                                  unsigned int vcpu)
{
    struct invalidate_emu *e = fp->hook_data;
    int pick = -1;

    assert_int_equal(domid, GUEST);
    assert_int_equal(vcpu, 1);
    e->calls++;
    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        if (!e->page[id])
            continue;
        ioreq_t *slot = &e->page[id]->vcpu_ioreq[vcpu];
        if (!e->expect[id] || e->done[id]) {
            assert_int_equal(slot->state, STATE_IOREQ_NONE);
            continue;
        }
        assert_int_equal(slot->state, STATE_IOREQ_READY);
        assert_int_equal(slot->type, IOREQ_TYPE_INVALIDATE);
        assert_int_equal(slot->dir, IOREQ_WRITE);
        assert_int_equal(slot->data_is_ptr, 0);
        if (pick < 0)
            pick = (int)id;
    }
    if (pick < 0)
        fail_msg("vCPU blocked although every server answered");
    e->done[pick] = true;
    e->page[pick]->vcpu_ioreq[vcpu].state = STATE_IORESP_READY;
}

static void test_invalidate_waits_for_every_enabled_server(void **state)
{
    struct fixture f;
    struct invalidate_emu e = { 0 };
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    const struct { uint8_t mode; bool enabled; } servers[] = {
        { HVM_IOREQSRV_BUFIOREQ_OFF, true },
        { HVM_IOREQSRV_BUFIOREQ_LEGACY, true },
        { HVM_IOREQSRV_BUFIOREQ_ATOMIC, false },
        { HVM_IOREQSRV_BUFIOREQ_LEGACY, true },
    };
    for (unsigned int i = 0; i < 4; i++) {
        ioservid_t id = plain_server(&f, servers[i].mode, servers[i].enabled);
        assert_int_equal(id, i);
        e.page[id] = ioreq_page_of(&f, id);
        e.expect[id] = servers[i].enabled;
    }
    f.fp.hook_data = &e;
    f.fp.on_block = invalidate_answer_one;
    struct hvio_vcpu *v = vcpu_of(&f, 1);

    assert_int_equal(hvio_send_invalidate(v), 0);
    assert_int_equal(e.calls, 3); /* one wake-up per server answering */
    for (unsigned int id = 0; id < 4; id++) {
        struct hvio_server_view view = view_of(&f, (ioservid_t)id);

        assert_int_equal(e.done[id], servers[id].enabled);
        assert_int_equal(f.fp.port[view.vcpu_port[1]].notified,
                         servers[id].enabled ? 1 : 0);
        assert_int_equal(f.fp.port[view.vcpu_port[0]].notified, 0);
        assert_int_equal(e.page[id]->vcpu_ioreq[1].state, STATE_IOREQ_NONE);
        if (view.bufioreq_port) /* never buffered */
            assert_int_equal(f.fp.port[view.bufioreq_port].notified, 0);
    }
    assert_int_equal(f.fp.crashes, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

static void test_invalidate_without_servers(void **state)
{
    struct fixture f;
    struct emu e;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    plain_server(&f, HVM_IOREQSRV_BUFIOREQ_LEGACY, false);
    emu_install(&f, &e, true);
    struct hvio_vcpu *v = vcpu_of(&f, 0);

    assert_int_equal(hvio_send_invalidate(v), 0);
    assert_int_equal(hvio_send_timeoffset(v, 5), 0);
    assert_int_equal(f.fp.notifications, 0);
    assert_int_equal(f.fp.blocks, 0);

    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vga_writes_are_buffered),
        cmocka_unit_test(test_eight_byte_write_takes_two_slots),
        cmocka_unit_test(test_unbufferable_accesses_go_sync),
        cmocka_unit_test(test_server_without_ring_gets_vga_writes_sync),
        cmocka_unit_test(test_full_ring_falls_back_to_sync),
        cmocka_unit_test(test_ring_with_one_free_slot_refuses_eight_bytes),
        cmocka_unit_test(test_legacy_slot_index_wraps_at_511),
        cmocka_unit_test(test_legacy_pointers_wrap_at_2_32),
        cmocka_unit_test(test_atomic_rebases_pointers),
        cmocka_unit_test(test_corrupted_ring_goes_sync),
        cmocka_unit_test(test_timeoffset_buffered_to_every_ring),
        cmocka_unit_test(test_timeoffset_full_ring_goes_sync),
        cmocka_unit_test(test_invalidate_waits_for_every_enabled_server),
        cmocka_unit_test(test_invalidate_without_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
