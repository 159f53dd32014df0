/*
 * min_guest: a freestanding 32-bit PVH guest for the real-Xen harness.
 *
 * Xen starts it at pvh_start in 32-bit protected mode, paging off (the
 * XEN_ELFNOTE_PHYS32_ENTRY note below), loaded at 1 MiB.  It makes a fixed
 * list of port and MMIO accesses and prints each result on Xen's debug port
 * 0xE9 as a line "NAME=0xHEX"; the lines show up in `xl dmesg` as
 * "(dN) NAME=0xHEX".  It ends with "min_guest: done" and cli; hlt, after
 * which Xen powers the domain off.
 *
 * The devices it expects (scenarios/pvh-standalone.sh starts them):
 *   0x3f8-0x3ff  ioreq-uart          scratch, LSR, IER, bytes on THR
 *   0x402        ioreq-debugcon      a string by rep outsb; reads 0xe9
 *   0x510-0x51f  mini_emulator       a register file (unwritten: 0x40 + (port & 0x3f))
 *   0xfebf0000   mini_emulator MMIO  4 KiB (unwritten: address ^ 0xa5a5a5a5)
 * and nothing at 0x2f8, 0x600, 0xd0000000 (reads are all ones).
 */
#include "xen_pvh_note.h"             /* tests/xen/guest */

#define DEBUG_PORT 0xe9

        .code32

        XEN_PVH_NOTE pvh_start

/* A NUL-terminated string in .rodata; its address in %esi. */
.macro STRING text
        .pushsection .rodata
.Lstr\@: .asciz "\text"
        .popsection
        movl $.Lstr\@, %esi
.endm

/* Print a line on the debug port. */
.macro SAY text
        STRING "\text"
        call puts_line
.endm

/* (Macro names must not be instruction names: GAS macros shadow them.) */

/* %eax holds a value of \digits hex digits: print "\name=0x...". */
.macro REPORT name, digits
        movl $\digits, %ecx
        STRING "\name"
        call report
.endm

.macro READ8 port, name
        movw $\port, %dx
        inb %dx, %al
        movzbl %al, %eax
        REPORT \name, 2
.endm

.macro READ16 port, name
        movw $\port, %dx
        inw %dx, %ax
        movzwl %ax, %eax
        REPORT \name, 4
.endm

.macro READ32 port, name
        movw $\port, %dx
        inl %dx, %eax
        REPORT \name, 8
.endm

.macro WRITE8 port, value
        movw $\port, %dx
        movb $\value, %al
        outb %al, %dx
.endm

.macro WRITE32 port, value
        movw $\port, %dx
        movl $\value, %eax
        outl %eax, %dx
.endm

.macro MMIO_READ32 addr, name
        movl (\addr), %eax
        REPORT \name, 8
.endm

.macro MMIO_WRITE32 addr, value
        movl $\value, (\addr)
.endm

        .text
        .globl pvh_start
pvh_start:
        cli
        cld
        movl $stack_top, %esp
        SAY "min_guest: start"

        /* ioreq-uart at 0x3f8 */
        WRITE8 0x3ff, 0x5a
        READ8 0x3ff, uart.scr
        READ8 0x3fd, uart.lsr
        WRITE8 0x3f9, 0x0f
        READ8 0x3f9, uart.ier
        WRITE8 0x3f9, 0x00
        STRING "uart says hi\n"
        movw $0x3f8, %dx
        call out_bytes

        /* ioreq-debugcon at 0x402: one string request, then a read */
        STRING "debugcon says hi\n"
        movl %esi, %edi
        call strlen
        movw $0x402, %dx
        rep outsb
        READ8 0x402, debugcon.read

        /* mini_emulator's register file at 0x510-0x51f */
        READ32 0x514, mini.port.unwritten
        WRITE32 0x510, 0x12345678
        READ32 0x510, mini.port.written
        READ16 0x51e, mini.port.last_word
        READ32 0x51e, mini.port.straddle   /* not wholly in the range: no server */

        /* mini_emulator's MMIO page */
        MMIO_READ32 0xfebf0010, mini.mmio.unwritten
        MMIO_WRITE32 0xfebf0020, 0xcafef00d
        MMIO_READ32 0xfebf0020, mini.mmio.written

        /* nothing there */
        READ8 0x2f8, unmapped.port8
        READ16 0x600, unmapped.port16
        READ32 0x600, unmapped.port32
        MMIO_READ32 0xd0000000, unmapped.mmio32

        SAY "min_guest: done"
        cli
1:      hlt
        jmp 1b

/* Print the string at %esi, then a newline, on the debug port. */
puts_line:
        movw $DEBUG_PORT, %dx
        call out_bytes
        movb $'\n', %al
        outb %al, %dx
        ret

/* Write the NUL-terminated string at %esi to port %dx, a byte at a time. */
out_bytes:
        lodsb
        testb %al, %al
        jz 1f
        outb %al, %dx
        jmp out_bytes
1:      ret

/* %ecx = length of the NUL-terminated string at %edi (which is kept). */
strlen:
        pushl %edi
        xorl %eax, %eax
        movl $-1, %ecx
        repne scasb
        notl %ecx
        decl %ecx
        popl %edi
        ret

/* Print "NAME=0xHEX\n": NAME at %esi, the value in %eax, %ecx hex digits. */
report:
        pushl %eax
        pushl %ecx
        movw $DEBUG_PORT, %dx
        call out_bytes
        movb $'=', %al
        outb %al, %dx
        movb $'0', %al
        outb %al, %dx
        movb $'x', %al
        outb %al, %dx
        popl %ecx
        popl %ebx
        /* rotate so that the first digit to print is in the top nibble */
        movl $8, %eax
        subl %ecx, %eax
        shll $2, %eax
        xchgl %eax, %ecx
        shll %cl, %ebx
        movl %eax, %ecx
2:      roll $4, %ebx
        movl %ebx, %eax
        andl $0xf, %eax
        movb hex_digits(%eax), %al
        outb %al, %dx
        loop 2b
        movb $'\n', %al
        outb %al, %dx
        ret

        .section .rodata
hex_digits:
        .ascii "0123456789abcdef"

        .bss
        .balign 16
stack:
        .skip 4096
stack_top:
