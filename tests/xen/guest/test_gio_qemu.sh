#!/usr/bin/env bash
# The guest image booted for real: QEMU's PVH loader (software CPU, no Xen)
# enters it through XEN_ELFNOTE_PHYS32_ENTRY in 32-bit flat mode, as Xen
# does; its debugcon device is port 0xE9.  The script touches only what a
# QEMU "pc" machine leaves unclaimed, as a PVH domain on Xen has nothing
# there either, so the image's trace on QEMU must equal xensim's for the
# same script.  Skipped (77) without qemu-system-x86_64.
#
#   test_gio_qemu.sh BIN_DIR IMAGE.elf SCRIPT SRCDIR
set -u
[ $# -eq 4 ] || { echo "usage: $0 BIN_DIR IMAGE.elf SCRIPT SRCDIR"; exit 2; }
BIN=$1 ELF=$2 SCRIPT=$3 SRC=$4
QEMU=$(command -v qemu-system-x86_64) || { echo "no qemu-system-x86_64: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/test_gio_qemu.XXXXXX") || exit 1
qpid=
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

: >"$T/console"
"$QEMU" -accel tcg -machine pc -m 64 -nodefaults -display none -monitor none -serial none \
    -no-reboot -kernel "$ELF" -debugcon "file:$T/console" >"$T/qemu.log" 2>&1 &
qpid=$!
for _ in $(seq 600); do # 60 s
    grep -q '^END ' "$T/console" && break
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^END ' "$T/console"; then
    echo "FAIL: the image printed no END line; its console:"
    cat "$T/console" "$T/qemu.log"
    exit 1
fi

"$BIN/xensim" run --domain g:pvh:1:64M -- "$BIN/xensim" guest run --trace g "$SCRIPT" \
    >"$T/sim" 2>/dev/null
if ! bash "$SRC/trace_diff.sh" --console "$T/sim" "$T/console"; then
    echo "FAIL: QEMU's run of the image and xensim differ; the image's console:"
    cat "$T/console"
    exit 1
fi
grep -qx 'END pass' "$T/console" || { echo "FAIL: the script failed"; cat "$T/console"; exit 1; }
echo "the image booted under QEMU and its trace equals xensim's"
