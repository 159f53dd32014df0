#!/usr/bin/env bash
# Debian's xenstore-utils tools against xenstored-sim, through XENSTORED_PATH.
# Usage: xs_utils_test.sh PATH/TO/xenstored-sim
# Every tool runs under `timeout`; prints "N passed, N failed" at the end.
set -u

daemon=${1:?usage: $0 XENSTORED_SIM}
for tool in xenstore-read xenstore-write xenstore-ls xenstore-rm \
            xenstore-exists xenstore-list xenstore-chmod xenstore-watch; do
    if ! command -v "$tool" >/dev/null; then
        echo "xs_utils_test: $tool missing (apt-get install xenstore-utils)"
        exit 1
    fi
done

passed=0
failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" == "$3" ]; then ok; else
        fail "$1: expected [$2], got [$3]"
    fi
}
# status DESCRIPTION EXPECTED_STATUS COMMAND...
status() {
    local desc=$1 want=$2 got
    shift 2
    "$@" >/dev/null 2>&1
    got=$?
    check "$desc (exit status)" "$want" "$got"
}

T="timeout 10"
dir=$(mktemp -d /tmp/xs-utils-XXXXXX)
export XENSTORED_PATH=$dir/socket
"$daemon" "$XENSTORED_PATH" &
dpid=$!
cleanup() {
    if kill -0 "$dpid" 2>/dev/null; then kill -KILL "$dpid" 2>/dev/null; fi
    rm -rf "$dir"
}
trap cleanup EXIT

for _ in $(seq 1 500); do
    [ -S "$XENSTORED_PATH" ] && $T xenstore-exists / 2>/dev/null && break
    sleep 0.02
done

# The initial tree.
check "dom0 name" "Domain-0" "$($T xenstore-read /local/domain/0/name)"
check "root list" "$(printf 'local\ntool')" "$($T xenstore-list /)"

# write (several pairs), read, exists, list.
status "write" 0 $T xenstore-write /t/a 1 /t/b "two words" /t/c/d deep
check "read a" "1" "$($T xenstore-read /t/a)"
check "read b" "two words" "$($T xenstore-read /t/b)"
check "read two" "$(printf '1\ntwo words')" "$($T xenstore-read /t/a /t/b)"
check "read empty intermediate" "" "$($T xenstore-read /t/c)"
status "read missing" 1 $T xenstore-read /t/missing
status "exists" 0 $T xenstore-exists /t/a
status "exists missing" 1 $T xenstore-exists /t/missing
check "list" "$(printf 'a\nb\nc')" "$($T xenstore-list /t)"
status "list missing" 1 $T xenstore-list /t/missing
status "bad path" 1 $T xenstore-write "/t/bad path" x

# Relative paths land under /local/domain/0.
status "relative write" 0 $T xenstore-write rel/x 7
check "relative read" "7" "$($T xenstore-read /local/domain/0/rel/x)"

# ls, with full paths and permissions.
check "ls" "$(printf 'a = "1"\nb = "two words"\nc = ""\n d = "deep"')" \
      "$($T xenstore-ls /t)"
check "ls -f" "$(printf '/t/a = "1"\n/t/b = "two words"\n/t/c = ""\n/t/c/d = "deep"')" \
      "$($T xenstore-ls -f /t)"
status "ls missing" 1 $T xenstore-ls /t/missing

# chmod, and permissions as ls -p shows them.
status "chmod" 0 $T xenstore-chmod /t/a r0 b5
perms_of() { $T xenstore-ls -f -p "$1" | grep "^$2 = " | sed -n 's/.*(\(.*\))$/\1/p'; }
check "ls -p after chmod" "r0,b5" "$(perms_of /t /t/a)"
status "chmod -r" 0 $T xenstore-chmod -r /t/c w3
check "chmod -r reached the child" "w3" "$(perms_of /t/c /t/c/d)"
status "chmod missing" 1 $T xenstore-chmod /t/missing r0
# A new child inherits its parent's permissions.
$T xenstore-write /t/c/new x
check "inherited" "w3" "$(perms_of /t/c /t/c/new)"

# rm, and rm -t (tidy empty parents).
status "rm" 0 $T xenstore-rm /t/a
status "rm: gone" 1 $T xenstore-exists /t/a
status "rm of a missing node" 0 $T xenstore-rm /t/a
status "rm subtree" 0 $T xenstore-rm /t/c
status "rm subtree: child gone" 1 $T xenstore-exists /t/c/d
$T xenstore-write /tidy/one/two/leaf x
status "rm -t" 0 $T xenstore-rm -t /tidy/one/two/leaf
status "rm -t removed empty parents" 1 $T xenstore-exists /tidy

# watch: the initial event, then one per change, -n bounds it.
out=$dir/watch.out
$T xenstore-watch -n 3 /t/w >"$out" 2>&1 &
wpid=$!
for _ in $(seq 1 250); do
    [ -s "$out" ] && break
    sleep 0.02
done
status "watch registered (initial event printed)" 0 test -s "$out"
$T xenstore-write /t/w/x 1
$T xenstore-write /t/unrelated 1
$T xenstore-rm /t/w
wait "$wpid"
check "watch exit" 0 $?
check "watch events" "$(printf '/t/w\n/t/w/x\n/t/w')" "$(cat "$out")"

# A special watch (the tools cannot introduce domains: only its first event).
check "special watch registration" "@releaseDomain" \
      "$($T xenstore-watch -n 1 @releaseDomain)"

# A client killed mid-watch does not disturb the daemon.
xenstore-watch /t >/dev/null 2>&1 &
kpid=$!
disown "$kpid"
sleep 0.2
kill -KILL "$kpid" 2>/dev/null
status "still serving" 0 $T xenstore-write /t/after kill
check "after kill" "kill" "$($T xenstore-read /t/after)"

# Clean stop on SIGTERM: exit status 0, socket removed.
kill -TERM "$dpid"
dstatus=124
for _ in $(seq 1 500); do
    if ! kill -0 "$dpid" 2>/dev/null; then wait "$dpid"; dstatus=$?; break; fi
    sleep 0.02
done
check "daemon exit status" 0 "$dstatus"
status "socket removed" 1 test -e "$XENSTORED_PATH"

echo "xs_utils_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
