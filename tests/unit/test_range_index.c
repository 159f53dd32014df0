/*
 * Unit tests of the cross-server look-up index (hypervisor/src/range_index.c):
 * a few hand-checked cases, then a deterministic randomized differential test
 * that compares range_index_lookup() with a brute-force scan of every range
 * of every server, for random and boundary queries, before and after
 * range_index_forget(), and rebuild failures that must leave the index as
 * it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_platform.h"
#include "../../hypervisor/src/range_index.h"

#define NSERVERS HVIO_MAX_SERVERS
#define SEED 0x10e0c0ffee5eedull

/* ---- deterministic PRNG (splitmix64) --------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

/* ---- environment ------------------------------------------------------ */

struct env {
    struct fake_platform fp;
    struct hvio_host *host;
    struct range_index index;
    struct rangeset sets[NSERVERS];
    bool present[NSERVERS]; /* what the index was built from */
    bool forgotten[NSERVERS];
};

static struct env env; /* large: keep it off the stack */

static void env_setup(void)
{
    memset(&env, 0, sizeof(env));
    fake_platform_init(&env.fp);
    assert_int_equal(hvio_host_new(&env.fp.ops, &env.fp, &env.host), 0);
}

static void env_teardown(void)
{
    range_index_free(env.host, &env.index);
    assert_int_equal(env.index.nr, 0);
    hvio_host_free(env.host);
    assert_int_equal(fake_live_total(&env.fp), 0);
}

static int rebuild(void)
{
    const struct rangeset *sets[NSERVERS] = { 0 };

    for (unsigned int s = 0; s < NSERVERS; s++)
        if (env.present[s])
            sets[s] = &env.sets[s];
    int rc = range_index_rebuild(env.host, &env.index, sets);
    if (rc == 0)
        memset(env.forgotten, 0, sizeof(env.forgotten));
    return rc;
}

/* Bit per server (present, not forgotten) with ONE range holding [first, last]. */
static uint8_t brute_force(uint64_t first, uint64_t last)
{
    uint8_t hits = 0;

    for (unsigned int s = 0; s < NSERVERS; s++) {
        if (!env.present[s] || env.forgotten[s])
            continue;
        for (unsigned int i = 0; i < env.sets[s].nr; i++) {
            const struct hvio_range *r = &env.sets[s].r[i];

            if (r->start <= first && last <= r->end) {
                hits |= (uint8_t)(1u << s);
                break;
            }
        }
    }
    return hits;
}

static unsigned long queries_checked;

static void check(uint64_t first, uint64_t last)
{
    if (first > last)
        return;
    uint8_t want = brute_force(first, last);
    uint8_t got = range_index_lookup(&env.index, first, last);

    if (want != got) {
        fprintf(stderr, "lookup [%#llx, %#llx]: index %#x, brute force %#x\n",
                (unsigned long long)first, (unsigned long long)last, got, want);
        for (unsigned int s = 0; s < NSERVERS; s++) {
            if (!env.present[s])
                continue;
            fprintf(stderr, "  server %u%s:", s, env.forgotten[s] ? " (forgotten)" : "");
            for (unsigned int i = 0; i < env.sets[s].nr; i++)
                fprintf(stderr, " [%#llx,%#llx]",
                        (unsigned long long)env.sets[s].r[i].start,
                        (unsigned long long)env.sets[s].r[i].end);
            fprintf(stderr, "\n");
        }
    }
    assert_int_equal(got, want);
    queries_checked++;
}

/* ---- hand-checked cases ----------------------------------------------- */

static void add(unsigned int s, uint64_t start, uint64_t end)
{
    env.present[s] = true;
    assert_false(rangeset_overlaps(&env.sets[s], start, end));
    assert_int_equal(rangeset_add(&env.sets[s], start, end), 0);
}

static void test_empty_index(void **state)
{
    (void)state;
    env_setup();

    /* Never built. */
    assert_int_equal(range_index_lookup(&env.index, 0, 0), 0);
    assert_int_equal(range_index_lookup(&env.index, 0, UINT64_MAX), 0);

    /* Built from no servers, and from servers without ranges. */
    assert_int_equal(rebuild(), 0);
    assert_int_equal(range_index_lookup(&env.index, UINT64_MAX, UINT64_MAX), 0);
    env.present[2] = env.present[5] = true;
    assert_int_equal(rebuild(), 0);
    assert_int_equal(range_index_lookup(&env.index, 0x1000, 0x1000), 0);
    assert_int_equal(range_index_lookup(&env.index, 0, UINT64_MAX), 0);

    env_teardown();
}

static void test_hand_checked(void **state)
{
    (void)state;
    env_setup();

    add(0, 0x100, 0x1ff);
    add(3, 0x180, 0x27f);
    add(7, 0, UINT64_MAX);
    add(1, 0x200, 0x20f);
    add(1, 0x210, 0x21f); /* merged with the one above */
    add(4, UINT64_MAX - 7, UINT64_MAX);
    assert_int_equal(rebuild(), 0);

    assert_int_equal(range_index_lookup(&env.index, 0x180, 0x1ff), 0x89);
    assert_int_equal(range_index_lookup(&env.index, 0x1f0, 0x200), 0x88);
    assert_int_equal(range_index_lookup(&env.index, 0x100, 0x27f), 0x80);
    assert_int_equal(range_index_lookup(&env.index, 0xff, 0x100), 0x80);
    assert_int_equal(range_index_lookup(&env.index, 0x20c, 0x213), 0x8a);
    assert_int_equal(range_index_lookup(&env.index, 0x200, 0x21f), 0x8a);
    assert_int_equal(range_index_lookup(&env.index, 0x200, 0x220), 0x88);
    assert_int_equal(range_index_lookup(&env.index, UINT64_MAX, UINT64_MAX), 0x90);
    assert_int_equal(range_index_lookup(&env.index, UINT64_MAX - 8, UINT64_MAX), 0x80);
    assert_int_equal(range_index_lookup(&env.index, 0, UINT64_MAX), 0x80);

    range_index_forget(&env.index, 7);
    assert_int_equal(range_index_lookup(&env.index, 0x180, 0x1ff), 0x09);
    assert_int_equal(range_index_lookup(&env.index, 0x100, 0x27f), 0);
    assert_int_equal(range_index_lookup(&env.index, 0, 0), 0);
    assert_int_equal(range_index_lookup(&env.index, UINT64_MAX, UINT64_MAX), 0x10);
    range_index_forget(&env.index, 4);
    assert_int_equal(range_index_lookup(&env.index, UINT64_MAX, UINT64_MAX), 0);
    assert_int_equal(range_index_lookup(&env.index, 0x20c, 0x213), 0x0a);

    env_teardown();
}

/* ---- randomized differential test --------------------------------------- */

/* One random candidate range, biased to collide across servers. */
static void random_range(uint64_t *start, uint64_t *end)
{
    uint64_t s, len;

    switch (rnd_below(10)) {
    case 0: /* at the very bottom */
        s = rnd_below(4);
        len = 1 + rnd_below(0x40);
        break;
    case 1: /* at the very top, often ending at UINT64_MAX */
        s = UINT64_MAX - rnd_below(0x100);
        len = rnd_below(2) ? UINT64_MAX - s + 1 : 1 + rnd_below(0x10);
        break;
    case 2: /* anywhere, possibly huge */
        s = rnd();
        len = 1 + (rnd() >> rnd_below(64));
        break;
    case 3: /* single addresses */
        s = rnd_below(0x2000);
        len = 1;
        break;
    default: /* a shared window where servers overlap */
        s = rnd_below(0x2000);
        len = 1 + rnd_below(0x100);
        break;
    }
    *start = s;
    *end = len - 1 > UINT64_MAX - s ? UINT64_MAX : s + (len - 1);
}

static void random_sets(unsigned int max_ranges)
{
    memset(env.sets, 0, sizeof(env.sets));
    for (unsigned int s = 0; s < NSERVERS; s++) {
        env.present[s] = rnd_below(8) != 0;
        if (!env.present[s])
            continue;

        unsigned int want = (unsigned int)rnd_below(max_ranges + 1);
        if (rnd_below(16) == 0) {
            /* Sometimes a server owns everything. */
            assert_int_equal(rangeset_add(&env.sets[s], 0, UINT64_MAX), 0);
            continue;
        }
        for (unsigned int tries = 0; env.sets[s].nr < want && tries < 8 * want; tries++) {
            uint64_t start, end;

            random_range(&start, &end);
            if (rangeset_overlaps(&env.sets[s], start, end))
                continue;
            assert_int_equal(rangeset_add(&env.sets[s], start, end), 0);
        }
    }
}

/* Every boundary of every range, +-1, and the ends of the space. */
static unsigned int boundary_points(uint64_t *pts)
{
    unsigned int n = 0;

    pts[n++] = 0;
    pts[n++] = 1;
    pts[n++] = UINT64_MAX - 1;
    pts[n++] = UINT64_MAX;
    for (unsigned int s = 0; s < NSERVERS; s++) {
        if (!env.present[s])
            continue;
        for (unsigned int i = 0; i < env.sets[s].nr; i++) {
            uint64_t a = env.sets[s].r[i].start, b = env.sets[s].r[i].end;

            pts[n++] = a;
            pts[n++] = b;
            if (a > 0)
                pts[n++] = a - 1;
            if (a < UINT64_MAX)
                pts[n++] = a + 1;
            if (b > 0)
                pts[n++] = b - 1;
            if (b < UINT64_MAX)
                pts[n++] = b + 1;
        }
    }
    return n;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t points[4 + 6 * NSERVERS * HVIO_MAX_RANGES];

/* Boundary queries: each point as a start and as an end, against others. */
static void check_boundaries(unsigned int per_point)
{
    unsigned int n = boundary_points(points);

    check(0, UINT64_MAX);
    for (unsigned int i = 0; i < n; i++) {
        uint64_t p = points[i];

        check(p, p);
        check(p, sat_add(p, 1));
        check(p, sat_add(p, 3));
        check(p > 0 ? p - 1 : 0, p);
        check(p, UINT64_MAX);
        check(0, p);
        for (unsigned int k = 0; k < per_point; k++) {
            uint64_t q = points[rnd_below(n)];

            if (q >= p)
                check(p, q);
            else
                check(q, p);
        }
    }
}

static void check_random(unsigned int count)
{
    for (unsigned int k = 0; k < count; k++) {
        uint64_t first, last;

        switch (rnd_below(4)) {
        case 0:
            first = rnd();
            last = sat_add(first, rnd() >> rnd_below(64));
            break;
        case 1:
            first = UINT64_MAX - rnd_below(0x200);
            last = sat_add(first, rnd_below(0x20));
            break;
        default:
            first = rnd_below(0x2100);
            last = first + rnd_below(rnd_below(2) ? 0x10 : 0x200);
            break;
        }
        check(first, last);
    }
}

static void check_all(unsigned int per_point, unsigned int random_count)
{
    check_boundaries(per_point);
    check_random(random_count);
}

static void test_differential(void **state)
{
    (void)state;
    env_setup();
    rng_state = SEED;
    queries_checked = 0;

    for (unsigned int round = 0; round < 300; round++) {
        unsigned int max_ranges = round % 3 == 0 ? 4 : round % 3 == 1 ? 24 : 80;

        random_sets(max_ranges);
        assert_int_equal(rebuild(), 0);
        check_all(3, 400);
    }
    assert_true(queries_checked > 100000);

    env_teardown();
}

/* Every server at the 256-range limit: 2048 ranges, maximal cut count. */
static void test_differential_full(void **state)
{
    (void)state;
    env_setup();
    rng_state = SEED ^ 0xfull;

    for (unsigned int round = 0; round < 3; round++) {
        memset(env.sets, 0, sizeof(env.sets));
        for (unsigned int s = 0; s < NSERVERS; s++) {
            env.present[s] = true;
            while (env.sets[s].nr < HVIO_MAX_RANGES) {
                /* Staggered per server so that ranges of servers overlap. */
                uint64_t start = rnd_below(0x40000) + s;
                uint64_t end = start + rnd_below(0x80);

                if (!rangeset_overlaps(&env.sets[s], start, end))
                    assert_int_equal(rangeset_add(&env.sets[s], start, end), 0);
            }
        }
        assert_int_equal(rebuild(), 0);
        check_all(1, 2000);
    }

    env_teardown();
}

static void test_forget_differential(void **state)
{
    (void)state;
    env_setup();
    rng_state = SEED + 1;

    for (unsigned int round = 0; round < 120; round++) {
        random_sets(round % 2 ? 8 : 40);
        assert_int_equal(rebuild(), 0);

        /* Forget servers one at a time, in random order, until none is left. */
        unsigned int order[NSERVERS];
        for (unsigned int i = 0; i < NSERVERS; i++)
            order[i] = i;
        for (unsigned int i = NSERVERS - 1; i > 0; i--) {
            unsigned int j = (unsigned int)rnd_below(i + 1);
            unsigned int t = order[i];

            order[i] = order[j];
            order[j] = t;
        }
        for (unsigned int i = 0; i < NSERVERS; i++) {
            /* Forgetting an absent server is harmless too. */
            range_index_forget(&env.index, order[i]);
            env.forgotten[order[i]] = true;
            check_all(1, 100);
        }
        assert_int_equal(range_index_lookup(&env.index, 0, 0), 0);
        assert_int_equal(range_index_lookup(&env.index, UINT64_MAX, UINT64_MAX), 0);

        /* A rebuild brings every server back. */
        assert_int_equal(rebuild(), 0);
        check_all(1, 100);
    }

    env_teardown();
}

/* Sets for the failure test: server 0 always has a range, so that a
 * rebuild must allocate. */
static void nonempty_random_sets(void)
{
    random_sets(30);
    env.present[0] = true;
    if (env.sets[0].nr == 0)
        add(0, 0x7000, 0x7fff);
}

/*
 * Failing each allocation of a rebuild in turn leaves the old index exactly
 * as it was (and answering for the old sets) and leaks nothing; the first
 * rebuild that gets all its allocations replaces and frees the old index.
 */
static void test_rebuild_failure_keeps_index(void **state)
{
    static struct rangeset old_sets[NSERVERS], new_sets[NSERVERS];
    bool old_present[NSERVERS], new_present[NSERVERS];
    (void)state;

    env_setup();
    rng_state = SEED + 2;
    const long baseline = env.fp.live[FAKE_MEM];

    nonempty_random_sets();
    memcpy(old_sets, env.sets, sizeof(old_sets));
    memcpy(old_present, env.present, sizeof(old_present));
    nonempty_random_sets();
    memcpy(new_sets, env.sets, sizeof(new_sets));
    memcpy(new_present, env.present, sizeof(new_present));

    memcpy(env.sets, old_sets, sizeof(old_sets));
    memcpy(env.present, old_present, sizeof(old_present));
    assert_int_equal(rebuild(), 0);
    check_all(1, 500);
    const long live = env.fp.live[FAKE_MEM];
    assert_true(live > baseline);
    const struct range_index before = env.index;

    unsigned long nth;
    for (nth = 1; nth < 32; nth++) {
        memcpy(env.sets, new_sets, sizeof(new_sets));
        memcpy(env.present, new_present, sizeof(new_present));
        env.fp.fail_at = env.fp.acquired + nth;
        int rc = rebuild();
        env.fp.fail_at = 0;
        if (rc == 0) {
            /* Success must mean a complete index of the new sets. */
            check_all(1, 500);
            break;
        }

        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(env.fp.live[FAKE_MEM], live);
        assert_memory_equal(&env.index, &before, sizeof(before));
        /* Look-ups still answer for the old sets. */
        memcpy(env.sets, old_sets, sizeof(old_sets));
        memcpy(env.present, old_present, sizeof(old_present));
        check_all(1, 300);
    }
    /* The rebuild allocates, so failing its first allocation must fail it. */
    assert_true(nth > 1);
    assert_true(nth < 32);

    /* The successful rebuild freed the old arrays: dropping the new ones
     * returns to the baseline. */
    range_index_free(env.host, &env.index);
    assert_int_equal(env.fp.live[FAKE_MEM], baseline);

    env_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_index),
        cmocka_unit_test(test_hand_checked),
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_differential_full),
        cmocka_unit_test(test_forget_differential),
        cmocka_unit_test(test_rebuild_failure_keeps_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
