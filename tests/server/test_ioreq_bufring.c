/*
 * libioreq's buffered ring decoder (server/libioreq/src/bufring.c): entries
 * of each size, two-slot 8-byte entries (also across the end of the ring),
 * legacy pointers wrapping at 2^32, an atomic server rebasing its pointers
 * during a drain and concurrently, and garbage.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bufring.h"

#define SLOTS IOREQ_BUFFER_SLOT_NUM
#define MAX_SEEN 100000

struct recorder {
    ioreq_t seen[64];
    unsigned int n, complaints;
    buffered_iopage_t *pg;
    int rebase_at; /* rebase the pointers while handling entry #rebase_at (-1: never) */
};

static void record(void *opaque, const ioreq_t *req)
{
    struct recorder *r = opaque;

    if (r->n < 64)
        r->seen[r->n] = *req;
    if ((int)r->n == r->rebase_at) {
        uint64_t *both = bufring_pointers(r->pg), old = __atomic_load_n(both, __ATOMIC_ACQUIRE);
        uint32_t rp = (uint32_t)old, wp = (uint32_t)(old >> 32);
        assert_true(rp >= SLOTS);
        uint64_t new = (uint64_t)(wp - SLOTS) << 32 | (rp - SLOTS);
        assert_true(__atomic_compare_exchange_n(both, &old, new, false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE));
    }
    r->n++;
}

static void complain(void *opaque, const char *what)
{
    struct recorder *r = opaque;

    (void)what;
    r->complaints++;
}

static buffered_iopage_t *new_page(uint32_t rp, uint32_t wp)
{
    buffered_iopage_t *pg = calloc(1, 4096);

    assert_non_null(pg);
    pg->read_pointer = rp;
    pg->write_pointer = wp;
    return pg;
}

/* Producer side, as Xen does it: one or two slots, then publish. */
static void post(buffered_iopage_t *pg, uint8_t type, unsigned int size, uint32_t addr,
                 uint64_t data)
{
    unsigned int code = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    uint32_t wp = pg->write_pointer;
    buf_ioreq_t b = { .type = type, .dir = IOREQ_WRITE, .size = code & 3, .addr = addr & 0xfffff,
                      .data = (uint32_t)data };

    pg->buf_ioreq[wp % SLOTS] = b;
    if (size == 8) {
        b.data = (uint32_t)(data >> 32);
        pg->buf_ioreq[(wp + 1) % SLOTS] = b;
    }
    __atomic_store_n(&pg->write_pointer, wp + (size == 8 ? 2 : 1), __ATOMIC_RELEASE);
}

static void raw(buffered_iopage_t *pg, uint8_t type, unsigned int dir, unsigned int code,
                uint32_t addr, uint32_t data)
{
    uint32_t wp = pg->write_pointer;

    pg->buf_ioreq[wp % SLOTS] = (buf_ioreq_t){ .type = type, .dir = dir & 1, .size = code & 3,
                                               .addr = addr & 0xfffff, .data = data };
    pg->write_pointer = wp + 1;
}

static void test_sizes(void **state)
{
    buffered_iopage_t *pg = new_page(0, 0);
    struct recorder r = { .pg = pg, .rebase_at = -1 };

    (void)state;
    post(pg, IOREQ_TYPE_COPY, 1, 0xa0000, 0x11);
    post(pg, IOREQ_TYPE_PIO, 2, 0x3f8, 0x2222);
    post(pg, IOREQ_TYPE_COPY, 4, 0xbfffc, 0x44444444);
    post(pg, IOREQ_TYPE_COPY, 8, 0xa0008, 0x8877665544332211ull);
    struct bufring_result res = bufring_drain(pg, record, complain, &r);
    assert_int_equal(res.served, 4);
    assert_int_equal(res.skipped, 0);
    assert_false(res.reset);
    assert_int_equal(r.n, 4);
    assert_int_equal(pg->read_pointer, 5);
    assert_int_equal(r.seen[0].type, IOREQ_TYPE_COPY);
    assert_int_equal(r.seen[0].size, 1);
    assert_int_equal(r.seen[0].addr, 0xa0000);
    assert_int_equal(r.seen[0].data, 0x11);
    assert_int_equal(r.seen[0].count, 1);
    assert_int_equal(r.seen[0].dir, IOREQ_WRITE);
    assert_int_equal(r.seen[1].type, IOREQ_TYPE_PIO);
    assert_int_equal(r.seen[1].size, 2);
    assert_int_equal(r.seen[1].data, 0x2222);
    assert_int_equal(r.seen[2].size, 4);
    assert_int_equal(r.seen[2].addr, 0xbfffc);
    assert_int_equal(r.seen[3].size, 8);
    assert_int_equal(r.seen[3].data, 0x8877665544332211ull);
    /* empty now */
    res = bufring_drain(pg, record, complain, &r);
    assert_int_equal(res.served, 0);
    assert_int_equal(r.complaints, 0);
    free(pg);
}

static void test_two_slots_across_the_end(void **state)
{
    buffered_iopage_t *pg = new_page(SLOTS - 1, SLOTS - 1);
    struct recorder r = { .pg = pg, .rebase_at = -1 };

    (void)state;
    post(pg, IOREQ_TYPE_COPY, 8, 0xa0000, 0xdeadbeefcafef00dull); /* slots 510 and 0 */
    post(pg, IOREQ_TYPE_COPY, 4, 0xa0008, 0x12345678);             /* slot 1 */
    assert_int_equal(bufring_drain(pg, record, complain, &r).served, 2);
    assert_int_equal(r.seen[0].data, 0xdeadbeefcafef00dull);
    assert_int_equal(r.seen[1].data, 0x12345678);
    assert_int_equal(pg->read_pointer, SLOTS + 2);
    free(pg);
}

static void test_legacy_wrap(void **state)
{
    buffered_iopage_t *pg = new_page(0xfffffffe, 0xfffffffe);
    struct recorder r = { .pg = pg, .rebase_at = -1 };

    (void)state;
    for (unsigned int i = 0; i < 3; i++)
        post(pg, IOREQ_TYPE_COPY, 8, 0xa0000 + 8 * i, 0x100000000ull * i + i);
    assert_int_equal(pg->write_pointer, 4);
    assert_int_equal(bufring_drain(pg, record, complain, &r).served, 3);
    for (unsigned int i = 0; i < 3; i++)
        assert_int_equal(r.seen[i].data, 0x100000000ull * i + i);
    assert_int_equal(pg->read_pointer, 4);
    free(pg);
}

static void test_rebase_during_drain(void **state)
{
    buffered_iopage_t *pg = new_page(SLOTS - 1, SLOTS - 1);
    struct recorder r = { .pg = pg, .rebase_at = 1 };

    (void)state;
    for (unsigned int i = 0; i < 6; i++)
        post(pg, IOREQ_TYPE_COPY, i % 2 ? 8 : 4, 0xa0000 + 8 * i, 0xabc00000000ull * (i % 2) + i);
    assert_int_equal(bufring_drain(pg, record, complain, &r).served, 6);
    for (unsigned int i = 0; i < 6; i++)
        assert_int_equal(r.seen[i].data, 0xabc00000000ull * (i % 2) + i);
    /* 9 slots from 510: read_pointer 519, rebased by 511 during the drain */
    assert_int_equal(pg->read_pointer, 8);
    assert_int_equal(pg->write_pointer, 8);
    free(pg);
}

static void test_garbage_entries(void **state)
{
    buffered_iopage_t *pg = new_page(7, 7);
    struct recorder r = { .pg = pg, .rebase_at = -1 };

    (void)state;
    raw(pg, 0x55, IOREQ_WRITE, 0, 0x100, 1);               /* unknown type */
    raw(pg, IOREQ_TYPE_PIO, IOREQ_READ, 0, 0x100, 2);      /* a posted read */
    raw(pg, IOREQ_TYPE_PCI_CONFIG, IOREQ_WRITE, 2, 0, 3);  /* config space is never posted */
    raw(pg, IOREQ_TYPE_TIMEOFFSET, IOREQ_WRITE, 2, 0, 4);  /* a 4-byte time offset */
    post(pg, IOREQ_TYPE_TIMEOFFSET, 8, 0, (uint64_t)-5);   /* fine */
    post(pg, IOREQ_TYPE_PIO, 1, 0x100, 0x77);              /* fine */
    struct bufring_result res = bufring_drain(pg, record, complain, &r);
    assert_int_equal(res.served, 2);
    assert_int_equal(res.skipped, 4);
    assert_int_equal(r.complaints, 4);
    assert_int_equal(r.seen[0].type, IOREQ_TYPE_TIMEOFFSET);
    assert_int_equal((int64_t)r.seen[0].data, -5);
    assert_int_equal(r.seen[1].data, 0x77);
    assert_int_equal(pg->read_pointer, pg->write_pointer);

    /* an 8-byte entry whose second slot was never published */
    raw(pg, IOREQ_TYPE_COPY, IOREQ_WRITE, 3, 0xa0000, 1);
    res = bufring_drain(pg, record, complain, &r);
    assert_int_equal(res.served, 0);
    assert_int_equal(res.skipped, 1);
    assert_int_equal(pg->read_pointer, pg->write_pointer);
    free(pg);
}

static void test_garbage_pointers(void **state)
{
    buffered_iopage_t *pg = new_page(5, 2000);
    struct recorder r = { .pg = pg, .rebase_at = -1 };

    (void)state;
    struct bufring_result res = bufring_drain(pg, record, complain, &r);
    assert_true(res.reset);
    assert_int_equal(res.served, 0);
    assert_int_equal(pg->read_pointer, 2000);
    assert_int_equal(pg->write_pointer, 2000);
    /* read_pointer ahead of write_pointer */
    pg->read_pointer = 10;
    pg->write_pointer = 9;
    res = bufring_drain(pg, record, complain, &r);
    assert_true(res.reset);
    assert_int_equal(pg->read_pointer, 9);
    assert_int_equal(r.complaints, 2);
    /* and the ring works afterwards */
    post(pg, IOREQ_TYPE_PIO, 1, 0x80, 0x42);
    assert_int_equal(bufring_drain(pg, record, complain, &r).served, 1);
    assert_int_equal(r.seen[0].data, 0x42);
    free(pg);
}

/* ---- a producer thread with an atomic server's rebase ---- */

#define STREAM 200000u

struct stream {
    buffered_iopage_t *pg;
    uint32_t next_expected;
    bool failed;
};

static void *producer(void *arg)
{
    struct stream *s = arg;
    buffered_iopage_t *pg = s->pg;
    uint64_t *both = bufring_pointers(pg);

    for (uint32_t i = 0; i < STREAM; i++) {
        unsigned int need = i % 3 == 0 ? 2 : 1;
        for (;;) {
            uint64_t p = __atomic_load_n(both, __ATOMIC_ACQUIRE);
            if ((uint32_t)(p >> 32) - (uint32_t)p <= SLOTS - need)
                break;
            sched_yield();
        }
        uint32_t wp = __atomic_load_n(&pg->write_pointer, __ATOMIC_RELAXED);
        buf_ioreq_t b = { .type = IOREQ_TYPE_COPY, .dir = IOREQ_WRITE,
                          .size = need == 2 ? 3 : 2, .addr = 0xa0000, .data = i };
        pg->buf_ioreq[wp % SLOTS] = b;
        if (need == 2) {
            b.data = ~i;
            pg->buf_ioreq[(wp + 1) % SLOTS] = b;
        }
        __atomic_store_n(&pg->write_pointer, wp + need, __ATOMIC_RELEASE);
        /* rebase both pointers once read_pointer passes the ring size */
        for (;;) {
            uint64_t old = __atomic_load_n(both, __ATOMIC_ACQUIRE);
            uint32_t rp = (uint32_t)old, w = (uint32_t)(old >> 32);
            if (rp < SLOTS)
                break;
            uint64_t new = (uint64_t)(w - SLOTS) << 32 | (rp - SLOTS);
            if (__atomic_compare_exchange_n(both, &old, new, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                break;
        }
    }
    return NULL;
}

static void check_stream(void *opaque, const ioreq_t *req)
{
    struct stream *s = opaque;
    uint32_t i = s->next_expected++;
    uint64_t want = i % 3 == 0 ? (uint64_t)~i << 32 | i : i;

    if (req->data != want || req->size != (i % 3 == 0 ? 8u : 4u))
        s->failed = true;
}

static void stream_complain(void *opaque, const char *what)
{
    struct stream *s = opaque;

    (void)what;
    s->failed = true;
}

static void test_concurrent_atomic(void **state)
{
    struct stream s = { .pg = new_page(0, 0) };
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, producer, &s), 0);
    while (s.next_expected < STREAM && !s.failed) {
        if (bufring_drain(s.pg, check_stream, stream_complain, &s).served == 0)
            sched_yield();
    }
    pthread_join(t, NULL);
    assert_false(s.failed);
    assert_int_equal(s.next_expected, STREAM);
    assert_int_equal(s.pg->read_pointer, s.pg->write_pointer);
    free(s.pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_two_slots_across_the_end),
        cmocka_unit_test(test_legacy_wrap),
        cmocka_unit_test(test_rebase_during_drain),
        cmocka_unit_test(test_garbage_entries),
        cmocka_unit_test(test_garbage_pointers),
        cmocka_unit_test(test_concurrent_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
