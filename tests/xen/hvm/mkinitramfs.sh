#!/usr/bin/env bash
# A guest initramfs: a gzip-compressed newc cpio with /dev, /proc, /sys,
# /dev/console and one program as /init.  Written here (no cpio needed at
# build time; the kernel reads newc).
#
#   mkinitramfs.sh OUT INIT_PROGRAM
#
# Compressed: QEMU hands an initrd to the guest at about 100 KB/s under
# the software CPU (fw_cfg), and even hvmboot (README.md) saves copying.
set -euo pipefail
out=$1 init=$2
ino=0

# entry NAME MODE(octal) RDEVMAJOR RDEVMINOR [FILE]
entry() {
    local name=$1 mode=$2 rmaj=$3 rmin=$4 file=${5:-} size=0 hdr pad
    [ -n "$file" ] && size=$(stat -c %s "$file")
    ino=$((ino + 1))
    hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$((8#$mode))" 0 0 1 0 "$size" 0 0 "$rmaj" "$rmin" $((${#name} + 1)) 0)
    printf '%s%s\0' "$hdr" "$name"
    pad=$(((4 - (110 + ${#name} + 1) % 4) % 4))
    head -c "$pad" /dev/zero
    if [ -n "$file" ]; then
        cat "$file"
        head -c $(((4 - size % 4) % 4)) /dev/zero
    fi
}

{
    entry dev 040755 0 0
    entry dev/console 020600 5 1
    entry proc 040555 0 0
    entry sys 040555 0 0
    entry init 0100755 0 0 "$init"
    entry TRAILER!!! 0 0 0
} | gzip -9 -n >"$out.tmp"
mv "$out.tmp" "$out"
