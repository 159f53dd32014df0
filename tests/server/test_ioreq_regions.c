/*
 * libioreq's region table (server/libioreq/src/regions.c): sorted insert,
 * overlap refusal, whole-access look-up, removal, against a linear model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "regions.h"

static struct ioreq_region region(uint64_t base, uint64_t len)
{
    return (struct ioreq_region){ .space = SPACE_MMIO, .base = base, .len = len };
}

static void test_range_ok(void **state)
{
    (void)state;
    assert_true(rt_range_ok(SPACE_PORT, 0, 0x10000));
    assert_true(rt_range_ok(SPACE_PORT, 0xffff, 1));
    assert_false(rt_range_ok(SPACE_PORT, 0xffff, 2));
    assert_false(rt_range_ok(SPACE_PORT, 0x10000, 1));
    assert_false(rt_range_ok(SPACE_PORT, 0x100, 0));
    assert_true(rt_range_ok(SPACE_MMIO, UINT64_MAX, 1));
    assert_true(rt_range_ok(SPACE_MMIO, 0, UINT64_MAX));
    assert_false(rt_range_ok(SPACE_MMIO, UINT64_MAX, 2));
    assert_true(rt_range_ok(SPACE_MMIO, 1, UINT64_MAX));  /* [1, 2^64) */
    assert_false(rt_range_ok(SPACE_MMIO, 2, UINT64_MAX));
}

static void test_insert_overlap(void **state)
{
    struct region_table t = { 0 };
    struct ioreq_region a = region(0x1000, 0x100), b = region(0x2000, 0x100);
    struct ioreq_region adj_lo = region(0xf00, 0x100), adj_hi = region(0x1100, 0x100);
    struct ioreq_region inside = region(0x1010, 0x10), around = region(0x800, 0x2000);
    struct ioreq_region tail = region(0x10ff, 2), head = region(0xfff, 2);

    (void)state;
    assert_int_equal(rt_insert(&t, &b), 0);
    assert_int_equal(rt_insert(&t, &a), 0);
    assert_int_equal(rt_insert(&t, &inside), -EEXIST);
    assert_int_equal(rt_insert(&t, &around), -EEXIST);
    assert_int_equal(rt_insert(&t, &tail), -EEXIST);
    assert_int_equal(rt_insert(&t, &head), -EEXIST);
    assert_int_equal(rt_insert(&t, &adj_lo), 0);
    assert_int_equal(rt_insert(&t, &adj_hi), 0);
    assert_int_equal(t.n, 4);
    for (size_t i = 1; i < t.n; i++)
        assert_true(t.v[i - 1]->base < t.v[i]->base);
    rt_free(&t);
}

static void test_find(void **state)
{
    struct region_table t = { 0 };
    struct ioreq_region a = region(0x1000, 0x100), b = region(0x1100, 0x10);
    struct ioreq_region top = region(UINT64_MAX - 0xfff, 0x1000);

    (void)state;
    assert_null(rt_find(&t, 0x1000, 1));
    assert_int_equal(rt_insert(&t, &a), 0);
    assert_int_equal(rt_insert(&t, &b), 0);
    assert_int_equal(rt_insert(&t, &top), 0);
    assert_ptr_equal(rt_find(&t, 0x1000, 1), &a);
    assert_ptr_equal(rt_find(&t, 0x10f8, 8), &a);
    assert_null(rt_find(&t, 0x10fc, 8));        /* runs into the next region: not one region's */
    assert_ptr_equal(rt_find(&t, 0x1100, 4), &b);
    assert_null(rt_find(&t, 0x110e, 4));         /* runs past the end */
    assert_null(rt_find(&t, 0xfff, 2));          /* starts before */
    assert_null(rt_find(&t, 0x0, 1));
    assert_null(rt_find(&t, 0x1110, 1));
    assert_null(rt_find(&t, 0x1000, 0));
    assert_ptr_equal(rt_find(&t, UINT64_MAX - 7, 8), &top);
    assert_ptr_equal(rt_find(&t, UINT64_MAX, 1), &top);
    assert_null(rt_find(&t, UINT64_MAX, 2));     /* would wrap */
    rt_remove(&t, &a);
    assert_null(rt_find(&t, 0x1000, 1));
    assert_ptr_equal(rt_find(&t, 0x1100, 1), &b);
    rt_remove(&t, &a);                            /* not there: no-op */
    assert_int_equal(t.n, 2);
    rt_free(&t);
}

/* Random inserts, removals and look-ups against a linear scan. */
static void test_against_model(void **state)
{
    enum { N = 400, SPACE = 1 << 16 };
    static struct ioreq_region r[N];
    bool in[N] = { 0 };
    struct region_table t = { 0 };

    (void)state;
    srand(12345);
    for (int i = 0; i < N; i++)
        r[i] = region((uint64_t)(rand() % SPACE), (uint64_t)(1 + rand() % 64));
    for (int round = 0; round < 20000; round++) {
        int i = rand() % N;
        if (rand() % 2) {
            bool overlaps = false;
            for (int j = 0; j < N; j++)
                if (in[j] && j != i && r[j].base < r[i].base + r[i].len &&
                    r[i].base < r[j].base + r[j].len)
                    overlaps = true;
            if (!in[i]) {
                int rc = rt_insert(&t, &r[i]);
                assert_int_equal(rc, overlaps ? -EEXIST : 0);
                in[i] = rc == 0;
            }
        } else if (in[i]) {
            rt_remove(&t, &r[i]);
            in[i] = false;
        }
        uint64_t addr = (uint64_t)(rand() % SPACE), size = 1u << (rand() % 4);
        struct ioreq_region *want = NULL;
        for (int j = 0; j < N; j++)
            if (in[j] && addr >= r[j].base && addr + size <= r[j].base + r[j].len)
                want = &r[j];
        assert_ptr_equal(rt_find(&t, addr, size), want);
    }
    size_t n = 0;
    for (int j = 0; j < N; j++)
        n += in[j];
    assert_int_equal(t.n, n);
    rt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_ok),
        cmocka_unit_test(test_insert_overlap),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
