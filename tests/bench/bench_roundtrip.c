/*
 * bench_roundtrip: the synchronous ioreq round trip through xensim against
 * the floor set by its transport, and buffered-ring throughput, measured in
 * one run on the same machine.
 *
 *  1. Round trip.  A guest vCPU (a thread in the xensim daemon, driven by
 *     `xensim guest run`) does N one-byte `in`s from a port served by
 *     bench_emulator, a separate process using Debian's Xen libraries (the
 *     xensim drop-ins at run time): core -> event channel -> emulator
 *     (pending, unmask, answer, notify) -> vCPU wake-up -> next `in`.  Two
 *     emulators, each on its own guest: one polls its event fd before
 *     taking the pending port, as a device model with a main loop does; one
 *     blocks in xenevtchn_pending().  Time per access, two ways:
 *       emulator clock: bench_emulator notes when the first and the last
 *         `in` reach it (--stats); (last - first) / (N - 1) is the guest's
 *         time per access, free of the cost of starting a guest run;
 *       CLI clock: `xensim guest run` is timed from outside, and the same
 *         script against an unmapped port (the core's null handler, no
 *         emulator) subtracted, divided by N.
 *  2. Floor.  Two processes ping-pong over the same primitives: A writes a
 *     4-byte port number into a SOCK_STREAM unix socketpair, B reads it and
 *     writes 1 into an eventfd, A reads the eventfd.  N round trips, timed
 *     right before the round trips it is compared with.
 *  3. Their ratios (the project's target: at most 1.5x).
 *  4. Buffered ring.  M four-byte MMIO writes into the VGA window on a
 *     server created with HVM_IOREQSRV_BUFIOREQ_ATOMIC (posted to the ring,
 *     drained by the emulator), against the same writes on a server without
 *     a ring (each a synchronous round trip).  The script is one `in`, the
 *     M writes, and an MMIO read that the emulator answers with the sum of
 *     the writes it applied (checked with `expect`: every write arrived);
 *     the emulator's clock from answering the `in` to receiving the read
 *     gives writes per second.
 *
 * Every measurement is repeated (after one warm-up repetition that is
 * thrown away), interleaved so that all see the same machine load; the
 * best and the median are printed.  Nothing fails on timing: the exit
 * status says only whether everything ran (and every `expect` held).
 *
 * Usage: bench_roundtrip [--quick] [--verbose] [--reps R]
 *                        [--xensim PATH] [--emulator PATH]
 *   --quick     a few accesses, one repetition: checks that it runs.
 *   --verbose   also one line per repetition.
 * Outside a simulator session ($XENSIM_SOCKET unset) it runs itself again
 * under `xensim run --`, which starts a private daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef BENCH_XENSIM
#define BENCH_XENSIM "xensim"
#endif
#ifndef BENCH_EMULATOR
#define BENCH_EMULATOR "bench_emulator"
#endif

#define N_IN 7000     /* `in` lines per script: 8 bytes each, < 64 KiB */
#define N_MMIO 2400   /* `mmio-write` lines: 23 bytes each */
#define N_QUICK 20
#define REPS 9
#define MAX_REPS 101
#define TARGET_RATIO 1.5

#define PORT_SERVED 96      /* mapped to the emulators */
#define PORT_UNMAPPED 97    /* the null handler */
#define PORT_VALUE 0x5a     /* what bench_emulator answers */
#define VGA_FIRST 0xa0000
#define VGA_LAST 0xbffff

struct config {
    unsigned int n_in, n_mmio, reps;
    const char *xensim, *emulator;
    bool verbose; /* one line per repetition too */
};

/* What bench_emulator --stats reports about the accesses of one guest run. */
struct emu_stats {
    unsigned long long port_reads, port_first, port_last;
    unsigned long long mmio_writes, mmio_first, read_ns;
};

/* The guests, each with its own bench_emulator. */
enum guest { GUEST_POLL, GUEST_READ, GUEST_RING, NR_GUESTS };

static const struct guest_kind {
    const char *name;
    const char *wait;  /* bench_emulator --wait */
    bool ring;         /* --bufioreq atomic */
} guest_kinds[NR_GUESTS] = {
    [GUEST_POLL] = { "poll", "poll", false },
    [GUEST_READ] = { "read", "read", false },
    [GUEST_RING] = { "ring", "poll", true },
};

enum script { SCRIPT_READ, SCRIPT_IN_NULL, SCRIPT_IN_EMU, SCRIPT_WRITES, NR_SCRIPTS };

/* One repetition's raw timings, ns. */
struct sample {
    double floor_rt;         /* per ping-pong round trip */
    double read;             /* `xensim guest run` of the closing read alone */
    double in_null, in_poll; /* `xensim guest run` of N `in`s (+ the read) */
    struct emu_stats in_poll_st, in_read_st, sync_st, ring_st; /* the emulators' clocks */
};

struct session {
    char dir[PATH_MAX];
    char script[NR_SCRIPTS][PATH_MAX + 16];
    struct {
        unsigned int domid;
        pid_t emulator;
        char stats[PATH_MAX + 16], ready[PATH_MAX + 16];
    } guest[NR_GUESTS];
    pid_t floor_child;
    int floor_sock, floor_efd;
};

static struct session *cleanup_on_exit; /* what die() must not leave behind */

static void end_session(struct session *s);

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_roundtrip: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    if (cleanup_on_exit) {
        struct session *s = cleanup_on_exit;

        cleanup_on_exit = NULL;
        end_session(s);
    }
    exit(1);
}

/* ---- the floor: a two-process ping-pong ---- */

static bool read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || errno != EINTR)
            return false;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
    size_t put = 0;

    while (put < len) {
        ssize_t n = write(fd, (const char *)buf + put, len - put);
        if (n > 0)
            put += (size_t)n;
        else if (n == 0 || errno != EINTR)
            return false;
    }
    return true;
}

/* B: each port read from the socket is answered by a write to the eventfd. */
static void floor_serve(int sock, int efd)
{
    uint32_t port;
    const uint64_t one = 1;

    while (read_full(sock, &port, sizeof(port)))
        if (!write_full(efd, &one, sizeof(one)))
            _exit(1);
    _exit(0);
}

static void floor_start(struct session *s)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair: %s", strerror(errno));
    s->floor_efd = eventfd(0, EFD_CLOEXEC);
    if (s->floor_efd < 0)
        die("eventfd: %s", strerror(errno));
    s->floor_child = fork();
    if (s->floor_child < 0)
        die("fork: %s", strerror(errno));
    if (s->floor_child == 0) {
        close(sv[0]);
        floor_serve(sv[1], s->floor_efd);
    }
    close(sv[1]);
    s->floor_sock = sv[0];
}

/* A: `n` round trips; ns per round trip. */
static double floor_run(struct session *s, unsigned int n)
{
    const uint32_t port = PORT_SERVED;
    uint64_t count;
    double t0 = now_ns();

    for (unsigned int i = 0; i < n; i++)
        if (!write_full(s->floor_sock, &port, sizeof(port)) ||
            !read_full(s->floor_efd, &count, sizeof(count)))
            die("ping-pong: %s", strerror(errno));
    return (now_ns() - t0) / n;
}

static void floor_stop(struct session *s)
{
    if (s->floor_child <= 0)
        return;
    close(s->floor_sock); /* B reads EOF and exits */
    waitpid(s->floor_child, NULL, 0);
    close(s->floor_efd);
    s->floor_child = 0;
}

/* ---- processes ---- */

static pid_t spawn(char *const argv[], int stdout_fd)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;

    posix_spawn_file_actions_init(&fa);
    if (stdout_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, stdout_fd, STDOUT_FILENO);
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err)
        die("cannot run %s", argv[0]);
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* `xensim domain create`: the new domain's id. */
static unsigned int create_domain(const struct config *cfg, const char *name)
{
    char *argv[] = { (char *)cfg->xensim, "domain", "create", "--name", (char *)name,
                     "--type", "hvm", "--vcpus", "1", "--memory", "16M", NULL };
    int pipefd[2];
    char out[64] = "";

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = spawn(argv, pipefd[1]);
    close(pipefd[1]);
    ssize_t n = read(pipefd[0], out, sizeof(out) - 1);
    close(pipefd[0]);
    char *end;
    unsigned long domid = strtoul(out, &end, 10);
    if (wait_exit(pid) != 0 || n <= 0 || end == out || domid == 0)
        die("xensim domain create %s failed", name);
    return (unsigned int)domid;
}

static void destroy_domain(const struct config *cfg, unsigned int domid)
{
    char id[16];
    char *argv[] = { (char *)cfg->xensim, "domain", "destroy", id, NULL };

    snprintf(id, sizeof(id), "%u", domid);
    wait_exit(spawn(argv, -1));
}

/* A guest and its bench_emulator, which has bound its ports on return. */
static void start_guest(const struct config *cfg, struct session *s, enum guest g)
{
    const struct guest_kind *k = &guest_kinds[g];
    char name[64], id[16], port[16], mmio[64];

    snprintf(name, sizeof(name), "bench-%s-%d", k->name, (int)getpid());
    s->guest[g].domid = create_domain(cfg, name);
    char path[sizeof(s->guest[g].stats)];
    snprintf(path, sizeof(path), "%s/stats.%s", s->dir, k->name);
    memcpy(s->guest[g].stats, path, sizeof(path));
    snprintf(path, sizeof(path), "%s/ready.%s", s->dir, k->name);
    memcpy(s->guest[g].ready, path, sizeof(path));
    snprintf(id, sizeof(id), "%u", s->guest[g].domid);
    snprintf(port, sizeof(port), "%u", PORT_SERVED);
    snprintf(mmio, sizeof(mmio), "%#x-%#x", VGA_FIRST, VGA_LAST);
    char *argv[] = { (char *)cfg->emulator, "--domid", id, "--port", port, "--mmio", mmio,
                     "--bufioreq", k->ring ? "atomic" : "off", "--wait", (char *)k->wait,
                     "--stats", s->guest[g].stats, "--ready-file", s->guest[g].ready, NULL };
    pid_t pid = spawn(argv, -1);

    s->guest[g].emulator = pid;
    for (int i = 0; i < 1000; i++) { /* 10 s */
        struct stat st;
        int status;

        if (stat(s->guest[g].ready, &st) == 0 && st.st_size > 0)
            return;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->guest[g].emulator = 0;
            die("%s exited before it was ready", cfg->emulator);
        }
        usleep(10000);
    }
    die("%s did not get ready", cfg->emulator);
}

static void stop_guest(const struct config *cfg, struct session *s, enum guest g)
{
    pid_t pid = s->guest[g].emulator;

    if (pid > 0) {
        kill(pid, SIGTERM);
        if (wait_exit(pid) != 0)
            fprintf(stderr, "bench_emulator (pid %d) did not exit cleanly\n", (int)pid);
        s->guest[g].emulator = 0;
    }
    if (cfg && s->guest[g].domid) {
        destroy_domain(cfg, s->guest[g].domid);
        s->guest[g].domid = 0;
    }
    unlink(s->guest[g].stats);
    unlink(s->guest[g].ready);
}

/* ---- guest scripts ---- */

static void write_script(const char *path, const char *first, const char *line,
                         unsigned int times, const char *last)
{
    FILE *f = fopen(path, "w");

    if (!f)
        die("cannot create %s", path);
    fputs(first, f);
    for (unsigned int i = 0; i < times; i++)
        fputs(line, f);
    fputs(last, f);
    if (ferror(f) | fclose(f))
        die("cannot write %s", path);
}

/*
 * Every script ends with an MMIO read: bench_emulator answers it with the
 * sum of the MMIO writes since the previous read (checked) and reports its
 * clock (--stats).  The first `in` of a script checks the value read.
 */
static void make_scripts(const struct config *cfg, struct session *s)
{
    static const char *const names[NR_SCRIPTS] = { "read", "in-null", "in-emu", "writes" };
    char first[64], line[64], read0[64], readn[64];

    for (unsigned int i = 0; i < NR_SCRIPTS; i++)
        snprintf(s->script[i], sizeof(s->script[i]), "%s/%s", s->dir, names[i]);
    snprintf(read0, sizeof(read0), "mmio-read %#x 4 expect 0\n", VGA_FIRST);
    snprintf(readn, sizeof(readn), "mmio-read %#x 4 expect %u\n", VGA_FIRST, cfg->n_mmio);

    write_script(s->script[SCRIPT_READ], "", "", 0, read0);
    snprintf(first, sizeof(first), "in %u 1 expect 0xff\n", PORT_UNMAPPED);
    snprintf(line, sizeof(line), "in %u 1\n", PORT_UNMAPPED);
    write_script(s->script[SCRIPT_IN_NULL], first, line, cfg->n_in - 1, read0);
    snprintf(first, sizeof(first), "in %u 1 expect %#x\n", PORT_SERVED, PORT_VALUE);
    snprintf(line, sizeof(line), "in %u 1\n", PORT_SERVED);
    write_script(s->script[SCRIPT_IN_EMU], first, line, cfg->n_in - 1, read0);
    /* The `in` before the writes starts the emulator's clock. */
    snprintf(first, sizeof(first), "in %u 1\n", PORT_SERVED);
    snprintf(line, sizeof(line), "mmio-write %#x 4 1\n", VGA_FIRST);
    write_script(s->script[SCRIPT_WRITES], first, line, cfg->n_mmio, readn);
}

/* Time one `xensim guest run`, ns; a failed run (expectation, error) is fatal. */
static double guest_run(const struct config *cfg, const struct session *s, enum guest g,
                        enum script which)
{
    char id[16];
    char *argv[] = { (char *)cfg->xensim, "guest", "run", "--timeout", "60000", id,
                     (char *)s->script[which], NULL };

    snprintf(id, sizeof(id), "%u", s->guest[g].domid);
    double t0 = now_ns();
    int rc = wait_exit(spawn(argv, -1));
    double t = now_ns() - t0;
    if (rc != 0)
        die("xensim guest run of %s failed", s->script[which]);
    return t;
}

/* What guest g's emulator saw during the last run: `reads` `in`s and `writes` writes. */
static struct emu_stats read_stats(const struct session *s, enum guest g,
                                   unsigned long long reads, unsigned long long writes)
{
    struct emu_stats st;
    FILE *f = fopen(s->guest[g].stats, "r");
    int n = f ? fscanf(f, "port_reads %llu first_ns %llu last_ns %llu mmio_writes %llu "
                          "first_ns %llu read_ns %llu", &st.port_reads, &st.port_first,
                       &st.port_last, &st.mmio_writes, &st.mmio_first, &st.read_ns) : 0;

    if (f)
        fclose(f);
    if (n != 6)
        die("cannot read the emulator's statistics %s", s->guest[g].stats);
    if (st.port_reads != reads || st.mmio_writes != writes)
        die("the emulator did not see the accesses of the script (%s)", s->guest[g].stats);
    return st;
}

/* One repetition; the floor right before the round trips it is compared with. */
static void measure(const struct config *cfg, struct session *s, struct sample *x)
{
    x->read = guest_run(cfg, s, GUEST_POLL, SCRIPT_READ);
    x->in_null = guest_run(cfg, s, GUEST_POLL, SCRIPT_IN_NULL);
    x->floor_rt = floor_run(s, cfg->n_in);
    x->in_poll = guest_run(cfg, s, GUEST_POLL, SCRIPT_IN_EMU);
    x->in_poll_st = read_stats(s, GUEST_POLL, cfg->n_in, 0);
    guest_run(cfg, s, GUEST_READ, SCRIPT_IN_EMU);
    x->in_read_st = read_stats(s, GUEST_READ, cfg->n_in, 0);
    guest_run(cfg, s, GUEST_POLL, SCRIPT_WRITES);
    x->sync_st = read_stats(s, GUEST_POLL, 1, cfg->n_mmio);
    guest_run(cfg, s, GUEST_RING, SCRIPT_WRITES);
    x->ring_st = read_stats(s, GUEST_RING, 1, cfg->n_mmio);
}

/* ---- statistics and the report ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

struct stat2 {
    double best, median;
};

static struct stat2 stats(const double *v, unsigned int n, bool higher_is_better)
{
    double s[MAX_REPS];

    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    return (struct stat2){ .best = higher_is_better ? s[n - 1] : s[0],
                           .median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2 };
}

#define ROW "%-54s"

static void row_us(const char *what, const double *v, unsigned int n)
{
    struct stat2 st = stats(v, n, false);

    printf(ROW " %9.2f us %9.2f us\n", what, st.best / 1e3, st.median / 1e3);
}

static void row_rate(const char *what, const double *v, unsigned int n)
{
    struct stat2 st = stats(v, n, true);

    printf(ROW " %9.0f /s %9.0f /s\n", what, st.best, st.median);
}

/*
 * num / den: "best" is the ratio of the two bests (each measured at its
 * quietest), "median" the median of the per-repetition ratios (each pair
 * measured side by side).
 */
static void row_ratio(const char *what, const double *num, const double *den, unsigned int n,
                      bool higher_is_better, const char *note)
{
    double ratio[MAX_REPS];

    for (unsigned int i = 0; i < n; i++)
        ratio[i] = num[i] / den[i];
    double best = stats(num, n, higher_is_better).best / stats(den, n, higher_is_better).best;
    printf(ROW " %10.2fx  %10.2fx%s\n", what, best, stats(ratio, n, false).median, note);
}

static double per_in(const struct emu_stats *st, unsigned int n)
{
    return (double)(st->port_last - st->port_first) / (n - 1);
}

/* MMIO writes per second, from answering the `in` to the closing read. */
static double write_rate(const struct emu_stats *st, unsigned int m)
{
    return m * 1e9 / (double)(st->read_ns - st->port_last);
}

static void report(const struct config *cfg, const struct sample *x, unsigned int reps)
{
    double floor_rt[MAX_REPS], rt_poll[MAX_REPS], rt_read[MAX_REPS], rt_cli[MAX_REPS];
    double null_access[MAX_REPS], fixed[MAX_REPS], sync_rate[MAX_REPS], ring_rate[MAX_REPS];

    for (unsigned int i = 0; i < reps; i++) {
        const struct sample *r = &x[i];

        floor_rt[i] = r->floor_rt;
        rt_poll[i] = per_in(&r->in_poll_st, cfg->n_in);
        rt_read[i] = per_in(&r->in_read_st, cfg->n_in);
        rt_cli[i] = (r->in_poll - r->in_null) / cfg->n_in;
        null_access[i] = (r->in_null - r->read) / cfg->n_in;
        fixed[i] = r->read;
        sync_rate[i] = write_rate(&r->sync_st, cfg->n_mmio);
        ring_rate[i] = write_rate(&r->ring_st, cfg->n_mmio);
        if (cfg->verbose)
            printf("rep %2u: floor %6.2f us, round trip %6.2f us poll, %6.2f us read, "
                   "%6.2f us CLI; writes/s %6.0f sync, %8.0f ring\n", i + 1,
                   floor_rt[i] / 1e3, rt_poll[i] / 1e3, rt_read[i] / 1e3, rt_cli[i] / 1e3,
                   sync_rate[i], ring_rate[i]);
    }

    printf("bench_roundtrip: %u port reads, %u MMIO writes per guest run; "
           "%u repetitions after a warm-up\n", cfg->n_in, cfg->n_mmio, reps);
    printf(ROW " %12s %12s\n", "", "best", "median");
    row_us("floor: socketpair + eventfd ping-pong, /round trip", floor_rt, reps);
    row_us("guest `in`, emulator polls + reads, /access", rt_poll, reps);
    row_us("guest `in`, emulator blocks in read, /access", rt_read, reps);
    row_us("  (CLI clock) polling emulator minus null handler", rt_cli, reps);
    row_us("  (CLI clock) null handler alone, /access", null_access, reps);
    row_ratio("RATIO round trip / floor, emulator polls", rt_poll, floor_rt, reps, false,
              "   (target <= 1.5x)");
    row_ratio("RATIO round trip / floor, emulator blocks in read", rt_read, floor_rt, reps,
              false, "");
    row_ratio("RATIO round trip / floor, CLI clock, polls", rt_cli, floor_rt, reps, false, "");
    printf(ROW " %9.2f ms %9.2f ms\n", "fixed cost of one `xensim guest run`",
           stats(fixed, reps, false).best / 1e6, stats(fixed, reps, false).median / 1e6);
    row_rate("VGA MMIO writes, synchronous (no ring)", sync_rate, reps);
    row_rate("VGA MMIO writes, buffered (atomic ring)", ring_rate, reps);
    row_ratio("RATIO buffered / synchronous", ring_rate, sync_rate, reps, true, "");
    printf("(times per access from the emulator's clock unless marked CLI; a ratio's best "
           "is the ratio of the bests,\n its median the median of the per-repetition "
           "ratios)\n");
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_roundtrip [--quick] [--verbose] [--reps R] "
                    "[--xensim PATH] [--emulator PATH]\n");
    exit(2);
}

/* Not in a simulator session: run this program again under `xensim run`. */
static void reexec_under_xensim(const char *xensim, int argc, char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char **args = calloc((size_t)argc + 4, sizeof(*args));

    if (n <= 0 || !args)
        die("%s", "cannot find my own executable");
    self[n] = '\0';
    args[0] = (char *)xensim;
    args[1] = "run";
    args[2] = "--";
    args[3] = self;
    for (int i = 1; i < argc; i++)
        args[3 + i] = argv[i];
    fflush(NULL);
    execv(xensim, args);
    die("cannot run %s", xensim);
}

static const struct config *session_cfg; /* for end_session() from die() */

static void end_session(struct session *s)
{
    floor_stop(s);
    for (unsigned int g = 0; g < NR_GUESTS; g++)
        stop_guest(session_cfg, s, (enum guest)g);
    for (unsigned int i = 0; i < NR_SCRIPTS; i++)
        if (s->script[i][0])
            unlink(s->script[i]);
    rmdir(s->dir);
}

int main(int argc, char **argv)
{
    struct config cfg = { .n_in = N_IN, .n_mmio = N_MMIO, .reps = REPS,
                          .xensim = BENCH_XENSIM, .emulator = BENCH_EMULATOR };
    bool quick = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;

        if (strcmp(a, "--quick") == 0) {
            quick = true;
        } else if (strcmp(a, "--verbose") == 0) {
            cfg.verbose = true;
        } else if (i + 1 < argc && strcmp(a, "--reps") == 0) {
            unsigned long r = strtoul(argv[++i], &end, 10);
            if (*end || r < 1 || r > MAX_REPS)
                usage();
            cfg.reps = (unsigned int)r;
        } else if (i + 1 < argc && strcmp(a, "--xensim") == 0) {
            cfg.xensim = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--emulator") == 0) {
            cfg.emulator = argv[++i];
        } else {
            usage();
        }
    }
    if (quick) {
        cfg.n_in = cfg.n_mmio = N_QUICK;
        cfg.reps = 1;
    }
    if (!getenv("XENSIM_SOCKET"))
        reexec_under_xensim(cfg.xensim, argc, argv);

    static struct session s;
    const char *tmp = getenv("TMPDIR");
    snprintf(s.dir, sizeof(s.dir), "%s/bench_roundtrip.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s.dir))
        die("mkdtemp: %s", strerror(errno));
    session_cfg = &cfg;
    cleanup_on_exit = &s;

    for (unsigned int g = 0; g < NR_GUESTS; g++)
        start_guest(&cfg, &s, (enum guest)g);
    make_scripts(&cfg, &s);
    floor_start(&s);

    static struct sample samples[MAX_REPS + 1];
    measure(&cfg, &s, &samples[0]); /* warm-up, thrown away */
    for (unsigned int r = 0; r < cfg.reps; r++)
        measure(&cfg, &s, &samples[r + 1]);

    cleanup_on_exit = NULL;
    end_session(&s);

    report(&cfg, samples + 1, cfg.reps);
    if (quick)
        printf("(--quick: %u accesses, one repetition: the numbers are not meaningful)\n",
               N_QUICK);
    return 0;
}
