/*
 * The general part of the HVM Linux guests' /init (init_hvm.c, a static C
 * program, PID 1 of an unmodified Debian kernel; see tests/xen/hvm/README.md):
 * the kernel log, mounts, small files, /proc/interrupts, power-off.
 * Header-only: /init is one translation unit, built with a plain
 * `cc -static` (no project flags, no sanitizers).
 */
#ifndef HVM_GUEST_COMMON_H
#define HVM_GUEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel log: printk, so it goes to the console (ttyS0) as well. */
static int kmsg_fd = -1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    n = snprintf(buf, sizeof(buf), "<6>hvm-init: ");
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(buf))
        n = sizeof(buf) - 1;
    if (kmsg_fd >= 0)
        (void)!write(kmsg_fd, buf, (size_t)n);
}

static void mount_basics(void)
{
    mkdir("/dev", 0755);
    mkdir("/proc", 0555);
    mkdir("/sys", 0555);
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0 && errno != EBUSY)
        perror("mount /dev");
    if (mount("proc", "/proc", "proc", 0, NULL) < 0)
        perror("mount /proc");
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
        perror("mount /sys");
    kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

/* The whole of a small file (procfs, sysfs) into buf, NUL-terminated. */
static size_t read_file(const char *path, char *buf, size_t size)
{
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        buf[0] = '\0';
        return 0;
    }
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);

        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return len;
}

/* The line of buf that starts (after blanks) with prefix, copied to out. */
static int find_line(const char *buf, const char *prefix, char *out, size_t size)
{
    const char *line = buf;

    while (*line) {
        const char *end = strchr(line, '\n');
        const char *p = line;
        size_t len = end ? (size_t)(end - line) : strlen(line);

        while (*p == ' ')
            p++;
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            if (len >= size)
                len = size - 1;
            memcpy(out, line, len);
            out[len] = '\0';
            return 0;
        }
        if (!end)
            break;
        line = end + 1;
    }
    out[0] = '\0';
    return -1;
}

/* IRQ n's count in /proc/interrupts (all CPUs), -1 if it is not listed. */
static long irq_count(unsigned int irq)
{
    static char buf[16384];
    char prefix[16], line[512];
    long total = 0;
    char *p;

    read_file("/proc/interrupts", buf, sizeof(buf));
    snprintf(prefix, sizeof(prefix), "%u:", irq);
    if (find_line(buf, prefix, line, sizeof(line)) < 0)
        return -1;
    p = strchr(line, ':') + 1;
    for (;;) {
        char *end;
        long v = strtol(p, &end, 10);

        if (end == p)
            break;
        total += v;
        p = end;
    }
    return total;
}

static void power_off(void) __attribute__((noreturn));
static void power_off(void)
{
    say("powering off");
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

#endif /* HVM_GUEST_COMMON_H */
