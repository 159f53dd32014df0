#!/usr/bin/env bash
# Tests of trace_diff.sh: the three input forms, vCPU and domain selection,
# the timing marker, console lines, and the exit statuses.
set -u
[ $# -eq 1 ] || { echo "usage: $0 TRACE_DIFF"; exit 2; }
TD=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/test_trace_diff.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
expect() { # NAME WANT_RC ARGS...
    local name=$1 want=$2; shift 2
    bash "$TD" "$@" >"$T/out" 2>&1
    local rc=$?
    if [ $rc != "$want" ]; then
        echo "FAIL: $name: exit $rc, want $want"; sed 's/^/    /' "$T/out"; fails=$((fails + 1))
    fi
}
expect_out() { # NAME PATTERN: the last run's output matches
    grep -q -- "$2" "$T/out" || { echo "FAIL: $1: no '$2' in:"; sed 's/^/    /' "$T/out"; fails=$((fails + 1)); }
}

cat >"$T/sim" <<'X'
v0 L2 out 03f8 1 41 = ok
v1 L1 in 0060 1 = ff
v0 L3~ in 03fd 1 = 60
(d1) hello
v0 L5 mem-read 00002000 3 = hex:486920
v1 END pass
v0 END pass
X
# The same run on Xen: `xl dmesg` with Xen's own lines around it.
cat >"$T/dmesg" <<'X'
(XEN) d1v0 Starting
(d1) L2 out 03f8 1 41 = ok
(d1) L3~ in 03fd 1 = 61
(XEN) something else about (XEN) d1
(d1) hello
(d1) [2024-01-01 10:00:00.123] L5 mem-read 00002000 3 = hex:486920
(d1) END pass
(d2) L2 out 03f8 1 41 = ok
X
printf 'L2 out 03f8 1 41 = ok\r\nL3~ in 03fd 1 = 70\nhello\nL5 mem-read 00002000 3 = hex:486920\nEND pass\n' >"$T/raw"

expect "xensim vs dmesg" 0 --domid 1 "$T/sim" "$T/dmesg"
expect_out "xensim vs dmesg" "traces match (4 lines)"
expect "dmesg vs raw" 0 --domid 1 "$T/dmesg" "$T/raw"
expect "console compared" 0 --console --domid 1 "$T/sim" "$T/dmesg"
expect "any domain mixes d1 and d2" 1 "$T/sim" "$T/dmesg"
expect "vcpu 1 is another trace" 1 --vcpu 1 "$T/sim" "$T/raw"
printf 'L1 in 0060 1 = ff\nEND pass\n' >"$T/v1"
expect "vcpu 1" 0 --vcpu 1 "$T/sim" "$T/v1"

# Differences: a value, a missing line, a console line, the timing key.
sed 's/= hex:486920/= hex:486921/' "$T/raw" >"$T/raw2"
expect "value differs" 1 "$T/sim" "$T/raw2"
expect_out "value differs" "trace line 3 differs"
expect_out "value differs" "hex:486921"
grep -v '^END' "$T/raw" >"$T/noend"
expect "no END" 1 "$T/sim" "$T/noend"
expect_out "no END" "has 4 lines"
sed 's/^hello$/world/' "$T/raw" >"$T/raw3"
expect "console ignored by default" 0 "$T/sim" "$T/raw3"
expect "console differs" 1 --console "$T/sim" "$T/raw3"
expect_out "console differs" "console line 1 differs"
sed 's/L3~ in 03fd/L3~ in 03fe/' "$T/raw" >"$T/raw4"
expect "timing line compares its operands" 1 "$T/sim" "$T/raw4"
sed 's/L3~/L3/' "$T/raw" >"$T/raw5"
expect "timing marker on one side only" 1 "$T/sim" "$T/raw5"

# Usage and unreadable input.
expect "no args" 2
expect "missing file" 2 "$T/sim" "$T/nonexistent"
: >"$T/empty"
expect "no trace lines" 2 "$T/sim" "$T/empty"
expect_out "no trace lines" "no trace lines"
expect "bad vcpu" 2 --vcpu x "$T/sim" "$T/raw"

[ $fails = 0 ] && echo "all trace_diff.sh tests passed"
exit $((fails > 0))
