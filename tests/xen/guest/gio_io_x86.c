/*
 * The interpreter's accesses as real instructions, for the 32-bit PVH
 * guest: flat protected mode, paging off, so a guest-physical address is a
 * pointer.  Every access is one instruction in inline assembly, so the
 * compiler can neither merge, split nor drop it; string instructions run
 * with DF clear.
 */
#include "gio_io.h"

#define DEBUG_PORT 0xe9
#define FALLBACK_TSC_KHZ 1000000u /* 1 GHz when nobody says */

uint32_t gio_in(uint16_t port, unsigned int size)
{
    uint32_t v = 0;

    if (size == 1) {
        uint8_t b;
        __asm__ volatile("inb %1, %0" : "=a"(b) : "Nd"(port));
        v = b;
    } else if (size == 2) {
        uint16_t w;
        __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port));
        v = w;
    } else {
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    }
    return v;
}

void gio_out(uint16_t port, unsigned int size, uint32_t value)
{
    if (size == 1)
        __asm__ volatile("outb %0, %1" : : "a"((uint8_t)value), "Nd"(port));
    else if (size == 2)
        __asm__ volatile("outw %0, %1" : : "a"((uint16_t)value), "Nd"(port));
    else
        __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

uint64_t gio_mmio_read(uint32_t addr, unsigned int size)
{
    uint64_t v = 0;

    if (size == 1) {
        uint8_t b;
        __asm__ volatile("movb (%1), %0" : "=q"(b) : "r"(addr) : "memory");
        v = b;
    } else if (size == 2) {
        uint16_t w;
        __asm__ volatile("movw (%1), %0" : "=r"(w) : "r"(addr) : "memory");
        v = w;
    } else if (size == 4) {
        uint32_t l;
        __asm__ volatile("movl (%1), %0" : "=r"(l) : "r"(addr) : "memory");
        v = l;
    } else {
        /* One 8-byte access in 32-bit mode: MMX movq (CR0.EM and TS are clear in PVH). */
        __asm__ volatile("movq (%1), %%mm0\n\t"
                         "movq %%mm0, (%0)\n\t"
                         "emms"
                         : : "r"(&v), "r"(addr) : "memory");
    }
    return v;
}

void gio_mmio_write(uint32_t addr, unsigned int size, uint64_t value)
{
    if (size == 1)
        __asm__ volatile("movb %0, (%1)" : : "q"((uint8_t)value), "r"(addr) : "memory");
    else if (size == 2)
        __asm__ volatile("movw %0, (%1)" : : "r"((uint16_t)value), "r"(addr) : "memory");
    else if (size == 4)
        __asm__ volatile("movl %0, (%1)" : : "r"((uint32_t)value), "r"(addr) : "memory");
    else
        __asm__ volatile("movq (%0), %%mm0\n\t"
                         "movq %%mm0, (%1)\n\t"
                         "emms"
                         : : "r"(&value), "r"(addr) : "memory");
}

void gio_rep_ins(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count)
{
    uint32_t di = gpa, cx = count;

    if (size == 1)
        __asm__ volatile("cld; rep insb" : "+D"(di), "+c"(cx) : "d"(port) : "memory");
    else if (size == 2)
        __asm__ volatile("cld; rep insw" : "+D"(di), "+c"(cx) : "d"(port) : "memory");
    else
        __asm__ volatile("cld; rep insl" : "+D"(di), "+c"(cx) : "d"(port) : "memory");
}

void gio_rep_outs(uint16_t port, unsigned int size, uint32_t gpa, uint32_t count)
{
    uint32_t si = gpa, cx = count;

    if (size == 1)
        __asm__ volatile("cld; rep outsb" : "+S"(si), "+c"(cx) : "d"(port) : "memory");
    else if (size == 2)
        __asm__ volatile("cld; rep outsw" : "+S"(si), "+c"(cx) : "d"(port) : "memory");
    else
        __asm__ volatile("cld; rep outsl" : "+S"(si), "+c"(cx) : "d"(port) : "memory");
}

void gio_rep_movs(uint32_t dst, uint32_t src, unsigned int size, uint32_t count)
{
    uint32_t di = dst, si = src, cx = count;

    if (size == 1)
        __asm__ volatile("cld; rep movsb" : "+D"(di), "+S"(si), "+c"(cx) : : "memory");
    else if (size == 2)
        __asm__ volatile("cld; rep movsw" : "+D"(di), "+S"(si), "+c"(cx) : : "memory");
    else
        __asm__ volatile("cld; rep movsl" : "+D"(di), "+S"(si), "+c"(cx) : : "memory");
}

uint8_t *gio_ram(uint32_t gpa, uint32_t len)
{
    (void)len;
    return (uint8_t *)(uintptr_t)gpa;
}

void gio_debug_write(const char *s, uint32_t len)
{
    uint32_t si = (uint32_t)(uintptr_t)s, cx = len;

    __asm__ volatile("cld; rep outsb" : "+S"(si), "+c"(cx) : "d"((uint16_t)DEBUG_PORT) : "memory");
}

/* ---- time ---- */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* The TSC rate Xen gives the guest (CPUID leaf base+3, sub-leaf 0, ECX), in kHz. */
static uint32_t tsc_khz(void)
{
    uint32_t r[4];

    for (uint32_t base = 0x40000000u; base < 0x40010000u; base += 0x100) {
        cpuid(base, 0, r);
        /* "XenVMMXenVMM" */
        if (r[1] == 0x566e6558u && r[2] == 0x65584d4du && r[3] == 0x4d4d566eu) {
            if (r[0] < base + 3)
                break;
            cpuid(base + 3, 0, r);
            return r[2] ? r[2] : FALLBACK_TSC_KHZ;
        }
    }
    return FALLBACK_TSC_KHZ;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

void gio_delay_ms(uint32_t ms)
{
    static uint32_t khz;

    if (!khz)
        khz = tsc_khz();
    uint64_t end = rdtsc() + (uint64_t)khz * ms;
    while ((int64_t)(rdtsc() - end) < 0)
        __asm__ volatile("pause");
}
