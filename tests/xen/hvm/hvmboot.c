/*
 * hvmboot: a tiny boot loader for the HVM Linux guests (README.md here).
 *
 * Why: with a Xen device model, QEMU's direct kernel boot (-kernel, xl's
 * kernel=) hands the kernel to the guest through fw_cfg by port I/O, one
 * `rep insb` ioreq of at most a page at a time, which under QEMU's software
 * CPU moves about 100 KB/s: 50-90 s for Debian's 8 MB kernel.  QEMU's
 * generic loader (-device loader,file=F,addr=A,force-raw=on) instead writes
 * a file into guest RAM before the guest runs, at native speed.  This
 * program is the small part that still comes through -kernel, a minimal
 * bzImage of a few KB (QEMU's multiboot and PVH ROMs use fw_cfg DMA, which
 * hangs with Xen; its bzImage ROM does not, on the xenfv machine).  It finds
 * Debian's unmodified bzImage and the initramfs where the generic loader
 * put them and starts the kernel by the standard 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst), as GRUB does.
 *
 * Its command line (xl's cmdline=, at cmd_line_ptr):
 *   hvmboot.kernel=ADDR           the bzImage, as loaded
 *   hvmboot.initrd=ADDR,SIZE      the initramfs (optional)
 * Everything else is the kernel's command line.  Progress and errors go to
 * Xen's debug port 0xE9 ("(dN) hvmboot: ..." in xl dmesg).
 *
 * Memory: the loader lives at 0x10000 (QEMU's real-mode setup area); the
 * protected-mode kernel is copied to 1 MiB (its code32_start); boot_params
 * and the command line are in the loader's data, which the kernel's
 * decompressor (16 MiB and up) leaves alone.  The bzImage and initrd must
 * lie above 16 MiB + init_size and below the firmware's high zone (the
 * scenario picks their addresses).
 */
#include <stddef.h>
#include <stdint.h>

extern uint8_t hvmboot_header[];
extern uint32_t hvmboot_e820_count;
extern uint8_t hvmboot_e820[];

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
enum {
    BP_E820_ENTRIES = 0x1e8,
    BP_HDR = 0x1f1, /* struct setup_header */
    BP_SETUP_SECTS = 0x1f1,
    BP_SYSSIZE = 0x1f4,
    BP_JUMP = 0x200,
    BP_HEADER_MAGIC = 0x202,
    BP_VERSION = 0x206,
    BP_TYPE_OF_LOADER = 0x210,
    BP_LOADFLAGS = 0x211,
    BP_CODE32_START = 0x214,
    BP_RAMDISK_IMAGE = 0x218,
    BP_RAMDISK_SIZE = 0x21c,
    BP_CMD_LINE_PTR = 0x228,
    BP_E820_TABLE = 0x2d0,
    E820_MAX = 128,
};

static uint8_t boot_params[4096] __attribute__((aligned(4096)));
static char cmdline[2048];

void hvmboot_main(void);
void hvmboot_enter(uint32_t entry, uint32_t bp) __attribute__((noreturn));

/* ---- freestanding basics ---------------------------------------------------- */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
    return memmove(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    if (d < s || d >= s + n) {
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    } else {
        d += n - 1;
        s += n - 1;
        __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;

    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

static void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void say(const char *s)
{
    for (; *s; s++)
        outb(0xe9, (uint8_t)*s);
}

static void say_hex(uint32_t v)
{
    char buf[11] = "0x";

    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    buf[10] = '\0';
    say(buf);
}

static void fail(const char *why) __attribute__((noreturn));
static void fail(const char *why)
{
    say("hvmboot: error: ");
    say(why);
    say("\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int prefix(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

/* A number (0x hex or decimal) at *s; advances *s. */
static uint32_t number(const char **s)
{
    const char *p = *s;
    uint32_t v = 0;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        for (p += 2;; p++) {
            char c = *p;
            if (c >= '0' && c <= '9')
                v = v * 16 + (uint32_t)(c - '0');
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
            else
                break;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (uint32_t)(*p - '0');
    }
    *s = p;
    return v;
}

/* ---- the loader ------------------------------------------------------------- */

void hvmboot_main(void)
{
    uint32_t kaddr = 0, iaddr = 0, isize = 0, entry, syssize, hdr_end;
    size_t n = 0, setup_sects;
    const char *s;
    const uint8_t *k;
    unsigned int e820 = 0;

    say("hvmboot: started\n");
    /* The command line QEMU put at cmd_line_ptr: take our options out. */
    s = (const char *)(uintptr_t)get32(hvmboot_header + BP_CMD_LINE_PTR);
    if (!s)
        fail("no command line");
    while (*s) {
        while (*s == ' ')
            s++;
        if (prefix(s, "hvmboot.kernel=")) {
            s += 15;
            kaddr = number(&s);
        } else if (prefix(s, "hvmboot.initrd=")) {
            s += 15;
            iaddr = number(&s);
            if (*s == ',') {
                s++;
                isize = number(&s);
            }
        } else {
            while (*s && *s != ' ' && n + 2 < sizeof(cmdline))
                cmdline[n++] = *s++;
            if (n && n + 1 < sizeof(cmdline))
                cmdline[n++] = ' ';
        }
        while (*s && *s != ' ')
            s++;
    }
    while (n && cmdline[n - 1] == ' ')
        n--;
    cmdline[n] = '\0';
    if (!kaddr)
        fail("no hvmboot.kernel=ADDR on the command line");

    /* The bzImage's setup header. */
    k = (const uint8_t *)(uintptr_t)kaddr;
    if (get32(k + BP_HEADER_MAGIC) != 0x53726448u) /* "HdrS" */
        fail("no bzImage (HdrS) at hvmboot.kernel");
    if ((k[BP_VERSION] | k[BP_VERSION + 1] << 8) < 0x20c)
        fail("boot protocol older than 2.12");
    setup_sects = k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4;
    syssize = get32(k + BP_SYSSIZE) * 16;
    hdr_end = 0x202u + k[BP_JUMP + 1];

    memset(boot_params, 0, sizeof(boot_params));
    memcpy(boot_params + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
    boot_params[BP_TYPE_OF_LOADER] = 0xff;
    boot_params[BP_LOADFLAGS] &= (uint8_t)~0x80u; /* CAN_USE_HEAP: no real-mode part here */
    put32(boot_params + BP_RAMDISK_IMAGE, iaddr);
    put32(boot_params + BP_RAMDISK_SIZE, iaddr ? isize : 0);
    put32(boot_params + BP_CMD_LINE_PTR, (uint32_t)(uintptr_t)cmdline);

    /* The memory map, as the firmware gave it (int 15h e820, in real mode). */
    e820 = hvmboot_e820_count < E820_MAX ? hvmboot_e820_count : E820_MAX;
    memcpy(boot_params + BP_E820_TABLE, hvmboot_e820, 20 * e820);
    if (!e820)
        fail("no memory map from the firmware");
    boot_params[BP_E820_ENTRIES] = (uint8_t)e820;

    /* The protected-mode kernel to 1 MiB, where code32_start says. */
    entry = get32(boot_params + BP_CODE32_START);
    say("hvmboot: bzImage at ");
    say_hex(kaddr);
    say(", protected-mode part ");
    say_hex(syssize);
    say(" bytes to ");
    say_hex(entry);
    say("; initrd ");
    say_hex(iaddr);
    say(" size ");
    say_hex(isize);
    say("; ");
    say_hex(e820);
    say(" e820 entries\nhvmboot: command line: ");
    say(cmdline);
    say("\n");
    memmove((void *)(uintptr_t)entry, k + (setup_sects + 1) * 512, syssize);
    say("hvmboot: starting the kernel\n");
    hvmboot_enter(entry, (uint32_t)(uintptr_t)boot_params);
}
