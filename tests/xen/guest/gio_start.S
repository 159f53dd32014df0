/*
 * The PVH entry of the guest image.  Xen (or QEMU's PVH loader) enters at
 * gio_pvh_start, named by the XEN_ELFNOTE_PHYS32_ENTRY note below, in
 * 32-bit flat protected mode with paging off, interrupts off and %ebx
 * pointing at the start info (unused).  Set a stack, clear .bss, run the
 * script, then stop the vCPU for good with interrupts off, which Xen
 * treats as the domain powering off.
 */
#include "xen_pvh_note.h"

    .code32

    XEN_PVH_NOTE gio_pvh_start

    .section .text.entry, "ax", @progbits
    .globl gio_pvh_start
    .type gio_pvh_start, @function
gio_pvh_start:
    cli
    cld
    movl $gio_stack_top, %esp
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    call gio_main
1:  cli
    hlt
    jmp 1b
    .size gio_pvh_start, . - gio_pvh_start

    .section .bss.stack, "aw", @nobits
    .balign 16
    .space 16384
gio_stack_top:

    .section .note.GNU-stack, "", @progbits
