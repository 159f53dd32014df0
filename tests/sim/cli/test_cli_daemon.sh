#!/usr/bin/env bash
# The xensim CLI against the real daemon: test_cli_daemon.sh BIN_DIR
# (BIN_DIR holds xensim and xensim-daemon).  Domains, a guest run whose
# accesses nobody serves (the null handler: reads are all ones), a failed
# expectation naming its line, the run timeout, and exit statuses.
set -u

[ $# -eq 1 ] || { echo "usage: $0 BIN_DIR"; exit 2; }
X=$1/xensim
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim-cli-daemon.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export XENSIM_BIN=$X T

cat >"$T/vcpu0.gio" <<'GIO'
# Nothing is mapped: every access goes to the null handler.
in 0x80 1 expect 0xff
in 0x3fd 2 expect 0xffff
pci-read 00:05.0 0x00 4 expect 0xffffffff
mmio-read 0xfed00000 8 expect 0xffffffffffffffff
out 0x3f8 1 0x41
mem-write 0x1000 "hello\n"
mem-read 0x1000 6 expect hex:68656c6c6f0a
rep-insb 0x80 0x2000 4
mem-read 0x2000 4 expect hex:ffffffff
invalidate
timeoffset -5
GIO
printf 'pci-write 00:05.0 0x04 2 0x7\nin 0x60 1 expect 0xff\n' >"$T/vcpu1.gio"
printf 'in 0x60 1 expect 0xff\n\nin 0x61 1 expect 0x12\n' >"$T/fail.gio"
printf 'wait-irq 4 timeout 10000\n' >"$T/wait.gio"

cat >"$T/session.sh" <<'EOF2'
set -u
x=$XENSIM_BIN
check() { # NAME WANT_RC GOT_RC
    [ "$2" = "$3" ] || { echo "FAIL: $1: exit $3, want $2"; fails=$((fails + 1)); }
}
fails=0
"$x" domain list >"$T/list" ; check list 0 $?
grep -qE '^[0-9]+ +g +hvm +2 +64M +0$' "$T/list" || { echo "FAIL: list: $(cat "$T/list")"; fails=$((fails + 1)); }
"$x" guest run g "$T/vcpu0.gio" "$T/vcpu1.gio" >"$T/ok.out"; check guest-ok 0 $?
[ ! -s "$T/ok.out" ] || { echo "FAIL: guest-ok printed: $(cat "$T/ok.out")"; fails=$((fails + 1)); }
"$x" guest run g "$T/fail.gio" >"$T/fail.out"; check guest-fail 1 $?
grep -qx "$T/fail.gio:3: expected 0x12, got 0xff" "$T/fail.out" || { echo "FAIL: guest-fail: $(cat "$T/fail.out")"; fails=$((fails + 1)); }
"$x" guest run g "$T/vcpu0.gio" "$T/vcpu1.gio" "$T/fail.gio" 2>/dev/null; check guest-too-many 1 $?
"$x" guest run --timeout 200 p "$T/wait.gio" >"$T/wait.out"; check guest-timeout 1 $?
grep -q "timed out" "$T/wait.out" || { echo "FAIL: guest-timeout: $(cat "$T/wait.out")"; fails=$((fails + 1)); }
d=$("$x" domain create --name extra --type pvh --vcpus 1 --memory 16M); check create 0 $?
"$x" domain destroy "$d"; check destroy 0 $?
"$x" domain destroy extra 2>/dev/null; check destroy-again 1 $?
"$x" irq-log g; check irq-log 0 $?
exit $fails
EOF2
"$X" run --domain g:hvm:2:64M --domain p:pvh:1:64M -- sh "$T/session.sh" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "failed ($rc); stderr:"
    cat "$T/err"
    exit 1
fi
echo "all CLI/daemon tests passed"
