/*
 * The ELF note that makes a freestanding 32-bit image a PVH guest, for
 * assembly (.S) files: `XEN_PVH_NOTE entry` emits, in section .note.Xen,
 * the "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY whose 4-byte value is
 * the address where Xen (or QEMU's PVH loader) enters the guest: 32-bit
 * flat protected mode, paging and interrupts off, %ebx the start info.
 * The linker script must put .note.Xen into a PT_NOTE segment.
 *
 * Used by the guest script image (gio_start.S here) and by the real-Xen
 * harness's min_guest (tests/xen/harness/min_guest.S).
 */
#ifndef XEN_PVH_NOTE_H
#define XEN_PVH_NOTE_H

#define XEN_ELFNOTE_PHYS32_ENTRY 18 /* xen/include/public/elfnote.h */

.macro XEN_PVH_NOTE entry
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long \entry
    .balign 4
    .popsection
.endm

#endif /* XEN_PVH_NOTE_H */
