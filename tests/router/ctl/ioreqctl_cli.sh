#!/bin/bash
# ioreqctl_cli.sh IOREQCTL FAKE_DAEMON: the real ioreqctl against
# ctl_fake_daemon (router_ctl with a canned handler): the list rendering,
# --json, start/stop/restart, exit codes 0/1/2, the socket's default and
# $IOREQ_ROUTER_SOCKET, and (as root) refusal of uid 65534 by SO_PEERCRED.
set -u
ctl=$1 fake=$2
fail() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d /tmp/ioreqctl-test.XXXXXX) || exit 1
chmod 755 "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# start_daemon NAME ARGS...: a fake daemon on $tmp/NAME, logging to $tmp/NAME.log
start_daemon() {
    local name=$1; shift
    "$fake" --socket "$tmp/$name" --ready "$tmp/$name.ready" --log "$tmp/$name.log" "$@" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -e "$tmp/$name.ready" ] && return 0
        sleep 0.05
    done
    fail "fake daemon $name did not start"
}

# tx DESC CMD...: run CMD (ioreqctl, perhaps through env or setpriv); sets
# $args (DESC, for messages), $rc, $out (stdout) and $err (stderr)
tx() {
    args=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
}
expect() { # expect RC STDOUT STDERR (after run)
    [ "$rc" -eq "$1" ] || fail "ioreqctl $args: exit $rc, expected $1 (stderr: $err)"
    [ "$out" = "$2" ] || fail "ioreqctl $args: stdout:
$out
expected:
$2"
    [ "$err" = "$3" ] || fail "ioreqctl $args: stderr:
$err
expected:
$3"
}
t() { tx "$*" "$ctl" "$@"; }

start_daemon main
sock=$tmp/main

# ---- list, as text ----
expected_list='guest demo (domid 3, running)
  EMULATOR   STATE      PID    SERVER RESTARTS  RANGES
  uart0      running    1234   1      0         ports 0x3f8-0x3ff
  pcitest0   running    1240   2      0         pci 0000:00:05.0

guest web (domid 7, running)
  EMULATOR                STATE      PID    SERVER RESTARTS  RANGES
  debugcon-with-long-name restarting -      3      2         ports 0xe9,0x402; mmio 0xfe000000-0xfe000fff
                          last exit: killed by SIGKILL
  gpio                    failed     -      -      5         -
                          last exit: exited 1
                          error: crash loop: 5 restarts in 60 s

guest idle (domid -, stopped)
  (no emulators)

guest partial (domid -, -)
  EMULATOR   STATE      PID    SERVER RESTARTS  RANGES
  x          -          -      -      -         -'
t --socket "$sock" list;                  expect 0 "$expected_list" ""
t list --socket="$sock";                  expect 0 "$expected_list" ""
tx "IOREQ_ROUTER_SOCKET list" env IOREQ_ROUTER_SOCKET="$sock" "$ctl" list
expect 0 "$expected_list" ""
tx "--socket beats IOREQ_ROUTER_SOCKET" env IOREQ_ROUTER_SOCKET="$tmp/nowhere" "$ctl" --socket "$sock" list
expect 0 "$expected_list" ""

# ---- list --json: the result itself, pretty ----
t --socket "$sock" --json list
[ "$rc" -eq 0 ] || fail "--json list: exit $rc: $err"
[ "$(echo "$out" | wc -l)" -gt 20 ] || fail "--json list is not pretty-printed: $out"
echo "$out" | head -1 | grep -qx '{' || fail "--json list does not start with {: $out"
if command -v python3 >/dev/null; then
    echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert list(d) == ["guests"], d
g = d["guests"][0]
assert g["name"] == "demo" and g["domid"] == 3, g
assert g["emulators"][1]["pci"] == ["0000:00:05.0"], g
assert d["guests"][2]["domid"] is None
' || fail "--json list output is not the result: $out"
fi

# ---- start / stop / restart ----
t --socket "$sock" restart demo uart0;    expect 0 "restarting demo/uart0" ""
t --socket "$sock" stop demo pcitest0;    expect 0 "stop demo/pcitest0: ok" ""
t --socket "$sock" start demo pcitest0;   expect 0 "start demo/pcitest0: ok" ""
t --socket "$sock" --json restart demo pcitest0; expect 0 "{
}" ""
t --socket "$sock" restart demo nope;     expect 1 "" "ioreqctl: no emulator 'nope' in guest 'demo'"
t --socket "$sock" stop web x;            expect 1 "" "ioreqctl: no emulator 'x' in guest 'web'"

# ---- usage errors: exit 2, never reach the daemon ----
before=$(cat "$tmp/main.log")
try="Try 'ioreqctl --help'."
t;                                        expect 2 "" "ioreqctl: missing command
$try"
t --socket "$sock" frobnicate;            expect 2 "" "ioreqctl: unknown command 'frobnicate'
$try"
t --socket "$sock" restart demo;          expect 2 "" "ioreqctl: restart needs GUEST EMULATOR
$try"
t --socket "$sock" stop;                  expect 2 "" "ioreqctl: stop needs GUEST EMULATOR
$try"
t --socket "$sock" start a b c;           expect 2 "" "ioreqctl: start takes only GUEST EMULATOR
$try"
t --socket "$sock" list extra;            expect 2 "" "ioreqctl: list takes no arguments, got 'extra'
$try"
t --bogus list;                           expect 2 "" "ioreqctl: unknown option '--bogus'
$try"
t -x list;                                expect 2 "" "ioreqctl: unknown option '-x'
$try"
t list --socket;                          expect 2 "" "ioreqctl: option '--socket' needs an argument
$try"
t --socket "" list;                       expect 2 "" "ioreqctl: empty socket path
$try"
[ "$(cat "$tmp/main.log")" = "$before" ] || fail "a usage error reached the daemon"

t --help
[ "$rc" -eq 0 ] && [ -z "$err" ] || fail "--help: exit $rc, stderr $err"
echo "$out" | head -1 | grep -q '^Usage: ioreqctl \[--socket PATH\] \[--json\] list$' || fail "--help: $out"
echo "$out" | grep -q '/run/ioreq-router/control' || fail "--help does not name the default socket"
t -h list;                                [ "$rc" -eq 0 ] || fail "-h: exit $rc"

# ---- cannot connect: exit 1 ----
t --socket "$tmp/nowhere" list
expect 1 "" "ioreqctl: cannot connect to $tmp/nowhere: No such file or directory"
if [ ! -e /run/ioreq-router/control ]; then
    tx "default socket" env -u IOREQ_ROUTER_SOCKET "$ctl" list
    expect 1 "" "ioreqctl: cannot connect to /run/ioreq-router/control: No such file or directory"
fi
touch "$tmp/plain"
t --socket "$tmp/plain" list
expect 1 "" "ioreqctl: cannot connect to $tmp/plain: Connection refused"

# The daemon saw exactly the requests that got through, in order.
expected_log='list - -
list - -
list - -
list - -
list - -
restart demo uart0
stop demo pcitest0
start demo pcitest0
restart demo pcitest0
restart demo nope
stop web x'
[ "$(cat "$tmp/main.log")" = "$expected_log" ] || fail "daemon log:
$(cat "$tmp/main.log")"

# ---- permission: uid 65534 through SO_PEERCRED (needs root) ----
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    cp "$ctl" "$tmp/ioreqctl" && chmod 755 "$tmp/ioreqctl"
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/ioreqctl" "$@"; }

    # Root only, but the file mode lets anybody connect.
    start_daemon open --mode 0666
    tx "as nobody, root-only daemon" nobody --socket "$tmp/open" list
    expect 1 "" "ioreqctl: permission denied: uid 65534 is not root"
    [ ! -s "$tmp/open.log" ] || fail "the handler ran for a refused peer: $(cat "$tmp/open.log")"
    t --socket "$tmp/open" list;          expect 0 "$expected_list" ""

    # A group nobody is not in.
    start_daemon grp --mode 0666 --gid 4242
    if name=$(getent group 4242 | cut -d: -f1) && [ -n "$name" ]; then g="'$name'"; else g=4242; fi
    tx "as nobody, group 4242" nobody --socket "$tmp/grp" restart demo uart0
    expect 1 "" "ioreqctl: permission denied: uid 65534 is not root and not in group $g"
    [ ! -s "$tmp/grp.log" ] || fail "the handler ran for a refused peer: $(cat "$tmp/grp.log")"

    # nogroup (65534) allowed: socket 0660 root:nogroup.
    start_daemon ok --mode 0660 --gid 65534
    [ "$(stat -c '%a %u %g' "$tmp/ok")" = "660 0 65534" ] || fail "socket: $(stat -c '%a %u %g' "$tmp/ok")"
    tx "as nobody, group nogroup" nobody --socket "$tmp/ok" list
    expect 0 "$expected_list" ""

    # Root-only with the default mode 0660: the kernel refuses the connect.
    start_daemon closed
    tx "as nobody, mode 0660 root:root" nobody --socket "$tmp/closed" list
    expect 1 "" "ioreqctl: cannot connect to $tmp/closed: Permission denied"
else
    echo "permission checks skipped (not root or no setpriv)"
fi

# The daemons stop cleanly and remove their sockets.
for p in "${pids[@]}"; do kill "$p"; wait "$p" || fail "fake daemon exited $?"; done
pids=()
[ ! -e "$sock" ] || fail "socket left behind after SIGTERM"
echo PASS
