/* One guest read served end to end by a single server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core_fixture.h"

static void answer_0x60(struct fake_platform *fp, domid_t domid, unsigned int vcpu)
{
    ioreq_t *slot = &((shared_iopage_t *)fp->hook_data)->vcpu_ioreq[vcpu];

    (void)domid;
    assert_int_equal(slot->state, STATE_IOREQ_READY);
    slot->data = 0x60;
    slot->state = STATE_IORESP_READY;
}

static void test_port_read_served(void **state)
{
    struct fixture f;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    ioservid_t id = server_with_range(&f, HVM_IOREQSRV_BUFIOREQ_OFF,
                                      XEN_DMOP_IO_RANGE_PORT, 0x3f8, 0x3ff);
    f.fp.hook_data = ioreq_page_of(&f, id);
    f.fp.on_block = answer_0x60;

    struct hvio_vcpu *v;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 1, &v), 0);
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x3fd, .size = 1, .count = 1,
                  .dir = IOREQ_READ };
    assert_int_equal(hvio_emulate(v, &p), HVIO_EMULATED);
    assert_int_equal(p.data, 0x60);
    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_read_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
