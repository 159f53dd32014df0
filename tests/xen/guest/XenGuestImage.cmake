# xen_guest_image(NAME SCRIPT): build the guest script SCRIPT (relative to
# the calling directory's source dir, or absolute) into a freestanding 32-bit
# PVH guest image, ${CMAKE_CURRENT_BINARY_DIR}/NAME.elf, and its op table,
# NAME.tbl, with a target NAME (part of ALL).  The image boots at 1 MiB
# through XEN_ELFNOTE_PHYS32_ENTRY, runs the script with real instructions,
# prints the trace on Xen's debug console (port 0xE9: `xl dmesg` shows
# "(dN) L12 in ..." lines) and ends with "END pass" or "END fail N", then
# cli; hlt.  See tests/xen/guest/README.md.
#
# include() this file (tests/xen/guest/CMakeLists.txt does) from any
# directory that builds images; gioc, the script compiler, is a target of
# tests/xen/guest.  The guard is per directory so that each includer gets the
# variables below (the compiler probe is cached, so it runs once).
include_guard(DIRECTORY)

set(XEN_GUEST_DIR ${CMAKE_CURRENT_LIST_DIR})
set(XEN_GUEST_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../hypervisor/sim/daemon)
get_filename_component(XEN_GUEST_SHARED_DIR ${XEN_GUEST_SHARED_DIR} ABSOLUTE)

set(XEN_GUEST_SOURCES
    ${XEN_GUEST_DIR}/gio_start.S
    ${XEN_GUEST_DIR}/gio_table.S
    ${XEN_GUEST_DIR}/gio_main.c
    ${XEN_GUEST_DIR}/gio_interp.c
    ${XEN_GUEST_DIR}/gio_table_check.c
    ${XEN_GUEST_DIR}/gio_io_x86.c
    ${XEN_GUEST_DIR}/gio_libc.c
    ${XEN_GUEST_SHARED_DIR}/guest_trace.c)
set(XEN_GUEST_HEADERS
    ${XEN_GUEST_DIR}/gio_interp.h
    ${XEN_GUEST_DIR}/gio_io.h
    ${XEN_GUEST_DIR}/gio_table.h
    ${XEN_GUEST_DIR}/xen_pvh_note.h
    ${XEN_GUEST_SHARED_DIR}/guest_op.h
    ${XEN_GUEST_SHARED_DIR}/guest_trace.h)
set(XEN_GUEST_LDSCRIPT ${XEN_GUEST_DIR}/gio_guest.ld)

# Freestanding i386 code: no libc, no libgcc (the code avoids 64-bit
# division), no PIC, no stack protector, general registers only (the MMX
# movq of 8-byte MMIO is inline assembly), address 0 is valid memory.
set(XEN_GUEST_CFLAGS
    -m32 -march=i686 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
    -fno-delete-null-pointer-checks -fcf-protection=none -mgeneral-regs-only
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-missing-field-initializers
    -I${XEN_GUEST_DIR} -I${XEN_GUEST_SHARED_DIR})
set(XEN_GUEST_LDFLAGS
    -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
    -Wl,-T,${XEN_GUEST_LDSCRIPT})

# Can this compiler build it?  (gcc's own -m32 code generation and the
# binutils elf_i386 emulation are enough: no multilib packages.)
if(NOT DEFINED XEN_GUEST_IMAGE_SUPPORTED)
    set(_probe ${CMAKE_BINARY_DIR}/CMakeFiles/xen_guest_probe)
    file(WRITE ${_probe}.c "void _start(void); void _start(void) { for (;;) ; }\n")
    execute_process(
        COMMAND ${CMAKE_C_COMPILER} -m32 -ffreestanding -fno-pic -nostdlib -static -no-pie
                -Wl,--build-id=none -o ${_probe}.elf ${_probe}.c
        RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
        set(XEN_GUEST_IMAGE_SUPPORTED ON CACHE BOOL "The C compiler builds 32-bit PVH guest images")
    else()
        set(XEN_GUEST_IMAGE_SUPPORTED OFF CACHE BOOL "The C compiler builds 32-bit PVH guest images")
        message(WARNING "${CMAKE_C_COMPILER} cannot build 32-bit freestanding code: "
                        "no Xen guest images")
    endif()
endif()

function(xen_guest_image NAME SCRIPT)
    if(NOT XEN_GUEST_IMAGE_SUPPORTED)
        return()
    endif()
    get_filename_component(script ${SCRIPT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    get_filename_component(script_name ${SCRIPT} NAME)
    set(table ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.tbl)
    set(image ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.elf)
    add_custom_command(
        OUTPUT ${table}
        COMMAND $<TARGET_FILE:gioc> --name ${script_name} ${script} -o ${table}
        DEPENDS gioc ${script}
        COMMENT "Compiling guest script ${script_name} into ${NAME}.tbl"
        VERBATIM)
    add_custom_command(
        OUTPUT ${image}
        COMMAND ${CMAKE_C_COMPILER} ${XEN_GUEST_CFLAGS} "-DGIO_TABLE=\"${table}\""
                ${XEN_GUEST_LDFLAGS} -o ${image} ${XEN_GUEST_SOURCES}
        DEPENDS ${table} ${XEN_GUEST_SOURCES} ${XEN_GUEST_HEADERS} ${XEN_GUEST_LDSCRIPT}
        COMMENT "Linking PVH guest image ${NAME}.elf"
        VERBATIM)
    add_custom_target(${NAME} ALL DEPENDS ${image})
endfunction()
