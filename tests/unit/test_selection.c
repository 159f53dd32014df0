/*
 * Server selection through the public API only: hvio_emulate() on a guest
 * vCPU, with the fake platform's on_block hook playing every emulator.  The
 * hook finds which server's ioreq page holds the request, records it, and
 * answers reads with a value naming the server.
 *
 * Covered: highest enabled id wins; disable/enable; destroy and id reuse;
 * whole-access containment (straddling accesses are not matched); MMIO rep
 * spans up and down (df); PIO rep; the null handler; the CF8 latch and
 * PCI_CONFIG conversion, per domain; malformed accesses; wrapping spans.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core_fixture.h"

#define GUEST2 2
#define NO_SERVER (-1)
#define ANSWER(id) (0xa0u + (id)) /* what server `id` answers to reads */

/* The emulators: one ioreq page per (guest, server id) we created. */
struct emulators {
    shared_iopage_t *page[GUEST2 + 1][HVIO_MAX_SERVERS];
    unsigned int served;   /* requests answered */
    domid_t last_domid;
    int last_server;
    ioreq_t last;          /* the request as the server saw it */
    uint64_t answer;       /* if non-zero, the answer to reads instead */
};

static struct emulators emu;

static void play_emulators(struct fake_platform *fp, domid_t domid,
                           unsigned int vcpu)
{
    (void)fp;
    assert_true(domid == GUEST || domid == GUEST2);
    int found = NO_SERVER;

    for (unsigned int id = 0; id < HVIO_MAX_SERVERS; id++) {
        shared_iopage_t *page = emu.page[domid][id];

        if (!page || page->vcpu_ioreq[vcpu].state != STATE_IOREQ_READY)
            continue;
        /* A guest access goes to one server, never two. */
        assert_int_equal(found, NO_SERVER);
        found = (int)id;
    }
    assert_int_not_equal(found, NO_SERVER);

    ioreq_t *slot = &emu.page[domid][found]->vcpu_ioreq[vcpu];
    emu.last = *slot;
    emu.last_domid = domid;
    emu.last_server = found;
    emu.served++;
    if (slot->dir == IOREQ_READ && !slot->data_is_ptr)
        slot->data = emu.answer ? emu.answer : ANSWER((unsigned int)found);
    slot->state = STATE_IORESP_READY;
}

static struct fixture *setup_with_guest2(void **state, bool guest2)
{
    static struct fixture f;

    (void)state;
    fixture_setup(&f, GUEST_VCPUS);
    if (guest2) {
        struct hvio_domain_config cfg = {
            .domid = GUEST2, .max_vcpus = 4, .hvm = true, .emulated_pic = true,
            .dm_target = DOMID_INVALID,
        };
        assert_int_equal(hvio_domain_create(f.host, &cfg), 0);
        assert_int_equal(hvio_vcpu_add(f.host, GUEST2, 0), 0);
    }
    memset(&emu, 0, sizeof(emu));
    emu.last_server = NO_SERVER;
    f.fp.on_block = play_emulators;
    return &f;
}

static struct fixture *setup(void **state)
{
    return setup_with_guest2(state, false);
}

/* An enabled server of `dom` without ranges (BUFIOREQ_OFF: all synchronous). */
static ioservid_t new_server(struct fixture *f, domid_t dom)
{
    ioservid_t id;
    void *page = NULL;

    assert_int_equal(dm_create(f, DOM0, dom, HVM_IOREQSRV_BUFIOREQ_OFF, &id), 0);
    assert_int_equal(hvio_acquire_ioreq_frame(f->host, DOM0, dom, id,
                     XENMEM_resource_ioreq_server_frame_ioreq(0), &page), 0);
    assert_null(emu.page[dom][id]);
    emu.page[dom][id] = page;
    assert_int_equal(dm_set_state(f, DOM0, dom, id, true), 0);
    return id;
}

static ioservid_t server_on(struct fixture *f, domid_t dom, uint32_t type,
                            uint64_t start, uint64_t end)
{
    ioservid_t id = new_server(f, dom);

    assert_int_equal(dm_map(f, DOM0, dom, id, type, start, end), 0);
    return id;
}

static void destroy_server(struct fixture *f, domid_t dom, ioservid_t id)
{
    assert_int_equal(dm_destroy(f, DOM0, dom, id), 0);
    emu.page[dom][id] = NULL;
}

/*
 * Emulate `*p` on vCPU 0 of `dom` and return the server that got it, or
 * NO_SERVER after checking that the null handler took it: HVIO_UNHANDLED,
 * no notification, no emulator ran.
 */
static int route_on(struct fixture *f, domid_t dom, ioreq_t *p)
{
    struct hvio_vcpu *v;
    unsigned int served = emu.served, notes = f->fp.notifications;

    assert_int_equal(hvio_vcpu_get(f->host, dom, 0, &v), 0);
    int rc = hvio_emulate(v, p);
    hvio_vcpu_put(v);

    if (rc == HVIO_UNHANDLED) {
        assert_int_equal(emu.served, served);
        assert_int_equal(f->fp.notifications, notes);
        return NO_SERVER;
    }
    assert_int_equal(rc, HVIO_EMULATED);
    assert_int_equal(emu.served, served + 1);
    assert_int_equal(f->fp.notifications, notes + 1);
    assert_int_equal(emu.last_domid, dom);
    return emu.last_server;
}

static ioreq_t access_of(uint8_t type, uint64_t addr, uint32_t size,
                         uint8_t dir)
{
    ioreq_t p = { .type = type, .addr = addr, .size = size, .count = 1,
                  .dir = dir };

    return p;
}

/* Server that gets a single read of `size` bytes at `addr`, or NO_SERVER. */
static int read_on(struct fixture *f, domid_t dom, uint8_t type, uint64_t addr,
                   uint32_t size)
{
    ioreq_t p = access_of(type, addr, size, IOREQ_READ);
    uint64_t ones = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;

    p.data = 0x5a5a5a5a5a5a5a5aull; /* must be overwritten either way */
    int id = route_on(f, dom, &p);
    assert_int_equal(p.data, id == NO_SERVER ? ones : ANSWER((unsigned int)id));
    return id;
}

static int pio_read(struct fixture *f, uint64_t port, uint32_t size)
{
    return read_on(f, GUEST, IOREQ_TYPE_PIO, port, size);
}

static int mmio_read(struct fixture *f, uint64_t addr, uint32_t size)
{
    return read_on(f, GUEST, IOREQ_TYPE_COPY, addr, size);
}

static int pio_write_on(struct fixture *f, domid_t dom, uint64_t port,
                        uint32_t size, uint64_t value)
{
    ioreq_t p = access_of(IOREQ_TYPE_PIO, port, size, IOREQ_WRITE);

    p.data = value;
    int id = route_on(f, dom, &p);
    if (id != NO_SERVER) {
        assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
        assert_int_equal(emu.last.addr, port);
        assert_int_equal(emu.last.data, value);
    }
    return id;
}

/* ---- order, enable, destroy ------------------------------------------ */

static void test_highest_enabled_id_wins(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t a = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x100, 0x1ff);
    ioservid_t b = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x180, 0x1bf);
    ioservid_t c = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x1a0, 0x1a3);
    assert_true(a < b && b < c);

    assert_int_equal(pio_read(f, 0x1a0, 4), c);
    assert_int_equal(pio_read(f, 0x1a2, 2), c);
    assert_int_equal(pio_read(f, 0x1a2, 4), b); /* sticks out of c's range */
    assert_int_equal(pio_read(f, 0x180, 1), b);
    assert_int_equal(pio_read(f, 0x1bc, 4), b);
    assert_int_equal(pio_read(f, 0x1be, 4), a); /* sticks out of b's */
    assert_int_equal(pio_read(f, 0x17f, 1), a);
    assert_int_equal(pio_read(f, 0x1c0, 1), a);
    assert_int_equal(pio_read(f, 0x1fc, 4), a);
    assert_int_equal(pio_read(f, 0x1fe, 4), NO_SERVER);
    assert_int_equal(pio_read(f, 0xff, 1), NO_SERVER);

    /* The same holds for MMIO, with the highest id mapped first. */
    ioservid_t d = new_server(f, GUEST);
    assert_int_equal(dm_map(f, DOM0, GUEST, d, XEN_DMOP_IO_RANGE_MEMORY,
                            0xfe000000, 0xfe000fff), 0);
    assert_int_equal(dm_map(f, DOM0, GUEST, a, XEN_DMOP_IO_RANGE_MEMORY,
                            0xfe000000, 0xfe00ffff), 0);
    assert_int_equal(mmio_read(f, 0xfe000ff8, 8), d);
    assert_int_equal(mmio_read(f, 0xfe001000, 8), a);
    /* Port ranges do not answer MMIO, and MMIO ranges not ports. */
    assert_int_equal(mmio_read(f, 0x1a0, 4), NO_SERVER);
    assert_int_equal(pio_read(f, 0x1000, 1), NO_SERVER);

    fixture_teardown(f);
}

static void test_disabled_server_is_skipped(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t low = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x3f8, 0x3ff);
    ioservid_t high = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x3f8, 0x3ff);
    ioservid_t only = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY,
                                0xc0000000, 0xc0000fff);

    assert_int_equal(pio_read(f, 0x3fd, 1), high);

    assert_int_equal(dm_set_state(f, DOM0, GUEST, high, false), 0);
    assert_int_equal(pio_read(f, 0x3fd, 1), low);

    assert_int_equal(dm_set_state(f, DOM0, GUEST, low, false), 0);
    assert_int_equal(pio_read(f, 0x3fd, 1), NO_SERVER);

    assert_int_equal(dm_set_state(f, DOM0, GUEST, high, true), 0);
    assert_int_equal(pio_read(f, 0x3fd, 1), high);
    assert_int_equal(dm_set_state(f, DOM0, GUEST, low, true), 0);
    assert_int_equal(pio_read(f, 0x3fd, 1), high);

    /* A disabled server with no competitor: the null handler. */
    assert_int_equal(mmio_read(f, 0xc0000010, 4), only);
    assert_int_equal(dm_set_state(f, DOM0, GUEST, only, false), 0);
    assert_int_equal(mmio_read(f, 0xc0000010, 4), NO_SERVER);
    /* Ranges mapped while disabled take effect on enable. */
    assert_int_equal(dm_map(f, DOM0, GUEST, only, XEN_DMOP_IO_RANGE_MEMORY,
                            0xc0001000, 0xc0001fff), 0);
    assert_int_equal(mmio_read(f, 0xc0001000, 4), NO_SERVER);
    assert_int_equal(dm_set_state(f, DOM0, GUEST, only, true), 0);
    assert_int_equal(mmio_read(f, 0xc0001000, 4), only);
    assert_int_equal(mmio_read(f, 0xc0000ffc, 8), only); /* merged ranges */

    fixture_teardown(f);
}

static void test_destroyed_server_ranges_gone(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t low = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x64);
    ioservid_t gone = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x60);
    assert_int_equal(dm_map(f, DOM0, GUEST, gone, XEN_DMOP_IO_RANGE_PORT,
                            0x2f8, 0x2ff), 0);
    assert_int_equal(dm_map(f, DOM0, GUEST, gone, XEN_DMOP_IO_RANGE_MEMORY,
                            0xd0000000, 0xd0000fff), 0);
    ioservid_t above = new_server(f, GUEST);

    assert_int_equal(pio_read(f, 0x60, 1), gone);
    assert_int_equal(pio_read(f, 0x2f8, 1), gone);
    assert_int_equal(mmio_read(f, 0xd0000000, 4), gone);

    destroy_server(f, GUEST, gone);
    assert_int_equal(pio_read(f, 0x60, 1), low);
    assert_int_equal(pio_read(f, 0x2f8, 1), NO_SERVER);
    assert_int_equal(mmio_read(f, 0xd0000000, 4), NO_SERVER);

    /* The id is reused by the next server, which inherits no range. */
    ioservid_t again = new_server(f, GUEST);
    assert_int_equal(again, gone);
    struct hvio_server_view view;
    assert_int_equal(hvio_server_view(f->host, GUEST, again, &view), 0);
    assert_int_equal(view.nr_ranges[XEN_DMOP_IO_RANGE_PORT], 0);
    assert_int_equal(view.nr_ranges[XEN_DMOP_IO_RANGE_MEMORY], 0);
    assert_int_equal(pio_read(f, 0x60, 1), low);
    assert_int_equal(pio_read(f, 0x2f8, 1), NO_SERVER);
    assert_int_equal(mmio_read(f, 0xd0000000, 4), NO_SERVER);

    /* Still none after another server's map re-indexes the types. */
    assert_int_equal(dm_map(f, DOM0, GUEST, above, XEN_DMOP_IO_RANGE_PORT,
                            0x80, 0x80), 0);
    assert_int_equal(dm_map(f, DOM0, GUEST, above, XEN_DMOP_IO_RANGE_MEMORY,
                            0xe0000000, 0xe0000fff), 0);
    assert_int_equal(pio_read(f, 0x2f8, 1), NO_SERVER);
    assert_int_equal(mmio_read(f, 0xd0000000, 4), NO_SERVER);
    assert_int_equal(pio_read(f, 0x80, 1), above);

    /* Its own ranges work as usual. */
    assert_int_equal(dm_map(f, DOM0, GUEST, again, XEN_DMOP_IO_RANGE_PORT,
                            0x2f8, 0x2f8), 0);
    assert_int_equal(pio_read(f, 0x2f8, 1), again);
    assert_int_equal(pio_read(f, 0x2f9, 1), NO_SERVER);

    fixture_teardown(f);
}

static void test_unmapped_range_no_longer_matches(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t low = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x1f0, 0x1f7);
    ioservid_t high = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x1f0, 0x1f7);

    assert_int_equal(pio_read(f, 0x1f4, 2), high);
    /* Split the high server's range: the hole falls through to `low`. */
    assert_int_equal(dm_unmap(f, DOM0, GUEST, high, XEN_DMOP_IO_RANGE_PORT,
                              0x1f4, 0x1f5), 0);
    assert_int_equal(pio_read(f, 0x1f4, 2), low);
    assert_int_equal(pio_read(f, 0x1f3, 1), high);
    assert_int_equal(pio_read(f, 0x1f6, 2), high);
    assert_int_equal(pio_read(f, 0x1f2, 4), low); /* spans the hole */

    fixture_teardown(f);
}

/*
 * A map or unmap whose re-indexing runs out of memory either fails with
 * -ENOMEM and changes nothing that selection sees, or succeeds completely.
 * Every allocation of the operation is failed in turn.
 */
static void test_map_failure_keeps_selection(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t a = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY, 0xa0000000, 0xa0000fff);
    ioservid_t b = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY, 0xb0000000, 0xb0000fff);

    unsigned long nth;
    for (nth = 1; nth < 32; nth++) {
        long live = f->fp.live[FAKE_MEM];

        f->fp.fail_at = f->fp.acquired + nth;
        int rc = dm_map(f, DOM0, GUEST, a, XEN_DMOP_IO_RANGE_MEMORY,
                        0xc0000000, 0xc0000fff);
        f->fp.fail_at = 0;

        /* Both servers' existing ranges still select, whatever happened. */
        assert_int_equal(mmio_read(f, 0xa0000000, 4), a);
        assert_int_equal(mmio_read(f, 0xb0000ffc, 4), b);
        if (rc == 0) {
            assert_int_equal(mmio_read(f, 0xc0000800, 4), a);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(f->fp.live[FAKE_MEM], live);
        assert_int_equal(mmio_read(f, 0xc0000800, 4), NO_SERVER);
    }
    assert_true(nth > 1); /* re-indexing allocates: the first failure must show */

    for (nth = 1; nth < 32; nth++) {
        long live = f->fp.live[FAKE_MEM];

        f->fp.fail_at = f->fp.acquired + nth;
        int rc = dm_unmap(f, DOM0, GUEST, b, XEN_DMOP_IO_RANGE_MEMORY,
                          0xb0000400, 0xb00007ff);
        f->fp.fail_at = 0;

        assert_int_equal(mmio_read(f, 0xa0000000, 4), a);
        assert_int_equal(mmio_read(f, 0xb0000000, 4), b);
        assert_int_equal(mmio_read(f, 0xb0000ffc, 4), b);
        if (rc == 0) {
            assert_int_equal(mmio_read(f, 0xb0000400, 4), NO_SERVER);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(f->fp.live[FAKE_MEM], live);
        assert_int_equal(mmio_read(f, 0xb0000400, 4), b);
    }
    assert_true(nth > 1);

    fixture_teardown(f);
}

/* ---- containment -------------------------------------------------------- */

static void test_straddling_access_not_matched(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t s = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x3f8, 0x3ff);

    assert_int_equal(pio_read(f, 0x3ff, 1), s);
    assert_int_equal(pio_read(f, 0x3fe, 2), s);
    assert_int_equal(pio_read(f, 0x3fc, 4), s);
    assert_int_equal(pio_read(f, 0x3ff, 4), NO_SERVER); /* 0xffffffff */
    assert_int_equal(pio_read(f, 0x3ff, 2), NO_SERVER);
    assert_int_equal(pio_read(f, 0x3f7, 2), NO_SERVER);
    assert_int_equal(pio_read(f, 0x3f6, 4), NO_SERVER);

    /* Two servers' ranges side by side: an access across both is neither's. */
    ioservid_t lo = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY,
                              0xf0000000, 0xf0000fff);
    ioservid_t hi = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY,
                              0xf0001000, 0xf0001fff);
    assert_int_equal(mmio_read(f, 0xf0000ff8, 8), lo);
    assert_int_equal(mmio_read(f, 0xf0001000, 8), hi);
    assert_int_equal(mmio_read(f, 0xf0000ffc, 8), NO_SERVER);
    assert_int_equal(mmio_read(f, 0xf0000fff, 2), NO_SERVER);

    /* Touching ranges of one server are one range (merged, as Xen). */
    assert_int_equal(dm_map(f, DOM0, GUEST, lo, XEN_DMOP_IO_RANGE_MEMORY,
                            0xefff0000, 0xefffffff), 0);
    assert_int_equal(mmio_read(f, 0xeffffffc, 8), lo);

    /* The same for separate maps that touch at a port boundary. */
    assert_int_equal(dm_map(f, DOM0, GUEST, s, XEN_DMOP_IO_RANGE_PORT,
                            0x400, 0x403), 0);
    assert_int_equal(pio_read(f, 0x3fe, 4), s);
    assert_int_equal(pio_read(f, 0x402, 4), NO_SERVER);

    fixture_teardown(f);
}

/* ---- rep accesses -------------------------------------------------------- */

#define RAM_GPA 0x100000 /* where a rep's data would live (data_is_ptr) */

static int mmio_rep(struct fixture *f, uint64_t addr, uint32_t size,
                    uint32_t count, bool df, uint8_t dir)
{
    ioreq_t p = access_of(IOREQ_TYPE_COPY, addr, size, dir);

    p.count = count;
    p.df = df;
    p.data_is_ptr = 1;
    p.data = RAM_GPA;
    int id = route_on(f, GUEST, &p);
    /* The caller fills guest memory for unhandled reads: data untouched. */
    assert_int_equal(p.data, RAM_GPA);
    if (id != NO_SERVER) {
        assert_int_equal(emu.last.type, IOREQ_TYPE_COPY);
        assert_int_equal(emu.last.addr, addr);
        assert_int_equal(emu.last.count, count);
        assert_int_equal(emu.last.size, size);
        assert_int_equal(emu.last.df, df);
        assert_int_equal(emu.last.data_is_ptr, 1);
        assert_int_equal(emu.last.data, RAM_GPA);
    }
    return id;
}

static void test_mmio_rep_spans(void **state)
{
    struct fixture *f = setup(state);

    const uint64_t base = 0xfed00000, end = 0xfed00fff; /* 4 KiB */
    ioservid_t big = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY,
                               base - 0x10000, end + 0x10000);
    ioservid_t s = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY, base, end);

    /* Upwards: [addr, addr + size*count - 1]. */
    assert_int_equal(mmio_rep(f, base, 4, 0x400, false, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, base, 4, 0x401, false, IOREQ_READ), big);
    assert_int_equal(mmio_rep(f, base + 8, 8, 0x1ff, false, IOREQ_WRITE), s);
    assert_int_equal(mmio_rep(f, base + 8, 8, 0x200, false, IOREQ_WRITE), big);
    assert_int_equal(mmio_rep(f, end - 1, 1, 2, false, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, end - 1, 1, 3, false, IOREQ_READ), big);

    /* Downwards (df): addr is the highest element. */
    assert_int_equal(mmio_rep(f, end - 3, 4, 0x400, true, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, end - 3, 4, 0x401, true, IOREQ_READ), big);
    assert_int_equal(mmio_rep(f, base, 4, 1, true, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, base, 4, 2, true, IOREQ_READ), big);
    assert_int_equal(mmio_rep(f, base + 4, 4, 2, true, IOREQ_WRITE), s);
    /* A count that only fits downwards, and one that only fits upwards. */
    assert_int_equal(mmio_rep(f, end - 7, 8, 0x10, true, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, end - 7, 8, 0x10, false, IOREQ_READ), big);
    assert_int_equal(mmio_rep(f, base, 8, 0x10, false, IOREQ_READ), s);
    assert_int_equal(mmio_rep(f, base, 8, 0x10, true, IOREQ_READ), big);

    /* Without the big server, a rep crossing the end is unmatched. */
    destroy_server(f, GUEST, big);
    assert_int_equal(mmio_rep(f, base, 4, 0x401, false, IOREQ_READ), NO_SERVER);
    assert_int_equal(mmio_rep(f, base, 4, 2, true, IOREQ_READ), NO_SERVER);
    assert_int_equal(mmio_rep(f, end, 1, 2, false, IOREQ_WRITE), NO_SERVER);
    assert_int_equal(mmio_rep(f, base, 1, 2, true, IOREQ_WRITE), NO_SERVER);
    assert_int_equal(mmio_rep(f, base, 1, 0x1000, false, IOREQ_WRITE), s);

    fixture_teardown(f);
}

static void test_pio_rep_matches_one_element(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t s = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x1f0, 0x1f7);
    struct { uint64_t port; uint32_t size, count; int want; } cases[] = {
        { 0x1f0, 2, 256, s },       /* ATA data port: 512 bytes, one port */
        { 0x1f7, 1, 100, s },
        { 0x1f4, 4, 0x10000, s },
        { 0x1f6, 4, 2, NO_SERVER }, /* the element itself straddles the end */
        { 0x1ef, 2, 2, NO_SERVER },
        { 0x1f8, 1, 8, NO_SERVER },
    };

    for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (unsigned int k = 0; k < 4; k++) {
            ioreq_t p = access_of(IOREQ_TYPE_PIO, cases[i].port, cases[i].size,
                                  k & 1 ? IOREQ_READ : IOREQ_WRITE);

            p.df = k >> 1; /* the direction flag changes nothing for ports */
            p.count = cases[i].count;
            p.data_is_ptr = 1;
            p.data = RAM_GPA;
            assert_int_equal(route_on(f, GUEST, &p), cases[i].want);
            if (cases[i].want != NO_SERVER) {
                assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
                assert_int_equal(emu.last.addr, cases[i].port);
                assert_int_equal(emu.last.count, cases[i].count);
            }
        }
    }

    fixture_teardown(f);
}

/* ---- the null handler ---------------------------------------------------- */

static void test_null_handler(void **state)
{
    struct fixture *f = setup(state);

    /* A server exists, but owns other addresses. */
    ioservid_t s = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0x70, 0x71);
    const uint32_t sizes[] = { 1, 2, 4, 8 };
    const uint64_t ones[] = { 0xff, 0xffff, 0xffffffff, 0xffffffffffffffffull };

    for (unsigned int i = 0; i < 4; i++) {
        ioreq_t p = access_of(IOREQ_TYPE_PIO, 0x80, sizes[i], IOREQ_READ);
        p.data = 0x1234;
        assert_int_equal(route_on(f, GUEST, &p), NO_SERVER);
        assert_int_equal(p.data, ones[i]);

        p = access_of(IOREQ_TYPE_COPY, 0xfee00000, sizes[i], IOREQ_READ);
        p.data = 0;
        assert_int_equal(route_on(f, GUEST, &p), NO_SERVER);
        assert_int_equal(p.data, ones[i]);

        /* Writes are dropped: unhandled, nobody notified, data untouched. */
        p = access_of(IOREQ_TYPE_COPY, 0xfee00000, sizes[i], IOREQ_WRITE);
        p.data = 0x42;
        assert_int_equal(route_on(f, GUEST, &p), NO_SERVER);
        assert_int_equal(p.data, 0x42);
        p = access_of(IOREQ_TYPE_PIO, 0x80, sizes[i], IOREQ_WRITE);
        p.data = 0x42;
        assert_int_equal(route_on(f, GUEST, &p), NO_SERVER);
    }
    assert_int_equal(emu.served, 0);
    assert_int_equal(f->fp.blocks, 0);

    /* A served read is masked to its size too, whatever the server wrote. */
    ioservid_t m = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY,
                             0xfed40000, 0xfed40fff);
    emu.answer = 0xdeadbeefcafef00dull;
    for (unsigned int i = 0; i < 4; i++) {
        ioreq_t p = access_of(IOREQ_TYPE_COPY, 0xfed40000, sizes[i], IOREQ_READ);
        assert_int_equal(route_on(f, GUEST, &p), m);
        assert_int_equal(p.data, emu.answer & ones[i]);
    }
    ioreq_t p = access_of(IOREQ_TYPE_PIO, 0x70, 2, IOREQ_READ);
    assert_int_equal(route_on(f, GUEST, &p), s);
    assert_int_equal(p.data, 0xf00d);

    fixture_teardown(f);
}

/* ---- CF8 / CFC --------------------------------------------------------- */

#define CF8(bus, dev, fn, reg) \
    (0x80000000u | (bus) << 16 | (dev) << 11 | (fn) << 8 | ((reg) & 0xfc))

static uint64_t pci_addr(uint32_t sbdf, uint32_t reg)
{
    return (uint64_t)sbdf << 32 | reg;
}

/* A config access through 0xcfc + off: the server and what it saw. */
static int cfc_access(struct fixture *f, domid_t dom, unsigned int off,
                      uint32_t size, uint8_t dir, uint64_t value)
{
    ioreq_t p = access_of(IOREQ_TYPE_PIO, 0xcfc + off, size, dir);

    p.data = value;
    int id = route_on(f, dom, &p);
    if (dir == IOREQ_READ) {
        uint64_t ones = (1ull << (8 * size)) - 1; /* size is 1, 2 or 4 */
        assert_int_equal(p.data, id == NO_SERVER ? ones : ANSWER((unsigned int)id));
    }
    if (id != NO_SERVER)
        assert_int_equal(emu.last.size, size);
    return id;
}

static void test_cf8_latch_and_pci_config(void **state)
{
    struct fixture *f = setup(state);

    /* A "host bridge" owning the config ports, and a PCI device 0:05.0. */
    ioservid_t bridge = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0xcf8, 0xcff);
    const uint32_t sbdf = XEN_DMOP_PCI_SBDF(0, 0, 5, 0);
    ioservid_t dev = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);
    /* Another device on bus 3, function 2, below the first by id. */
    const uint32_t sbdf2 = XEN_DMOP_PCI_SBDF(0, 3, 0x1f, 2);
    assert_int_equal(dm_map(f, DOM0, GUEST, bridge, XEN_DMOP_IO_RANGE_PCI,
                            sbdf2, sbdf2), 0);

    /* Before any latch: plain PIO to the bridge. */
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), bridge);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);

    /* The 4-byte CF8 write latches and still reaches the bridge. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 5, 0, 0x10)), bridge);

    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x10));
    assert_int_equal(emu.last.dir, IOREQ_READ);

    /* Byte and word offsets within the dword: port & 3 in the register. */
    assert_int_equal(cfc_access(f, GUEST, 2, 1, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x12));
    assert_int_equal(cfc_access(f, GUEST, 3, 1, IOREQ_WRITE, 0x5a), dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x13));
    assert_int_equal(emu.last.data, 0x5a);
    assert_int_equal(emu.last.dir, IOREQ_WRITE);
    assert_int_equal(cfc_access(f, GUEST, 2, 2, IOREQ_WRITE, 0xbeef), dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x12));

    /* Low two bits of CF8 are not part of the register. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 5, 0, 0x3c) | 3), bridge);
    assert_int_equal(cfc_access(f, GUEST, 1, 1, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x3d));

    /* Bus, device and function all select: the other SBDF goes to the bridge. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(3, 0x1f, 2, 0x04)), bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 2, IOREQ_READ, 0), bridge);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);
    assert_int_equal(emu.last.addr, pci_addr(sbdf2, 0x04));

    /* Unclaimed SBDFs read all ones; the port range over 0xcfc is NOT used. */
    const uint32_t unclaimed[] = { CF8(0, 6, 0, 0), CF8(0, 5, 1, 0), CF8(1, 5, 0, 0),
                                   CF8(3, 0x1f, 3, 0) };
    for (unsigned int i = 0; i < 4; i++) {
        assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, unclaimed[i]), bridge);
        assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), NO_SERVER);
        assert_int_equal(cfc_access(f, GUEST, 3, 1, IOREQ_READ, 0), NO_SERVER);
        assert_int_equal(cfc_access(f, GUEST, 2, 2, IOREQ_READ, 0), NO_SERVER);
        assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_WRITE, 1), NO_SERVER);
    }

    /* Reads of CF8 itself go to the bridge and do not touch the latch. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 5, 0, 0x20)), bridge);
    assert_int_equal(read_on(f, GUEST, IOREQ_TYPE_PIO, 0xcf8, 4), bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x20));

    /* Enable bit clear: 0xcfc is plain PIO again, matched by port ranges. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 5, 0, 0x10) & ~0x80000000u),
                     bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), bridge);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(emu.last.addr, 0xcfc);
    assert_int_equal(cfc_access(f, GUEST, 1, 1, IOREQ_WRITE, 7), bridge);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(emu.last.addr, 0xcfd);

    fixture_teardown(f);
}

static void test_cf8_disabled_cfc_is_plain_pio(void **state)
{
    struct fixture *f = setup(state);

    /* Only 0xcfc..0xcff are claimed as ports; a device at SBDF 0 too. */
    ioservid_t dev = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PCI, 0, 0);
    ioservid_t ports = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0xcfc, 0xcff);

    /* CF8 never written (latch 0): PIO. */
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), ports);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);

    /* The CF8 write itself has no server: dropped, but latched. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 0, 0, 0)), NO_SERVER);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);
    assert_int_equal(emu.last.addr, pci_addr(0, 0));

    /* Disabled (bit 31 clear), same SBDF/register: PIO to the port server. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, 0x7ffffffc), NO_SERVER);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), ports);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(emu.last.addr, 0xcfc);
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, 0), NO_SERVER);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_WRITE, 9), ports);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(emu.last.data, 9);

    fixture_teardown(f);
}

static void test_narrow_cf8_write_does_not_latch(void **state)
{
    struct fixture *f = setup(state);

    ioservid_t bridge = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0xcf8, 0xcff);
    const uint32_t sbdf = XEN_DMOP_PCI_SBDF(0, 0, 2, 0);
    ioservid_t dev = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);

    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 2, 0, 0x08)), bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), dev);

    /* Narrow writes that would disable or retarget CF8 if latched. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 1, 0), bridge);
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 2, 0x0000), bridge);
    assert_int_equal(pio_write_on(f, GUEST, 0xcfb, 1, 0x00), bridge);
    assert_int_equal(pio_write_on(f, GUEST, 0xcfa, 2, 0x0000), bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), dev);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x08));

    /* And the other way: narrow writes cannot enable it either. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, 0), bridge);
    assert_int_equal(pio_write_on(f, GUEST, 0xcfa, 2, 0x8000), bridge);
    assert_int_equal(pio_write_on(f, GUEST, 0xcf9, 1, 0x10), bridge);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), bridge);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);

    fixture_teardown(f);
}

static void test_cf8_latch_is_per_domain(void **state)
{
    struct fixture *f = setup_with_guest2(state, true);

    const uint32_t sbdf = XEN_DMOP_PCI_SBDF(0, 0, 4, 0);
    ioservid_t g1_ports = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0xcf8, 0xcff);
    ioservid_t g1_dev = server_on(f, GUEST, XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);
    ioservid_t g2_dev = server_on(f, GUEST2, XEN_DMOP_IO_RANGE_PCI, sbdf, sbdf);
    ioservid_t g2_ports = server_on(f, GUEST2, XEN_DMOP_IO_RANGE_PORT, 0xcf8, 0xcff);

    /* Guest 1 latches; guest 2's 0xcfc is still plain PIO. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, CF8(0, 4, 0, 0)), g1_ports);
    assert_int_equal(cfc_access(f, GUEST2, 0, 4, IOREQ_READ, 0), g2_ports);
    assert_int_equal(emu.last_domid, GUEST2);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), g1_dev);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PCI_CONFIG);

    /* Guest 2 latches a different register; guest 1's latch is unchanged. */
    assert_int_equal(pio_write_on(f, GUEST2, 0xcf8, 4, CF8(0, 4, 0, 0x40)), g2_ports);
    assert_int_equal(cfc_access(f, GUEST2, 0, 4, IOREQ_READ, 0), g2_dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x40));
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), g1_dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x00));

    /* Guest 1 disables; guest 2 stays enabled. */
    assert_int_equal(pio_write_on(f, GUEST, 0xcf8, 4, 0), g1_ports);
    assert_int_equal(cfc_access(f, GUEST, 0, 4, IOREQ_READ, 0), g1_ports);
    assert_int_equal(emu.last.type, IOREQ_TYPE_PIO);
    assert_int_equal(cfc_access(f, GUEST2, 0, 4, IOREQ_READ, 0), g2_dev);
    assert_int_equal(emu.last.addr, pci_addr(sbdf, 0x40));

    fixture_teardown(f);
}

/* ---- malformed and wrapping accesses -------------------------------------- */

static void test_invalid_accesses(void **state)
{
    struct fixture *f = setup(state);

    server_on(f, GUEST, XEN_DMOP_IO_RANGE_PORT, 0, 0xffff);
    server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY, 0, UINT64_MAX);
    struct hvio_vcpu *v;
    assert_int_equal(hvio_vcpu_get(f->host, GUEST, 0, &v), 0);

    const ioreq_t bad[] = {
        { .type = IOREQ_TYPE_PIO, .addr = 0x60, .size = 3, .count = 1 },
        { .type = IOREQ_TYPE_COPY, .addr = 0x1000, .size = 3, .count = 1 },
        { .type = IOREQ_TYPE_PIO, .addr = 0x60, .size = 0, .count = 1 },
        { .type = IOREQ_TYPE_COPY, .addr = 0x1000, .size = 16, .count = 1 },
        { .type = IOREQ_TYPE_PIO, .addr = 0x60, .size = 1, .count = 0 },
        { .type = IOREQ_TYPE_COPY, .addr = 0x1000, .size = 4, .count = 0,
          .dir = IOREQ_READ },
        { .type = 5, .addr = 0x60, .size = 1, .count = 1 },
        { .type = IOREQ_TYPE_PCI_CONFIG, .addr = 0, .size = 4, .count = 1 },
        { .type = IOREQ_TYPE_PIO, .addr = 0x10000, .size = 1, .count = 1 },
        { .type = IOREQ_TYPE_PIO, .addr = UINT64_MAX, .size = 1, .count = 1,
          .dir = IOREQ_READ },
    };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ioreq_t p = bad[i];
        p.data = 0x77;
        assert_int_equal(hvio_emulate(v, &p), -EINVAL);
        assert_int_equal(p.data, 0x77);
    }
    assert_int_equal(f->fp.notifications, 0);
    assert_int_equal(emu.served, 0);

    /* The same accesses made valid are served: the -EINVAL was the shape. */
    ioreq_t ok = { .type = IOREQ_TYPE_PIO, .addr = 0xffff, .size = 1, .count = 1,
                   .dir = IOREQ_READ };
    assert_int_equal(hvio_emulate(v, &ok), HVIO_EMULATED);
    assert_int_equal(emu.served, 1);
    hvio_vcpu_put(v);

    fixture_teardown(f);
}

static void test_wrapping_mmio_is_unhandled(void **state)
{
    struct fixture *f = setup(state);

    /* One server owns the whole physical space. */
    ioservid_t all = server_on(f, GUEST, XEN_DMOP_IO_RANGE_MEMORY, 0, UINT64_MAX);

    /* Ending exactly at the top, or starting exactly at 0, is fine. */
    assert_int_equal(mmio_read(f, UINT64_MAX - 3, 4), all);
    assert_int_equal(mmio_read(f, UINT64_MAX, 1), all);
    assert_int_equal(mmio_rep(f, UINT64_MAX - 7, 4, 2, false, IOREQ_READ), all);
    assert_int_equal(mmio_rep(f, 4, 4, 2, true, IOREQ_READ), all);

    /* Past 2^64 upwards, or below 0 downwards: no server, no crash. */
    assert_int_equal(mmio_read(f, UINT64_MAX, 2), NO_SERVER);
    assert_int_equal(mmio_read(f, UINT64_MAX - 2, 4), NO_SERVER);
    assert_int_equal(mmio_read(f, UINT64_MAX - 6, 8), NO_SERVER);
    assert_int_equal(mmio_rep(f, UINT64_MAX - 7, 4, 3, false, IOREQ_READ), NO_SERVER);
    assert_int_equal(mmio_rep(f, UINT64_MAX - 0xfff, 8, 0xffffffff, false,
                              IOREQ_WRITE), NO_SERVER);
    assert_int_equal(mmio_rep(f, 4, 4, 3, true, IOREQ_READ), NO_SERVER);
    assert_int_equal(mmio_rep(f, 0, 1, 2, true, IOREQ_WRITE), NO_SERVER);
    assert_int_equal(mmio_rep(f, 0x1000, 8, 0xffffffff, true, IOREQ_READ), NO_SERVER);
    /* df with the highest element itself crossing the top. */
    assert_int_equal(mmio_rep(f, UINT64_MAX - 1, 4, 2, true, IOREQ_READ), NO_SERVER);
    assert_int_equal(f->fp.crashes, 0);

    fixture_teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_highest_enabled_id_wins),
        cmocka_unit_test(test_disabled_server_is_skipped),
        cmocka_unit_test(test_destroyed_server_ranges_gone),
        cmocka_unit_test(test_unmapped_range_no_longer_matches),
        cmocka_unit_test(test_map_failure_keeps_selection),
        cmocka_unit_test(test_straddling_access_not_matched),
        cmocka_unit_test(test_mmio_rep_spans),
        cmocka_unit_test(test_pio_rep_matches_one_element),
        cmocka_unit_test(test_null_handler),
        cmocka_unit_test(test_cf8_latch_and_pci_config),
        cmocka_unit_test(test_cf8_disabled_cfc_is_plain_pio),
        cmocka_unit_test(test_narrow_cf8_write_does_not_latch),
        cmocka_unit_test(test_cf8_latch_is_per_domain),
        cmocka_unit_test(test_invalid_accesses),
        cmocka_unit_test(test_wrapping_mmio_is_unhandled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
