/*
 * bench_select: what it costs the core to pick the ioreq server for one
 * guest MMIO access, as the number of mapped ranges grows.
 *
 * For N = 1, 64 and 2048 MMIO ranges spread round-robin over 8 enabled
 * servers of one guest, it times, in the same run and on the same
 * pre-generated random in-range accesses:
 *
 *   index   the core's own selection: access_classify() followed by
 *           server_select_locked(), under the domain lock;
 *   linear  access_classify() followed by the walk Xen does with its
 *           list-based rangesets: every enabled server from the highest id
 *           down, each server's sorted ranges from the lowest until one
 *           starts past the access, then a whole-access containment check.
 *           The ranges are copied out of the core (hvio_server_ranges) into
 *           plain arrays, which walk faster than Xen's linked list, so the
 *           comparison favours the linear scan.
 *
 * Both methods must pick the same server for every access (and no server
 * for accesses in gaps or straddling a range end); otherwise it aborts.
 * Timings are the best of several repetitions; they are reported, checked
 * against the project's goal, and never turned into a failure.
 *
 * Usage: bench_select [--quick]
 *   --quick  one short repetition per cell: checks that everything runs,
 *            the numbers are not meaningful.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_platform.h"
#include "hvio.h"
#include "hvio_internal.h"

#define DOM0 0
#define GUEST 1

#define RANGE_BYTES 4096u            /* each mapped range is one 4 KiB page */
#define RANGE_STRIDE (2 * RANGE_BYTES) /* ... followed by an unmapped page */
#define MMIO_BASE 0xe0000000ull

#define NR_ACCESSES 16384u /* random accesses timed per pass */
#define NR_CHECKS 4096u    /* extra accesses that must hit no server */
#define REPETITIONS 5
#define REP_TARGET_NS 50e6 /* one repetition: ~50 ms, so ~0.25 s per cell */
#define QUICK_TARGET_NS 1e6

#define GOAL_INDEX_GROWTH 3.0 /* index(2048) within 3x of index(1) */
#define GOAL_SPEEDUP 20.0     /* index at least 20x faster than linear at 2048 */

static const unsigned int range_counts[] = { 1, 64, 2048 };
#define NR_CELLS (sizeof(range_counts) / sizeof(range_counts[0]))

/* One server's MMIO ranges, as the linear scan sees them. */
struct linear_server {
    bool enabled;
    unsigned int nr;
    struct hvio_range range[HVIO_MAX_RANGES];
};

struct bench {
    struct fake_platform fp;
    struct hvio_host *host;
    struct hvio_domain *d; /* referenced with domain_get() */
    unsigned int nr_ranges;
    ioreq_t access[NR_ACCESSES];
    int expect[NR_ACCESSES]; /* server id each access belongs to */
    struct linear_server lin[HVIO_MAX_SERVERS];
};

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_select: %s failed: %d (%s)\n", what, rc,
            rc < 0 ? strerror(-rc) : "-");
    exit(EXIT_FAILURE);
}

/* xorshift64*: fixed seed, so every run times the same accesses. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int dm_op(struct bench *b, struct xen_dm_op *op)
{
    return hvio_dm_op(b->host, DOM0, GUEST, op, sizeof(*op));
}

static uint64_t range_start(unsigned int i)
{
    return MMIO_BASE + (uint64_t)i * RANGE_STRIDE;
}

/* Range i belongs to server i % 8; servers get ids 0..7 in creation order. */
static unsigned int range_owner(unsigned int i)
{
    return i % HVIO_MAX_SERVERS;
}

/* A host with dom0, one HVM guest, 8 enabled servers and `nr_ranges` ranges. */
static void bench_setup(struct bench *b, unsigned int nr_ranges)
{
    fake_platform_init(&b->fp);
    b->nr_ranges = nr_ranges;

    int rc = hvio_host_new(&b->fp.ops, &b->fp, &b->host);
    if (rc)
        die("hvio_host_new", rc);

    struct hvio_domain_config dom0 = { .domid = DOM0, .privileged = true,
                                       .dm_target = DOMID_INVALID };
    struct hvio_domain_config guest = { .domid = GUEST, .max_vcpus = 1,
                                        .hvm = true, .emulated_pic = true,
                                        .dm_target = DOMID_INVALID };
    if ((rc = hvio_domain_create(b->host, &dom0)))
        die("create dom0", rc);
    if ((rc = hvio_domain_create(b->host, &guest)))
        die("create guest", rc);
    if ((rc = hvio_vcpu_add(b->host, GUEST, 0)))
        die("add vCPU", rc);

    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
        struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };

        op.u.create_ioreq_server.handle_bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF;
        if ((rc = dm_op(b, &op)))
            die("XEN_DMOP_create_ioreq_server", rc);
        if (op.u.create_ioreq_server.id != s)
            die("server id order", op.u.create_ioreq_server.id);
    }

    for (unsigned int i = 0; i < nr_ranges; i++) {
        struct xen_dm_op op = { .op = XEN_DMOP_map_io_range_to_ioreq_server };

        op.u.map_io_range_to_ioreq_server = (struct xen_dm_op_ioreq_server_range){
            .id = (ioservid_t)range_owner(i), .type = XEN_DMOP_IO_RANGE_MEMORY,
            .start = range_start(i), .end = range_start(i) + RANGE_BYTES - 1 };
        if ((rc = dm_op(b, &op)))
            die("XEN_DMOP_map_io_range_to_ioreq_server", rc);
    }

    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
        struct xen_dm_op op = { .op = XEN_DMOP_set_ioreq_server_state };

        op.u.set_ioreq_server_state.id = (ioservid_t)s;
        op.u.set_ioreq_server_state.enabled = 1;
        if ((rc = dm_op(b, &op)))
            die("XEN_DMOP_set_ioreq_server_state", rc);
    }

    /* The linear scan's copy of every server's state and ranges. */
    for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
        struct hvio_server_view view;

        if ((rc = hvio_server_view(b->host, GUEST, (ioservid_t)s, &view)))
            die("hvio_server_view", rc);
        rc = hvio_server_ranges(b->host, GUEST, (ioservid_t)s,
                                XEN_DMOP_IO_RANGE_MEMORY, b->lin[s].range,
                                HVIO_MAX_RANGES);
        if (rc < 0 || rc > HVIO_MAX_RANGES)
            die("hvio_server_ranges", rc);
        b->lin[s].nr = (unsigned int)rc;
        b->lin[s].enabled = view.enabled;
    }

    b->d = domain_get(b->host, GUEST);
    if (!b->d)
        die("domain_get", -ESRCH);
}

static void bench_teardown(struct bench *b)
{
    domain_put(b->d);
    hvio_host_free(b->host);
    if (fake_live_total(&b->fp) != 0) {
        fprintf(stderr, "bench_select: %ld resources leaked\n",
                fake_live_total(&b->fp));
        abort();
    }
}

/* An aligned MMIO read of 1, 2, 4 or 8 bytes at `addr`. */
static ioreq_t mmio_read(uint64_t addr, uint32_t size)
{
    return (ioreq_t){ .addr = addr, .size = size, .count = 1,
                      .dir = IOREQ_READ, .type = IOREQ_TYPE_COPY };
}

/* Random accesses, each wholly inside a random mapped range. */
static void make_accesses(struct bench *b, uint64_t seed)
{
    for (unsigned int i = 0; i < NR_ACCESSES; i++) {
        uint64_t r = rng_next(&seed);
        unsigned int range = (unsigned int)(r % b->nr_ranges);
        uint32_t size = 1u << ((r >> 32) & 3);
        uint64_t offset = ((r >> 40) % (RANGE_BYTES / size)) * size;

        b->access[i] = mmio_read(range_start(range) + offset, size);
        b->expect[i] = (int)range_owner(range);
    }
}

/* ---- the two methods -------------------------------------------------- */

static int select_index(struct bench *b, const ioreq_t *p)
{
    struct access_target t;

    if (!access_classify(b->d, p, &t))
        return -1;
    const struct hvio_server *s = server_select_locked(b->d, &t);
    return s ? s->id : -1;
}

/* Xen's find_range() + containment, per server, highest id first. */
static int select_linear(struct bench *b, const ioreq_t *p)
{
    struct access_target t;

    if (!access_classify(b->d, p, &t))
        return -1;
    for (int s = HVIO_MAX_SERVERS - 1; s >= 0; s--) {
        const struct linear_server *ls = &b->lin[s];
        const struct hvio_range *found = NULL;

        if (!ls->enabled)
            continue;
        for (unsigned int i = 0; i < ls->nr && ls->range[i].start <= t.first; i++)
            found = &ls->range[i];
        if (found && found->end >= t.last)
            return s;
    }
    return -1;
}

/* Where the results go, so that no look-up can be optimised away. */
static volatile unsigned long bench_sink;

typedef int (*select_fn)(struct bench *b, const ioreq_t *p);

/*
 * One pass over all accesses under the domain lock.  Always inlined with a
 * constant `fn`, so each method's look-up is inlined into its own loop and
 * no call through a pointer is timed.
 */
static inline __attribute__((always_inline)) unsigned long
one_pass(struct bench *b, select_fn fn)
{
    unsigned long sum = 0;

    domain_lock(b->d);
    for (unsigned int i = 0; i < NR_ACCESSES; i++)
        sum += (unsigned long)fn(b, &b->access[i]);
    domain_unlock(b->d);
    return sum;
}

static unsigned long pass_index(struct bench *b)
{
    return one_pass(b, select_index);
}

static unsigned long pass_linear(struct bench *b)
{
    return one_pass(b, select_linear);
}

typedef unsigned long (*pass_fn)(struct bench *b);

static double run_passes(struct bench *b, pass_fn pass, unsigned long passes,
                         unsigned long *sink)
{
    unsigned long sum = 0;
    double start = now_ns();

    for (unsigned long n = 0; n < passes; n++)
        sum += pass(b);
    double elapsed = now_ns() - start;
    *sink += sum;
    return elapsed;
}

/* One method on one set-up: passes per repetition, best time so far. */
struct timing {
    pass_fn pass;
    unsigned long passes;
    double best_ns; /* per look-up; 0 until measured */
};

/* Warm up, then find how many passes take about `target_ns`. */
static struct timing calibrate(struct bench *b, pass_fn pass, double target_ns)
{
    unsigned long sink = 0;
    unsigned long passes = 1;
    double elapsed = run_passes(b, pass, passes, &sink);

    while (elapsed < target_ns / 4) {
        passes *= 2;
        elapsed = run_passes(b, pass, passes, &sink);
    }
    bench_sink += sink;
    return (struct timing){
        .pass = pass,
        .passes = (unsigned long)((double)passes * target_ns / elapsed) + 1,
    };
}

static void time_once(struct bench *b, struct timing *t)
{
    unsigned long sink = 0;
    double ns = run_passes(b, t->pass, t->passes, &sink) /
                ((double)t->passes * NR_ACCESSES);

    bench_sink += sink;
    if (t->best_ns == 0 || ns < t->best_ns)
        t->best_ns = ns;
}

/* ---- agreement ------------------------------------------------------- */

static void check_one(struct bench *b, const ioreq_t *p, int expect)
{
    int index = select_index(b, p);
    int linear = select_linear(b, p);

    if (index != expect || linear != expect) {
        fprintf(stderr,
                "bench_select: %u ranges: MMIO addr %#llx size %u: index chose %d,"
                " linear chose %d, expected %d\n",
                b->nr_ranges, (unsigned long long)p->addr, p->size, index,
                linear, expect);
        abort();
    }
}

/*
 * Both methods agree with the layout on every timed access, and both find
 * no server for accesses in the gaps, straddling a range's end or start,
 * or outside the mapped area.
 */
static void check_agreement(struct bench *b, uint64_t seed)
{
    domain_lock(b->d);
    for (unsigned int i = 0; i < NR_ACCESSES; i++)
        check_one(b, &b->access[i], b->expect[i]);

    for (unsigned int i = 0; i < NR_CHECKS; i++) {
        uint64_t r = rng_next(&seed);
        unsigned int range = (unsigned int)(r % b->nr_ranges);
        uint64_t start = range_start(range);
        uint32_t size = 2u << ((r >> 32) % 3); /* 2, 4, 8 */

        /* Inside the gap after the range. */
        check_one(b, &(ioreq_t){ .addr = start + RANGE_BYTES + (r >> 40) % RANGE_BYTES,
                                 .size = 1, .count = 1, .type = IOREQ_TYPE_COPY }, -1);
        /* Straddling the range's last byte, then its first byte. */
        check_one(b, &(ioreq_t){ .addr = start + RANGE_BYTES - size / 2, .size = size,
                                 .count = 1, .type = IOREQ_TYPE_COPY }, -1);
        check_one(b, &(ioreq_t){ .addr = start - size / 2, .size = size,
                                 .count = 1, .type = IOREQ_TYPE_COPY }, -1);
    }
    check_one(b, &(ioreq_t){ .addr = MMIO_BASE - 8, .size = 8, .count = 1,
                             .type = IOREQ_TYPE_COPY }, -1);
    /* A rep that runs from the first byte of a range to its last is inside. */
    check_one(b, &(ioreq_t){ .addr = MMIO_BASE, .size = 4, .count = RANGE_BYTES / 4,
                             .type = IOREQ_TYPE_COPY }, (int)range_owner(0));
    domain_unlock(b->d);
}

/* ---- main ------------------------------------------------------------- */

enum { INDEX, LINEAR, NR_METHODS };

int main(int argc, char **argv)
{
    bool quick = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    double target_ns = quick ? QUICK_TARGET_NS : REP_TARGET_NS;
    int reps = quick ? 1 : REPETITIONS;

    /* Every set-up exists at once so that repetitions can be interleaved. */
    struct bench *bench[NR_CELLS];
    struct timing timing[NR_CELLS][NR_METHODS];
    for (unsigned int c = 0; c < NR_CELLS; c++) {
        bench[c] = calloc(1, sizeof(*bench[c]));
        if (!bench[c])
            die("calloc", -ENOMEM);
        bench_setup(bench[c], range_counts[c]);
        make_accesses(bench[c], 0x9e3779b97f4a7c15ull);
        check_agreement(bench[c], 0xd1b54a32d192ed03ull);
        timing[c][INDEX] = calibrate(bench[c], pass_index, target_ns);
        timing[c][LINEAR] = calibrate(bench[c], pass_linear, target_ns);
    }

    /*
     * Round-robin over cells and methods, so that a burst of noise from the
     * rest of the machine spoils one repetition of a cell, not all of them.
     */
    for (int r = 0; r < reps; r++)
        for (unsigned int c = 0; c < NR_CELLS; c++)
            for (unsigned int m = 0; m < NR_METHODS; m++)
                time_once(bench[c], &timing[c][m]);

    for (unsigned int c = 0; c < NR_CELLS; c++) {
        bench_teardown(bench[c]);
        free(bench[c]);
    }

    printf("Server selection for one MMIO access: %u enabled servers, ranges of "
           "%u bytes spread round-robin,\n%u random in-range accesses (sizes "
           "1/2/4/8), best of %d repetition%s; both methods agreed on every "
           "access.\n\n",
           HVIO_MAX_SERVERS, RANGE_BYTES, NR_ACCESSES, reps, reps > 1 ? "s" : "");
    printf("%8s  %18s  %19s  %13s  %18s\n", "ranges", "index ns/lookup",
           "linear ns/lookup", "linear/index", "index(N)/index(1)");
    for (unsigned int c = 0; c < NR_CELLS; c++) {
        double index_ns = timing[c][INDEX].best_ns;
        double linear_ns = timing[c][LINEAR].best_ns;

        printf("%8u  %18.2f  %19.2f  %12.1fx  %17.2fx\n", range_counts[c],
               index_ns, linear_ns, linear_ns / index_ns,
               index_ns / timing[0][INDEX].best_ns);
    }

    const unsigned int last = NR_CELLS - 1;
    double growth = timing[last][INDEX].best_ns / timing[0][INDEX].best_ns;
    double speedup = timing[last][LINEAR].best_ns / timing[last][INDEX].best_ns;
    bool growth_ok = growth <= GOAL_INDEX_GROWTH;
    bool speedup_ok = speedup >= GOAL_SPEEDUP;

    printf("\nGoal at %u ranges: index within %.0fx of 1 range: %.2fx, %s; "
           "index at least %.0fx faster than linear: %.1fx, %s.\n",
           range_counts[last], GOAL_INDEX_GROWTH, growth, growth_ok ? "met" : "NOT met",
           GOAL_SPEEDUP, speedup, speedup_ok ? "met" : "NOT met");
    if (quick)
        printf("(--quick: one short repetition per cell; the timings are not "
               "meaningful.)\n");
    return 0;
}
