#!/usr/bin/env bash
# ioreq-routerd under xensim: the real daemon, real emulator processes,
# guest scripts, xenstore and ioreqctl.
#
#   router_it.sh CASE XENSIM BIN_DIR
#
# BIN_DIR holds ioreq-routerd, ioreqctl and the emulators.  Each CASE runs
# in its own private simulator (`xensim run`).
set -u

# shellcheck source-path=SCRIPTDIR source=../../server/it_harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../server/it_harness.sh"

if [ "${1:-}" != "--inside" ]; then
    [ $# -eq 3 ] || it_usage "CASE XENSIM BIN_DIR"
    export CASE=$1 X=$2 BIN=$3
    it_outer router-it ioreq-routerd
fi

# ---- inside the simulator ----
it_inside
ROOT=/tool/ioreq-router
CTL=$T/control
router_pid=

# router NAME ARGS...: start ioreq-routerd (stderr in $T/NAME.log), wait
# until its control socket answers
router() {
    local name=$1
    shift
    "$BIN/ioreq-routerd" -v --exec-path "$BIN" --log-dir "$T/logs" \
        --control-socket "$CTL" "$@" 2>>"$T/$name.log" &
    router_pid=$!
    pids+=("$router_pid")
    for _ in $(seq 200); do
        "$BIN/ioreqctl" --socket "$CTL" list >/dev/null 2>&1 && return 0
        kill -0 "$router_pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "router did not come up"
    return 1
}

ctl() { "$BIN/ioreqctl" --socket "$CTL" "$@"; }

# st DOMID EMU KEY: a published state value ("" if absent)
st() { xenstore-read "$ROOT/state/$1/$2/$3" 2>/dev/null; }

# wait_state DOMID EMU STATE [SECONDS]
wait_state() {
    local deadline=$((SECONDS + ${4:-10}))
    until [ "$(st "$1" "$2" state)" = "$3" ]; do
        if [ $SECONDS -ge $deadline ]; then
            fail "$1/$2: state [$(st "$1" "$2" state)], want [$3]"
            return 1
        fi
        sleep 0.05
    done
}

# wait_running DOMID: until a guest run has started on DOMID (its flags
# show running), up to 10 s
wait_running() {
    for _ in $(seq 200); do
        timeout 10 "$X" domain info "$1" 2>/dev/null | grep -q '^flags .*running' && return 0
        sleep 0.05
    done
    fail "domain $1: no guest run started"
    return 1
}

# wait_gone PATH [SECONDS]: until xenstore PATH does not exist
wait_gone() {
    local deadline=$((SECONDS + ${2:-10}))
    while xenstore-exists "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { fail "$1 still exists"; return 1; }
        sleep 0.05
    done
}

alive() { kill -0 "$1" 2>/dev/null; }

# wait_dead PID [SECONDS]
wait_dead() {
    local deadline=$((SECONDS + ${2:-10}))
    while alive "$1"; do
        [ $SECONDS -lt $deadline ] || { fail "pid $1 still alive"; return 1; }
        sleep 0.05
    done
}

stop_router() {
    kill -TERM "$router_pid"
    local deadline=$((SECONDS + 15))
    while alive "$router_pid"; do
        [ $SECONDS -lt $deadline ] || { fail "router did not stop on SIGTERM"; return 1; }
        sleep 0.05
    done
    wait "$router_pid"
    local rc=$?
    [ $rc -eq 0 ] || fail "router exited with $rc after SIGTERM"
}

# The demo's three emulators, for guest NAME; CON is the debug console's file.
three_emulators() { # NAME CON UARTOUT [HOLD]
    cat <<EOF
{ "name": "$1", "hold": ${4:-false},
  "emulators": [
    { "id": "uart0", "exec": "ioreq-uart", "args": ["--backend", "file:$3"],
      "ports": ["0x3f8-0x3ff"] },
    { "id": "pcitest0", "exec": "ioreq-pcitest", "pci": ["00:05.0"] },
    { "id": "debugcon0", "exec": "ioreq-debugcon", "bufioreq": "atomic",
      "args": ["--output", "$2"], "ports": ["0x402-0x402"] } ] }
EOF
}

# A guest script that talks to all three.
three_script() { # TEXT
    cat <<EOF
out 0x3ff 1 0x5a                  # uart scratch register
in 0x3ff 1 expect 0x5a
in 0x3fd 1 expect 0x60            # LSR: idle
out 0x3f8 1 0x4f                  # THR: 'O'
out 0x3f8 1 0x4b                  # THR: 'K'
pci-read 00:05.0 0x00 4 expect 0x11e81234
in 0x402 1 expect 0xe9            # debug console detection
mem-write 0x2000 "$1\n"
rep-outsb 0x402 0x2000 $((${#1} + 1))
EOF
}

pid_of() { st "$1" "$2" pid; }

# servers_of DOMID: how many ioreq servers the domain has (xensim's count)
servers_of() { "$X" domain list | awk -v d="$1" '$1 == d { print $NF }'; }

# ---- cases ----

# Two guests, three emulators each: bring-up, service, teardown.
case_two_guests() {
    local a b
    a=$(domain alpha hvm)
    b=$(domain beta hvm)
    { echo '{ "guests": ['; three_emulators alpha "$T/con-a" "$T/uart-a"; echo ','
      three_emulators beta "$T/con-b" "$T/uart-b"; echo '] }'; } >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    local d e
    for d in "$a" "$b"; do
        for e in uart0 pcitest0 debugcon0; do wait_state "$d" "$e" running || return; done
    done
    [ "$(xenstore-read "$ROOT/state/$a/name")" = alpha ] || fail "state/$a/name"
    three_script "from alpha" >"$T/a.gio"
    three_script "from beta" >"$T/b.gio"
    guest "$a" a
    guest "$b" b
    wait_file "$T/con-a" && wait_file "$T/con-b"
    expect_file "$T/con-a" 'from alpha\n'
    expect_file "$T/con-b" 'from beta\n'
    for _ in $(seq 100); do [ -s "$T/uart-b" ] && break; sleep 0.05; done
    expect_file "$T/uart-a" 'OK'
    expect_file "$T/uart-b" 'OK'
    # six processes, six servers, distinct
    local pids_a pids_b
    pids_a="$(pid_of "$a" uart0) $(pid_of "$a" pcitest0) $(pid_of "$a" debugcon0)"
    pids_b="$(pid_of "$b" uart0) $(pid_of "$b" pcitest0) $(pid_of "$b" debugcon0)"
    for p in $pids_a $pids_b; do alive "$p" || fail "emulator pid $p not alive"; done
    ctl list >"$T/list" || fail "ioreqctl list"
    grep -q 'guest alpha' "$T/list" && grep -q 'guest beta' "$T/list" || fail "list: $(cat "$T/list")"
    # one ioreq server per emulator in each guest (SERVERS is the last column)
    for d in "$a" "$b"; do
        [ "$(servers_of "$d")" = 3 ] || fail "domain $d: servers [$(servers_of "$d")], want 3"
    done
    # teardown of one guest: its emulators go, the other's stay
    "$X" domain destroy "$a" || fail "destroy $a"
    for p in $pids_a; do wait_dead "$p"; done
    wait_gone "$ROOT/state/$a"
    for p in $pids_b; do alive "$p" || fail "beta's emulator $p died with alpha"; done
    guest "$b" b
    stop_router
    for p in $pids_b; do alive "$p" && fail "emulator $p survived the router's SIGTERM"; done
    wait_gone "$ROOT/state/$b"
    # servers are gone: the ports read all ones now
    printf 'in 0x3ff 1 expect 0xff\npci-read 00:05.0 0x00 4 expect 0xffffffff\n' >"$T/c.gio"
    guest "$b" c
}

# A guest created after the router started is picked up by name and held
# by a pause reference of the router's own: the toolstack's pause (xl
# create -p) stays the toolstack's to lift, and the guest runs only once
# both are gone.  uart0 is started through a gate, so "not ready yet" is a
# state the test controls rather than a race.
case_late_pickup() {
    printf '#!/bin/sh\nwhile [ ! -e "%s" ]; do sleep 0.05; done\nexec "%s" "$@"\n' \
        "$T/gate" "$BIN/ioreq-uart" >"$T/gated-uart"
    chmod +x "$T/gated-uart"
    three_emulators late "$T/con" "$T/uart" true |
        sed "s|\"exec\": \"ioreq-uart\"|\"exec\": \"$T/gated-uart\"|" |
        { echo '{ "guests": ['; cat; echo '] }'; } >"$T/cfg.json"
    grep -q gated-uart "$T/cfg.json" || { fail "gate not in the config"; return; }
    router r --config "$T/cfg.json" || return
    ctl list | grep -q 'late' || fail "configured guest not listed"
    local d
    d=$("$X" domain create --name late --type hvm --vcpus 1 --memory 64M --paused)
    wait_state "$d" pcitest0 running || return
    # the toolstack's pause and the router's
    pc() { "$X" domain info "$d" | awk '$1 == "pause-count" { print $2 }'; }
    [ "$(pc)" = 2 ] || fail "pause count while held and created paused: [$(pc)], want 2"
    ctl list | grep -q 'held' || fail "list does not show the guest held: $(ctl list)"
    "$X" domain unpause "$d" || fail "toolstack unpause"
    [ "$(pc)" = 1 ] || fail "pause count after the toolstack's unpause: [$(pc)], want 1"
    [ "$(st "$d" uart0 state)" = starting ] || fail "uart0: [$(st "$d" uart0 state)], want starting"
    grep -q 'hold released' "$T/r.log" && fail "hold released before uart0 was ready"
    touch "$T/gate"
    three_script "late hello" >"$T/a.gio"
    guest "$d" a # blocks until the router drops its pause
    for e in uart0 pcitest0 debugcon0; do
        [ "$(st "$d" "$e" state)" = running ] || fail "$e not running"
    done
    [ "$(pc)" = 0 ] || fail "pause count after the hold: [$(pc)], want 0"
    wait_file "$T/con"
    expect_file "$T/con" 'late hello\n'
    grep -q 'all 3 emulators ready: hold released' "$T/r.log" || fail "no hold release in the log"
    # a domain with another name is left alone
    local o
    o=$(domain other hvm)
    sleep 0.5
    xenstore-exists "$ROOT/state/$o" 2>/dev/null && fail "picked up a guest not configured"
    stop_router
}

# Emulators added and removed at run time through xenstore.
case_xenstore() {
    local d
    d=$(domain xsg hvm)
    router r || return # no file: xenstore only
    xenstore-write "$ROOT/guests/xsg/emulators/dbg1" \
        "{\"exec\":\"ioreq-debugcon\",\"ports\":[\"0x402-0x402\"],\"args\":[\"--output\",\"$T/con\"]}" ||
        fail "xenstore-write"
    wait_state "$d" dbg1 running || return
    printf 'in 0x402 1 expect 0xe9\nout 0x402 1 0x41\nout 0x402 1 0x0a\n' >"$T/a.gio"
    guest "$d" a
    wait_file "$T/con"
    expect_file "$T/con" 'A\n'
    local p
    p=$(pid_of "$d" dbg1)
    # a bad entry is reported and changes nothing
    xenstore-write "$ROOT/guests/xsg/emulators/bad" '{"exec":"ioreq-uart","ports":["0x402-0x403"]}'
    for _ in $(seq 100); do xenstore-exists "$ROOT/errors/xsg/bad" 2>/dev/null && break; sleep 0.05; done
    local msg
    msg=$(xenstore-read "$ROOT/errors/xsg/bad" 2>/dev/null)
    case "$msg" in
    *'ports[0]: overlaps "dbg1" 0x402-0x402'*) ;;
    *) fail "error for the bad entry: [$msg]" ;;
    esac
    xenstore-exists "$ROOT/state/$d/bad" 2>/dev/null && fail "bad entry started"
    [ "$(pid_of "$d" dbg1)" = "$p" ] || fail "dbg1 restarted by a bad entry"
    xenstore-rm "$ROOT/guests/xsg/emulators/bad"
    wait_gone "$ROOT/errors/xsg/bad"
    # a message that echoes a long value still reaches errors/ (its start)
    local junk
    junk=$(printf '%03000d' 0)
    xenstore-write "$ROOT/guests/xsg/emulators/long" "{\"exec\":\"ioreq-uart\",\"ports\":[\"$junk\"]}"
    for _ in $(seq 100); do xenstore-exists "$ROOT/errors/xsg/long" 2>/dev/null && break; sleep 0.05; done
    msg=$(xenstore-read "$ROOT/errors/xsg/long" 2>/dev/null)
    [ -n "$msg" ] && [ ${#msg} -le 1023 ] || fail "error for the long entry: ${#msg} bytes: $(tail -3 "$T/r.log")"
    xenstore-rm "$ROOT/guests/xsg/emulators/long"
    # names that cannot be paths or file names are ignored, and said so
    xenstore-write "$ROOT/guests/a@b/emulators/x" '{"exec":"ioreq-debugcon"}'
    for _ in $(seq 100); do grep -q 'guests/a@b: not a guest name' "$T/r.log" && break; sleep 0.05; done
    grep -q 'guests/a@b: not a guest name (1 to 64 of A-Z a-z 0-9 _ . + -): ignored' "$T/r.log" ||
        fail "a bad guest name: $(tail -3 "$T/r.log")"
    xenstore-exists "$ROOT/errors/a@b" 2>/dev/null && fail "a bad guest name got an errors/ key"
    xenstore-rm "$ROOT/guests/a@b"
    # removal stops the process and destroys the server
    xenstore-rm "$ROOT/guests/xsg/emulators/dbg1"
    wait_dead "$p"
    wait_gone "$ROOT/state/$d/dbg1"
    printf 'in 0x402 1 expect 0xff\n' >"$T/b.gio"
    guest "$d" b
    stop_router
}

# kill -9 of an emulator while a guest script runs: the router restarts it
# on the same server and the script completes with correct results.
case_kill9() {
    local d
    d=$(domain k hvm)
    { echo '{ "guests": ['; three_emulators k "$T/con" "$T/uart"; echo '] }'; } |
        sed 's/"ports": \["0x3f8-0x3ff"\] }/"ports": ["0x3f8-0x3ff"], "restart": {"backoff_ms": 50} }/' >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" uart0 running || return
    local p i
    p=$(pid_of "$d" uart0)
    # Registers without state, so a restart cannot change what they read;
    # the sleeps spread the script over about a second.
    { for i in $(seq 1 100); do
          printf 'in 0x3fd 1 expect 0x60\npci-read 00:05.0 0x00 4 expect 0x11e81234\nsleep 10\n'
      done; } >"$T/a.gio"
    "$X" guest run "$d" "$T/a.gio" >"$T/guest.out" 2>&1 &
    local g=$!
    wait_running "$d"
    sleep 0.2
    kill -KILL "$p"
    wait "$g" || fail "guest script across kill -9: $(cat "$T/guest.out")"
    wait_state "$d" uart0 running || return
    local p2
    p2=$(pid_of "$d" uart0)
    [ -n "$p2" ] && [ "$p2" != "$p" ] || fail "uart0 not restarted ($p -> $p2)"
    [ "$(st "$d" uart0 restarts)" = 1 ] || fail "restarts [$(st "$d" uart0 restarts)]"
    [ "$(st "$d" uart0 exit-status)" = "killed by SIGKILL" ] ||
        fail "exit-status [$(st "$d" uart0 exit-status)]"
    ctl list | grep -q '^ *last exit: killed by SIGKILL$' || fail "list's last exit: $(ctl list)"
    stop_router
}

# An emulator that keeps dying ends up failed after max_restarts.
case_crashloop() {
    local d
    d=$(domain c hvm)
    # (a second: long enough, under ASan on a loaded machine, to come up and
    # be seen running between deaths)
    printf '#!/bin/sh\n# serves for a moment, then dies\nexec timeout -s KILL 1 "%s/ioreq-debugcon" "$@"\n' \
        "$BIN" >"$T/crashy"
    chmod +x "$T/crashy"
    printf '{ "guests": [ { "name": "c", "emulators": [
  { "id": "crashy", "exec": "%s", "ports": ["0x402-0x402"],
    "restart": { "policy": "on-failure", "max_restarts": 3, "window_s": 60, "backoff_ms": 20 } } ] } ] }\n' \
        "$T/crashy" >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" crashy failed 40 || return
    [ "$(st "$d" crashy restarts)" = 3 ] || fail "restarts [$(st "$d" crashy restarts)]"
    case "$(st "$d" crashy error)" in
    "crash loop: 3 restarts within 60 s") ;;
    *) fail "error [$(st "$d" crashy error)]" ;;
    esac
    [ -z "$(st "$d" crashy server)" ] || fail "a failed emulator kept its server"
    ctl list | grep -q 'crashy *failed' || fail "list: $(ctl list)"
    # an operator can start it again
    ctl start c crashy >/dev/null || fail "ioreqctl start"
    wait_state "$d" crashy running || return
    stop_router
}

# uart_and_console NAME [RESTART-POLICY]: a config for guest NAME with uart0
# (ports 0x3f8-0x3ff) and debugcon0 (0x402, output $T/con)
uart_and_console() {
    printf '{ "guests": [ { "name": "%s", "emulators": [
  { "id": "uart0", "exec": "ioreq-uart", "args": ["--backend", "file:%s"], "ports": ["0x3f8-0x3ff"],
    "restart": { "policy": "%s" } },
  { "id": "debugcon0", "exec": "ioreq-debugcon", "args": ["--output", "%s"], "ports": ["0x402-0x402"] } ] } ] }\n' \
        "$1" "$T/uart" "${2:-on-failure}" "$T/con"
}

# wait_on_stopped_uart DOMID [EXPECT]: stop uart0 (SIGSTOP), then have vCPU 1
# read its LSR (expecting EXPECT, if given) in a background guest run, and
# return once that vCPU waits on it: the '!' it first writes to the debug
# console says it is at that access.  Sets UART_PID and RUN_PID.
wait_on_stopped_uart() {
    UART_PID=$(pid_of "$1" uart0)
    kill -STOP "$UART_PID"
    printf 'out 0x402 1 0x21\nout 0x402 1 0x0a\nin 0x3fd 1 %s\n' "${2:+expect $2}" >"$T/a.gio"
    # (vCPU 0 stays free for the caller's own runs)
    "$X" guest run --timeout 10000 --vcpu 1 "$1" "$T/a.gio" >"$T/guest.out" 2>&1 &
    RUN_PID=$!
    # (the newline served: the same vCPU thread sends the UART read next)
    for _ in $(seq 200); do [ "$(cat "$T/con" 2>/dev/null)" = '!' ] && break; sleep 0.05; done
    expect_file "$T/con" '!\n'
    sleep 0.5
    alive "$RUN_PID" || fail "the guest did not wait on the stopped emulator: $(cat "$T/guest.out")"
}

# An emulator that dies for good under a waiting vCPU: the router destroys
# its server, and the vCPU's access completes unanswered (all ones), the
# simulator's defined outcome (docs/design.md, Teardown: Xen 4.17 leaves the
# vCPU blocked instead); the guest goes on.
case_failed_under_waiter() {
    local d
    d=$(domain w hvm 2)
    uart_and_console w never >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" uart0 running && wait_state "$d" debugcon0 running || return
    wait_on_stopped_uart "$d" 0xff
    kill -KILL "$UART_PID"
    wait_state "$d" uart0 failed || return
    [ -z "$(st "$d" uart0 server)" ] || fail "a failed emulator kept its server"
    wait "$RUN_PID" || fail "guest run after the server went: $(cat "$T/guest.out")"
    [ "$(servers_of "$d")" = 1 ] || fail "uart0's server not destroyed"
    stop_router
}

# ioreqctl stop while a vCPU waits on the emulator: the router disables the
# server before it signals the process, so new accesses read all ones at
# once (even while the process, stopped here, has not exited) and no vCPU
# starts waiting on a server about to be destroyed (on Xen it would hang);
# the vCPU already waiting completes.
case_stop_under_waiter() {
    local d
    d=$(domain s hvm 2)
    uart_and_console s >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" uart0 running && wait_state "$d" debugcon0 running || return
    wait_on_stopped_uart "$d"
    ctl stop s uart0 >/dev/null || fail "ioreqctl stop"
    # the process is still stopped: only a disabled server answers now
    printf 'in 0x3fd 1 expect 0xff\n' >"$T/b.gio"
    # (well within the 3 s before the router would SIGKILL the process)
    "$X" guest run --timeout 1500 "$d" "$T/b.gio" >"$T/guest-b.out" 2>&1 ||
        fail "an access after the stop: $(cat "$T/guest-b.out")"
    kill -CONT "$UART_PID"
    wait "$RUN_PID" || fail "the request in flight: $(cat "$T/guest.out")"
    wait_state "$d" uart0 stopped || return
    [ "$(servers_of "$d")" = 1 ] || fail "uart0's server not destroyed"
    stop_router
}

# start_late NAME: guest NAME (HVM) under a router, with one emulator,
# "late", that ignores SIGTERM for its first second and only then starts (as
# a PID 1 whose handler is not set up yet loses a SIGTERM), so that it
# reports ready after a stop was asked for; returns once it is starting,
# with the domid in LATE_DOMID
start_late() {
    local d
    d=$(domain "$1" hvm)
    LATE_DOMID=$d
    printf '#!/bin/sh\ntrap "" TERM\nsleep 1\nexec "%s/ioreq-debugcon" "$@"\n' "$BIN" >"$T/$1"
    chmod +x "$T/$1"
    printf '{ "guests": [ { "name": "%s", "emulators": [
  { "id": "late", "exec": "%s", "ports": ["0x402-0x402"] } ] } ] }\n' "$1" "$T/$1" >"$T/$1.json"
    router r --config "$T/$1.json" || return
    wait_state "$d" late starting
}

# A stop asked for while an emulator starts: its late readiness report does
# not undo the stop (enable the server, cancel the SIGKILL deadline).  The
# router no longer reads it (the emulator, finding its ready pipe closed,
# exits; else the SIGKILL after the grace ends it).
case_stop_while_starting() {
    start_late w || return
    local d=$LATE_DOMID
    ctl stop w late >/dev/null || fail "ioreqctl stop"
    wait_state "$d" late stopped 15 || return
    grep -q 'late: stopping -> running' "$T/r.log" && fail "the late readiness undid the stop: $(cat "$T/r.log")"
    [ -z "$(st "$d" late server)" ] || fail "the stopped emulator kept its server"
    [ "$(servers_of "$d")" = 0 ] || fail "servers left: $(servers_of "$d")"
    stop_router
}

# SIGTERM while an emulator starts, then requests over the control socket:
# they are refused, nothing starts again, and the router exits.
case_shutdown_refuses() {
    start_late z || return
    local d=$LATE_DOMID
    kill -TERM "$router_pid"
    local out
    for cmd in restart start; do
        if out=$(ctl "$cmd" z late 2>&1); then
            fail "ioreqctl $cmd during shutdown succeeded: $out"
            continue
        fi
        case "$out" in # refused, or the router is already gone
        *"the router is stopping"* | *"cannot connect"*) ;;
        *) fail "ioreqctl $cmd during shutdown: $out" ;;
        esac
    done
    local deadline=$((SECONDS + 15))
    while alive "$router_pid"; do
        [ $SECONDS -lt $deadline ] || { fail "the router did not exit: $(cat "$T/r.log")"; return 1; }
        sleep 0.05
    done
    wait "$router_pid" || fail "router exit status $?"
    grep -q 'late: started' <(sed -n '/stopping: terminating every emulator/,$p' "$T/r.log") &&
        fail "an emulator started during shutdown: $(cat "$T/r.log")"
    [ "$(servers_of "$d")" = 0 ] || fail "servers left: $(servers_of "$d")"
}

# One guest, by domid, in two config files: the second is ignored, and said so.
case_dup_domid() {
    local d
    d=$(domain dd hvm)
    printf '{ "guests": [ { "domid": %s, "emulators": [
  { "id": "%s", "exec": "ioreq-debugcon", "ports": ["%s"] } ] } ] }\n' "$d" one 0x402-0x402 >"$T/a.json"
    printf '{ "guests": [ { "domid": %s, "emulators": [
  { "id": "%s", "exec": "ioreq-debugcon", "ports": ["%s"] } ] } ] }\n' "$d" two 0x403-0x403 >"$T/b.json"
    router r --config "$T/a.json" --config "$T/b.json" || return
    wait_state "$d" one running || return
    grep -q "b.json: guests\[0\]: domid $d is already configured: ignored" "$T/r.log" ||
        fail "no word of the second file's guest: $(cat "$T/r.log")"
    [ -z "$(st "$d" two state)" ] || fail "the second file's emulator runs: $(st "$d" two state)"
    stop_router
}

# SIGHUP applies only the difference; a bad file changes nothing.
case_sighup() {
    local d
    d=$(domain h hvm)
    local v1='{ "guests": [ { "name": "h", "emulators": [
      { "id": "uart0", "exec": "ioreq-uart", "args": ["--backend", "file:/dev/null"], "ports": ["0x3f8-0x3ff"] },
      { "id": "dbg", "exec": "ioreq-debugcon", "ports": ["0x402-0x402"] } ] } ] }'
    echo "$v1" >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" uart0 running && wait_state "$d" dbg running || return
    local pu pd
    pu=$(pid_of "$d" uart0)
    pd=$(pid_of "$d" dbg)
    # changed: dbg moves to 0x403; uart0 is unchanged
    echo "${v1/0x402-0x402/0x403-0x403}" | sed 's/"ioreq-debugcon",/"ioreq-debugcon", "args": ["--port", "0x403"],/' >"$T/cfg.json"
    kill -HUP "$router_pid"
    wait_dead "$pd"
    wait_state "$d" dbg running || return
    [ "$(pid_of "$d" uart0)" = "$pu" ] || fail "unchanged uart0 was restarted"
    [ "$(pid_of "$d" dbg)" != "$pd" ] || fail "changed dbg kept its process"
    printf 'in 0x403 1 expect 0xe9\nin 0x402 1 expect 0xff\nin 0x3fd 1 expect 0x60\n' >"$T/a.gio"
    guest "$d" a
    # a bad file: reported, nothing changes
    local pd2
    pd2=$(pid_of "$d" dbg)
    echo '{ "guests": [ { "name": "h", "emulators": [ { "id": "dbg", "exec": "ioreq-debugcon", "ports": ["0x10000-0x10001"] } ] } ] }' >"$T/cfg.json"
    kill -HUP "$router_pid"
    for _ in $(seq 100); do grep -q 'reload rejected' "$T/r.log" && break; sleep 0.05; done
    grep -q 'reload rejected, nothing changed' "$T/r.log" || fail "no rejection in the log"
    grep -q 'guests\[0\].emulators\[0\].ports\[0\]' "$T/r.log" || fail "the problem is not logged"
    sleep 0.3
    [ "$(pid_of "$d" uart0)" = "$pu" ] && [ "$(pid_of "$d" dbg)" = "$pd2" ] ||
        fail "a bad reload changed something"
    stop_router
}

# Only root (or the control group) may use ioreqctl.
case_ctl_perm() {
    local d
    d=$(domain p hvm)
    echo '{ "guests": [ { "name": "p", "emulators": [
      { "id": "dbg", "exec": "ioreq-debugcon", "ports": ["0x402-0x402"] } ] } ] }' >"$T/cfg.json"
    router r --config "$T/cfg.json" || return
    wait_state "$d" dbg running || return
    chmod 755 "$T"
    local out rc
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/ioreqctl" --socket "$CTL" list 2>&1)
    rc=$?
    [ $rc -ne 0 ] || fail "non-root ioreqctl was not refused: $out"
    case "$out" in *"permission denied"* | *"Permission denied"*) ;; *) fail "refusal: [$out]" ;; esac
    setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/ioreqctl" --socket "$CTL" stop p dbg >/dev/null 2>&1 &&
        fail "a non-root stop succeeded"
    [ "$(st "$d" dbg state)" = running ] || fail "a refused stop took effect"
    # root may stop and start
    ctl stop p dbg >/dev/null || fail "root stop"
    wait_state "$d" dbg stopped
    ctl start p dbg >/dev/null || fail "root start"
    wait_state "$d" dbg running
    stop_router
    # with a control group, its members may
    router r2 --config "$T/cfg.json" --control-group nogroup || return
    out=$(setpriv --reuid=65534 --regid=65534 --groups=65534 "$BIN/ioreqctl" --socket "$CTL" list 2>&1) ||
        fail "member of the control group refused: $out"
    stop_router
}

# What an emulator process runs with: its own user, no_new_privs, seccomp,
# PID namespace, only fds 0-2 left (the ready pipe is closed once used).
case_isolation() {
    local d
    d=$(domain iso hvm)
    cat >"$T/cfg.json" <<'JSON'
{ "guests": [ { "name": "iso", "emulators": [
  { "id": "dbg", "exec": "ioreq-debugcon", "ports": ["0x402-0x402"], "user": "nobody" },
  { "id": "open", "exec": "ioreq-debugcon", "ports": ["0x403-0x403"], "args": ["--port", "0x403"],
    "isolation": { "namespaces": false, "seccomp": "off" } } ] } ] }
JSON
    chmod 755 "$T"
    chmod -R a+rwX "$(dirname "$XENSIM_SOCKET")" 2>/dev/null
    router r --config "$T/cfg.json" || return
    wait_state "$d" dbg running && wait_state "$d" open running || return
    local p q
    p=$(pid_of "$d" dbg)
    q=$(pid_of "$d" open)
    local status=/proc/$p/status
    [ "$(awk '/^Uid:/ { print $2 }' "$status")" = 65534 ] || fail "uid: $(grep Uid "$status")"
    [ "$(awk '/^Gid:/ { print $2 }' "$status")" = 65534 ] || fail "gid: $(grep Gid "$status")"
    [ "$(awk '/^NoNewPrivs:/ { print $2 }' "$status")" = 1 ] || fail "no_new_privs not set"
    [ "$(awk '/^Seccomp:/ { print $2 }' "$status")" = 2 ] || fail "no seccomp filter"
    [ "$(awk '/^NSpid:/ { print $NF }' "$status")" = 1 ] || fail "not pid 1 in its namespace: $(grep NSpid "$status")"
    [ "$(readlink "/proc/$p/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || fail "same mount namespace"
    [ "$(readlink "/proc/$p/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] || fail "same IPC namespace"
    [ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$q/status")" = 0 ] || fail "seccomp off not honoured"
    [ "$(readlink "/proc/$q/ns/pid")" = "$(readlink /proc/self/ns/pid)" ] || fail "namespaces off not honoured"
    [ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$q/status")" = 1 ] || fail "no_new_privs must always be set"
    printf 'in 0x402 1 expect 0xe9\nin 0x403 1 expect 0xe9\n' >"$T/a.gio"
    guest "$d" a
    stop_router
}

it_done
