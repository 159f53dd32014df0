/*
 * /init of the HVM Linux guests (tests/xen/hvm/README.md): PID 1 of
 * Debian's unmodified kernel, an HVM guest beside Debian's real QEMU, with
 * some of its devices served by the project's emulators in dom0.
 *
 * What it does is chosen on the kernel command line, `ioreq_test=PART,...`:
 *
 * com1   ttyS0 (0x3f8, IRQ 4) is ioreq-uart.  A userspace write through the
 *        tty layer: /dev/ttyS0 opened as a tty with its default termios, so
 *        the 8250 driver sends it from its THR-empty interrupt handler (ISA
 *        IRQ 4), not by polling as the printk console does.  Then, on the
 *        same port, how many interrupts IRQ 4 counted around the write and
 *        the driver's line for the port.  Lines (in ioreq-uart's backend):
 *          IOREQ-HVM-USERSPACE: ...            the write itself
 *          IOREQ-HVM-IRQ4: before=N after=M    /proc/interrupts around it
 *          IOREQ-HVM-SERIAL: 0: uart:16550A port:000003F8 irq:4 tx:...
 *
 * mixed  QEMU's devices and ours on one guest: PCI configuration space
 *        through CF8/CFC (iopl) -- 00:00.0 answered by QEMU, the test
 *        device (1234:11e8, at pcitest=DD, hex) by ioreq-pcitest -- with
 *        BAR sizing, the test device's registers through BAR1 (ports) and
 *        BAR0 (MMIO, /dev/mem), COM2 (0x2f8, ioreq-uart) registers, and a
 *        userspace write to /dev/ttyS1 (interrupt-driven, ISA IRQ 3); and
 *        what Linux's own PCI scan found (/sys/bus/pci/devices).  Each
 *        result is a line NAME=VALUE on Xen's debug port 0xE9 (`xl dmesg`
 *        shows "(dN) NAME=VALUE"), as lib.sh's expect_guest_value reads.
 *
 * Then "IOREQ-HVM-DONE" (on port 0xE9, and on ttyS0 with com1, ttyS1 with
 * mixed) and power
 * off.  A part that would block (a tty whose interrupts never come) is cut
 * off by an alarm after 60 s.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <termios.h>
#include <dirent.h>

#include "hvm_guest_common.h"

/* ---- Xen's debug console, port 0xE9 --------------------------------------- */

static int have_io; /* iopl(3) worked */

static void e9_puts(const char *s)
{
    if (!have_io)
        return;
    for (; *s; s++)
        outb((unsigned char)*s, 0xe9);
}

/* One result line NAME=VALUE on port 0xE9 (and in the kernel log). */
static void result(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(const char *name, const char *fmt, ...)
{
    char value[200], line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s=%s\n", name, value);
    e9_puts(line);
    say("%s", line);
}

/* ---- ttys ------------------------------------------------------------------------ */

static void on_alarm(int sig)
{
    (void)sig;
    say("timed out writing to a tty: its THRE interrupts do not come");
    e9_puts("IOREQ-HVM-TIMEOUT\n");
    power_off();
}

static int tty_print(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tty_print(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    size_t len, done = 0;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return tcdrain(fd);
}

static int tty_open(const char *path)
{
    struct termios tio;
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        say("open %s: %s", path, strerror(errno));
        return -1;
    }
    if (tcgetattr(fd, &tio) == 0)
        say("%s: termios as opened: speed code %u, cflag 0%o, oflag 0%o", path,
            (unsigned int)cfgetospeed(&tio), (unsigned int)tio.c_cflag, (unsigned int)tio.c_oflag);
    return fd;
}

/* The driver's line for port `index` in /proc/tty/driver/serial. */
static void serial_line(unsigned int index, char *line, size_t size)
{
    static char buf[8192];
    char prefix[8];

    read_file("/proc/tty/driver/serial", buf, sizeof(buf));
    snprintf(prefix, sizeof(prefix), "%u:", index);
    find_line(buf, prefix, line, size);
}

/* ---- com1: printk console and userspace on ttyS0 -------------------------- */

static int com1_fd = -1;

static void part_com1(void)
{
    char line[256];
    long before, after;

    com1_fd = tty_open("/dev/ttyS0");
    if (com1_fd < 0)
        return;
    alarm(60);
    before = irq_count(4);
    if (tty_print(com1_fd, "IOREQ-HVM-USERSPACE: hello from PID 1 through /dev/ttyS0, "
                           "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n") < 0)
        say("writing to /dev/ttyS0: %s", strerror(errno));
    after = irq_count(4);
    serial_line(0, line, sizeof(line));
    tty_print(com1_fd, "IOREQ-HVM-IRQ4: before=%ld after=%ld\n", before, after);
    tty_print(com1_fd, "IOREQ-HVM-SERIAL: %s\n", line);
    alarm(0);
    say("irq 4: %ld interrupts before the write, %ld after; %s", before, after, line);
}

/* ---- mixed: PCI through CF8/CFC, COM2, the test device's BARs -------------- */

static uint32_t cfg_addr(unsigned int dev, unsigned int fn, unsigned int reg)
{
    return 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned int dev, unsigned int fn, unsigned int reg)
{
    outl(cfg_addr(dev, fn, reg), 0xcf8);
    return inl(0xcfc);
}

static void cfg_write32(unsigned int dev, unsigned int fn, unsigned int reg, uint32_t v)
{
    outl(cfg_addr(dev, fn, reg), 0xcf8);
    outl(v, 0xcfc);
}

static uint16_t cfg_read16(unsigned int dev, unsigned int fn, unsigned int reg)
{
    outl(cfg_addr(dev, fn, reg), 0xcf8);
    return inw((unsigned short)(0xcfc + (reg & 2)));
}

static void cfg_write16(unsigned int dev, unsigned int fn, unsigned int reg, uint16_t v)
{
    outl(cfg_addr(dev, fn, reg), 0xcf8);
    outw(v, (unsigned short)(0xcfc + (reg & 2)));
}

/* Size a BAR as a driver does: decode off, all ones, read, restore. */
static uint32_t bar_size_mask(unsigned int dev, unsigned int bar)
{
    unsigned int reg = 0x10 + 4 * bar;
    uint16_t cmd = cfg_read16(dev, 0, 0x04);
    uint32_t orig = cfg_read32(dev, 0, reg), mask;

    cfg_write16(dev, 0, 0x04, cmd & (uint16_t)~3u);
    cfg_write32(dev, 0, reg, 0xffffffffu);
    mask = cfg_read32(dev, 0, reg);
    cfg_write32(dev, 0, reg, orig);
    cfg_write16(dev, 0, 0x04, cmd);
    if (cfg_read32(dev, 0, reg) != orig)
        say("BAR%u of 00:%02x.0 not restored: 0x%08x", bar, dev, cfg_read32(dev, 0, reg));
    return mask;
}

static unsigned int pcitest_dev = 0x07;

static void part_mixed_pci(void)
{
    unsigned int d = pcitest_dev;
    uint32_t bar0, bar1, io, v;

    result("qemu.hostbridge.id", "0x%08x", cfg_read32(0, 0, 0x00));
    result("qemu.isabridge.id", "0x%08x", cfg_read32(1, 0, 0x00));
    result("pcitest.id", "0x%08x", cfg_read32(d, 0, 0x00));
    result("pcitest.class_rev", "0x%08x", cfg_read32(d, 0, 0x08));
    result("pcitest.subsys", "0x%08x", cfg_read32(d, 0, 0x2c));
    result("pcitest.bar0.size_mask", "0x%08x", bar_size_mask(d, 0));
    result("pcitest.bar1.size_mask", "0x%08x", bar_size_mask(d, 1));
    bar0 = cfg_read32(d, 0, 0x10);
    bar1 = cfg_read32(d, 0, 0x14);
    result("pcitest.command", "0x%04x", cfg_read16(d, 0, 0x04));
    say("test device: BAR0 0x%08x, BAR1 0x%08x", bar0, bar1);

    /* BAR1: 16 ports mirroring the first registers (ID, SCRATCH). */
    io = bar1 & ~3u;
    if ((bar1 & 1) && io && io < 0x10000) {
        result("pcitest.bar1.id", "0x%08x", inl((unsigned short)io));
        outl(0x600dcafe, (unsigned short)(io + 4));
        result("pcitest.bar1.scratch", "0x%08x", inl((unsigned short)(io + 4)));
    } else {
        result("pcitest.bar1.id", "unassigned(0x%08x)", bar1);
    }

    /* BAR0: 4 KiB of memory, through /dev/mem. */
    if (!(bar0 & 1) && (bar0 & ~0xfu)) {
        int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
        volatile uint32_t *regs = MAP_FAILED;

        if (fd >= 0)
            regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, bar0 & ~0xfu);
        if (regs != MAP_FAILED) {
            result("pcitest.bar0.id", "0x%08x", regs[0]);
            regs[1] = 0x5eed1234;
            result("pcitest.bar0.scratch", "0x%08x", regs[1]);
            munmap((void *)regs, 4096);
        } else {
            result("pcitest.bar0.id", "no-mapping(%s)", strerror(errno));
        }
        if (fd >= 0)
            close(fd);
    } else {
        result("pcitest.bar0.id", "unassigned(0x%08x)", bar0);
    }

    /* A function nobody serves reads all ones. */
    v = cfg_read32(0x1f, 0, 0x00);
    result("pci.absent.id", "0x%08x", v);
}

static int com2_fd = -1;

static void part_mixed_com2(void)
{
    char line[256];
    long before, after;
    int fd;

    /* Registers, directly (the driver has the port but no open tty now). */
    outb(0xa5, 0x2ff);
    result("com2.scr", "0x%02x", inb(0x2ff));
    result("com2.lsr", "0x%02x", inb(0x2fd));

    fd = tty_open("/dev/ttyS1");
    if (fd < 0) {
        result("com2.tty", "no-ttyS1");
        return;
    }
    alarm(60);
    before = irq_count(3);
    tty_print(fd, "IOREQ-HVM-COM2: hello through /dev/ttyS1 (ISA IRQ 3)\n");
    after = irq_count(3);
    alarm(0);
    serial_line(1, line, sizeof(line));
    com2_fd = fd; /* kept for the end marker */
    result("com2.tty", "written");
    result("com2.irq3.counted", "%s", after > before ? "yes" : "no");
    say("irq 3: %ld before, %ld after; %s", before, after, line);
    result("com2.driver", "%s", strstr(line, "uart:16550A") ? "16550A" : line);
}

/* A sysfs attribute of PCI device `dev` without its newline and "0x". */
static void pci_attr(const char *dev, const char *attr, char *buf, size_t size)
{
    char path[300];

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
    read_file(path, buf, size);
    buf[strcspn(buf, "\n")] = '\0';
    if (buf[0] == '0' && buf[1] == 'x')
        memmove(buf, buf + 2, strlen(buf + 2) + 1);
}

/* What Linux's PCI scan found: one line per function. */
static void part_mixed_sysfs(void)
{
    DIR *dir = opendir("/sys/bus/pci/devices");
    struct dirent *de;
    int found = 0;

    if (!dir) {
        result("linux.pci", "no-sysfs");
        return;
    }
    while ((de = readdir(dir))) {
        char name[300], vendor[16], device[16], class[16];

        if (de->d_name[0] == '.')
            continue;
        pci_attr(de->d_name, "vendor", vendor, sizeof(vendor));
        pci_attr(de->d_name, "device", device, sizeof(device));
        pci_attr(de->d_name, "class", class, sizeof(class));
        say("lspci: %s %s:%s class 0x%s", de->d_name, vendor, device, class);
        snprintf(name, sizeof(name), "linux.pci.%s", de->d_name);
        result(name, "%s:%s", vendor, device);
        found++;
    }
    closedir(dir);
    result("linux.pci.count", "%d", found);
}

/* ---- main ------------------------------------------------------------------ */

/* The end marker on an open tty (fd < 0: none), then close it. */
static void tty_done(int fd)
{
    if (fd < 0)
        return;
    alarm(60);
    tty_print(fd, "IOREQ-HVM-DONE\n");
    alarm(0);
    close(fd);
}

/* "ioreq_test=a,b" and "pcitest=DD" from /proc/cmdline. */
static int has_part(const char *cmdline, const char *part)
{
    const char *p = strstr(cmdline, "ioreq_test=");
    size_t n = strlen(part);

    if (!p)
        return 0;
    p += strlen("ioreq_test=");
    while (*p && *p != ' ' && *p != '\n') {
        if (strncmp(p, part, n) == 0 && (p[n] == ',' || p[n] == ' ' || p[n] == '\n' || !p[n]))
            return 1;
        p += strcspn(p, ", \n");
        if (*p == ',')
            p++;
    }
    return 0;
}

int main(void)
{
    char cmdline[2048];
    const char *p;

    mount_basics();
    read_file("/proc/cmdline", cmdline, sizeof(cmdline));
    if ((p = strstr(cmdline, "pcitest=")))
        pcitest_dev = (unsigned int)strtoul(p + strlen("pcitest="), NULL, 16);
    have_io = iopl(3) == 0;
    if (!have_io)
        say("iopl(3): %s", strerror(errno));
    say("userspace up; parts:%s%s", has_part(cmdline, "com1") ? " com1" : "",
        has_part(cmdline, "mixed") ? " mixed" : "");
    signal(SIGALRM, on_alarm);

    if (has_part(cmdline, "com1"))
        part_com1();
    if (has_part(cmdline, "mixed")) {
        e9_puts("IOREQ-HVM-MIXED: start\n");
        part_mixed_pci();
        part_mixed_com2();
        part_mixed_sysfs();
    }
    tty_done(com1_fd);
    e9_puts("IOREQ-HVM-DONE\n");
    tty_done(com2_fd);
    power_off();
}
