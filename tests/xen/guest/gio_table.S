/*
 * The embedded op table: the file named by GIO_TABLE (a string, defined on
 * the compiler's command line), between gio_table and gio_table_end.
 */
    .section .rodata.gio_table, "a", @progbits
    .balign 8
    .globl gio_table, gio_table_end
gio_table:
    .incbin GIO_TABLE
gio_table_end:

    .section .note.GNU-stack, "", @progbits
