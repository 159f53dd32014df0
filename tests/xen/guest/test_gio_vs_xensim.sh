#!/usr/bin/env bash
# The differential check's foundation, end to end: the same guest scripts
# run by the real xensim daemon (`xensim guest run --trace`, a PVH domain
# that no emulator serves) and by the guest image's interpreter on the host
# (gio_hostrun: a machine where nothing answers, Xen's debug console on port
# 0xE9) print the same trace and the same debug console lines, and agree on
# pass or fail.  trace_diff.sh compares them as the real-Xen harness does.
#
#   test_gio_vs_xensim.sh BIN_DIR GIO_HOSTRUN SRCDIR
set -u
[ $# -eq 3 ] || { echo "usage: $0 BIN_DIR GIO_HOSTRUN SRCDIR"; exit 2; }
BIN=$1 HOSTRUN=$2 SRC=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/test_gio_vs_xensim.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cp "$SRC/samples/sample.gio" "$T/sample.gio"
cat >"$T/console.gio" <<'GIO'
# Xen's debug console: single bytes, a rep outsb, a 2-byte write (not the
# console: it goes to the null handler), and reads, which Xen leaves to the
# ioreq servers (nobody here: all ones).
mem-write 0x1000 "console line one\nline two\n"
rep-outsb 0xe9 0x1000 26
out 0xe9 1 0x41
in 0xe9 1 expect 0xff
out 0xe9 1 0x42
out 0xe9 1 0x0a
out 0xe9 2 0x0a0a
rep-insb 0xe9 0x2000 4
mem-read 0x2000 4 expect hex:ffffffff
in 0xe9 2 expect 0xffff
GIO
cat >"$T/fails.gio" <<'GIO'
in 0x60 1 expect 0x60
mmio-read 0xd0000000 2 expect 0x1234
mem-read 0x0 2 expect "ab"
in 0x64 1     # timing
GIO

for s in sample console fails; do
    "$BIN/gioc" --name "$s.gio" "$T/$s.gio" -o "$T/$s.tbl" || { fail "gioc $s"; continue; }
    "$BIN/xensim" run --domain g:pvh:1:64M -- \
        "$BIN/xensim" guest run --trace g "$T/$s.gio" >"$T/$s.sim" 2>"$T/$s.sim.err"
    sim_rc=$?
    "$HOSTRUN" "$T/$s.tbl" >"$T/$s.host" 2>"$T/$s.host.err"
    host_rc=$?
    [ $sim_rc = $host_rc ] || fail "$s: xensim exit $sim_rc, the guest interpreter $host_rc"
    if ! bash "$SRC/trace_diff.sh" --console "$T/$s.sim" "$T/$s.host" >"$T/$s.diff"; then
        fail "$s: the traces differ:"
        cat "$T/$s.diff" "$T/$s.sim.err"
    fi
done
grep -qx 'v0 END pass' "$T/sample.sim" || fail "sample: $(cat "$T/sample.sim")"
grep -qx '(d1) hello from the guest image' "$T/sample.host" || fail "sample's console line"
grep -qx 'v0 END fail 3' "$T/fails.sim" || fail "fails: $(cat "$T/fails.sim")"
grep -qx '(d1) AB' "$T/console.sim" || fail "console: $(cat "$T/console.sim")"
grep -qx '(d1) line two' "$T/console.host" || fail "console: $(cat "$T/console.host")"
# The daemon prints the guest's console lines too, as Xen prints them.
grep -qx '(d1) console line one' "$T/console.sim.err" || fail "daemon stderr: $(cat "$T/console.sim.err")"

[ $fails = 0 ] && echo "xensim and the guest image's interpreter agree"
exit $((fails > 0))
