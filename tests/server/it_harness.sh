# shellcheck shell=bash
# Shared harness of the integration scripts that run an emulator under
# xensim (integration.sh, uart/uart_it.sh, pcitest/pcitest_it.sh,
# debugcon/debugcon_it.sh).  Sourced, not run.
#
# Outside the simulator a script checks its arguments (it_usage), exports
# CASE, X (xensim) and its own variables, then calls it_outer, which reruns
# the script as `"$X" run -- bash SCRIPT --inside` in a fresh $T.  Inside,
# it_inside sets up the failure counter and the pids killed at exit; the
# helpers below then use $T, $X, $failures and $pids.
# shellcheck disable=SC2034,SC2154 # failures and pids are the scripts'; the trap's loop sets p

# it_usage ARGS-TEXT: print the usage line and exit 2
it_usage() {
    echo "usage: $0 $1" >&2
    exit 2
}

# it_outer TMPNAME LABEL [skip77]: run "$0 --inside" in a private simulator
# in a new $T, print its output and "LABEL integration case '$CASE': ok" or
# FAILED (with the *.log files); with skip77, exit status 77 means skipped.
# Exits.
it_outer() {
    local tmpname=$1 label=$2 skip77=${3:-} rc f
    T=$(mktemp -d "${TMPDIR:-/tmp}/$tmpname.XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
    export T
    "$X" run -- bash "$0" --inside >"$T/session.out" 2>&1
    rc=$?
    cat "$T/session.out"
    [ -n "$skip77" ] && [ $rc -eq 77 ] && exit 77 # skipped
    if [ $rc -ne 0 ]; then
        for f in "$T"/*.log; do
            [ -e "$f" ] && { echo "---- $(basename "$f")"; cat "$f"; }
        done
        echo "$label integration case '$CASE': FAILED ($rc)"
        exit 1
    fi
    echo "$label integration case '$CASE': ok"
    exit 0
}

# it_inside: inside the simulator; no failures yet, no processes to kill
it_inside() {
    failures=0
    pids=()
    trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
}

# it_done: run case_$CASE; the exit status says whether every check held
it_done() {
    "case_$CASE"
    [ "$failures" -eq 0 ]
}

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# domain NAME TYPE [VCPUS]: create a domain (1 vCPU by default); prints the domid
domain() {
    "$X" domain create --name "$1" --type "$2" --vcpus "${3:-1}" --memory 64M
}

# wait_file PATH [-e]: until PATH is non-empty (-e: exists), up to 10 s
wait_file() {
    for _ in $(seq 200); do
        if [ "${2:-}" = -e ]; then
            [ -e "$1" ] && return 0
        else
            [ -s "$1" ] && return 0
        fi
        sleep 0.05
    done
    return 1
}

# start_server PIDVAR NAME STDIN STDOUT PROGRAM ARGS...: start
# `PROGRAM ARGS... --ready-file $T/NAME.ready` in the background (stderr
# appended to NAME.log; STDOUT "-" leaves stdout alone), set PIDVAR to its
# pid and wait until it serves
start_server() {
    local pidvar=$1 name=$2 in=$3 out=$4
    shift 4
    rm -f "$T/$name.ready"
    if [ "$out" = - ]; then
        "$@" --ready-file "$T/$name.ready" <"$in" 2>>"$T/$name.log" &
    else
        "$@" --ready-file "$T/$name.ready" <"$in" >"$out" 2>>"$T/$name.log" &
    fi
    printf -v "$pidvar" %s "$!"
    pids+=("$!")
    wait_file "$T/$name.ready" || { fail "$name did not come up"; return 1; }
}

# stop_server PID NAME: SIGTERM, expect a clean exit
stop_server() {
    kill -TERM "$1"
    wait "$1"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "$2 exited with $rc after SIGTERM"
}

# wait_request DOMID SERVER VCPU: until VCPU's request waits in SERVER's
# slot (READY, not yet taken: the emulator is stopped), up to 10 s and more;
# needs $POKE (poke_server).  A fixed sleep is not enough under ASan on a
# loaded machine: the guest run may not have posted its request yet.
wait_request() {
    local rc
    for _ in $(seq 200); do
        "$POKE" "$1" "$2" slot "$3" 2>"$T/poke.err"
        rc=$?
        [ $rc = 0 ] && return 0
        [ $rc = 3 ] || { fail "poke_server $*: exit $rc: $(cat "$T/poke.err")"; return 1; }
        sleep 0.05
    done
    return 1
}

# script NAME < text: write $T/NAME.gio
script() {
    cat >"$T/$1.gio"
}

# guest DOMID NAME...: run scripts $T/NAME.gio (one per vCPU), expect success
guest() {
    local dom=$1 n
    shift
    local files=()
    for n in "$@"; do files+=("$T/$n.gio"); done
    if ! "$X" guest run "$dom" "${files[@]}" >"$T/guest.out" 2>&1; then
        fail "guest run $*: $(cat "$T/guest.out")"
    fi
}

# expect_file PATH EXPECTED-BYTES (printf format)
expect_file() {
    local want got
    # shellcheck disable=SC2059 # the expected bytes are a format
    want=$(printf "$2" | od -An -c)
    got=$(od -An -c <"$1")
    [ "$got" = "$want" ] || fail "$(basename "$1"): got [$got], want [$want]"
}
