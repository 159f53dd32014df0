# Debian's xenstore-utils against the daemon's store (XENSTORED_PATH, set by
# `xensim run`): a created domain's entries, the @introduceDomain and
# @releaseDomain watches fired by domain create/destroy, and tool paths
# written and read back.  Runs under `xensim run` (run_test.sh).
. "$INT_LIB"

for tool in xenstore-read xenstore-write xenstore-ls xenstore-rm xenstore-exists \
            xenstore-list xenstore-watch; do
    command -v $tool >/dev/null || { fail "$tool missing (apt-get install xenstore-utils)"; finish; }
done
XS="timeout 10"
[ -n "${XENSTORED_PATH:-}" ] || fail "XENSTORED_PATH is not set"
check "dom0 name" "Domain-0" "$($XS xenstore-read /local/domain/0/name 2>&1)"

# watch_start NAME PATH: xenstore-watch -n 2 PATH in the background; waits
# until the watch is registered (the first event, fired at registration).
watch_start() {
    $XS xenstore-watch -n 2 "$2" >"$T/$1.watch" 2>"$T/$1.log" &
    eval "WATCH_$1=\$!"
    wait_for 5 grep -q . "$T/$1.watch" || fail "xenstore-watch $2 did not start: $(cat "$T/$1.log")"
}

# watch_fired NAME PATH: the watch exits (it has seen 2 events), both for PATH.
watch_fired() {
    local pid
    eval "pid=\$WATCH_$1"
    wait_pid "$pid" 5
    check "xenstore-watch $2 fired" 0 $?
    check "xenstore-watch $2 events" "$(printf '%s\n%s' "$2" "$2")" "$(cat "$T/$1.watch")"
}

watch_start intro @introduceDomain
D=$(create_domain g7 hvm 1 16M) || { fail "domain create"; finish; }
watch_fired intro @introduceDomain

check "name of domain $D" "g7" "$($XS xenstore-read /local/domain/$D/name 2>&1)"
$XS xenstore-exists /local/domain/$D
check "/local/domain/$D exists" 0 $?
$XS xenstore-list /local/domain >"$T/domains" 2>&1
grep -qx "$D" "$T/domains" || fail "/local/domain lists: $(cat "$T/domains")"
$XS xenstore-ls /local/domain/$D >"$T/ls" 2>&1
check "xenstore-ls /local/domain/$D" 0 $?
grep -q '^name = "g7"' "$T/ls" || fail "xenstore-ls: $(cat "$T/ls")"

# A second domain, its own entries.
D2=$(create_domain g8 pvh 1 16M) || fail "domain create g8"
check "name of domain $D2" "g8" "$($XS xenstore-read /local/domain/$D2/name 2>&1)"

# Tool paths.
$XS xenstore-write /tool/ioreq-test/key "hello world" /tool/ioreq-test/n 42
check "xenstore-write" 0 $?
check "xenstore-read" "hello world" "$($XS xenstore-read /tool/ioreq-test/key 2>&1)"
check "xenstore-read two" "$(printf 'hello world\n42')" \
    "$($XS xenstore-read /tool/ioreq-test/key /tool/ioreq-test/n 2>&1)"
check "xenstore-list" "$(printf 'key\nn')" "$($XS xenstore-list /tool/ioreq-test 2>&1 | sort)"

# A watch on a tool path fires on a write.
watch_start tool /tool/ioreq-test/key
$XS xenstore-write /tool/ioreq-test/key changed
watch_fired tool /tool/ioreq-test/key
$XS xenstore-rm /tool/ioreq-test
check "xenstore-rm" 0 $?
$XS xenstore-read /tool/ioreq-test/key >/dev/null 2>&1
check "read after rm fails" 1 $?

# Destroy: @releaseDomain fires and the domain's entries go.
watch_start release @releaseDomain
timeout 20 "$X" domain destroy g7
check "domain destroy" 0 $?
watch_fired release @releaseDomain
$XS xenstore-read /local/domain/$D/name >/dev/null 2>&1
check "name of destroyed domain is gone" 1 $?
check "other domain untouched" "g8" "$($XS xenstore-read /local/domain/$D2/name 2>&1)"
daemon_alive || fail "daemon does not answer"
finish
