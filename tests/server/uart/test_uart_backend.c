/*
 * UART line backends: spec parsing, and each kind driven as ioreq-uart's
 * poll loop drives it (stdio through pipes in a child process).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "uart_backend.h"

struct tmp {
    char dir[64];
    char path[128];
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    strcpy(t->dir, "/tmp/uart-backend-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
    free(t);
    return 0;
}

static const char *tmp_path(struct tmp *t, const char *name)
{
    snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
    return t->path;
}

static size_t put(struct uart_backend *be, const char *s)
{
    return uart_backend_write(be, (const uint8_t *)s, strlen(s));
}

/*
 * One turn of the emulator's loop: poll the backend's fds (up to timeout_ms)
 * and handle them.  Returns the input bytes read.
 */
static size_t turn(struct uart_backend *be, bool want_input, bool want_output,
                   uint8_t *buf, size_t room, int timeout_ms)
{
    struct pollfd fds[UART_BACKEND_MAX_FDS];
    int n = uart_backend_poll_fds(be, fds, want_input, want_output);

    assert_true(n >= 0 && n <= UART_BACKEND_MAX_FDS);
    if (n == 0)
        return 0;
    assert_true(poll(fds, (nfds_t)n, timeout_ms) >= 0);
    return uart_backend_handle(be, fds, n, buf, room);
}

/* Turn until `want` input bytes arrived (or a second passed). */
static size_t turn_until(struct uart_backend *be, uint8_t *buf, size_t want)
{
    size_t got = 0;

    for (int i = 0; i < 100 && got < want; i++)
        got += turn(be, true, false, buf + got, want - got, 10);
    return got;
}

static void read_exactly(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        assert_int_equal(poll(&p, 1, 2000), 1);
        n = read(fd, buf + got, len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

/* ---- specs ----------------------------------------------------------------- */

static void test_bad_specs(void **state)
{
    static const char *bad[] = { "", "tcp:1234", "file:", "unix:", "stdio:x", "ptyx", "FILE:x" };
    struct uart_backend *be = (struct uart_backend *)1;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(uart_backend_open(bad[i], &be, err, sizeof(err)), -EINVAL);
        assert_null(be);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(uart_backend_open(NULL, &be, err, sizeof(err)), -EINVAL);
    uart_backend_close(NULL);
}

/* ---- file ------------------------------------------------------------------ */

static void test_file_appends(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256], got[64] = { 0 };
    struct uart_backend *be;
    uint8_t buf[8];
    int fd;

    snprintf(spec, sizeof(spec), "file:%s", tmp_path(t, "out.log"));
    fd = open(t->path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old\n", 4), 4);
    close(fd);

    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    assert_memory_equal(uart_backend_describe(be), "file /", 6);
    assert_string_equal(uart_backend_describe(be) + 5, t->path);
    uart_backend_close(be);
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    assert_int_equal(put(be, "new "), 4);
    assert_int_equal(put(be, "line\n"), 5);
    /* No input: nothing to poll, nothing read. */
    assert_int_equal(turn(be, true, false, buf, sizeof(buf), 0), 0);
    uart_backend_close(be);

    fd = open(t->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, sizeof(got) - 1), 13);
    close(fd);
    assert_string_equal(got, "old\nnew line\n");
}

static void test_file_bad_path(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256];
    struct uart_backend *be;

    snprintf(spec, sizeof(spec), "file:%s", tmp_path(t, "no/such/dir"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no/such/dir"));
}

/* ---- unix socket ------------------------------------------------------------- */

static int connect_to(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    strcpy(addr.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

struct notes {
    char last[256];
    int count;
};

static void note(void *opaque, const char *msg)
{
    struct notes *n = opaque;

    snprintf(n->last, sizeof(n->last), "%s", msg);
    n->count++;
}

static void test_unix_one_client(void **state)
{
    struct tmp *t = *state;
    struct notes notes = { 0 };
    char spec[160], err[256], got[32];
    struct uart_backend *be;
    uint8_t buf[32];
    int c1, c2;

    snprintf(spec, sizeof(spec), "unix:%s", tmp_path(t, "uart.sock"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    uart_backend_set_note(be, note, &notes);

    /* No client: output is discarded (and counted as taken). */
    assert_int_equal(put(be, "lost"), 4);

    c1 = connect_to(t->path);
    assert_int_equal(turn(be, true, false, buf, sizeof(buf), 1000), 0);
    assert_non_null(strstr(notes.last, "client connected"));

    assert_int_equal(put(be, "hello"), 5);
    read_exactly(c1, got, 5);
    assert_memory_equal(got, "hello", 5);

    assert_int_equal(write(c1, "typed", 5), 5);
    assert_int_equal(turn_until(be, buf, 5), 5);
    assert_memory_equal(buf, "typed", 5);

    /* Input is read only as far as there is room. */
    assert_int_equal(write(c1, "abc", 3), 3);
    assert_int_equal(turn_until(be, buf, 1), 1);
    assert_int_equal(buf[0], 'a');
    assert_int_equal(turn(be, false, false, buf, 0, 10), 0); /* no room: not read */
    assert_int_equal(turn_until(be, buf, 2), 2);
    assert_memory_equal(buf, "bc", 2);

    /* A second client is turned away; the first keeps the line. */
    c2 = connect_to(t->path);
    turn(be, true, false, buf, sizeof(buf), 1000);
    assert_non_null(strstr(notes.last, "second client"));
    assert_int_equal(read(c2, got, sizeof(got)), 0);
    close(c2);
    assert_int_equal(put(be, "still"), 5);
    read_exactly(c1, got, 5);
    assert_memory_equal(got, "still", 5);

    /* The client goes: output is discarded again, a new client can come. */
    close(c1);
    for (int i = 0; i < 100 && !strstr(notes.last, "disconnected"); i++)
        turn(be, true, false, buf, sizeof(buf), 10);
    assert_non_null(strstr(notes.last, "disconnected"));
    assert_int_equal(put(be, "gone"), 4);
    c2 = connect_to(t->path);
    turn(be, true, false, buf, sizeof(buf), 1000);
    assert_non_null(strstr(notes.last, "client connected"));
    assert_int_equal(put(be, "new"), 3);
    read_exactly(c2, got, 3);
    assert_memory_equal(got, "new", 3);
    close(c2);

    uart_backend_close(be);
    assert_int_equal(access(t->path, F_OK), -1); /* the socket is removed */
}

static void test_unix_half_closed_client_still_reads(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256], got[8];
    struct uart_backend *be;
    uint8_t buf[8];
    int c;

    snprintf(spec, sizeof(spec), "unix:%s", tmp_path(t, "s"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    c = connect_to(t->path);
    turn(be, true, false, buf, sizeof(buf), 1000);
    assert_int_equal(write(c, "in", 2), 2);
    assert_int_equal(shutdown(c, SHUT_WR), 0);
    assert_int_equal(turn_until(be, buf, 2), 2);
    turn(be, true, false, buf, sizeof(buf), 10); /* sees the end of input */
    assert_int_equal(put(be, "out"), 3);
    read_exactly(c, got, 3);
    assert_memory_equal(got, "out", 3);
    close(c);
    uart_backend_close(be);
}

static void test_unix_input_kept_when_client_leaves(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256];
    struct uart_backend *be;
    uint8_t buf[8];
    int c;

    snprintf(spec, sizeof(spec), "unix:%s", tmp_path(t, "s"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    c = connect_to(t->path);
    turn(be, true, false, buf, sizeof(buf), 1000);
    assert_int_equal(write(c, "bye", 3), 3);
    close(c);
    /* The receiver is full for a while: the hang-up must not lose "bye". */
    for (int i = 0; i < 5; i++)
        assert_int_equal(turn(be, false, false, buf, 0, 10), 0);
    assert_int_equal(turn_until(be, buf, 3), 3);
    assert_memory_equal(buf, "bye", 3);
    uart_backend_close(be);
}

static void test_unix_slow_client_holds_line(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256];
    static uint8_t chunk[65536], sink[65536];
    struct uart_backend *be;
    uint8_t buf[8];
    size_t taken = 0, n;
    int c;

    snprintf(spec, sizeof(spec), "unix:%s", tmp_path(t, "s"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    c = connect_to(t->path);
    turn(be, true, false, buf, sizeof(buf), 1000);
    /* Fill the socket until it pushes back. */
    for (int i = 0; i < 1000; i++) {
        n = uart_backend_write(be, chunk, sizeof(chunk));
        taken += n;
        if (n < sizeof(chunk))
            break;
    }
    assert_int_equal(uart_backend_write(be, chunk, 1), 0);
    /* The client reads it all: the line frees up. */
    while (recv(c, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
    assert_int_equal(turn(be, false, true, buf, 0, 1000), 0);
    assert_int_equal(uart_backend_write(be, chunk, 1), 1);
    close(c);
    uart_backend_close(be);
}

static void test_unix_replaces_stale_socket_only(void **state)
{
    struct tmp *t = *state;
    char spec[160], err[256];
    struct uart_backend *be, *be2;
    int fd;

    snprintf(spec, sizeof(spec), "unix:%s", tmp_path(t, "s"));
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), 0);
    /* A second instance (a restart) takes the path over. */
    assert_int_equal(uart_backend_open(spec, &be2, err, sizeof(err)), 0);
    uart_backend_close(be2);
    uart_backend_close(be);

    fd = open(t->path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "not a socket"));

    memset(spec, 'x', sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = 0;
    memcpy(spec, "unix:/", 6);
    assert_int_equal(uart_backend_open(spec, &be, err, sizeof(err)), -ENAMETOOLONG);
}

/* ---- pty ---------------------------------------------------------------------- */

static void test_pty(void **state)
{
    struct uart_backend *be;
    char err[256], got[16];
    const char *desc;
    uint8_t buf[16];
    struct termios tio;
    int slave;

    (void)state;
    assert_int_equal(uart_backend_open("pty", &be, err, sizeof(err)), 0);
    desc = uart_backend_describe(be);
    assert_memory_equal(desc, "pty /dev/", 9);

    slave = open(desc + 4, O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    assert_int_equal(tcgetattr(slave, &tio), 0);
    assert_int_equal(tio.c_lflag & (ECHO | ICANON), 0); /* raw: no echo back */

    assert_int_equal(put(be, "out\r\n"), 5);
    read_exactly(slave, got, 5);
    assert_memory_equal(got, "out\r\n", 5);

    assert_int_equal(write(slave, "in", 2), 2);
    assert_int_equal(turn_until(be, buf, 2), 2);
    assert_memory_equal(buf, "in", 2);

    /* Nobody reading: output is discarded, never blocks. */
    close(slave);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(put(be, "0123456789abcdef"), 16);
    uart_backend_close(be);
}

/* ---- stdio (in a child, with pipes as stdin and stdout) ------------------------ */

static void test_stdio(void **state)
{
    int in[2], out[2], status;
    char got[32];
    pid_t pid;

    (void)state;
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct uart_backend *be;
        char err[256];
        uint8_t buf[16];
        size_t got_in = 0;

        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (uart_backend_open("stdio", &be, err, sizeof(err)) != 0 ||
            strcmp(uart_backend_describe(be), "stdio") != 0)
            _exit(10);
        /* Echo input back with a prefix until stdin ends. */
        for (int i = 0; i < 500; i++) {
            struct pollfd fds[UART_BACKEND_MAX_FDS];
            int n = uart_backend_poll_fds(be, fds, true, false);
            size_t r;

            if (n == 0)
                break; /* input ended: nothing left to poll */
            if (poll(fds, (nfds_t)n, 10) < 0)
                _exit(11);
            r = uart_backend_handle(be, fds, n, buf, sizeof(buf));
            got_in += r;
            if (r && uart_backend_write(be, (const uint8_t *)">", 1) != 1)
                _exit(12);
            if (r && uart_backend_write(be, buf, r) != r)
                _exit(13);
        }
        uart_backend_close(be);
        _exit(got_in == 4 ? 0 : 14);
    }
    close(in[0]);
    close(out[1]);
    assert_int_equal(write(in[1], "ping", 4), 4);
    read_exactly(out[0], got, 5);
    assert_memory_equal(got, ">ping", 5);
    close(in[1]); /* end of input: the child's loop ends */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(out[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test_setup_teardown(test_file_appends, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_file_bad_path, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unix_one_client, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unix_half_closed_client_still_reads, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unix_input_kept_when_client_leaves, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unix_slow_client_holds_line, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_unix_replaces_stale_socket_only, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_pty),
        cmocka_unit_test(test_stdio),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
