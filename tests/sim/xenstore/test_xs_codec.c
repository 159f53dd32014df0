/* The wire codec and the dispatcher, malformed input included. */
#include <errno.h>

#include "xs_codec.h"
#include "xs_dispatch.h"
#include "xs_store_fixture.h"

/* Replies and the watch events for owner_a both land in one buffer. */
struct wire {
    struct xsim_store st;
    struct xsim_buf out;
    int owner;
    struct xsim_caller c;
};

static void wire_event(void *owner, const char *path, const char *token,
                       void *ctx)
{
    struct wire *w = ctx;

    if (owner == &w->owner)
        assert_int_equal(xsim_codec_event(&w->out, path, token), 0);
}

static int wire_setup(void **state)
{
    struct wire *w = calloc(1, sizeof(*w));

    assert_non_null(w);
    assert_int_equal(xsim_store_init(&w->st, wire_event, w), 0);
    w->c = (struct xsim_caller){ 0, true, &w->owner };
    *state = w;
    return 0;
}

static int wire_teardown(void **state)
{
    struct wire *w = *state;

    xsim_store_destroy(&w->st);
    xsim_buf_free(&w->out);
    free(w);
    return 0;
}

static void wire_send_as(struct wire *w, const struct xsim_caller *c,
                         uint32_t type, uint32_t req_id, uint32_t tx,
                         const void *payload, size_t len)
{
    struct xsd_sockmsg h = { type, req_id, tx, (uint32_t)len };

    assert_int_equal(xsim_dispatch(&w->st, c, &h, payload, &w->out), 0);
}

static void wire_send(struct wire *w, uint32_t type, uint32_t tx,
                      const void *payload, size_t len)
{
    wire_send_as(w, &w->c, type, 0x1234, tx, payload, len);
}

/* Take the next message; its payload is copied with a NUL appended. */
static char *take(struct wire *w, struct xsd_sockmsg *h)
{
    long n = xsim_codec_frame(xsim_buf_head(&w->out), xsim_buf_avail(&w->out), h);
    char *p;

    assert_true(n > 0);
    p = malloc(h->len + 1);
    assert_non_null(p);
    memcpy(p, xsim_buf_head(&w->out) + XSIM_HDR_SIZE, h->len);
    p[h->len] = '\0';
    xsim_buf_consume(&w->out, (size_t)n);
    return p;
}

static void expect_reply(struct wire *w, uint32_t type, const void *payload,
                         size_t len)
{
    struct xsd_sockmsg h;
    char *p = take(w, &h);

    assert_int_equal(h.type, type);
    assert_int_equal(h.len, len);
    assert_memory_equal(p, payload, len);
    free(p);
}

static void expect_error(struct wire *w, const char *err)
{
    expect_reply(w, XS_ERROR, err, strlen(err) + 1);
}

static void expect_ok(struct wire *w, uint32_t type)
{
    expect_reply(w, type, "OK", 3);
}

static void expect_empty(struct wire *w)
{
    assert_int_equal(xsim_buf_avail(&w->out), 0);
}

#define SEND_STR(w, type, tx, lit) wire_send(w, type, tx, lit, sizeof(lit) - 1)

/* ---- codec ---- */

static void test_frame(void **state)
{
    uint8_t buf[XSIM_HDR_SIZE + 8];
    struct xsd_sockmsg h = { XS_READ, 7, 0, 3 }, got;

    (void)state;
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + XSIM_HDR_SIZE, "/a\0", 3);
    assert_int_equal(xsim_codec_frame(buf, 0, &got), 0);
    assert_int_equal(xsim_codec_frame(buf, XSIM_HDR_SIZE - 1, &got), 0);
    assert_int_equal(xsim_codec_frame(buf, XSIM_HDR_SIZE + 2, &got), 0);
    assert_int_equal(xsim_codec_frame(buf, XSIM_HDR_SIZE + 3, &got),
                     XSIM_HDR_SIZE + 3);
    assert_int_equal(got.req_id, 7);
    assert_int_equal(xsim_codec_frame(buf, sizeof(buf), &got), XSIM_HDR_SIZE + 3);

    h.len = XENSTORE_PAYLOAD_MAX;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(xsim_codec_frame(buf, sizeof(buf), &got), 0);
    h.len = XENSTORE_PAYLOAD_MAX + 1;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(xsim_codec_frame(buf, XSIM_HDR_SIZE, &got), -E2BIG);
    h.len = UINT32_MAX;
    memcpy(buf, &h, sizeof(h));
    assert_int_equal(xsim_codec_frame(buf, XSIM_HDR_SIZE, &got), -E2BIG);
}

static void test_strings(void **state)
{
    const char *v[4];

    (void)state;
    assert_int_equal(xsim_codec_strings("", 0, v, 4), 0);
    assert_int_equal(xsim_codec_strings("\0", 1, v, 4), 1);
    assert_string_equal(v[0], "");
    assert_int_equal(xsim_codec_strings("a\0bc\0", 5, v, 4), 2);
    assert_string_equal(v[1], "bc");
    assert_int_equal(xsim_codec_strings("a\0bc", 4, v, 4), -EINVAL);
    assert_int_equal(xsim_codec_strings("a\0b\0c\0d\0e\0", 10, v, 2), 5);
    assert_string_equal(v[1], "b");
}

static void test_encode(void **state)
{
    struct xsim_buf b = { 0 };
    struct xsd_sockmsg req = { XS_READ, 42, 9, 0 }, h;
    static char big[XENSTORE_PAYLOAD_MAX + 1];

    (void)state;
    assert_int_equal(xsim_codec_reply(&b, &req, "val", 3), 0);
    assert_int_equal(xsim_codec_error(&b, &req, ENOENT), 0);
    assert_int_equal(xsim_codec_error(&b, &req, ETIMEDOUT), 0);
    assert_int_equal(xsim_codec_event(&b, "/p", "tok"), 0);
    assert_int_equal(xsim_codec_reply(&b, &req, big, sizeof(big)), -E2BIG);
    assert_int_equal(b.len, 4 * XSIM_HDR_SIZE + 3 + 7 + 7 + 7);

    memcpy(&h, b.data, sizeof(h));
    assert_int_equal(h.type, XS_READ);
    assert_int_equal(h.req_id, 42);
    assert_int_equal(h.tx_id, 9);
    assert_int_equal(h.len, 3);
    memcpy(&h, b.data + XSIM_HDR_SIZE + 3, sizeof(h));
    assert_int_equal(h.type, XS_ERROR);
    assert_int_equal(h.req_id, 42);
    assert_memory_equal(b.data + 2 * XSIM_HDR_SIZE + 3, "ENOENT", 7);
    assert_memory_equal(b.data + 3 * XSIM_HDR_SIZE + 10, "EINVAL", 7);
    memcpy(&h, b.data + 3 * XSIM_HDR_SIZE + 17, sizeof(h));
    assert_int_equal(h.type, XS_WATCH_EVENT);
    assert_int_equal(h.req_id, 0);
    assert_int_equal(h.tx_id, 0);
    assert_memory_equal(b.data + 4 * XSIM_HDR_SIZE + 17, "/p\0tok\0", 7);
    xsim_buf_free(&b);

    assert_string_equal(xsim_codec_errname(EAGAIN), "EAGAIN");
    assert_string_equal(xsim_codec_errname(E2BIG), "E2BIG");
    assert_string_equal(xsim_codec_errname(12345), "EINVAL");
    assert_int_equal(xsim_codec_errnum("EACCES"), EACCES);
    assert_int_equal(xsim_codec_errnum("EWHAT"), 0);
}

/* ---- dispatcher ---- */

static void test_basic_ops(void **state)
{
    struct wire *w = *state;
    struct xsd_sockmsg h;
    char *p;

    SEND_STR(w, XS_WRITE, 0, "/a/b\0va\0lue");
    expect_ok(w, XS_WRITE);
    SEND_STR(w, XS_READ, 0, "/a/b\0");
    expect_reply(w, XS_READ, "va\0lue", 6);
    SEND_STR(w, XS_WRITE, 0, "/a/c\0");    /* empty value */
    expect_ok(w, XS_WRITE);
    SEND_STR(w, XS_DIRECTORY, 0, "/a\0");
    expect_reply(w, XS_DIRECTORY, "b\0c\0", 4);
    SEND_STR(w, XS_DIRECTORY, 0, "/a/c\0");
    expect_reply(w, XS_DIRECTORY, "", 0);
    SEND_STR(w, XS_MKDIR, 0, "/m\0");
    expect_ok(w, XS_MKDIR);
    SEND_STR(w, XS_RM, 0, "/a\0");
    expect_ok(w, XS_RM);
    SEND_STR(w, XS_READ, 0, "/a/b\0");
    expect_error(w, "ENOENT");
    SEND_STR(w, XS_GET_DOMAIN_PATH, 0, "7\0");
    expect_reply(w, XS_GET_DOMAIN_PATH, "/local/domain/7", 16);
    SEND_STR(w, XS_IS_DOMAIN_INTRODUCED, 0, "0\0");
    expect_reply(w, XS_IS_DOMAIN_INTRODUCED, "T", 2);
    SEND_STR(w, XS_IS_DOMAIN_INTRODUCED, 0, "1\0");
    expect_reply(w, XS_IS_DOMAIN_INTRODUCED, "F", 2);

    /* Replies echo req_id and tx_id. */
    wire_send_as(w, &w->c, XS_READ, 0xdeadbeef, 0, "/m\0", 3);
    p = take(w, &h);
    assert_int_equal(h.req_id, 0xdeadbeef);
    assert_int_equal(h.type, XS_READ);
    free(p);
    wire_send_as(w, &w->c, XS_READ, 5, 777, "/m\0", 3);
    p = take(w, &h);
    assert_int_equal(h.type, XS_ERROR);
    assert_int_equal(h.tx_id, 777);
    assert_int_equal(h.req_id, 5);
    assert_string_equal(p, "ENOENT"); /* no such transaction */
    free(p);
    expect_empty(w);
}

static void test_malformed_payloads(void **state)
{
    struct wire *w = *state;

    SEND_STR(w, XS_READ, 0, "/a");          /* no NUL */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_READ, 0, "");            /* nothing */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_READ, 0, "/a\0/b\0");    /* two strings */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_READ, 0, "\0");          /* empty path */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_READ, 0, "/a\0junk");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_READ, 0, "/a b\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_WRITE, 0, "/novalue");   /* no NUL after the path */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_WRITE, 0, "");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_MKDIR, 0, "/x/\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_RM, 0, "/\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_WATCH, 0, "/w\0");       /* no token */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_WATCH, 0, "/w\0t\0x\0"); /* one string too many */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_WATCH, 0, "/w\0t");      /* token not terminated */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_UNWATCH, 0, "/w\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_SET_PERMS, 0, "/tool\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_SET_PERMS, 0, "/tool\0q0\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_SET_PERMS, 0, "/tool\0r0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_GET_DOMAIN_PATH, 0, "x\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_GET_DOMAIN_PATH, 0, "99999\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_IS_DOMAIN_INTRODUCED, 0, "");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_DIRECTORY_PART, 0, "/\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_DIRECTORY_PART, 0, "/\0x\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_DIRECTORY_PART, 0, "/\0999\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_DIRECTORY_PART, 0, "/\0" "2\0"); /* inside a name */
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_TRANSACTION_END, 0, "T\0");  /* no transaction */
    expect_error(w, "ENOENT");
    expect_empty(w);

    /* A length beyond the protocol's limit never reaches a handler. */
    {
        struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };

        assert_int_equal(xsim_dispatch(&w->st, &w->c, &h, "", &w->out), 0);
        expect_error(w, "E2BIG");
    }
}

static void test_unknown_types(void **state)
{
    struct wire *w = *state;
    static const uint32_t types[] = {
        XS_CONTROL, XS_WATCH_EVENT, XS_ERROR, XS_SET_TARGET,
        XS_SET_TARGET + 1, XS_TYPE_COUNT, XS_TYPE_COUNT + 1, 1000,
        XS_INVALID, UINT32_MAX,
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        SEND_STR(w, types[i], 0, "print\0hello\0");
        expect_error(w, "ENOSYS");
    }
    expect_empty(w);
}

static void test_watch_ack_then_event(void **state)
{
    struct wire *w = *state;

    SEND_STR(w, XS_WATCH, 0, "/w\0tok\0");
    expect_ok(w, XS_WATCH);
    expect_reply(w, XS_WATCH_EVENT, "/w\0tok\0", 7);
    SEND_STR(w, XS_WATCH, 0, "/w\0tok\0");
    expect_error(w, "EEXIST");
    SEND_STR(w, XS_WRITE, 0, "/w/x\0" "1");
    expect_reply(w, XS_WATCH_EVENT, "/w/x\0tok\0", 9);
    expect_ok(w, XS_WRITE);
    SEND_STR(w, XS_WATCH, 0, "rel\0r\0");
    expect_ok(w, XS_WATCH);
    expect_reply(w, XS_WATCH_EVENT, "rel\0r\0", 6);
    SEND_STR(w, XS_WRITE, 0, "/local/domain/0/rel/k\0" "1");
    expect_reply(w, XS_WATCH_EVENT, "rel/k\0r\0", 8);
    expect_ok(w, XS_WRITE);
    SEND_STR(w, XS_UNWATCH, 0, "/w\0tok\0");
    expect_ok(w, XS_UNWATCH);
    SEND_STR(w, XS_UNWATCH, 0, "/w\0tok\0");
    expect_error(w, "ENOENT");
    SEND_STR(w, XS_RESET_WATCHES, 0, "");
    expect_ok(w, XS_RESET_WATCHES);
    SEND_STR(w, XS_WRITE, 0, "rel/k\0" "2");
    expect_ok(w, XS_WRITE);
    expect_empty(w);

    SEND_STR(w, XS_WATCH, 0, "@introduceDomain\0d\0");
    expect_ok(w, XS_WATCH);
    expect_reply(w, XS_WATCH_EVENT, "@introduceDomain\0d\0", 19);
    SEND_STR(w, XS_INTRODUCE, 0, "5\0" "1234\0" "3\0");
    expect_reply(w, XS_WATCH_EVENT, "@introduceDomain\0d\0", 19);
    expect_ok(w, XS_INTRODUCE);
    SEND_STR(w, XS_IS_DOMAIN_INTRODUCED, 0, "5\0");
    expect_reply(w, XS_IS_DOMAIN_INTRODUCED, "T", 2);
    SEND_STR(w, XS_RESUME, 0, "5\0");
    expect_ok(w, XS_RESUME);
    SEND_STR(w, XS_RELEASE, 0, "5\0");
    expect_ok(w, XS_RELEASE);
    SEND_STR(w, XS_RELEASE, 0, "5\0");
    expect_error(w, "ENOENT");
    SEND_STR(w, XS_RESUME, 0, "5\0");
    expect_error(w, "ENOENT");
    SEND_STR(w, XS_INTRODUCE, 0, "5\0");
    expect_error(w, "EINVAL");
    expect_empty(w);
}

static void test_unprivileged_wire(void **state)
{
    struct wire *w = *state;
    struct xsim_caller d7 = { 7, false, &w->owner };

    wire_send_as(w, &d7, XS_INTRODUCE, 1, 0, "8\0" "1\0" "1\0", 6);
    expect_error(w, "EACCES");
    wire_send_as(w, &d7, XS_RELEASE, 1, 0, "0\0", 2);
    expect_error(w, "EACCES");
    wire_send_as(w, &d7, XS_READ, 1, 0, "/tool\0", 6);
    expect_error(w, "EACCES");
    expect_empty(w);
}

static void test_perms_wire(void **state)
{
    struct wire *w = *state;

    SEND_STR(w, XS_MKDIR, 0, "/p\0");
    expect_ok(w, XS_MKDIR);
    SEND_STR(w, XS_GET_PERMS, 0, "/p\0");
    expect_reply(w, XS_GET_PERMS, "n0", 3);
    SEND_STR(w, XS_SET_PERMS, 0, "/p\0r0\0b5\0w32751\0");
    expect_ok(w, XS_SET_PERMS);
    SEND_STR(w, XS_GET_PERMS, 0, "/p\0");
    expect_reply(w, XS_GET_PERMS, "r0\0b5\0w32751", 13);
    SEND_STR(w, XS_GET_PERMS, 0, "/nope\0");
    expect_error(w, "ENOENT");
    expect_empty(w);
}

static void test_transactions_wire(void **state)
{
    struct wire *w = *state;
    struct xsd_sockmsg h;
    char *id;
    uint32_t tx;

    SEND_STR(w, XS_TRANSACTION_START, 0, "\0");
    id = take(w, &h);
    assert_int_equal(h.type, XS_TRANSACTION_START);
    assert_int_equal(h.len, strlen(id) + 1);
    tx = (uint32_t)strtoul(id, NULL, 10);
    assert_true(tx != 0);
    free(id);

    SEND_STR(w, XS_TRANSACTION_START, tx, "\0");
    expect_error(w, "EBUSY");
    SEND_STR(w, XS_WRITE, tx, "/t\0in-tx");
    expect_ok(w, XS_WRITE);
    SEND_STR(w, XS_READ, 0, "/t\0");
    expect_error(w, "ENOENT");
    SEND_STR(w, XS_READ, tx, "/t\0");
    expect_reply(w, XS_READ, "in-tx", 5);
    SEND_STR(w, XS_TRANSACTION_END, tx, "X\0");
    expect_error(w, "EINVAL");
    SEND_STR(w, XS_TRANSACTION_END, tx, "T\0");
    expect_ok(w, XS_TRANSACTION_END);
    SEND_STR(w, XS_READ, 0, "/t\0");
    expect_reply(w, XS_READ, "in-tx", 5);
    SEND_STR(w, XS_TRANSACTION_END, tx, "F\0");
    expect_error(w, "ENOENT");
    expect_empty(w);
}

static void test_directory_part(void **state)
{
    struct wire *w = *state;
    char full[16384], path[64], got[16384];
    size_t flen = 0, glen = 0;
    unsigned int parts = 0;
    struct xsd_sockmsg h;
    char *p, gen[24] = "";

    /* 300 children of ~30 bytes: about 9 KiB of names. */
    for (int i = 0; i < 300; i++) {
        int n = snprintf(path, sizeof(path), "/big/child-with-a-long-name-%03d", i);

        assert_int_equal(xsim_store_write(&w->st, &w->c, 0, path, "", 0), 0);
        memcpy(full + flen, path + 5, (size_t)n - 5 + 1);
        flen += (size_t)n - 5 + 1;
    }
    SEND_STR(w, XS_DIRECTORY, 0, "/big\0");
    expect_error(w, "E2BIG");

    for (;;) {
        char req[64];
        int rl = snprintf(req, sizeof(req), "/big%c%zu", '\0', glen);
        size_t gl, body;

        wire_send(w, XS_DIRECTORY_PART, 0, req, (size_t)rl + 1);
        p = take(w, &h);
        assert_int_equal(h.type, XS_DIRECTORY_PART);
        assert_true(h.len <= XENSTORE_PAYLOAD_MAX);
        gl = strlen(p) + 1;
        if (parts == 0)
            strcpy(gen, p);
        assert_string_equal(p, gen);
        body = h.len - gl;
        memcpy(got + glen, p + gl, body);
        glen += body;
        free(p);
        parts++;
        assert_true(parts < 10);
        if (glen >= 2 && got[glen - 2] == '\0')
            break;
    }
    assert_true(parts >= 2);
    assert_int_equal(glen, flen + 1);   /* the list plus the closing NUL */
    assert_memory_equal(got, full, flen);

    /* Empty directory: generation and one NUL. */
    SEND_STR(w, XS_DIRECTORY_PART, 0, "/tool\0" "0\0");
    p = take(w, &h);
    assert_int_equal(h.len, strlen(p) + 2);
    free(p);
    expect_empty(w);
}

/* Random payloads for every type: exactly one reply (plus events), no crash. */
static void test_garbage(void **state)
{
    struct wire *w = *state;
    unsigned int seed = 12345;
    uint8_t payload[XENSTORE_PAYLOAD_MAX];

    for (int round = 0; round < 3000; round++) {
        uint32_t type = (uint32_t)(rand_r(&seed) % (XS_TYPE_COUNT + 3));
        size_t len = (size_t)rand_r(&seed) % 64;
        uint32_t tx = (rand_r(&seed) % 8 == 0) ? (uint32_t)rand_r(&seed) % 4 : 0;
        int replies = 0;

        if (rand_r(&seed) % 16 == 0)
            len = (size_t)rand_r(&seed) % sizeof(payload);
        for (size_t i = 0; i < len; i++) {
            /* Mostly path-like bytes, so some requests get somewhere. */
            static const char alpha[] = "/ab\0\0@01-_T";

            payload[i] = rand_r(&seed) % 4 ? (uint8_t)alpha[rand_r(&seed) % 11]
                                           : (uint8_t)rand_r(&seed);
        }
        wire_send_as(w, &w->c, type, (uint32_t)round, tx, payload, len);
        while (xsim_buf_avail(&w->out)) {
            struct xsd_sockmsg h;
            char *p = take(w, &h);

            if (h.type != XS_WATCH_EVENT) {
                replies++;
                assert_int_equal(h.req_id, (uint32_t)round);
                assert_true(h.type == type || h.type == XS_ERROR);
            }
            free(p);
        }
        assert_int_equal(replies, 1);
    }
    /* Still a working store. */
    SEND_STR(w, XS_READ, 0, "/local/domain/0/name\0");
    expect_reply(w, XS_READ, "Domain-0", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_encode),
        cmocka_unit_test_setup_teardown(test_basic_ops, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_payloads, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_types, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_watch_ack_then_event, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_unprivileged_wire, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_perms_wire, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_transactions_wire, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_directory_part, wire_setup, wire_teardown),
        cmocka_unit_test_setup_teardown(test_garbage, wire_setup, wire_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
