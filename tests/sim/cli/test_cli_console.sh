#!/usr/bin/env bash
# A guest floods Xen's debug console (port 0xE9) while the daemon's stderr
# is a pipe nobody reads: test_cli_console.sh BIN_DIR.  The flood ends, the
# domain and the daemon keep answering, and once the pipe is read again
# every line is there or counted in one "N debug console line(s) dropped"
# note, in place; the daemon exits even with its stderr stuck.  With a
# stderr that keeps up, nothing is lost.
. "$(dirname "$0")/daemon_session.sh" "$@"
fails=0

mkfifo "$T/fifo" || exit 1
# Held open and never read here, so the pipe fills (64 KiB, ~950 lines).
exec 3<>"$T/fifo"

# 4096 lines of 63 characters: a 4 KiB page of 64 lines, written 64 times.
{
    line=$(printf '%063d' 0 | tr 0 x)
    block=""
    for _ in $(seq 4); do block="$block$line\\n"; done
    for i in $(seq 0 15); do printf 'mem-write %#x "%s"\n' $((0x1000 + i * 256)) "$block"; done
    for _ in $(seq 64); do printf 'rep-outsb 0xe9 0x1000 4096\n'; done
    printf 'in 0x80 1 expect 0xff\n'
} >"$T/flood.gio"

cat >"$T/session.sh" <<'EOF2'
set -u
x=$XENSIM_BIN
fails=0
fail() { echo "FAIL: $*" >>"$T/result"; fails=$((fails + 1)); }

timeout 30 "$x" guest run g "$T/flood.gio" >"$T/flood.out" 2>&1 ||
    fail "the flooding run: exit $?: $(cat "$T/flood.out")"
timeout 10 "$x" domain list >"$T/list" 2>&1 || fail "domain list after the flood: $(cat "$T/list")"
timeout 10 "$x" domain info g >"$T/info" 2>&1 || fail "domain info g: $(cat "$T/info")"
grep -q '^flags .*shutdown' "$T/info" && fail "the flood crashed the domain: $(cat "$T/info")"
# Read the pipe again: what was queued follows, with the note in place;
# then the console works as before.
timeout 3 cat "$T/fifo" >"$T/drained"
printf 'out 0xe9 1 0x79\nout 0xe9 1 0x0a\n' >"$T/after.gio"
timeout 10 "$x" guest run g "$T/after.gio" >"$T/after.out" 2>&1 || fail "a run after the flood: $(cat "$T/after.out")"
timeout 2 cat "$T/fifo" >>"$T/drained"
exit $fails
EOF2

start=$SECONDS
XENSIM_BIN=$X T=$T timeout 60 "$X" run --domain g:hvm:1:64M -- bash "$T/session.sh" 2>&3
rc=$?
[ $rc = 0 ] || { echo "FAIL: the session: exit $rc: $(cat "$T/result" 2>/dev/null)"; fails=$((fails + 1)); }
[ $((SECONDS - start)) -lt 40 ] || { echo "FAIL: took $((SECONDS - start)) s"; fails=$((fails + 1)); }

printed=$(grep -c '^(d1) x\{63\}$' "$T/drained")
dropped=$(sed -n 's/^xensim: \([0-9]*\) debug console line(s) dropped: stderr did not keep up$/\1/p' "$T/drained" |
          awk '{ n += $1 } END { print n + 0 }')
echo "console lines printed $printed, dropped $dropped"
[ "$dropped" -gt 0 ] || { echo "FAIL: nothing dropped: the pipe never filled?"; fails=$((fails + 1)); }
[ $((printed + dropped)) = 4096 ] ||
    { echo "FAIL: $printed printed + $dropped dropped != 4096 lines written"; fails=$((fails + 1)); }
grep -qx '(d1) y' "$T/drained" || { echo "FAIL: the line after the flood is missing"; fails=$((fails + 1)); }
# The note comes right after the last line before the loss.
grep -B1 '^xensim: .* dropped' "$T/drained" | head -1 | grep -q '^(d1) x' ||
    { echo "FAIL: the note is not after a console line"; fails=$((fails + 1)); }
exec 3>&-

# A stderr that keeps up (a file): the flood holds the guest back, as a
# slow serial line would, and loses nothing.
printf 'timeout 30 "$XENSIM_BIN" guest run g "$T/flood.gio" >"$T/file.out" 2>&1\n' >"$T/file.sh"
XENSIM_BIN=$X T=$T timeout 60 "$X" run --domain g:hvm:1:64M -- bash "$T/file.sh" 2>"$T/file.err"
rc=$?
[ $rc = 0 ] || { echo "FAIL: the flood with stderr to a file: exit $rc: $(cat "$T/file.out")"; fails=$((fails + 1)); }
n=$(grep -c '^(d1) x\{63\}$' "$T/file.err")
[ "$n" = 4096 ] && ! grep -q 'dropped' "$T/file.err" ||
    { echo "FAIL: stderr to a file: $n of 4096 lines; $(grep dropped "$T/file.err")"; fails=$((fails + 1)); }
[ $fails = 0 ] && echo "all console flood tests passed"
exit $((fails > 0))
