/*
 * ABI probe for the xensim drop-in Xen libraries.  Built against Debian's
 * headers and linked with plain -lxendevicemodel -lxenforeignmemory
 * -lxenevtchn -lxenctrl (Debian's libraries at link time); run with
 * LD_LIBRARY_PATH pointing at the drop-ins and XENSIM_SOCKET unset.
 *
 * Usage: abi_probe EXPECTED_LIB_DIR
 *
 * Checks that the four libraries were loaded from EXPECTED_LIB_DIR, that
 * every *_open fails with ENOENT and logs one line (through a given
 * xentoollog logger, else on stderr), and that unmodelled calls fail with
 * EOPNOTSUPP.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>

#include "checks.h"

/* The directory the library holding `fn` was loaded from. */
static int lib_dir_of(void *fn, char *dir, size_t size)
{
    Dl_info info;
    char real[PATH_MAX];

    if (!dladdr(fn, &info) || !info.dli_fname || !realpath(info.dli_fname, real))
        return -1;
    char *slash = strrchr(real, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(dir, size, "%s", real);
    return 0;
}

static int check_loaded_from(const char *want, void *fn, const char *name)
{
    char dir[PATH_MAX];

    if (lib_dir_of(fn, dir, sizeof(dir)) < 0 || strcmp(dir, want) != 0) {
        fprintf(stderr, "abi_probe: %s comes from %s, not %s (check LD_LIBRARY_PATH)\n", name,
                lib_dir_of(fn, dir, sizeof(dir)) < 0 ? "?" : dir, want);
        return -1;
    }
    return 0;
}

/* A logger that counts messages and remembers the last one's errno. */
struct counting_logger {
    xentoollog_logger lg;
    int messages;
    int last_errno;
    xentoollog_level last_level;
    char last_context[64];
};

static void counting_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                              const char *context, const char *format, va_list al)
{
    struct counting_logger *cl = (struct counting_logger *)lg;
    char text[512];

    vsnprintf(text, sizeof(text), format, al);
    cl->messages++;
    cl->last_errno = errnoval;
    cl->last_level = level;
    snprintf(cl->last_context, sizeof(cl->last_context), "%s", context ? context : "");
}

/* Run `fn`, capturing what it writes on stderr into buf. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size)
{
    int pipefd[2];
    size_t len = 0;

    buf[0] = '\0';
    fflush(stderr);
    if (pipe(pipefd) < 0)
        return;
    int saved = dup(STDERR_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    close(pipefd[1]);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    for (ssize_t n; len + 1 < size && (n = read(pipefd[0], buf + len, size - 1 - len)) > 0;)
        len += (size_t)n;
    buf[len] = '\0';
    close(pipefd[0]);
}

static int open_errno[4];
static void *open_result[4];

static void open_all_without_logger(void)
{
    errno = 0;
    open_result[0] = xendevicemodel_open(NULL, 0);
    open_errno[0] = errno;
    errno = 0;
    open_result[1] = xenforeignmemory_open(NULL, 0);
    open_errno[1] = errno;
    errno = 0;
    open_result[2] = xenevtchn_open(NULL, 0);
    open_errno[2] = errno;
    errno = 0;
    open_result[3] = xc_interface_open(NULL, NULL, 0);
    open_errno[3] = errno;
}

static int count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s EXPECTED_LIB_DIR\n", argv[0]);
        return 2;
    }
    char want[PATH_MAX];
    if (!realpath(argv[1], want)) {
        perror(argv[1]);
        return 2;
    }
    if (check_loaded_from(want, (void *)xendevicemodel_open, "libxendevicemodel") < 0 ||
        check_loaded_from(want, (void *)xenforeignmemory_open, "libxenforeignmemory") < 0 ||
        check_loaded_from(want, (void *)xenevtchn_open, "libxenevtchn") < 0 ||
        check_loaded_from(want, (void *)xc_interface_open, "libxenctrl") < 0)
        return 1;
    if (getenv("XENSIM_SOCKET")) {
        fprintf(stderr, "abi_probe: run me with XENSIM_SOCKET unset\n");
        return 2;
    }

    /* Opening without a daemon: ENOENT and exactly one line on stderr each. */
    char text[4096];
    capture_stderr(open_all_without_logger, text, sizeof(text));
    for (int i = 0; i < 4; i++) {
        CHECK(open_result[i] == NULL);
        CHECK(open_errno[i] == ENOENT);
    }
    CHECK(count_lines(text, "\n") == 4);
    CHECK(count_lines(text, "xendevicemodel") == 1);
    CHECK(count_lines(text, "xenforeignmemory") == 1);
    CHECK(count_lines(text, "xenevtchn") == 1);
    CHECK(count_lines(text, "xenctrl") == 1);
    if (failures)
        fprintf(stderr, "abi_probe: stderr was:\n%s", text);

    /* With a logger: one message each, through the logger, nothing on stderr. */
    struct counting_logger cl = { .lg = { .vmessage = counting_vmessage } };
    errno = 0;
    CHECK(xendevicemodel_open(&cl.lg, 0) == NULL && errno == ENOENT);
    CHECK(cl.messages == 1 && cl.last_errno == ENOENT && cl.last_level == XTL_ERROR);
    errno = 0;
    CHECK(xenforeignmemory_open(&cl.lg, 0) == NULL && errno == ENOENT);
    CHECK(cl.messages == 2 && cl.last_errno == ENOENT);
    errno = 0;
    CHECK(xenevtchn_open(&cl.lg, 0) == NULL && errno == ENOENT);
    CHECK(cl.messages == 3 && cl.last_errno == ENOENT);
    CHECK(strcmp(cl.last_context, "xenevtchn") == 0);
    errno = 0;
    CHECK(xenevtchn_open(&cl.lg, XENEVTCHN_NO_CLOEXEC) == NULL && errno == ENOENT);
    errno = 0;
    CHECK(xc_interface_open(&cl.lg, NULL, 0) == NULL && errno == ENOENT);
    CHECK(cl.messages == 5 && cl.last_errno == ENOENT && cl.last_level == XTL_ERROR);
    CHECK(strcmp(cl.last_context, "xenctrl") == 0);

    /* A dummy libxenctrl handle opens nothing; calls on it fail (EBADF). */
    xc_interface *dummy = xc_interface_open(&cl.lg, NULL, XC_OPENFLAG_DUMMY);
    CHECK(dummy != NULL && cl.messages == 5);
    xc_domaininfo_t di;
    CHECK_ERR(xc_domain_getinfolist(dummy, 0, 1, &di), EBADF);
    CHECK_ERR(xc_domain_pause(dummy, 1), EBADF);
    CHECK(xc_interface_close(dummy) == 0);

    /* Closing nothing is fine, as with the real libraries. */
    CHECK(xendevicemodel_close(NULL) == 0);
    CHECK(xenforeignmemory_close(NULL) == 0);
    CHECK(xenevtchn_close(NULL) == 0);
    CHECK(xc_interface_close(NULL) == 0);

    /* Unmodelled calls fail with EOPNOTSUPP (they never look at the handle). */
    unsigned long bitmap[4];
    struct xen_dm_op_modified_memory_extent extent = { .nr = 1, .first_pfn = 0 };
    CHECK_ERR(xendevicemodel_track_dirty_vram(NULL, 1, 0, 4, bitmap), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_modified_memory(NULL, 1, 0, 1), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_modified_memory_bulk(NULL, 1, &extent, 1), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_set_mem_type(NULL, 1, HVMMEM_ram_ro, 0, 1), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_inject_event(NULL, 1, 0, 14, 3, 0, 0, 0), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_map_mem_type_to_ioreq_server(NULL, 1, 0, HVMMEM_ioreq_server, 3),
              EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_shutdown(NULL, 1, 0), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_relocate_memory(NULL, 1, 1, 0, 1), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_pin_memory_cacheattr(NULL, 1, 0, 1, 6), EOPNOTSUPP);
    CHECK_ERR(xendevicemodel_set_irq_level(NULL, 1, 5, 1), EOPNOTSUPP);
    CHECK_ERR(xenevtchn_bind_virq(NULL, 0), EOPNOTSUPP);
    errno = 0;
    CHECK(xenevtchn_fdopen(NULL, 0, 0) == NULL && errno == EOPNOTSUPP);
    errno = 0;
    CHECK(xenevtchn_fdopen(NULL, 0, XENEVTCHN_NO_CLOEXEC) == NULL && errno == EINVAL);

    if (failures) {
        fprintf(stderr, "abi_probe: %d check(s) failed\n", failures);
        return 1;
    }
    printf("abi_probe: OK (libraries from %s)\n", want);
    return 0;
}
