/*
 * libioreq's request checks (validate.c) and element walk (strio.c):
 * what a request copied out of the shared page may be, and how rep
 * ins/outs/movs/stos move data between the device and guest memory in
 * both directions (df) for ports, MMIO and PCI config space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strio.h"
#include "validate.h"

/* ---- req_check ---- */

static ioreq_t req(uint8_t type, uint64_t addr, uint32_t size, uint32_t count)
{
    return (ioreq_t){ .type = type, .addr = addr, .size = size, .count = count,
                      .dir = IOREQ_READ, .state = STATE_IOREQ_READY };
}

static void test_check_accepts(void **state)
{
    (void)state;
    for (uint32_t size = 1; size <= 8; size *= 2) {
        ioreq_t p = req(IOREQ_TYPE_PIO, 0x3f8, size, 1);
        assert_null(req_check(&p));
        p = req(IOREQ_TYPE_COPY, 0xfed00000, size, 1);
        assert_null(req_check(&p));
    }
    ioreq_t p = req(IOREQ_TYPE_PCI_CONFIG, (uint64_t)0x28 << 32 | 0xffc, 4, 1);
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_PIO, 0xffff, 1, 1);
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_COPY, 0xa0000, 4, 1 << 18); /* 1 MiB */
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_COPY, 0x1000, 8, 4); /* downwards, to 0x1000 - 24 */
    p.df = 1;
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_PIO, 0x60, 1, 4);
    p.data_is_ptr = 1;
    p.data = 0x3;
    p.df = 1; /* 0x3, 0x2, 0x1, 0x0 */
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_INVALIDATE, 0, 0, 0); /* its fields mean nothing */
    assert_null(req_check(&p));
    p = req(IOREQ_TYPE_TIMEOFFSET, 0, 8, 1);
    assert_null(req_check(&p));
}

static void test_check_rejects(void **state)
{
    const struct { ioreq_t p; const char *why; } bad[] = {
        { req(IOREQ_TYPE_PIO, 0x60, 0, 1), "bad size" },
        { req(IOREQ_TYPE_PIO, 0x60, 3, 1), "bad size" },
        { req(IOREQ_TYPE_COPY, 0x60, 16, 1), "bad size" },
        { req(IOREQ_TYPE_PCI_CONFIG, 0, 8, 1), "8-byte" },
        { req(IOREQ_TYPE_PIO, 0x60, 1, 0), "zero count" },
        { req(IOREQ_TYPE_COPY, 0, 4, (1 << 18) + 1), "too many" },
        { req(IOREQ_TYPE_COPY, 0, 8, UINT32_MAX), "too many" },
        { req(IOREQ_TYPE_PIO, 0x10000, 1, 1), "port" },
        { req(IOREQ_TYPE_PCI_CONFIG, 0xffe, 4, 1), "PCI config" },
        { req(IOREQ_TYPE_PCI_CONFIG, 0x1000, 1, 1), "PCI config" },
        { req(IOREQ_TYPE_COPY, UINT64_MAX - 2, 4, 1), "wraps" },
        { req(IOREQ_TYPE_COPY, UINT64_MAX - 8, 4, 3), "wraps" },
        { req(3, 0, 4, 1), "type" },
        { req(0xff, 0, 4, 1), "type" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = req_check(&bad[i].p);
        assert_non_null(why);
        assert_non_null(strstr(why, bad[i].why));
    }
    ioreq_t p = req(IOREQ_TYPE_COPY, 8, 8, 3); /* downwards below 0 */
    p.df = 1;
    assert_non_null(req_check(&p));
    p = req(IOREQ_TYPE_PIO, 0x60, 4, 2); /* guest buffer downwards below 0 */
    p.data_is_ptr = 1;
    p.data = 2;
    p.df = 1;
    assert_non_null(strstr(req_check(&p), "guest buffer"));
    p.df = 0;
    p.data = UINT64_MAX - 4;
    assert_non_null(strstr(req_check(&p), "guest buffer"));
}

static void test_answer_unhandled(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_PIO, 0x60, 3, 1);

    (void)state;
    req_answer_unhandled(&p);
    assert_int_equal(p.data, UINT64_MAX);
    p.data_is_ptr = 1;
    p.data = 0x1234;
    req_answer_unhandled(&p);
    assert_int_equal(p.data, UINT64_MAX);
}

/* ---- strio_run: a fake device and a fake guest memory ---- */

#define MEM_SIZE 0x10000

struct access { uint8_t type; uint64_t addr; unsigned int size; bool write; uint64_t value; };

struct env {
    uint8_t mem[MEM_SIZE];
    uint64_t mem_fail_from; /* guest addresses from here fail */
    struct access log[64];
    unsigned int n;
    uint64_t next_read; /* device reads return this, then this + 1, ... */
};

static void fake_access(void *opaque, uint8_t type, uint64_t addr, unsigned int size, bool write,
                        uint64_t *value)
{
    struct env *e = opaque;

    if (!write)
        *value = e->next_read++;
    if (e->n < 64)
        e->log[e->n] = (struct access){ type, addr, size, write, *value };
    e->n++;
}

static int fake_mem(struct env *e, uint64_t gpa, void *buf, size_t len, bool write)
{
    if (gpa >= e->mem_fail_from || gpa + len > MEM_SIZE)
        return -EFAULT;
    if (write)
        memcpy(e->mem + gpa, buf, len);
    else
        memcpy(buf, e->mem + gpa, len);
    return 0;
}

static int fake_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    return fake_mem(opaque, gpa, buf, len, false);
}

static int fake_mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    return fake_mem(opaque, gpa, (void *)buf, len, true);
}

static struct env E;
static const struct strio_env ENV = { .opaque = &E, .access = fake_access,
                                      .mem_read = fake_mem_read, .mem_write = fake_mem_write };

static int reset(void **state)
{
    (void)state;
    memset(&E, 0, sizeof(E));
    E.mem_fail_from = UINT64_MAX;
    return 0;
}

static void test_single(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_PIO, 0x3f8, 1, 1);

    (void)state;
    E.next_read = 0x1234;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(p.data, 0x34); /* masked to the size */
    assert_int_equal(E.n, 1);
    assert_int_equal(E.log[0].addr, 0x3f8);
    assert_false(E.log[0].write);

    p = req(IOREQ_TYPE_COPY, 0xfed00000, 8, 1);
    p.dir = IOREQ_WRITE;
    p.data = 0x1122334455667788ull;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_true(E.log[1].write);
    assert_int_equal(E.log[1].value, 0x1122334455667788ull);
    assert_int_equal(E.log[1].size, 8);
}

static void test_rep_ins_both_directions(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_PIO, 0x60, 2, 4);

    (void)state;
    p.data_is_ptr = 1;
    p.data = 0x100;
    E.next_read = 0xa0;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(p.data, 0x100); /* the pointer is left alone */
    const uint8_t up[] = { 0xa0, 0, 0xa1, 0, 0xa2, 0, 0xa3, 0 };
    assert_memory_equal(E.mem + 0x100, up, sizeof(up));
    for (unsigned int i = 0; i < 4; i++)
        assert_int_equal(E.log[i].addr, 0x60); /* one port for every element */

    /* df: the first element at `data`, the next ones below it */
    reset(state);
    p = req(IOREQ_TYPE_PIO, 0x60, 2, 4);
    p.data_is_ptr = 1;
    p.df = 1;
    p.data = 0x206;
    E.next_read = 0xa0;
    assert_int_equal(strio_run(&ENV, &p), 0);
    const uint8_t down[] = { 0xa3, 0, 0xa2, 0, 0xa1, 0, 0xa0, 0 };
    assert_memory_equal(E.mem + 0x200, down, sizeof(down));
}

static void test_rep_outs_mmio_both_directions(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_COPY, 0xfed00000, 4, 3);

    (void)state;
    const uint8_t src[] = { 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0 };
    memcpy(E.mem + 0x300, src, sizeof(src));
    p.dir = IOREQ_WRITE;
    p.data_is_ptr = 1;
    p.data = 0x300;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(E.n, 3);
    for (unsigned int i = 0; i < 3; i++) {
        assert_int_equal(E.log[i].addr, 0xfed00000 + 4 * i);
        assert_int_equal(E.log[i].value, i + 1);
        assert_true(E.log[i].write);
    }
    /* df: device and memory addresses both go down */
    reset(state);
    memcpy(E.mem + 0x300, src, sizeof(src));
    p = req(IOREQ_TYPE_COPY, 0xfed00008, 4, 3);
    p.dir = IOREQ_WRITE;
    p.data_is_ptr = 1;
    p.df = 1;
    p.data = 0x308;
    assert_int_equal(strio_run(&ENV, &p), 0);
    for (unsigned int i = 0; i < 3; i++) {
        assert_int_equal(E.log[i].addr, 0xfed00008 - 4 * i);
        assert_int_equal(E.log[i].value, 3 - i);
    }
}

static void test_rep_mmio_read_df(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_COPY, 0xfed00010, 8, 2);

    (void)state;
    p.data_is_ptr = 1;
    p.df = 1;
    p.data = 0x408;
    E.next_read = 0x0102030405060708ull;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(E.log[0].addr, 0xfed00010);
    assert_int_equal(E.log[1].addr, 0xfed00008);
    uint64_t got[2];
    memcpy(got, E.mem + 0x400, sizeof(got));
    assert_int_equal(got[1], 0x0102030405060708ull); /* first element at data */
    assert_int_equal(got[0], 0x0102030405060709ull);
}

/* data_is_ptr = 0 with count > 1: rep stos (one value, many addresses) */
static void test_rep_without_pointer(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_COPY, 0xa0000, 1, 4);

    (void)state;
    p.dir = IOREQ_WRITE;
    p.data = 0xaa;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(E.n, 4);
    for (unsigned int i = 0; i < 4; i++) {
        assert_int_equal(E.log[i].addr, 0xa0000 + i);
        assert_int_equal(E.log[i].value, 0xaa);
    }
    /* a read of several: the last one is the answer */
    p = req(IOREQ_TYPE_PIO, 0x61, 1, 3);
    E.next_read = 0x10;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(p.data, 0x12);
}

static void test_pci_config_elements_stay(void **state)
{
    uint64_t addr = (uint64_t)(5 << 3) << 32 | 0x10;
    ioreq_t p = req(IOREQ_TYPE_PCI_CONFIG, addr, 4, 2);

    (void)state;
    p.data_is_ptr = 1;
    p.data = 0x500;
    assert_int_equal(strio_run(&ENV, &p), 0);
    assert_int_equal(E.log[0].addr, addr);
    assert_int_equal(E.log[1].addr, addr);
    assert_int_equal(E.log[0].type, IOREQ_TYPE_PCI_CONFIG);
}

static void test_guest_memory_failure(void **state)
{
    ioreq_t p = req(IOREQ_TYPE_PIO, 0x60, 1, 8);

    (void)state;
    p.data_is_ptr = 1;
    p.data = 0x7fc;
    E.mem_fail_from = 0x800;
    assert_int_equal(strio_run(&ENV, &p), -EFAULT);
    /* four elements made it; the fifth was read from the device, then had nowhere to go */
    assert_int_equal(E.n, 5);
    p = req(IOREQ_TYPE_PIO, 0x60, 1, 8);
    p.dir = IOREQ_WRITE;
    p.data_is_ptr = 1;
    p.data = 0x7fc;
    E.n = 0;
    assert_int_equal(strio_run(&ENV, &p), -EFAULT);
    assert_int_equal(E.n, 4); /* writes stop before the device sees a bad element */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_answer_unhandled),
        cmocka_unit_test_setup(test_single, reset),
        cmocka_unit_test_setup(test_rep_ins_both_directions, reset),
        cmocka_unit_test_setup(test_rep_outs_mmio_both_directions, reset),
        cmocka_unit_test_setup(test_rep_mmio_read_df, reset),
        cmocka_unit_test_setup(test_rep_without_pointer, reset),
        cmocka_unit_test_setup(test_pci_config_elements_stay, reset),
        cmocka_unit_test_setup(test_guest_memory_failure, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
