/*
 * The core under real threads: vCPU threads emulating accesses, an
 * emulator thread answering them, and a control thread creating,
 * destroying and re-ranging a second server at the same time.  Checks the
 * locking and the vcpu_block/vcpu_kick contract rather than any one
 * semantic: every answer must be right or a defined "unhandled", nothing
 * may hang, crash or leak.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvio.h"

#define GUEST 1
#define NR_VCPUS 4
#define ACCESSES_PER_VCPU 20000
#define STABLE_PORT 0x100 /* served by server "A" throughout */
#define CHURN_PORT 0x200  /* served by server "B", which comes and goes */
#define MAX_PORTS 1024

struct hvio_lock {
    pthread_mutex_t mutex;
};

struct wake {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool kicked;
};

struct world {
    struct hvio_platform_ops ops;
    struct hvio_host *host;

    pthread_mutex_t ports_mutex;
    bool port_used[MAX_PORTS];
    unsigned int port_vcpu[MAX_PORTS];

    /* Pages the emulator thread serves, registered by the control side. */
    pthread_mutex_t pages_mutex;
    shared_iopage_t *pages[HVIO_MAX_SERVERS];
    struct wake emulator;

    struct wake vcpu[NR_VCPUS];
    bool stop;
    unsigned int crashes;
};

static void wake_init(struct wake *w)
{
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->kicked = false;
}

static void wake_kick(struct wake *w)
{
    pthread_mutex_lock(&w->mutex);
    w->kicked = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mutex);
}

static void wake_wait(struct wake *w)
{
    pthread_mutex_lock(&w->mutex);
    while (!w->kicked)
        pthread_cond_wait(&w->cond, &w->mutex);
    w->kicked = false;
    pthread_mutex_unlock(&w->mutex);
}

static void *p_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

static void p_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void *p_page_alloc(void *ctx)
{
    (void)ctx;
    void *p = aligned_alloc(HVIO_PAGE_SIZE, HVIO_PAGE_SIZE);
    if (p)
        memset(p, 0, HVIO_PAGE_SIZE);
    return p;
}

static int p_evtchn_alloc(void *ctx, domid_t domid, unsigned int vcpu_id,
                          domid_t remote)
{
    struct world *w = ctx;
    int port = -ENOSPC;

    (void)domid;
    (void)remote;
    pthread_mutex_lock(&w->ports_mutex);
    for (unsigned int p = 1; p < MAX_PORTS; p++) {
        if (!w->port_used[p]) {
            w->port_used[p] = true;
            w->port_vcpu[p] = vcpu_id;
            port = (int)p;
            break;
        }
    }
    pthread_mutex_unlock(&w->ports_mutex);
    return port;
}

static void p_evtchn_free(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct world *w = ctx;

    (void)domid;
    pthread_mutex_lock(&w->ports_mutex);
    assert_true(w->port_used[port]);
    w->port_used[port] = false;
    pthread_mutex_unlock(&w->ports_mutex);
}

static void p_notify(void *ctx, domid_t domid, evtchn_port_t port)
{
    struct world *w = ctx;

    (void)domid;
    (void)port;
    wake_kick(&w->emulator);
}

static void p_block(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct world *w = ctx;

    (void)domid;
    wake_wait(&w->vcpu[vcpu_id]);
}

static void p_kick(void *ctx, domid_t domid, unsigned int vcpu_id)
{
    struct world *w = ctx;

    (void)domid;
    wake_kick(&w->vcpu[vcpu_id]);
}

static void p_nop_domain(void *ctx, domid_t domid)
{
    (void)ctx;
    (void)domid;
}

static void p_crash(void *ctx, domid_t domid, const char *why)
{
    struct world *w = ctx;

    (void)domid;
    (void)why;
    __atomic_add_fetch(&w->crashes, 1, __ATOMIC_RELAXED);
}

static struct hvio_lock *p_lock_new(void *ctx)
{
    struct hvio_lock *l = malloc(sizeof(*l));

    (void)ctx;
    if (l)
        pthread_mutex_init(&l->mutex, NULL);
    return l;
}

static void p_lock_free(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_destroy(&l->mutex);
    free(l);
}

static void p_lock(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_lock(&l->mutex);
}

static void p_unlock(void *ctx, struct hvio_lock *l)
{
    (void)ctx;
    pthread_mutex_unlock(&l->mutex);
}

static uint64_t answer_for(uint64_t addr)
{
    return (addr * 7 + 3) & 0xff;
}

/*
 * The emulator: answers every READY slot of every registered page.  Pages
 * are only unregistered (and their servers destroyed) under pages_mutex,
 * so a page is never read after it was freed.
 */
static void *emulator_thread(void *arg)
{
    struct world *w = arg;

    for (;;) {
        wake_wait(&w->emulator);
        if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
            return NULL;
        pthread_mutex_lock(&w->pages_mutex);
        for (unsigned int s = 0; s < HVIO_MAX_SERVERS; s++) {
            shared_iopage_t *page = w->pages[s];

            for (unsigned int v = 0; page && v < NR_VCPUS; v++) {
                ioreq_t *slot = &page->vcpu_ioreq[v];
                uint8_t *flags = (uint8_t *)slot + 30;

                if ((__atomic_load_n(flags, __ATOMIC_ACQUIRE) & 0xf) != STATE_IOREQ_READY)
                    continue;
                slot->data = answer_for(slot->addr);
                __atomic_store_n(flags, (uint8_t)((*flags & ~0xf) | STATE_IORESP_READY),
                                 __ATOMIC_RELEASE);
                p_kick(w, GUEST, v); /* the emulator's notify wakes that vCPU */
            }
        }
        pthread_mutex_unlock(&w->pages_mutex);
    }
}

struct vcpu_arg {
    struct world *w;
    unsigned int id;
    unsigned int wrong, unhandled_stable;
};

static void *vcpu_thread(void *arg)
{
    struct vcpu_arg *a = arg;
    struct hvio_vcpu *v;

    assert_int_equal(hvio_vcpu_get(a->w->host, GUEST, a->id, &v), 0);
    for (unsigned int i = 0; i < ACCESSES_PER_VCPU; i++) {
        uint64_t port = (i & 1 ? CHURN_PORT : STABLE_PORT) + (i % 8);
        ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = port, .size = 1,
                      .count = 1, .dir = IOREQ_READ };
        int rc = hvio_emulate(v, &p);

        if (rc == HVIO_EMULATED && p.data != answer_for(port))
            a->wrong++;
        else if (rc == HVIO_UNHANDLED && p.data != 0xff)
            a->wrong++;
        else if (rc < 0)
            a->wrong++;
        if (rc == HVIO_UNHANDLED && port < CHURN_PORT)
            a->unhandled_stable++;
    }
    hvio_vcpu_put(v);
    return NULL;
}

static int dm(struct world *w, struct xen_dm_op *op)
{
    return hvio_dm_op(w->host, 0, GUEST, op, sizeof(*op));
}

static ioservid_t make_server(struct world *w, uint64_t first_port)
{
    struct xen_dm_op op = { .op = XEN_DMOP_create_ioreq_server };
    assert_int_equal(dm(w, &op), 0);
    ioservid_t id = op.u.create_ioreq_server.id;

    op = (struct xen_dm_op){ .op = XEN_DMOP_map_io_range_to_ioreq_server };
    op.u.map_io_range_to_ioreq_server = (struct xen_dm_op_ioreq_server_range){
        .id = id, .type = XEN_DMOP_IO_RANGE_PORT, .start = first_port,
        .end = first_port + 7 };
    assert_int_equal(dm(w, &op), 0);

    void *page;
    assert_int_equal(hvio_acquire_ioreq_frame(w->host, 0, GUEST, id, 1, &page), 0);
    pthread_mutex_lock(&w->pages_mutex);
    w->pages[id] = page;
    pthread_mutex_unlock(&w->pages_mutex);

    op = (struct xen_dm_op){ .op = XEN_DMOP_set_ioreq_server_state };
    op.u.set_ioreq_server_state.id = id;
    op.u.set_ioreq_server_state.enabled = 1;
    assert_int_equal(dm(w, &op), 0);
    return id;
}

static void drop_server(struct world *w, ioservid_t id)
{
    struct xen_dm_op op = { .op = XEN_DMOP_destroy_ioreq_server };

    op.u.destroy_ioreq_server.id = id;
    pthread_mutex_lock(&w->pages_mutex);
    assert_int_equal(dm(w, &op), 0);
    w->pages[id] = NULL;
    pthread_mutex_unlock(&w->pages_mutex);
}

static void test_vcpus_emulator_and_dm_ops_race(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    (void)state;

    w->ops = (struct hvio_platform_ops){
        .alloc = p_alloc, .free = p_free, .page_alloc = p_page_alloc,
        .page_free = p_free, .evtchn_alloc_unbound = p_evtchn_alloc,
        .evtchn_free = p_evtchn_free, .evtchn_notify = p_notify,
        .vcpu_block = p_block, .vcpu_kick = p_kick,
        .domain_pause = p_nop_domain, .domain_unpause = p_nop_domain,
        .domain_crash = p_crash, .lock_new = p_lock_new,
        .lock_free = p_lock_free, .lock = p_lock, .unlock = p_unlock,
    };
    pthread_mutex_init(&w->ports_mutex, NULL);
    pthread_mutex_init(&w->pages_mutex, NULL);
    wake_init(&w->emulator);
    for (unsigned int i = 0; i < NR_VCPUS; i++)
        wake_init(&w->vcpu[i]);

    assert_int_equal(hvio_host_new(&w->ops, w, &w->host), 0);
    struct hvio_domain_config dom0 = { .domid = 0, .privileged = true,
                                       .dm_target = DOMID_INVALID };
    struct hvio_domain_config guest = { .domid = GUEST, .max_vcpus = NR_VCPUS,
                                        .hvm = true, .emulated_pic = true,
                                        .dm_target = DOMID_INVALID };
    assert_int_equal(hvio_domain_create(w->host, &dom0), 0);
    assert_int_equal(hvio_domain_create(w->host, &guest), 0);
    for (unsigned int i = 0; i < NR_VCPUS; i++)
        assert_int_equal(hvio_vcpu_add(w->host, GUEST, i), 0);
    make_server(w, STABLE_PORT);

    pthread_t emulator, vcpus[NR_VCPUS];
    struct vcpu_arg args[NR_VCPUS];
    assert_int_equal(pthread_create(&emulator, NULL, emulator_thread, w), 0);
    for (unsigned int i = 0; i < NR_VCPUS; i++) {
        args[i] = (struct vcpu_arg){ .w = w, .id = i };
        assert_int_equal(pthread_create(&vcpus[i], NULL, vcpu_thread, &args[i]), 0);
    }

    /* Churn server B while the vCPUs run; stop once they are done. */
    for (unsigned int round = 0; round < 200; round++) {
        ioservid_t b = make_server(w, CHURN_PORT);
        drop_server(w, b);
    }
    for (unsigned int i = 0; i < NR_VCPUS; i++)
        pthread_join(vcpus[i], NULL);

    __atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
    wake_kick(&w->emulator);
    pthread_join(emulator, NULL);

    for (unsigned int i = 0; i < NR_VCPUS; i++) {
        assert_int_equal(args[i].wrong, 0);
        assert_int_equal(args[i].unhandled_stable, 0);
    }
    assert_int_equal(w->crashes, 0);

    hvio_host_free(w->host);
    for (unsigned int p = 1; p < MAX_PORTS; p++)
        assert_false(w->port_used[p]);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcpus_emulator_and_dm_ops_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
