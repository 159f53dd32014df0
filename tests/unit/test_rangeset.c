/*
 * Unit tests of the per-server range set (hypervisor/src/rangeset.c):
 * merging of touching ranges, the ends of the 64-bit space, containment
 * and overlap edge cases, removal (whole, trim, split), -ENOENT, and the
 * 256-range limit on add and on a split.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../hypervisor/src/rangeset.h"

/* Assert that `set` holds exactly `nr` ranges: pairs start, end in `want`. */
static void expect_ranges(const struct rangeset *set, unsigned int nr,
                          const uint64_t *want)
{
    assert_int_equal(set->nr, nr);
    for (unsigned int i = 0; i < nr; i++) {
        assert_int_equal(set->r[i].start, want[2 * i]);
        assert_int_equal(set->r[i].end, want[2 * i + 1]);
    }
}

#define EXPECT(set, ...)                                                      \
    do {                                                                      \
        const uint64_t want_[] = { __VA_ARGS__ };                             \
        expect_ranges((set), sizeof(want_) / sizeof(want_[0]) / 2, want_);    \
    } while (0)

static void test_add_keeps_sorted_and_disjoint(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 100, 199), 0);
    assert_int_equal(rangeset_add(&set, 10, 19), 0);
    assert_int_equal(rangeset_add(&set, 300, 300), 0);
    assert_int_equal(rangeset_add(&set, 50, 60), 0);
    EXPECT(&set, 10, 19, 50, 60, 100, 199, 300, 300);
}

static void test_add_merges_touching(void **state)
{
    static struct rangeset set;
    (void)state;

    /* Touching the previous range only. */
    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0x10, 0x1f), 0);
    assert_int_equal(rangeset_add(&set, 0x40, 0x4f), 0);
    assert_int_equal(rangeset_add(&set, 0x20, 0x27), 0);
    EXPECT(&set, 0x10, 0x27, 0x40, 0x4f);

    /* Touching the next range only. */
    assert_int_equal(rangeset_add(&set, 0x38, 0x3f), 0);
    EXPECT(&set, 0x10, 0x27, 0x38, 0x4f);

    /* Touching both: the two ranges become one. */
    assert_int_equal(rangeset_add(&set, 0x28, 0x37), 0);
    EXPECT(&set, 0x10, 0x4f);

    /* One below and one above with a gap of one: not touching. */
    assert_int_equal(rangeset_add(&set, 0x0, 0xe), 0);
    assert_int_equal(rangeset_add(&set, 0x51, 0x51), 0);
    EXPECT(&set, 0x0, 0xe, 0x10, 0x4f, 0x51, 0x51);

    /* Single-address fillers close both gaps. */
    assert_int_equal(rangeset_add(&set, 0xf, 0xf), 0);
    EXPECT(&set, 0x0, 0x4f, 0x51, 0x51);
    assert_int_equal(rangeset_add(&set, 0x50, 0x50), 0);
    EXPECT(&set, 0x0, 0x51);
}

static void test_add_at_space_ends(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, UINT64_MAX, UINT64_MAX), 0);
    assert_int_equal(rangeset_add(&set, 0, 0), 0);
    EXPECT(&set, 0, 0, UINT64_MAX, UINT64_MAX);

    /* Merge into a range that ends at UINT64_MAX (joins next). */
    assert_int_equal(rangeset_add(&set, UINT64_MAX - 9, UINT64_MAX - 1), 0);
    EXPECT(&set, 0, 0, UINT64_MAX - 9, UINT64_MAX);

    /* Merge onto the range that starts at 0 (joins previous). */
    assert_int_equal(rangeset_add(&set, 1, 5), 0);
    EXPECT(&set, 0, 5, UINT64_MAX - 9, UINT64_MAX);

    /* Fill the whole middle: one range covering the entire space. */
    assert_int_equal(rangeset_add(&set, 6, UINT64_MAX - 10), 0);
    EXPECT(&set, 0, UINT64_MAX);
    assert_true(rangeset_contains(&set, 0, UINT64_MAX));
}

static void test_add_ending_at_max_with_range_before(void **state)
{
    static struct rangeset set;
    (void)state;

    /* A range ending at UINT64_MAX must not "touch" anything at 0. */
    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0, 3), 0);
    assert_int_equal(rangeset_add(&set, UINT64_MAX - 3, UINT64_MAX), 0);
    EXPECT(&set, 0, 3, UINT64_MAX - 3, UINT64_MAX);
    assert_true(rangeset_contains(&set, UINT64_MAX - 3, UINT64_MAX));
    assert_false(rangeset_contains(&set, 3, 4));
    assert_false(rangeset_overlaps(&set, 4, UINT64_MAX - 4));

    /* Inserted between them, touching neither. */
    assert_int_equal(rangeset_add(&set, 0x1000, 0x1fff), 0);
    EXPECT(&set, 0, 3, 0x1000, 0x1fff, UINT64_MAX - 3, UINT64_MAX);
}

static void test_contains_and_overlaps_edges(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    /* Empty set. */
    assert_false(rangeset_contains(&set, 0, 0));
    assert_false(rangeset_overlaps(&set, 0, UINT64_MAX));

    assert_int_equal(rangeset_add(&set, 10, 19), 0);
    assert_int_equal(rangeset_add(&set, 21, 30), 0);
    assert_int_equal(rangeset_add(&set, UINT64_MAX - 1, UINT64_MAX), 0);

    /* Exact range, first and last byte, one past either side. */
    assert_true(rangeset_contains(&set, 10, 19));
    assert_true(rangeset_contains(&set, 10, 10));
    assert_true(rangeset_contains(&set, 19, 19));
    assert_false(rangeset_contains(&set, 9, 9));
    assert_false(rangeset_contains(&set, 9, 19));
    assert_false(rangeset_contains(&set, 10, 20));
    assert_false(rangeset_contains(&set, 20, 20));

    /* Both ends covered but by two ranges with a hole: not contained. */
    assert_false(rangeset_contains(&set, 15, 25));
    assert_false(rangeset_contains(&set, 19, 21));
    assert_true(rangeset_overlaps(&set, 15, 25));
    assert_true(rangeset_overlaps(&set, 19, 21));

    /* The hole itself and the areas around. */
    assert_false(rangeset_overlaps(&set, 20, 20));
    assert_false(rangeset_overlaps(&set, 0, 9));
    assert_true(rangeset_overlaps(&set, 0, 10));
    assert_false(rangeset_overlaps(&set, 31, UINT64_MAX - 2));
    assert_true(rangeset_overlaps(&set, 30, UINT64_MAX - 2));
    assert_true(rangeset_overlaps(&set, 31, UINT64_MAX - 1));
    assert_true(rangeset_overlaps(&set, 0, UINT64_MAX));

    /* The top of the space. */
    assert_true(rangeset_contains(&set, UINT64_MAX, UINT64_MAX));
    assert_true(rangeset_contains(&set, UINT64_MAX - 1, UINT64_MAX));
    assert_false(rangeset_contains(&set, UINT64_MAX - 2, UINT64_MAX));
    assert_true(rangeset_overlaps(&set, UINT64_MAX, UINT64_MAX));
    assert_false(rangeset_overlaps(&set, UINT64_MAX - 2, UINT64_MAX - 2));

    /* Merged neighbours are one range for containment. */
    assert_int_equal(rangeset_add(&set, 20, 20), 0);
    assert_true(rangeset_contains(&set, 15, 25));
    assert_true(rangeset_contains(&set, 10, 30));
    assert_false(rangeset_contains(&set, 10, 31));
}

static void test_contains_from_zero(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0, 7), 0);
    assert_true(rangeset_contains(&set, 0, 0));
    assert_true(rangeset_contains(&set, 0, 7));
    assert_false(rangeset_contains(&set, 0, 8));
    assert_true(rangeset_overlaps(&set, 0, 0));
    assert_true(rangeset_overlaps(&set, 7, UINT64_MAX));
    assert_false(rangeset_overlaps(&set, 8, UINT64_MAX));
}

static void test_remove_whole_trim_split(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0x100, 0x1ff), 0);
    assert_int_equal(rangeset_add(&set, 0x300, 0x3ff), 0);
    assert_int_equal(rangeset_add(&set, 0x500, 0x5ff), 0);

    /* Trim the front. */
    assert_int_equal(rangeset_remove(&set, 0x100, 0x10f), 0);
    EXPECT(&set, 0x110, 0x1ff, 0x300, 0x3ff, 0x500, 0x5ff);
    /* Trim the back. */
    assert_int_equal(rangeset_remove(&set, 0x1f0, 0x1ff), 0);
    EXPECT(&set, 0x110, 0x1ef, 0x300, 0x3ff, 0x500, 0x5ff);
    /* Split the middle one. */
    assert_int_equal(rangeset_remove(&set, 0x380, 0x380), 0);
    EXPECT(&set, 0x110, 0x1ef, 0x300, 0x37f, 0x381, 0x3ff, 0x500, 0x5ff);
    assert_false(rangeset_contains(&set, 0x37f, 0x381));
    assert_true(rangeset_contains(&set, 0x381, 0x3ff));
    /* Remove a whole range, first, middle and last. */
    assert_int_equal(rangeset_remove(&set, 0x300, 0x37f), 0);
    EXPECT(&set, 0x110, 0x1ef, 0x381, 0x3ff, 0x500, 0x5ff);
    assert_int_equal(rangeset_remove(&set, 0x500, 0x5ff), 0);
    EXPECT(&set, 0x110, 0x1ef, 0x381, 0x3ff);
    assert_int_equal(rangeset_remove(&set, 0x110, 0x1ef), 0);
    EXPECT(&set, 0x381, 0x3ff);
    assert_int_equal(rangeset_remove(&set, 0x381, 0x3ff), 0);
    assert_int_equal(set.nr, 0);
    assert_false(rangeset_overlaps(&set, 0, UINT64_MAX));
}

static void test_remove_at_space_ends(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0, UINT64_MAX), 0);
    assert_int_equal(rangeset_remove(&set, 0, 0), 0);
    EXPECT(&set, 1, UINT64_MAX);
    assert_int_equal(rangeset_remove(&set, UINT64_MAX, UINT64_MAX), 0);
    EXPECT(&set, 1, UINT64_MAX - 1);
    assert_int_equal(rangeset_remove(&set, 2, UINT64_MAX - 2), 0);
    EXPECT(&set, 1, 1, UINT64_MAX - 1, UINT64_MAX - 1);

    /* Split of a range reaching both ends of the space. */
    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_add(&set, 0, UINT64_MAX), 0);
    assert_int_equal(rangeset_remove(&set, 1, UINT64_MAX - 1), 0);
    EXPECT(&set, 0, 0, UINT64_MAX, UINT64_MAX);
    assert_int_equal(rangeset_remove(&set, UINT64_MAX, UINT64_MAX), 0);
    assert_int_equal(rangeset_remove(&set, 0, 0), 0);
    assert_int_equal(set.nr, 0);

    /* Removing everything at once. */
    assert_int_equal(rangeset_add(&set, 0, UINT64_MAX), 0);
    assert_int_equal(rangeset_remove(&set, 0, UINT64_MAX), 0);
    assert_int_equal(set.nr, 0);
}

static void test_remove_not_contained_is_enoent(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    assert_int_equal(rangeset_remove(&set, 0, 0), -ENOENT);
    assert_int_equal(rangeset_remove(&set, UINT64_MAX, UINT64_MAX), -ENOENT);

    assert_int_equal(rangeset_add(&set, 10, 19), 0);
    assert_int_equal(rangeset_add(&set, 21, 30), 0);
    assert_int_equal(rangeset_add(&set, UINT64_MAX - 4, UINT64_MAX - 1), 0);

    assert_int_equal(rangeset_remove(&set, 9, 9), -ENOENT);
    assert_int_equal(rangeset_remove(&set, 9, 12), -ENOENT);   /* sticks out below */
    assert_int_equal(rangeset_remove(&set, 18, 20), -ENOENT);  /* sticks out above */
    assert_int_equal(rangeset_remove(&set, 20, 20), -ENOENT);  /* the hole */
    assert_int_equal(rangeset_remove(&set, 15, 25), -ENOENT);  /* spans the hole */
    assert_int_equal(rangeset_remove(&set, 10, 30), -ENOENT);
    assert_int_equal(rangeset_remove(&set, 31, 31), -ENOENT);
    assert_int_equal(rangeset_remove(&set, UINT64_MAX, UINT64_MAX), -ENOENT);
    assert_int_equal(rangeset_remove(&set, UINT64_MAX - 1, UINT64_MAX), -ENOENT);
    assert_int_equal(rangeset_remove(&set, 0, UINT64_MAX), -ENOENT);

    /* Nothing changed. */
    EXPECT(&set, 10, 19, 21, 30, UINT64_MAX - 4, UINT64_MAX - 1);
}

/* Fill `set` with HVIO_MAX_RANGES ranges [4i, 4i+1], none touching. */
static void fill_to_limit(struct rangeset *set)
{
    memset(set, 0, sizeof(*set));
    for (uint64_t i = 0; i < HVIO_MAX_RANGES; i++)
        assert_int_equal(rangeset_add(set, 4 * i, 4 * i + 1), 0);
    assert_int_equal(set->nr, HVIO_MAX_RANGES);
}

static void expect_full_and_unchanged(const struct rangeset *set)
{
    assert_int_equal(set->nr, HVIO_MAX_RANGES);
    for (uint64_t i = 0; i < HVIO_MAX_RANGES; i++) {
        assert_int_equal(set->r[i].start, 4 * i);
        assert_int_equal(set->r[i].end, 4 * i + 1);
    }
}

static void test_limit_on_add(void **state)
{
    static struct rangeset set;
    (void)state;

    fill_to_limit(&set);

    /* A new, non-touching range needs a slot: refused, nothing changes. */
    const uint64_t top = 4 * HVIO_MAX_RANGES;
    assert_int_equal(rangeset_add(&set, top + 10, top + 20), -ENOMEM);
    assert_int_equal(rangeset_add(&set, UINT64_MAX, UINT64_MAX), -ENOMEM);
    expect_full_and_unchanged(&set);
    assert_false(rangeset_overlaps(&set, top + 10, top + 20));

    /* Touching one side merges: no slot needed, allowed at the limit. */
    assert_int_equal(rangeset_add(&set, top - 2, top - 2), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].end, top - 2);
    assert_int_equal(rangeset_add(&set, 4 * 9 + 3, 4 * 9 + 3), 0); /* joins next */
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(set.r[10].start, 4 * 9 + 3);

    /* Touching both sides frees a slot, so one new range fits again. */
    assert_int_equal(rangeset_add(&set, 4 * 3 + 2, 4 * 3 + 3), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES - 1);
    assert_int_equal(set.r[3].start, 4 * 3);
    assert_int_equal(set.r[3].end, 4 * 4 + 1);
    assert_int_equal(rangeset_add(&set, top + 10, top + 20), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(rangeset_add(&set, top + 30, top + 40), -ENOMEM);
}

static void test_limit_on_split(void **state)
{
    static struct rangeset set;
    (void)state;

    memset(&set, 0, sizeof(set));
    /* 255 small ranges and one wide one that can be split. */
    for (uint64_t i = 0; i < HVIO_MAX_RANGES - 1; i++)
        assert_int_equal(rangeset_add(&set, 4 * i, 4 * i + 1), 0);
    assert_int_equal(rangeset_add(&set, 0x10000, 0x1ffff), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);

    /* A split needs a 257th range: refused, nothing changes. */
    assert_int_equal(rangeset_remove(&set, 0x18000, 0x18fff), -ENOMEM);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].start, 0x10000);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].end, 0x1ffff);
    assert_true(rangeset_contains(&set, 0x10000, 0x1ffff));

    /* Trimming needs no slot: fine at the limit. */
    assert_int_equal(rangeset_remove(&set, 0x10000, 0x10fff), 0);
    assert_int_equal(rangeset_remove(&set, 0x1f000, 0x1ffff), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].start, 0x11000);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].end, 0x1efff);

    /* After a whole range goes, the split fits. */
    assert_int_equal(rangeset_remove(&set, 0, 1), 0);
    assert_int_equal(rangeset_remove(&set, 0x18000, 0x18fff), 0);
    assert_int_equal(set.nr, HVIO_MAX_RANGES);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 2].start, 0x11000);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 2].end, 0x17fff);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].start, 0x19000);
    assert_int_equal(set.r[HVIO_MAX_RANGES - 1].end, 0x1efff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_keeps_sorted_and_disjoint),
        cmocka_unit_test(test_add_merges_touching),
        cmocka_unit_test(test_add_at_space_ends),
        cmocka_unit_test(test_add_ending_at_max_with_range_before),
        cmocka_unit_test(test_contains_and_overlaps_edges),
        cmocka_unit_test(test_contains_from_zero),
        cmocka_unit_test(test_remove_whole_trim_split),
        cmocka_unit_test(test_remove_at_space_ends),
        cmocka_unit_test(test_remove_not_contained_is_enoent),
        cmocka_unit_test(test_limit_on_add),
        cmocka_unit_test(test_limit_on_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
