/*
 * The PVH entry of the guest image.  Xen (or QEMU's PVH loader) enters at
 * gio_pvh_start, named by the XEN_ELFNOTE_PHYS32_ENTRY note below, in
 * 32-bit flat protected mode with paging off, interrupts off and %ebx
 * pointing at the start info (unused).  Set a stack, clear .bss, run the
 * script, then stop the vCPU for good with interrupts off, which Xen
 * treats as the domain powering off.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

    .code32

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long gio_pvh_start
    .balign 4

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
