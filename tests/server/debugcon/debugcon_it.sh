#!/usr/bin/env bash
# ioreq-debugcon under xensim: a real emulator process and guest scripts.
#
#   debugcon_it.sh CASE XENSIM IOREQ_DEBUGCON
#
# Each CASE runs in its own private simulator (`xensim run`).
set -u

# shellcheck source-path=SCRIPTDIR source=../it_harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../it_harness.sh"

if [ "${1:-}" != "--inside" ]; then
    [ $# -eq 3 ] || it_usage "CASE XENSIM IOREQ_DEBUGCON"
    export CASE=$1 X=$2 DBG=$3
    it_outer debugcon-it ioreq-debugcon
fi

# ---- inside the simulator ----
it_inside
dbg_pid= # set by start_dbg

start_dbg() { # NAME ARGS...: sets $dbg_pid; stdout to NAME.out
    start_server dbg_pid "$1" /dev/null "$T/$1.out" "$DBG" "${@:2}" -v
}

stop_dbg() { stop_server "$@"; } # PID NAME

guest() { # DOMID SCRIPT-FILE
    if ! "$X" guest run "$1" "$2" >"$T/guest.out" 2>&1; then
        fail "guest run $(basename "$2"): $(cat "$T/guest.out")"
    fi
}

case_lines() {
    local d
    d=$("$X" domain create --name g --type hvm --vcpus 1 --memory 64M)
    printf 'earlier run\n' >"$T/con"
    start_dbg dbg --domid "$d" --output "$T/con" || return
    local pid=$dbg_pid
    cat >"$T/a.gio" <<'EOF'
in 0x402 1 expect 0xe9           # how a guest detects the port
out 0x402 1 0x68
out 0x402 1 0x69
out 0x402 1 0x0a
mem-write 0x1000 "booting\nlast"
rep-outsb 0x402 0x1000 12
EOF
    guest "$d" "$T/a.gio"
    # Whole lines are out while it runs; the partial one only at exit.
    for _ in $(seq 100); do grep -q '^booting$' "$T/con" && break; sleep 0.05; done
    expect_file "$T/con" 'earlier run\nhi\nbooting\n'
    stop_dbg "$pid" dbg
    expect_file "$T/con" 'earlier run\nhi\nbooting\nlast'
    [ ! -s "$T/dbg.out" ] || fail "stdout used with --output: $(cat "$T/dbg.out")"
}

case_stdout_port() {
    local d
    d=$("$X" domain create --name g --type pvh --vcpus 1 --memory 64M)
    start_dbg dbg --domid "$d" --port 0x2e9 || return
    local pid=$dbg_pid
    cat >"$T/a.gio" <<'EOF'
in 0x2e9 1 expect 0xe9
out 0x2e9 1 0x6f
out 0x2e9 1 0x6b
out 0x2e9 1 0x0a
in 0x402 1 expect 0xff           # the default port is not served
EOF
    guest "$d" "$T/a.gio"
    stop_dbg "$pid" dbg
    expect_file "$T/dbg.out" 'ok\n'
}

case_args() {
    local rc
    "$DBG" --help >"$T/help" 2>&1 || fail "--help failed"
    grep -q '^Usage: ioreq-debugcon' "$T/help" || fail "--help: $(cat "$T/help")"
    "$DBG" --port 0x402 >"$T/o" 2>&1; rc=$?
    [ $rc -eq 2 ] && grep -q -- '--domid is required' "$T/o" || fail "no --domid: $rc $(cat "$T/o")"
    "$DBG" --domid 1 --port 0x10000 >"$T/o" 2>&1; rc=$?
    [ $rc -eq 2 ] && grep -q "out of range" "$T/o" || fail "--port 0x10000: $rc $(cat "$T/o")"
    "$DBG" --domid 1 --output /no/such/dir/f >"$T/o" 2>&1; rc=$?
    [ $rc -eq 1 ] && grep -q "/no/such/dir/f" "$T/o" || fail "bad --output: $rc $(cat "$T/o")"
}

it_done
