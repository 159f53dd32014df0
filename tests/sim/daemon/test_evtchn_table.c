/*
 * The simulated event channel table against Xen's and Linux's semantics,
 * and the event page protocol (xensim_proto.h) between it and a client,
 * single-stepped and hammered from three threads.
 */
#define _GNU_SOURCE
/* The daemon's steps, called directly here, let the client in between (test_race_windows). */
static void step(void);
#define XENSIM_EVTCHN_STEP() step()

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evtchn_table.h"

#define GUEST 5
#define DOM0 0

struct recorder {
    unsigned int delivered;
    struct evtchn_client *to;
    evtchn_port_t port;
    unsigned int kicks;
    domid_t kick_domid;
    unsigned int kick_vcpu;
};

static void deliver(void *ctx, struct evtchn_client *c, evtchn_port_t port)
{
    struct recorder *r = ctx;

    r->delivered++;
    r->to = c;
    r->port = port;
}

static void kick(void *ctx, domid_t domid, unsigned int vcpu)
{
    struct recorder *r = ctx;

    r->kicks++;
    r->kick_domid = domid;
    r->kick_vcpu = vcpu;
}

/* Two fake clients, each with its event page. */
static struct xensim_evtchn_page page_a, page_b;
static struct evtchn_client client_a = { &page_a }, client_b = { &page_b };
#define A (&client_a)
#define B (&client_b)

struct world {
    struct recorder rec;
    struct evtchn_table *t;
};

static int setup(void **state)
{
    static struct world w;

    w = (struct world){ 0 };
    memset(&page_a, 0, sizeof(page_a));
    memset(&page_b, 0, sizeof(page_b));
    struct evtchn_callbacks cb = { .ctx = &w.rec, .deliver = deliver, .kick = kick };
    assert_int_equal(evtchn_table_new(&cb, &w.t), 0);
    assert_int_equal(evtchn_domain_add(w.t, DOM0), 0);
    assert_int_equal(evtchn_domain_add(w.t, GUEST), 0);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    evtchn_table_free(w->t);
    return 0;
}

static void assert_state(struct evtchn_table *t, domid_t d, evtchn_port_t p,
                         enum evtchn_state want, domid_t want_remote)
{
    enum evtchn_state s;
    domid_t remote;

    assert_int_equal(evtchn_port_state(t, d, p, &s, &remote), 0);
    assert_int_equal(s, want);
    if (want != EVTCHN_FREE)
        assert_int_equal(remote, want_remote);
}

/* What bits does `port` have in the page? */
static bool masked(const struct xensim_evtchn_page *pg, evtchn_port_t port)
{
    return __atomic_load_n(&pg->masked[port / 64], __ATOMIC_SEQ_CST) >> (port % 64) & 1;
}

static bool latched(const struct xensim_evtchn_page *pg, evtchn_port_t port)
{
    return __atomic_load_n(&pg->pending[port / 64], __ATOMIC_SEQ_CST) >> (port % 64) & 1;
}

/* xenevtchn_unmask() as the drop-in does it, its unmask record handled at once. */
static void client_unmask(struct world *w, struct evtchn_client *c, evtchn_port_t port)
{
    if (xensim_evtchn_unmask(c->page, port))
        evtchn_unmask(w->t, c, DOM0, port);
}

static void test_hypervisor_port_binds_once_for_its_remote(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 1, DOM0);

    assert_true(gport > 0);
    assert_state(w->t, GUEST, gport, EVTCHN_UNBOUND, DOM0);
    /* Only the named remote domain may bind it. */
    assert_int_equal(evtchn_domain_add(w->t, 7), 0);
    assert_int_equal(evtchn_bind_interdomain(w->t, A, 7, GUEST, gport, &b), -EINVAL);

    int lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);
    assert_true(lport > 0);
    assert_int_equal(b.local_port, lport);
    assert_true(b.peer_is_hypervisor);
    assert_int_equal(b.peer_domid, GUEST);
    assert_int_equal(b.peer_vcpu, 1);
    assert_state(w->t, GUEST, gport, EVTCHN_INTERDOMAIN, DOM0);
    /* Bound now: a second bind fails. */
    assert_int_equal(evtchn_bind_interdomain(w->t, B, DOM0, GUEST, gport, &b), -EINVAL);
    /* Bad ports and domains. */
    assert_int_equal(evtchn_bind_interdomain(w->t, B, DOM0, GUEST, 0, &b), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(w->t, B, DOM0, GUEST, 99999, &b), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(w->t, B, DOM0, 3, 1, &b), -ESRCH);
}

static void test_events_flow_both_ways_with_linux_masking(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    int lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);

    /* Hypervisor -> client: delivered once, then masked. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 1);
    assert_ptr_equal(w->rec.to, A);
    assert_int_equal(w->rec.port, lport);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 1);
    /* Unmask delivers the latched event (once) and stays masked. */
    client_unmask(w, A, lport);
    assert_int_equal(w->rec.delivered, 2);
    client_unmask(w, A, lport);
    assert_int_equal(w->rec.delivered, 2);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 3);

    /* Client -> hypervisor: kicks the vCPU the port belongs to. */
    assert_int_equal(evtchn_notify(w->t, A, DOM0, lport), 0);
    assert_int_equal(w->rec.kicks, 1);
    assert_int_equal(w->rec.kick_domid, GUEST);
    assert_int_equal(w->rec.kick_vcpu, 0);
    /* Not B's port: as Linux's evtchn device, ENOTCONN. */
    assert_int_equal(evtchn_notify(w->t, B, DOM0, lport), -ENOTCONN);
    assert_int_equal(evtchn_unbind(w->t, B, DOM0, lport), -ENOTCONN);
    /* Unmasking someone else's port does nothing, even with an event latched. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_true(latched(&page_a, lport));
    client_unmask(w, B, lport);
    evtchn_unmask(w->t, B, DOM0, lport); /* a stray unmask record */
    assert_int_equal(w->rec.delivered, 3);
    assert_true(masked(&page_a, lport) && latched(&page_a, lport));
}

static void test_unbind_and_client_death_return_port_to_unbound(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    int lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);

    assert_int_equal(evtchn_unbind(w->t, A, DOM0, lport), 0);
    assert_state(w->t, GUEST, gport, EVTCHN_UNBOUND, DOM0);
    assert_state(w->t, DOM0, lport, EVTCHN_FREE, 0);

    /* A restarted emulator binds again; then it dies without unbinding. */
    lport = evtchn_bind_interdomain(w->t, B, DOM0, GUEST, gport, &b);
    assert_true(lport > 0);
    evtchn_client_release(w->t, B);
    assert_state(w->t, GUEST, gport, EVTCHN_UNBOUND, DOM0);
    assert_state(w->t, DOM0, lport, EVTCHN_FREE, 0);
    /* Events sent to an unbound port are dropped. */
    unsigned int before = w->rec.delivered;
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, before);
    assert_true(evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b) > 0);
}

static void test_freeing_or_removing_the_hypervisor_end(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    int lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);

    /* The server goes: the client's end becomes unbound, still its own. */
    evtchn_free_hypervisor(w->t, GUEST, gport);
    assert_state(w->t, GUEST, gport, EVTCHN_FREE, 0);
    assert_state(w->t, DOM0, lport, EVTCHN_UNBOUND, GUEST);
    assert_int_equal(evtchn_notify(w->t, A, DOM0, lport), 0);
    assert_int_equal(w->rec.kicks, 0);
    assert_int_equal(evtchn_unbind(w->t, A, DOM0, lport), 0);

    /* The guest goes: same for every port of it. */
    gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);
    evtchn_domain_remove(w->t, GUEST);
    assert_state(w->t, DOM0, lport, EVTCHN_UNBOUND, GUEST);
    assert_int_equal(evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0), -ESRCH);
    assert_int_equal(evtchn_domain_add(w->t, DOM0), -EEXIST);
}

static void test_client_to_client_channel(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int a_port = evtchn_bind_unbound(w->t, A, DOM0, DOM0);
    int b_port = evtchn_bind_interdomain(w->t, B, DOM0, DOM0, a_port, &b);

    assert_true(a_port > 0 && b_port > 0);
    assert_false(b.peer_is_hypervisor);
    assert_int_equal(evtchn_notify(w->t, B, DOM0, b_port), 0);
    assert_int_equal(w->rec.delivered, 1);
    assert_ptr_equal(w->rec.to, A);
    assert_int_equal(w->rec.port, a_port);
    assert_int_equal(evtchn_notify(w->t, A, DOM0, a_port), 0);
    assert_int_equal(w->rec.delivered, 2);
    assert_ptr_equal(w->rec.to, B);
    assert_int_equal(w->rec.port, b_port);
}

static void test_port_space_exhaustion(void **state)
{
    struct world *w = *state;
    int last = 0;

    for (unsigned int i = 1; i < EVTCHN_PORTS_PER_DOMAIN; i++) {
        last = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
        assert_true(last > 0);
    }
    assert_int_equal(evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0), -ENOSPC);
    evtchn_free_hypervisor(w->t, GUEST, (evtchn_port_t)last);
    assert_int_equal(evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0), last);
}

/*
 * The event page, step by step: the bits each side sets, when a client's
 * unmask needs the daemon (an unmask record), and what records do.
 */
static void test_event_page_bits(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    evtchn_port_t lport = (evtchn_port_t)evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);

    assert_false(masked(&page_a, lport) || latched(&page_a, lport));
    /* Delivered: masked.  Unmasked with nothing latched: no record. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 1);
    assert_true(masked(&page_a, lport));
    assert_false(latched(&page_a, lport));
    assert_false(xensim_evtchn_unmask(&page_a, lport));
    assert_false(masked(&page_a, lport));
    /* Unmasking an unmasked port changes nothing. */
    assert_false(xensim_evtchn_unmask(&page_a, lport));
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 2);

    /* Events while masked: latched once.  The unmask needs a record... */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_true(latched(&page_a, lport));
    assert_true(xensim_evtchn_unmask(&page_a, lport));
    assert_int_equal(w->rec.delivered, 2);
    /* ...which delivers, masks again and clears the latch; once. */
    evtchn_unmask(w->t, A, DOM0, lport);
    assert_int_equal(w->rec.delivered, 3);
    assert_true(masked(&page_a, lport));
    assert_false(latched(&page_a, lport));
    evtchn_unmask(w->t, A, DOM0, lport);
    assert_int_equal(w->rec.delivered, 3);

    /*
     * A record overtaken by an event: that event is delivered at once and
     * covers the latched one; the record then finds the port masked, and
     * nothing more is delivered after the next unmask either.
     */
    evtchn_send_hypervisor(w->t, GUEST, gport); /* latched */
    assert_true(xensim_evtchn_unmask(&page_a, lport));
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 4);
    assert_false(latched(&page_a, lport));
    evtchn_unmask(w->t, A, DOM0, lport);
    assert_int_equal(w->rec.delivered, 4);
    assert_false(xensim_evtchn_unmask(&page_a, lport));
    assert_int_equal(w->rec.delivered, 4);

    /*
     * A stale record finding the port masked again with a new event latched
     * leaves that event for the next unmask.
     */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 5);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    evtchn_unmask(w->t, A, DOM0, lport);
    assert_int_equal(w->rec.delivered, 5);
    assert_true(latched(&page_a, lport));
    client_unmask(w, A, lport);
    assert_int_equal(w->rec.delivered, 6);

    /* The latch race: the client unmasked after the daemon saw the port masked,
     * and before it latched: whoever looks second delivers.  Here the daemon. */
    __atomic_fetch_and(&page_a.masked[lport / 64], ~((uint64_t)1 << lport % 64),
                       __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&page_a.pending[lport / 64], (uint64_t)1 << lport % 64,
                      __ATOMIC_SEQ_CST);
    assert_true(xensim_evtchn_take_latched(&page_a, lport));
    assert_false(xensim_evtchn_take_latched(&page_a, lport)); /* claimed once */
    assert_true(masked(&page_a, lport));

    /* Closing a port clears its bits; so does binding one. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_true(latched(&page_a, lport));
    evtchn_free_hypervisor(w->t, GUEST, gport);
    assert_false(masked(&page_a, lport) || latched(&page_a, lport));
    assert_int_equal(evtchn_unbind(w->t, A, DOM0, lport), 0);
    page_b.masked[lport / 64] = page_b.pending[lport / 64] = ~(uint64_t)0;
    gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    assert_int_equal(evtchn_bind_interdomain(w->t, B, DOM0, GUEST, gport, &b), lport);
    assert_false(masked(&page_b, lport) || latched(&page_b, lport));
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 7);
    assert_ptr_equal(w->rec.to, B);
}

/*
 * The race windows, exhaustively: an event arrives at a port the client
 * holds (masked, maybe with an event latched) while the client unmasks it.
 * The client's unmask is two steps, X (clear masked) and Y (read pending;
 * if set, send a record); the daemon's raise() runs with X and Y put at
 * every pair of its step boundaries (XENSIM_EVTCHN_STEP).  Whatever the
 * order: exactly one delivery, the port masked, nothing left latched.
 */
static struct {
    struct xensim_evtchn_page *pg;
    evtchn_port_t port;
    unsigned int now, x_at, y_at; /* steps taken; where X and Y go */
    bool x_done, y_done, record;
} race;

static void client_steps(void)
{
    if (!race.x_done && race.now >= race.x_at) {
        __atomic_fetch_and(&race.pg->masked[race.port / 64], ~((uint64_t)1 << race.port % 64),
                           __ATOMIC_SEQ_CST);
        race.x_done = true;
    }
    if (race.x_done && !race.y_done && race.now >= race.y_at) {
        race.record = latched(race.pg, race.port);
        race.y_done = true;
    }
}

static void step(void)
{
    if (!race.pg)
        return;
    race.now++;
    client_steps();
}

static void test_race_windows(void **state)
{
    (void)state;
    static struct xensim_evtchn_page pg;
    const evtchn_port_t port = 70;
    unsigned int runs = 0;

    for (int was_latched = 0; was_latched < 2; was_latched++) {
        for (unsigned int x = 0; x <= 5; x++) {
            for (unsigned int y = x; y <= 5; y++) {
                memset(&pg, 0, sizeof(pg));
                pg.masked[port / 64] = (uint64_t)1 << port % 64;
                if (was_latched)
                    pg.pending[port / 64] = (uint64_t)1 << port % 64;
                race = (typeof(race)){ .pg = &pg, .port = port, .x_at = x, .y_at = y };
                client_steps(); /* step 0: before the event */
                unsigned int delivered = xensim_evtchn_raise(&pg, port);
                race.now = 5; /* the rest of the client's unmask (if any), after the event */
                client_steps();
                race.pg = NULL;
                assert_true(race.x_done && race.y_done);
                if (race.record && xensim_evtchn_take_latched(&pg, port))
                    delivered++;
                if (delivered != 1 || !masked(&pg, port) || latched(&pg, port))
                    fail_msg("latched %d, X at %u, Y at %u: %u deliveries, masked %d, latched %d",
                             was_latched, x, y, delivered, masked(&pg, port), latched(&pg, port));
                /* And a late record (a second unmask's, or a stray one) changes nothing. */
                assert_false(xensim_evtchn_take_latched(&pg, port));
                runs++;
            }
        }
    }
    assert_int_equal(runs, 2 * 21);
}

/* ---- deliveries against unmasks, from three threads ---- */

#define STRESS_PORTS 5      /* of client A; all in the page's first word */
#define STRESS_ROUNDS 40000
#define STRESS_WAIT_NS 2000000000L /* for the delivery covering a round's events */

/*
 * A "vCPU" sends events on hypervisor ports; the "client" reads ports off
 * its event socket and unmasks them as the drop-in does, writing unmask
 * records to the "daemon", which hands them to the table.  Each round the
 * vCPU sends one to three events to one port, then waits until the client
 * has seen a delivery that came after the last of them: every event is the
 * last one for a while, so a lost one shows.  It sends the next round the
 * moment the client notes the delivery, i.e. while the client unmasks: the
 * latch and the unmask race.
 */
struct stress {
    struct evtchn_table *t;
    int gport[STRESS_PORTS];
    evtchn_port_t lport[STRESS_PORTS];
    int events[2];                /* [0]: the daemon's end, [1]: the client's */
    int records[2];               /* [0]: the daemon reads, [1]: the client writes */
    /* Atomics. */
    unsigned long sent[STRESS_PORTS];    /* events sent so far */
    unsigned long covered[STRESS_PORTS]; /* `sent` seen right after the last delivery */
    bool held[STRESS_PORTS];             /* delivered, not unmasked yet */
    bool done;                           /* every round sent */
    unsigned long doubled;               /* deliveries of a held port */
    unsigned long lost;                  /* rounds whose events were never delivered */
    unsigned long errors;                /* unexpected ports, failed writes */
    /* Under the table's lock: deliveries, by the thread that made them. */
    unsigned long by_vcpu, by_daemon;
    /* The client's (its thread's, then the main thread's once it is joined). */
    unsigned long delivered[STRESS_PORTS], records_sent;
    unsigned int seed;
};

static __thread bool in_vcpu;

static void stress_error(struct stress *st)
{
    __atomic_fetch_add(&st->errors, 1, __ATOMIC_SEQ_CST);
}

static unsigned int stress_index(struct stress *st, uint32_t port)
{
    unsigned int i = 0;

    while (i < STRESS_PORTS && st->lport[i] != port)
        i++;
    if (i == STRESS_PORTS)
        stress_error(st);
    return i;
}

/* Under the table's lock. */
static void stress_deliver(void *ctx, struct evtchn_client *c, evtchn_port_t port)
{
    struct stress *st = ctx;
    uint32_t p = port;
    unsigned int i = stress_index(st, p);

    if (c != A || i == STRESS_PORTS)
        stress_error(st);
    else if (__atomic_exchange_n(&st->held[i], true, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&st->doubled, 1, __ATOMIC_SEQ_CST);
    if (in_vcpu)
        st->by_vcpu++;
    else
        st->by_daemon++;
    if (write(st->events[0], &p, sizeof(p)) != sizeof(p))
        stress_error(st);
}

static void stress_kick(void *ctx, domid_t domid, unsigned int vcpu)
{
    (void)domid, (void)vcpu;
    stress_error(ctx); /* no event goes to the hypervisor here */
}

static long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *stress_vcpu(void *arg)
{
    struct stress *st = arg;
    unsigned int seed = 12345;

    in_vcpu = true;
    for (unsigned long round = 0; round < STRESS_ROUNDS; round++) {
        unsigned int r = (seed = seed * 1103515245u + 12345u) >> 8, i = r % STRESS_PORTS;
        unsigned long n = 1 + r / STRESS_PORTS % 3;

        for (unsigned long k = 0; k < n; k++) {
            /* A little later each time: the sends land all over the client's unmask. */
            for (volatile unsigned int spin = (r >> (4 * k)) % 256; spin; spin--)
                ;
            __atomic_fetch_add(&st->sent[i], 1, __ATOMIC_SEQ_CST);
            evtchn_send_hypervisor(st->t, GUEST, (evtchn_port_t)st->gport[i]);
        }
        /* Spin first, to start the next round as the client unmasks; then yield. */
        unsigned long want = __atomic_load_n(&st->sent[i], __ATOMIC_SEQ_CST);
        long deadline = now_ns() + STRESS_WAIT_NS;
        for (unsigned int spins = 0;
             __atomic_load_n(&st->covered[i], __ATOMIC_SEQ_CST) != want; spins++) {
            if (spins < 100000)
                continue;
            if (now_ns() > deadline) {
                __atomic_fetch_add(&st->lost, 1, __ATOMIC_SEQ_CST);
                break;
            }
            sched_yield();
        }
    }
    __atomic_store_n(&st->done, true, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The client takes one delivered port; with `direct`, its record is handled inline. */
static void stress_take(struct stress *st, uint32_t port, bool direct)
{
    unsigned int i = stress_index(st, port);

    if (i == STRESS_PORTS)
        return;
    st->delivered[i]++;
    __atomic_store_n(&st->held[i], false, __ATOMIC_SEQ_CST); /* about to unmask */
    __atomic_store_n(&st->covered[i], __atomic_load_n(&st->sent[i], __ATOMIC_SEQ_CST),
                     __ATOMIC_SEQ_CST);
    /* The vCPU sends again now: unmask a little later or sooner than it. */
    st->seed = st->seed * 1103515245u + 12345u;
    for (volatile unsigned int spin = st->seed >> 8 & 255; spin; spin--)
        ;
    if (xensim_evtchn_unmask(&page_a, port)) {
        st->records_sent++;
        if (direct)
            evtchn_unmask(st->t, A, DOM0, port);
        else if (write(st->records[1], &port, sizeof(port)) != sizeof(port))
            stress_error(st);
    }
}

static void *stress_client(void *arg)
{
    struct stress *st = arg;
    struct pollfd pfd = { .fd = st->events[1], .events = POLLIN };

    for (;;) {
        /* Once everything is sent, a quiet socket ends it (the main thread mops up). */
        int n = poll(&pfd, 1, __atomic_load_n(&st->done, __ATOMIC_SEQ_CST) ? 100 : 1000);
        if (n == 0 && __atomic_load_n(&st->done, __ATOMIC_SEQ_CST))
            break;
        if (n <= 0)
            continue;
        uint32_t port;
        if (read(st->events[1], &port, sizeof(port)) != sizeof(port)) {
            stress_error(st);
            break;
        }
        stress_take(st, port, false);
    }
    return NULL;
}

static void *stress_daemon(void *arg)
{
    struct stress *st = arg;
    uint32_t port;

    /* Until the client's end is closed. */
    while (read(st->records[0], &port, sizeof(port)) == sizeof(port))
        evtchn_unmask(st->t, A, DOM0, port);
    return NULL;
}

static void test_stress_deliver_vs_unmask(void **state)
{
    (void)state;
    static struct stress st;
    struct evtchn_callbacks cb = { .ctx = &st, .deliver = stress_deliver, .kick = stress_kick };
    struct evtchn_binding b;

    st = (struct stress){ 0 };
    memset(&page_a, 0, sizeof(page_a));
    assert_int_equal(evtchn_table_new(&cb, &st.t), 0);
    assert_int_equal(evtchn_domain_add(st.t, DOM0), 0);
    assert_int_equal(evtchn_domain_add(st.t, GUEST), 0);
    for (unsigned int i = 0; i < STRESS_PORTS; i++) {
        st.gport[i] = evtchn_alloc_hypervisor(st.t, GUEST, 0, DOM0);
        assert_true(st.gport[i] > 0);
        st.lport[i] = (evtchn_port_t)evtchn_bind_interdomain(st.t, A, DOM0, GUEST,
                                                             (evtchn_port_t)st.gport[i], &b);
        assert_true(st.lport[i] > 0 && st.lport[i] < 64);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st.events), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st.records), 0);

    pthread_t vcpu, client, daemon;
    assert_int_equal(pthread_create(&daemon, NULL, stress_daemon, &st), 0);
    assert_int_equal(pthread_create(&client, NULL, stress_client, &st), 0);
    assert_int_equal(pthread_create(&vcpu, NULL, stress_vcpu, &st), 0);
    pthread_join(vcpu, NULL);
    pthread_join(client, NULL);
    close(st.records[1]);
    pthread_join(daemon, NULL);

    /* Deliveries that came late (records handled after the client stopped): none expected. */
    unsigned long late = 0;
    uint32_t port;
    while (recv(st.events[1], &port, sizeof(port), MSG_DONTWAIT) == sizeof(port)) {
        stress_take(&st, port, true);
        late++;
    }

    unsigned long total = 0, sent = 0;
    for (unsigned int i = 0; i < STRESS_PORTS; i++) {
        /* No loss: the last event is followed by a delivery; nothing is left latched. */
        assert_int_equal(st.covered[i], st.sent[i]);
        assert_false(latched(&page_a, st.lport[i]));
        assert_false(masked(&page_a, st.lport[i]));
        /* No duplicates: at most one delivery per event. */
        assert_true(st.delivered[i] >= 1 && st.delivered[i] <= st.sent[i]);
        total += st.delivered[i];
        sent += st.sent[i];
    }
    print_message("%lu events, %lu deliveries (%lu by the vCPU, %lu on unmask records), "
                  "%lu records, %lu late, %lu lost, %lu doubled\n", sent, total, st.by_vcpu,
                  st.by_daemon, st.records_sent, late, st.lost, st.doubled);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.doubled, 0);
    assert_int_equal(st.errors, 0);
    assert_int_equal(late, 0);
    assert_int_equal(total, st.by_vcpu + st.by_daemon);

    for (int i = 0; i < 2; i++)
        close(st.events[i]);
    close(st.records[0]);
    evtchn_table_free(st.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hypervisor_port_binds_once_for_its_remote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_flow_both_ways_with_linux_masking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unbind_and_client_death_return_port_to_unbound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeing_or_removing_the_hypervisor_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_to_client_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_space_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_page_bits, setup, teardown),
        cmocka_unit_test(test_race_windows),
        cmocka_unit_test(test_stress_deliver_vs_unmask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
