/* The default seccomp profile of an isolated emulator.
 *
 * A deny-list: the default action is ALLOW and the system calls in
 * deny_table[] fail with EPERM.  An emulator is an ordinary event-driven
 * program (files, sockets, event channels through ioctl, mmap of guest
 * memory, threads); an allow-list precise enough to be worth having would be
 * emulator-specific and break with every libc update, so the profile instead
 * takes away what no emulator needs and what would widen the kernel attack
 * surface or undo the other isolation layers (namespaces, credentials,
 * no_new_privs).
 *
 * Beside the table:
 *   - clone() with any namespace flag fails with EPERM (one rule per flag,
 *     since a BPF rule can test "flag set" but libseccomp has no "any of").
 *     Plain fork and thread creation stay allowed.
 *   - clone3() fails with ENOSYS: its flags are behind a pointer, which a
 *     seccomp filter cannot read.  glibc (2.34 and later) falls back to
 *     clone() on ENOSYS, where the rule above applies.
 *   - System calls of a foreign architecture (e.g. i386 int 0x80 on x86_64)
 *     kill the process: the table is only written for the native one.
 *   - personality() stays allowed: glibc and sanitizer runtimes query it,
 *     and without privilege it can do no harm under no_new_privs.
 *
 * The filter is built with libseccomp and exported as BPF in the caller;
 * isolate.c installs it in the child just before execve(). */
#define _GNU_SOURCE
#include "isolate_seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The system calls refused with EPERM.  Names the native architecture does
 * not have (umount on x86_64, iopl on arm64) are skipped. */
static const char *const deny_table[] = {
    /* Mounts and the filesystem view: an emulator must not change what it
     * sees, leave its mount namespace or reach other namespaces.  The new
     * mount API (fsopen...) is listed too, or it would bypass mount(). */
    "mount", "umount", "umount2", "pivot_root", "chroot", "setns", "unshare",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    /* Whole-machine control. */
    "reboot", "kexec_load", "kexec_file_load", "swapon", "swapoff", "acct",
    /* Kernel code: loading or removing modules. */
    "init_module", "finit_module", "delete_module",
    /* Other processes' memory and file descriptors: the router, other
     * emulators, other guests' emulators. */
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    /* Large kernel attack surface no emulator uses. */
    "bpf", "perf_event_open", "userfaultfd",
    /* Kernel keyrings are not namespaced: they hold other users' secrets. */
    "keyctl", "add_key", "request_key",
    /* Opening files by handle bypasses the mount namespace (the "shocker"
     * container escape). */
    "open_by_handle_at",
    /* Raw port I/O would bypass Xen's ioreq routing altogether. */
    "iopl", "ioperm",
    /* The host's clock belongs to the host. */
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
};

/* Flags of clone() that create namespaces.  Not CLONE_NEWTIME: in clone()
 * that bit is part of the exit signal (it is only valid in clone3/unshare). */
static const unsigned long clone_ns_flags[] = {
    CLONE_NEWNS,   CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
    CLONE_NEWPID,  CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* clone()'s flags argument: the first one, except on s390 and cris. */
#if defined(__s390__) || defined(__CRIS__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

static void set_err(char *err, size_t errlen, const char *what, int e)
{
    if (err && errlen) {
        char buf[128];
        snprintf(err, errlen, "seccomp: %s: %s", what, strerror_r(e, buf, sizeof buf));
    }
}

/* Export ctx as BPF through a memfd and read it back into prog. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, char *err, size_t errlen)
{
    int fd = memfd_create("isolate-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(err, errlen, "memfd_create", e);
        return -e;
    }
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) {
        close(fd);
        set_err(err, errlen, "seccomp_export_bpf", -rc);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        set_err(err, errlen, "fstat", e);
        return -e;
    }
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
        size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        close(fd);
        set_err(err, errlen, "exported filter has an invalid size", EINVAL);
        return -EINVAL;
    }
    struct sock_filter *insns = malloc(size);
    if (!insns) {
        close(fd);
        set_err(err, errlen, "malloc", ENOMEM);
        return -ENOMEM;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *)insns + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(insns);
            close(fd);
            set_err(err, errlen, "reading the exported filter", e);
            return -e;
        }
        done += (size_t)n;
    }
    close(fd);
    prog->filter = insns;
    prog->len = (unsigned short)(size / sizeof(struct sock_filter));
    return 0;
}

int isolate_seccomp_build(struct sock_fprog *prog, char *err, size_t errlen)
{
    prog->filter = NULL;
    prog->len = 0;

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        set_err(err, errlen, "seccomp_init", ENOMEM);
        return -ENOMEM;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc < 0) {
        set_err(err, errlen, "bad-architecture action", -rc);
        goto out;
    }

    for (size_t i = 0; i < sizeof deny_table / sizeof deny_table[0]; i++) {
        int nr = seccomp_syscall_resolve_name(deny_table[i]);
        if (nr < 0) /* __NR_SCMP_ERROR, or a pseudo number: not on this arch */
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        if (rc < 0) {
            set_err(err, errlen, deny_table[i], -rc);
            goto out;
        }
    }

    for (size_t i = 0; i < sizeof clone_ns_flags / sizeof clone_ns_flags[0]; i++) {
        scmp_datum_t f = clone_ns_flags[i];
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, f, f));
        if (rc < 0) {
            set_err(err, errlen, "clone namespace flags", -rc);
            goto out;
        }
    }

    int nr_clone3 = seccomp_syscall_resolve_name("clone3");
    if (nr_clone3 >= 0) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr_clone3, 0);
        if (rc < 0) {
            set_err(err, errlen, "clone3", -rc);
            goto out;
        }
    }

    rc = export_bpf(ctx, prog, err, errlen);
out:
    seccomp_release(ctx);
    return rc;
}

void isolate_seccomp_release(struct sock_fprog *prog)
{
    free(prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}
