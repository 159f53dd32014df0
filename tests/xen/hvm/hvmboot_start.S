/*
 * hvmboot's bzImage header, its real-mode entry and its exit into Linux.
 *
 * QEMU's linuxboot.bin (non-DMA fw_cfg; see hvmboot.c) loads the setup
 * sectors at 0x10000, the command line at 0x20000 (cmd_line_ptr), and jumps
 * to 0x1020:0000 in real mode with DS = ES = SS = 0x1000.  The real-mode
 * part reads the firmware's memory map (int 15h, e820), switches to 32-bit
 * protected mode and calls hvmboot_main; hvmboot_enter leaves by the 32-bit
 * boot protocol: flat __BOOT_CS (0x10) and __BOOT_DS (0x18), interrupts off,
 * ESI the boot_params, EBP/EDI/EBX zero.
 */
#define SETUP_SECTS 11                   /* 6 KiB with the boot sector: hvmboot.ld */

    .section .header, "ax"
    .code16
    .globl hvmboot_header
hvmboot_header:
    .org 0x1f1
    .byte SETUP_SECTS                    /* setup_sects */
    .word 0                              /* root_flags */
    .long 512 / 16                       /* syssize: the dummy 512 bytes */
    .word 0, 0, 0                        /* ram_size, vid_mode, root_dev */
    .word 0xaa55                         /* boot_flag */
    .org 0x200
    jmp hvmboot_entry16                  /* jump */
    .ascii "HdrS"                        /* header */
    .word 0x020c                         /* version 2.12 */
    .long 0                              /* realmode_swtch */
    .word 0, 0                           /* start_sys_seg, kernel_version */
    .byte 0                              /* type_of_loader */
    .byte 0x01                           /* loadflags: LOADED_HIGH */
    .word 0                              /* setup_move_size */
    .long 0x100000                       /* code32_start */
    .long 0, 0                           /* ramdisk_image, ramdisk_size */
    .long 0                              /* bootsect_kludge */
    .word 0                              /* heap_end_ptr */
    .byte 0, 0                           /* ext_loader_ver, ext_loader_type */
    .long 0                              /* cmd_line_ptr */
    .long 0x7fffffff                     /* initrd_addr_max */
    .long 0x1000                         /* kernel_alignment */
    .byte 0, 0                           /* relocatable_kernel, min_alignment */
    .word 0                              /* xloadflags */
    .long 2047                           /* cmdline_size */
    .long 0, 0                           /* hardware_subarch, _data */
    .long 0, 0                           /* payload_offset, payload_length */
    .quad 0                              /* setup_data */
    .quad 0                              /* pref_address */
    .long 0, 0                           /* init_size, handover_offset */

    .code16
    .globl hvmboot_entry16
hvmboot_entry16:
    cli
    cld
    mov %cs, %ax                         /* 0x1020 */
    sub $0x20, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0xfff0, %sp
    cmp $0x1000, %ax                     /* linked at 0x10000 */
    jne 9f

    /* e820: entries of 20 bytes into hvmboot_e820 (ES:DI), count in
     * hvmboot_e820_count. */
    xor %ebx, %ebx
    mov $(hvmboot_e820 - hvmboot_header), %di
1:  mov $0xe820, %eax
    mov $0x534d4150, %edx                /* "SMAP" */
    mov $20, %ecx
    int $0x15
    jc 2f
    cmp $0x534d4150, %eax
    jne 2f
    add $20, %di
    incw (hvmboot_e820_count - hvmboot_header)
    cmpw $128, (hvmboot_e820_count - hvmboot_header)
    jae 2f
    test %ebx, %ebx
    jnz 1b
2:
    /* to 32-bit protected mode, flat */
    lgdtl (gdt_desc - hvmboot_header)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x10, $hvmboot_entry32

9:  hlt                                  /* loaded elsewhere: cannot run */
    jmp 9b

    .align 8
gdt:
    .quad 0
    .quad 0
    .quad 0x00cf9a000000ffff             /* 0x10: code, base 0, 4 GiB */
    .quad 0x00cf92000000ffff             /* 0x18: data, base 0, 4 GiB */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .globl hvmboot_e820_count, hvmboot_e820
    .align 4
hvmboot_e820_count:
    .long 0
hvmboot_e820:
    .space 20 * 128

    .text
    .code32
hvmboot_entry32:
    mov $0x18, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    mov $hvmboot_stack_top, %esp
    /* zero the .bss (the stack is in it, still unused; the e820 entries
     * already read are in .header, not here) */
    mov $hvmboot_bss_start, %edi
    mov $hvmboot_bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    cld                                  /* (after the BIOS calls) */
    rep stosb
    call hvmboot_main                    /* does not return */
3:  hlt
    jmp 3b

/* void hvmboot_enter(uint32_t entry, uint32_t boot_params) */
    .globl hvmboot_enter
hvmboot_enter:
    mov 4(%esp), %ecx
    mov 8(%esp), %esi
    xor %ebp, %ebp
    xor %edi, %edi
    xor %ebx, %ebx
    jmp *%ecx

    .bss
    .align 16
    .space 4096
hvmboot_stack_top:

    .section .note.GNU-stack, "", @progbits
