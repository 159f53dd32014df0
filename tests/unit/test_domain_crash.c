/* hvio_domain_crash: the toolstack stops a guest, even one blocked on I/O. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core_fixture.h"

static void crash_from_toolstack(struct fake_platform *fp, domid_t domid,
                                 unsigned int vcpu)
{
    struct fixture *f = fp->hook_data;

    (void)domid;
    (void)vcpu;
    assert_int_equal(hvio_domain_crash(f->host, GUEST, "watchdog"), 0);
}

static void test_crash_wakes_a_blocked_vcpu_and_sticks(void **state)
{
    struct fixture f;
    struct hvio_vcpu *v;
    (void)state;

    fixture_setup(&f, GUEST_VCPUS);
    server_with_range(&f, HVM_IOREQSRV_BUFIOREQ_OFF, XEN_DMOP_IO_RANGE_PORT, 0x60, 0x64);
    f.fp.hook_data = &f;
    f.fp.on_block = crash_from_toolstack;
    assert_int_equal(hvio_vcpu_get(f.host, GUEST, 0, &v), 0);

    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x60, .size = 1, .count = 1,
                  .dir = IOREQ_READ };
    assert_int_equal(hvio_emulate(v, &p), -EIO);
    assert_int_equal(f.fp.crashes, 1);
    assert_int_equal(f.fp.crashed_domid, GUEST);
    assert_string_equal(f.fp.crash_reason, "watchdog");

    /* Later accesses fail at once, and crashing again reports nothing new. */
    unsigned int blocks = f.fp.blocks;
    assert_int_equal(hvio_emulate(v, &p), -EIO);
    assert_int_equal(f.fp.blocks, blocks);
    assert_int_equal(hvio_domain_crash(f.host, GUEST, "again"), 0);
    assert_int_equal(f.fp.crashes, 1);

    /* Other domains are untouched; a missing one is -ESRCH. */
    assert_int_equal(hvio_domain_crash(f.host, 77, "nobody"), -ESRCH);
    hvio_vcpu_put(v);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_wakes_a_blocked_vcpu_and_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
