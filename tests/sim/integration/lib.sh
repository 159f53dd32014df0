# Helpers for the integration test scripts, sourced by each of them.  They
# run under `xensim run` (see run_test.sh): XENSIM_SOCKET, XENSTORED_PATH and
# LD_LIBRARY_PATH lead to the private daemon; XENSIM, TOOLS and T are set.
# Every wait is bounded.  Output goes to stdout; the emulators' stderr goes
# to $T/NAME.log, which run_test.sh prints when the test fails.
set -u

X=$XENSIM
EMU=$TOOLS/mini_emulator
FAILS=0
declare -A EMU_PID=()

fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

pass() {
    echo "ok: $*"
}

# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

# info_has DOMID REGEX: a line of `xensim domain info DOMID` matches REGEX.
info_has() {
    timeout 10 "$X" domain info "$1" 2>/dev/null | grep -qE -- "$2"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

# wait_pid PID SECONDS: the exit status of our child PID, 124 if it is still
# running after SECONDS (it is then left alone).
wait_pid() {
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then return 124; fi
        sleep 0.05
    done
    wait "$pid"
}

# start_emu NAME ARGS...: mini_emulator ARGS in the background, stderr in
# $T/NAME.log, pid in EMU_PID[NAME]; waits (10 s) for its ready file
# $T/NAME.ready, which holds the ioreq server id.  Returns 1 if it died or
# never got ready.
start_emu() {
    local name=$1
    shift
    rm -f "$T/$name.ready"
    "$EMU" "$@" --ready-file "$T/$name.ready" 2>"$T/$name.log" &
    EMU_PID[$name]=$!
    local deadline=$((SECONDS + 10))
    until [ -s "$T/$name.ready" ]; do
        if ! kill -0 "${EMU_PID[$name]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
            fail "emulator $name ($*) did not get ready"
            return 1
        fi
        sleep 0.05
    done
}

# stop_emu NAME: SIGTERM, then a bounded wait; a clean exit (0) is expected.
stop_emu() {
    local pid=${EMU_PID[$1]:-} rc
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_pid "$pid" 10
    rc=$?
    if [ $rc -eq 124 ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        fail "emulator $1 did not stop on SIGTERM"
    elif [ $rc -ne 0 ]; then
        fail "emulator $1 exited with status $rc"
    fi
    unset "EMU_PID[$1]"
    check_log "$T/$1.log"
}

# kill_emu NAME: SIGKILL, as a crash would.
kill_emu() {
    local pid=${EMU_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait_pid "$pid" 10
    unset "EMU_PID[$1]"
}

# No sanitizer report in a log.
check_log() {
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1" 2>/dev/null; then
        fail "sanitizer report in $(basename "$1")"
    fi
}

# At exit: SIGKILL the emulators still running (only our own running jobs).
cleanup_emus() {
    local name running
    running=" $(jobs -rp | tr '\n' ' ') "
    for name in "${!EMU_PID[@]}"; do
        if [[ $running == *" ${EMU_PID[$name]} "* ]]; then
            kill -KILL "${EMU_PID[$name]}" 2>/dev/null
            wait "${EMU_PID[$name]}" 2>/dev/null
        fi
        unset "EMU_PID[$name]"
    done
}
trap cleanup_emus EXIT

# create_domain NAME TYPE VCPUS MEM: prints the domid.
create_domain() {
    timeout 20 "$X" domain create --name "$1" --type "$2" --vcpus "$3" --memory "$4"
}

# guest_run ARGS...: xensim guest run, bounded.
guest_run() {
    timeout 60 "$X" guest run "$@"
}

# The daemon still answers: `xensim domain list` works.
daemon_alive() {
    timeout 10 "$X" domain list >/dev/null
}

finish() {
    cleanup_emus
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    exit 0
}
