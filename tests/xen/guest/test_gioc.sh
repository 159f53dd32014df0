#!/usr/bin/env bash
# Tests of gioc, the guest script compiler: tables round-trip through
# --decompile byte for byte, lines a guest image cannot run are refused with
# FILE:LINE and the reason, and the exit statuses.
set -u
[ $# -eq 2 ] || { echo "usage: $0 GIOC SRCDIR"; exit 2; }
G=$1 SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/test_gioc.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() { # WANT_RC ARGS...: run gioc, output in $T/out
    local want=$1; shift
    "$G" "$@" >"$T/out" 2>&1
    local rc=$?
    [ $rc = "$want" ] || { fail "gioc $*: exit $rc, want $want: $(cat "$T/out")"; return 1; }
}
refused() { # TEXT MESSAGE-START
    printf '%b' "$1" >"$T/bad.gio"
    run 1 "$T/bad.gio" -o "$T/bad.tbl" || return
    grep -qF -- "gioc: $T/bad.gio:$2" "$T/out" || fail "refusal of '$1': $(cat "$T/out")"
    [ ! -e "$T/bad.tbl" ] || fail "a refused script left a table"
}

# Round trip: compile, decompile, compile the text again: the same bytes.
cp "$SRC/samples/sample.gio" "$T/sample.gio"
run 0 --name sample.gio "$T/sample.gio" -o "$T/a.tbl"
run 0 --decompile "$T/a.tbl" && cp "$T/out" "$T/back.gio"
run 0 --name sample.gio "$T/back.gio" -o "$T/b.tbl"
cmp -s "$T/a.tbl" "$T/b.tbl" || fail "the round trip changed the table"
# Every op keeps its line number; the timing marker survives.
n=0
while IFS= read -r line; do
    n=$((n + 1))
    verb=${line%% *}
    case $line in ''|'#'*) continue ;; esac
    got=$(sed -n "${n}p" "$T/back.gio")
    [ "${got%% *}" = "$verb" ] || fail "line $n: '$line' came back as '$got'"
done <"$T/sample.gio"
grep -q '^mmio-read 0xd0000010 1 expect 0xff    # timing$' "$T/back.gio" ||
    fail "no timing marker in: $(cat "$T/back.gio")"
grep -q '^mem-write 0x10000 hex:68656c6c6f' "$T/back.gio" || fail "mem-write data"

# Every verb a guest can run, with edge values, round-trips too.
cat >"$T/all.gio" <<'GIO'
out 0xfffc 4 0xffffffff
in 0 1 expect 0    # timing
mmio-write 0 8 0xffffffffffffffff
mmio-read 0xfffffff8 8
pci-write ff:1f.7 0xff 1 0xff
pci-read 00:00.0 0 4 expect 0
rep-outsw 0x1f0 0x2000 65536
rep-insb 0x80 0xfffffff0 16
rep-mmio-write 0xd0000000 2 0x0 3
rep-mmio-read 0xeffffff0 4 0x3000 4
mem-write 0x200000 "\x00\n\"#"
mem-read 0xffffffff 1 expect hex:ff
sleep 600000
sleep 0
GIO
run 0 --name all "$T/all.gio" -o "$T/c.tbl"
run 0 --decompile "$T/c.tbl" && cp "$T/out" "$T/all-back.gio"
run 0 --name all "$T/all-back.gio" -o "$T/d.tbl"
cmp -s "$T/c.tbl" "$T/d.tbl" || fail "the round trip of every verb changed the table"
run 0 --check "$T/all.gio"
[ ! -s "$T/out" ] || fail "--check printed: $(cat "$T/out")"

# An empty script is a table with no ops.
: >"$T/empty.gio"
run 0 "$T/empty.gio" -o "$T/e.tbl"
[ "$(stat -c %s "$T/e.tbl")" = $((32 + ${#T} + 10)) ] || fail "empty table size $(stat -c %s "$T/e.tbl")"
run 0 --decompile "$T/e.tbl"

# What a guest image cannot do, with the line and the reason.
refused 'out 0x80 1 0\nwait-irq 4\n' '2: wait-irq: the guest image sets up no interrupts'
refused 'invalidate\n' '1: invalidate: this is a broadcast the hypervisor sends'
refused '# x\ntimeoffset 5\n' '2: timeoffset: this is a broadcast'
refused 'rep-mmio-write 0xd0000000 8 0x1000 1\n' '1: rep-mmio-write: 8-byte string moves (movsq) do not exist in 32-bit mode'
refused 'mmio-read 0x100000000 1\n' '1: mmio-read: ADDR reaches above 4 GiB'
refused 'rep-insb 0x80 0x1ff000 0x2000\n' '1: rep-insb: GPA overlaps the guest image (0x100000..0x1fffff)'
refused 'mem-read 0x100000 1 expect hex:00\n' '1: mem-read: GPA overlaps the guest image'
# Script errors are the parser's own messages.
refused 'in 0x80 3\n' "1: SIZE '3' must be 1, 2 or 4"
refused 'jump 0\n' "1: unknown verb 'jump'"

# Usage, I/O and bad tables.
run 2
run 2 "$T/sample.gio"
run 2 --check "$T/sample.gio" -o "$T/x.tbl"
run 2 "$T/missing.gio" -o "$T/x.tbl"
run 2 "$T/sample.gio" -o "$T/no/such/dir/x.tbl"
printf 'in 0x80 1\n\0\n' >"$T/nul.gio"
run 1 "$T/nul.gio" -o "$T/x.tbl"
grep -q "contains a NUL byte" "$T/out" || fail "NUL: $(cat "$T/out")"
run 2 "$T" -o "$T/x.tbl"
grep -q "cannot read $T: Is a directory" "$T/out" || fail "directory: $(cat "$T/out")"
head -c $((16 << 20)) /dev/zero | tr '\0' '\n' >"$T/huge.gio"
run 2 "$T/huge.gio" -o "$T/x.tbl"
grep -q "is too large" "$T/out" || fail "huge: $(cat "$T/out")"
rm -f "$T/huge.gio"
# Bad input is a message, not a crash.
refused "in 0x80 1 expect $(printf '9%.0s' {1..5000})\n" "1: expected value '99999"
refused "mem-write 0x1000 hex:$(printf 'ab%.0s' {1..70000})\n" "1: bad data 'hex:abab"
refused 'mem-write 0x1000 "abc\n' '1: unterminated string'
refused 'pci-read 00:20.0 0 4\n' "1: PCI address '00:20.0' is not BB:DD.F"
head -c 40 "$T/a.tbl" >"$T/short.tbl"
run 1 --decompile "$T/short.tbl"
grep -q "op table size does not match its header" "$T/out" || fail "short table: $(cat "$T/out")"
run 1 --decompile "$T/sample.gio"
grep -q "bad magic" "$T/out" || fail "not a table: $(cat "$T/out")"

[ $fails = 0 ] && echo "all gioc tests passed"
exit $((fails > 0))
