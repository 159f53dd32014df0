#!/usr/bin/env bash
# `xensim guest run --trace` against the real daemon: test_cli_trace.sh BIN_DIR.
# The trace of two vCPUs (each line once, prefixed by its vCPU, in order per
# vCPU), the debug console lines of port 0xE9 ("(dD) text", Xen's format,
# which the daemon also prints on its stderr), the timing marker, a failed
# run (trace, then the report), a run stopped by its timeout, one traced run
# per domain at a time and one run per vCPU (EBUSY), --vcpu, and the usage
# errors.
. "$(dirname "$0")/daemon_session.sh" "$@"
fails=0

"$X" guest run --trace --trace 1 /dev/null 2>"$T/e"
rc=$?
[ $rc = 2 ] && grep -q -- "--trace given twice" "$T/e" ||
    { echo "FAIL: --trace twice: exit $rc, $(cat "$T/e")"; fails=$((fails + 1)); }

# --vcpu's usage errors.
printf 'in 0x80 1\n' >"$T/u.gio"
for bad in "--vcpu 128 1 $T/u.gio|--vcpu must be a number from 0 to 127, not '128'" "--vcpu x 1 $T/u.gio|--vcpu must be a number" \
           "--vcpu 0 --vcpu 0 1 $T/u.gio|--vcpu given twice" \
           "--vcpu 127 1 $T/u.gio $T/u.gio|at most 1 scripts (one per vCPU from vCPU 127)"; do
    # shellcheck disable=SC2086
    "$X" guest run ${bad%%|*} 2>"$T/e"
    rc=$?
    [ $rc = 2 ] && grep -qF -- "${bad#*|}" "$T/e" ||
        { echo "FAIL: guest run ${bad%%|*}: exit $rc, $(cat "$T/e")"; fails=$((fails + 1)); }
done

cat >"$T/v0.gio" <<'GIO'
out 0x3f8 1 0x41
in 0x3fd 1 expect 0xff   # timing: a status register
mem-write 0x1000 "from vcpu 0\n"
rep-outsb 0xe9 0x1000 12
pci-read 00:05.0 0x00 4 expect 0xffffffff
GIO
# The console's line buffer is the domain's, as Xen's is: one-byte writes
# from two vCPUs at once interleave in it (a CI run saw "(d1) v1from vcpu 0").
# So each vCPU writes its line with one string access, which the core takes
# whole under the domain's lock (one-byte writes: test_debug_console).
cat >"$T/v1.gio" <<'GIO'
mem-write 0x2000 "v1\n"
rep-outsb 0xe9 0x2000 3
mmio-read 0xd0000000 8 expect 0xffffffffffffffff
GIO
printf 'in 0x60 1 expect 0x12\nrep-insb 0x80 0x2000 2\n' >"$T/fail.gio"
printf 'in 0x80 1\n' >"$T/quick.gio"
printf 'wait-irq 4 timeout 10000\n' >"$T/wait.gio"

cat >"$T/session.sh" <<'EOF2'
set -u
x=$XENSIM_BIN
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -qxF -- "$2" "$1" || fail "$(basename "$1") lacks '$2': $(cat "$1")"; }

"$x" guest run --trace g "$T/v0.gio" "$T/v1.gio" >"$T/two"; rc=$?
[ $rc = 0 ] || fail "two vCPUs: exit $rc: $(cat "$T/two")"
for l in "v0 L1 out 03f8 1 41 = ok" "v0 L2~ in 03fd 1 = ff" "v0 L3 mem-write 00001000 12 = ok" \
         "v0 L4 rep-outsb 00e9 00001000 12 = ok" "v0 L5 pci-read 00:05.0 00 4 = ffffffff" \
         "v0 END pass" "v1 L1 mem-write 00002000 3 = ok" "v1 L2 rep-outsb 00e9 00002000 3 = ok" \
         "v1 L3 mmio-read d0000000 8 = ffffffffffffffff" "v1 END pass" \
         "(d1) from vcpu 0" "(d1) v1"; do
    has "$T/two" "$l"
done
[ "$(wc -l <"$T/two")" = 12 ] || fail "two vCPUs: $(wc -l <"$T/two") lines: $(cat "$T/two")"
# Per vCPU in script order, END last; a console line comes before the trace
# line of the access that ended it.
[ "$(grep '^v0 ' "$T/two" | cut -d' ' -f2 | tr '\n' ' ')" = "L1 L2~ L3 L4 L5 END " ] ||
    fail "vCPU 0's order: $(cat "$T/two")"
con=$(grep -n -x '(d1) from vcpu 0' "$T/two" | cut -d: -f1)
l4=$(grep -n '^v0 L4 ' "$T/two" | cut -d: -f1)
[ -n "$con" ] && [ -n "$l4" ] && [ "$con" -lt "$l4" ] ||
    fail "the console line is not before its access's trace line: $(cat "$T/two")"

"$x" guest run --trace g "$T/fail.gio" >"$T/fail"; rc=$?
[ $rc = 1 ] || fail "failing run: exit $rc"
[ "$(cat "$T/fail")" = "v0 L1 in 0060 1 = ff (expected 12)
v0 L2 rep-insb 0080 00002000 2 = hex:ffff
v0 END fail 1
$T/fail.gio:1: expected 0x12, got 0xff" ] || fail "failing run: $(cat "$T/fail")"

# A run stopped by its timeout still ends its trace.
"$x" guest run --trace --timeout 300 p "$T/wait.gio" >"$T/wait"; rc=$?
[ $rc = 1 ] || fail "timed-out run: exit $rc"
has "$T/wait" "v0 L1 wait-irq isa 4 10000 = stopped: the domain crashed"
has "$T/wait" "v0 END fail 1"
grep -q "timed out" "$T/wait" || fail "timed-out run: $(cat "$T/wait")"

# A vCPU runs one script at a time, and one traced run per domain has the
# console's lines.  A traced run holds vCPU 0 of a throwaway domain until
# the domain is destroyed (no timer: under ASan on a loaded machine the
# checks may take any time), and the checks start once it runs (the domain
# shows "running" only after the run holds its vCPU and the trace).
"$x" domain create --name busy --type hvm --vcpus 2 --memory 4M >/dev/null || fail "domain create busy"
printf 'sleep 600000\n' >"$T/hold.gio"
"$x" guest run --trace --timeout 900000 busy "$T/hold.gio" >"$T/hold" 2>"$T/hold.err" &
bg=$!
held=0
for _ in $(seq 200); do
    timeout 10 "$x" domain info busy 2>/dev/null | grep -q '^flags .*running' && { held=1; break; }
    sleep 0.05
done
[ $held = 1 ] || fail "the holding run never showed running: $(cat "$T/hold.err")"
"$x" guest run busy "$T/quick.gio" >"$T/q" 2>"$T/qe"; rc=$?
[ $rc = 1 ] && grep -q ": vCPU 0 is running another guest run: Device or resource busy" "$T/qe" ||
    fail "a run on the busy vCPU 0: exit $rc: $(cat "$T/q" "$T/qe")"
"$x" guest run --trace --vcpu 1 busy "$T/quick.gio" >"$T/q" 2>"$T/qe"; rc=$?
[ $rc = 1 ] && grep -q "another traced guest run has the debug console" "$T/qe" ||
    fail "a second traced run: exit $rc: $(cat "$T/q" "$T/qe")"
"$x" guest run --vcpu 1 busy "$T/quick.gio" >"$T/q2" 2>&1 ||
    fail "an untraced run on vCPU 1 beside the traced one: $(cat "$T/q2")"
"$x" domain destroy busy || fail "domain destroy busy"
wait $bg; rc=$?
[ $rc = 1 ] || fail "the holding run: exit $rc after its domain went"
has "$T/hold" "v0 END fail 1"
# A traced run on vCPU 1 alone, its lines prefixed v1.
"$x" guest run --trace --vcpu 1 g "$T/quick.gio" >"$T/q3" || fail "a traced run on vCPU 1"
[ "$(cat "$T/q3")" = "v1 L1 in 0080 1 = ff
v1 END pass" ] || fail "a traced run on vCPU 1: $(cat "$T/q3")"

# --vcpu past the domain's vCPUs: refused by the daemon.
for args in "--vcpu 2 g $T/quick.gio" "--vcpu 1 g $T/quick.gio $T/quick.gio"; do
    # shellcheck disable=SC2086
    "$x" guest run $args >"$T/q" 2>&1; rc=$?
    [ $rc = 1 ] && grep -q "Invalid argument" "$T/q" || fail "guest run $args: exit $rc: $(cat "$T/q")"
done
exit $fails
EOF2
run_session bash || fails=$((fails + 1))
# The daemon prints the debug console lines, as Xen prints them on its console.
grep -qx '(d1) from vcpu 0' "$T/err" || { echo "FAIL: the daemon did not print: $(cat "$T/err")"; fails=$((fails + 1)); }
[ $fails = 0 ] && echo "all guest run --trace tests passed"
exit $((fails > 0))
