#!/usr/bin/env bash
# The guest image's structure, as Xen's ELF loader (libxenguest) and QEMU's
# PVH loader need it: a 32-bit i386 executable, loaded at 1 MiB (physical =
# virtual), below 2 MiB, with a PT_NOTE segment holding the "Xen" note of
# type XEN_ELFNOTE_PHYS32_ENTRY (18) whose 4-byte value is the address of
# gio_pvh_start, inside the executable load segment, and the ELF entry.
set -u
[ $# -eq 1 ] || { echo "usage: $0 IMAGE.elf"; exit 2; }
E=$1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v readelf >/dev/null || { echo "readelf is missing"; exit 2; }
[ -s "$E" ] || { echo "no image $E"; exit 1; }

hdr=$(readelf -h "$E") || exit 1
grep -q 'Class: *ELF32' <<<"$hdr" || fail "not ELF32"
grep -q 'Machine: *Intel 80386' <<<"$hdr" || fail "not i386"
grep -q 'Type: *EXEC' <<<"$hdr" || fail "not an executable"
entry=$(awk '/Entry point address:/ { print $4 }' <<<"$hdr")

start=$(readelf -sW "$E" | awk '$8 == "gio_pvh_start" { print "0x" $2 }')
[ -n "$start" ] || fail "no gio_pvh_start symbol"
[ $((entry)) = $((start)) ] || fail "ELF entry $entry is not gio_pvh_start ($start)"

# The note: name Xen, type 0x12, 4 bytes, the entry address.
note=$(readelf -nW "$E")
grep -q 'Xen *0x00000004 *.*0x00000012\|Xen *0x00000004 *Unknown note type: (0x00000012)' <<<"$note" ||
    fail "no Xen note of type 18 with 4 bytes: $note"
# (binutils prints the bytes after "description data:" on the same line or
# on the next one, depending on the version)
desc=$(tr '\n' ' ' <<<"$note" | sed -n 's/.*description data: *\(\([0-9a-f][0-9a-f] *\)\{4\}\).*/\1/p' | tr -d ' ')
[[ $desc =~ ^[0-9a-f]{8}$ ]] || fail "cannot read the note's 4 bytes: [$note]"
phys_entry=$(printf '0x%s%s%s%s' "${desc:6:2}" "${desc:4:2}" "${desc:2:2}" "${desc:0:2}")
[ $((phys_entry)) = $((start)) ] || fail "XEN_ELFNOTE_PHYS32_ENTRY is $phys_entry, not $start"

# Segments: PT_NOTE; loads with physical = virtual, inside [1 MiB, 2 MiB);
# the entry inside the executable one.
phdrs=$(readelf -lW "$E")
grep -q '^ *NOTE ' <<<"$phdrs" || fail "no PT_NOTE segment"
loads=0 in_exec=0
while read -r type off vaddr paddr filesz memsz flags _; do
    [ "$type" = LOAD ] || continue
    loads=$((loads + 1))
    [ $((vaddr)) = $((paddr)) ] || fail "segment at $vaddr loads at $paddr"
    [ $((paddr)) -ge $((0x100000)) ] || fail "segment below 1 MiB: $paddr"
    [ $((paddr + memsz)) -le $((0x200000)) ] || fail "segment past 2 MiB: $paddr + $memsz"
    if [[ $flags == *E* ]] && [ $((start)) -ge $((vaddr)) ] && [ $((start)) -lt $((vaddr + memsz)) ]; then
        in_exec=1
    fi
    [[ $flags == *W*E* ]] && fail "a writable and executable segment"
done < <(awk '$1 == "LOAD" { f = $7; for (i = 8; i <= NF - 1; i++) f = f $i; print $1, $2, $3, $4, $5, $6, f, $NF }' <<<"$phdrs")
[ $loads -ge 1 ] || fail "no PT_LOAD segment"
[ $((0x$(awk '$1 == "LOAD" { print substr($4, 3); exit }' <<<"$phdrs"))) = $((0x100000)) ] ||
    fail "the image does not start at 1 MiB"
[ $in_exec = 1 ] || fail "the entry is not inside an executable segment"

# The embedded op table is there.
readelf -sW "$E" | grep -q ' gio_table$' || fail "no embedded op table"

[ $fails = 0 ] && echo "image $E: entry $start, note and segments fine"
exit $((fails > 0))
