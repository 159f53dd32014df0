/* The simulated event channel table against Xen's and Linux's semantics. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
    /* Lazy unmasking: client A's queued unmask requests, its waiting count. */
    evtchn_port_t queued[8];
    unsigned int nr_queued, takes;
    int waiting;
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

/* Two fake client identities: only their addresses matter to the table. */
static char client_a, client_b;
#define A ((struct evtchn_client *)&client_a)
#define B ((struct evtchn_client *)&client_b)

/* Client A's unmask requests, as the daemon reads them off its event socket. */
static unsigned int take_unmasks(void *ctx, struct evtchn_client *c, evtchn_port_t *ports,
                                 unsigned int max)
{
    struct recorder *r = ctx;
    unsigned int n = c == A && r->nr_queued < max ? r->nr_queued : 0;

    r->takes++;
    for (unsigned int i = 0; i < n; i++)
        ports[i] = r->queued[i];
    r->nr_queued -= n;
    return n;
}

static void waiting(void *ctx, struct evtchn_client *c, int delta)
{
    struct recorder *r = ctx;

    assert_ptr_equal(c, A);
    r->waiting += delta;
    assert_true(r->waiting >= 0);
}

struct world {
    struct recorder rec;
    struct evtchn_table *t;
};

static int setup_with(void **state, bool lazy)
{
    static struct world w;

    w = (struct world){ 0 };
    struct evtchn_callbacks cb = { .ctx = &w.rec, .deliver = deliver, .kick = kick };
    if (lazy) {
        cb.take_unmasks = take_unmasks;
        cb.waiting = waiting;
    }
    assert_int_equal(evtchn_table_new(&cb, &w.t), 0);
    assert_int_equal(evtchn_domain_add(w.t, DOM0), 0);
    assert_int_equal(evtchn_domain_add(w.t, GUEST), 0);
    *state = &w;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, false);
}

static int setup_lazy(void **state)
{
    return setup_with(state, true);
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
    evtchn_unmask(w->t, A, DOM0, lport);
    assert_int_equal(w->rec.delivered, 2);
    evtchn_unmask(w->t, A, DOM0, lport);
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
    /* Unmasking someone else's port does nothing. */
    evtchn_unmask(w->t, B, DOM0, lport);
    assert_int_equal(w->rec.delivered, 3);
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
 * Lazy unmasking: unmask requests wait in the client's queue until an event
 * finds the port masked (then they are taken first), or, while an event is
 * latched on a masked port ("waiting"), until the daemon takes them.
 */
static void test_lazy_unmask(void **state)
{
    struct world *w = *state;
    struct evtchn_binding b;
    int gport = evtchn_alloc_hypervisor(w->t, GUEST, 0, DOM0);
    int lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);

    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 1);
    assert_int_equal(w->rec.takes, 0); /* not masked: nothing to take */

    /* The client unmasked before the next event: that event is delivered. */
    w->rec.queued[w->rec.nr_queued++] = (evtchn_port_t)lport;
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.delivered, 2);
    assert_int_equal(w->rec.nr_queued, 0);
    assert_int_equal(w->rec.waiting, 0);

    /* It did not: the event is latched, once, and the client is waiting. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    unsigned int takes = w->rec.takes;
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.takes, takes); /* latched already: no need to look */
    assert_int_equal(w->rec.delivered, 2);
    assert_int_equal(w->rec.waiting, 1);

    /* Its unmask, taken by the daemon, delivers the latched event. */
    w->rec.queued[w->rec.nr_queued++] = (evtchn_port_t)lport;
    evtchn_client_take_unmasks(w->t, A, DOM0);
    assert_int_equal(w->rec.delivered, 3);
    assert_ptr_equal(w->rec.to, A);
    assert_int_equal(w->rec.port, lport);
    assert_int_equal(w->rec.waiting, 0);

    /* Latched events do not outlive their port. */
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.waiting, 1);
    evtchn_client_release(w->t, A);
    assert_int_equal(w->rec.waiting, 0);
    lport = evtchn_bind_interdomain(w->t, A, DOM0, GUEST, gport, &b);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    evtchn_send_hypervisor(w->t, GUEST, gport);
    assert_int_equal(w->rec.waiting, 1);
    evtchn_domain_remove(w->t, GUEST);
    assert_int_equal(w->rec.waiting, 0);
    assert_int_equal(w->rec.delivered, 4);
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
        cmocka_unit_test_setup_teardown(test_lazy_unmask, setup_lazy, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
