#!/usr/bin/env bash
# A real-Xen router scenario with its differential check: the same guest
# script, the same router config and the same emulators, once under xensim
# on the host and once on Debian's Xen 4.17 inside QEMU (tests/xen/run.sh);
# the two traces must be equal (tests/xen/guest/trace_diff.sh: every line
# the same, lines marked "# timing" compared without their result).
#
#   run_diff.sh --bin-dir DIR --script FILE.gio --config FILE.json
#               --log-dir DIR [--guest NAME] [--type pvh|hvm] [--memory SIZE]
#               [--sim-kill EMULATOR] -- RUN.SH-ARGS...
#
#   --bin-dir DIR     the build's bin/: xensim, ioreq-routerd, ioreqctl and
#                     the emulators
#   --script FILE     the guest script (the one built into the guest image)
#   --config FILE     the router config the scenario uses in dom0
#   --log-dir DIR     run.sh's log directory; the xensim side (run beside
#                     run.sh, in a directory of its own) copies its files
#                     there after run.sh, which empties it: sim.trace,
#                     sim-router.log, sim-GUEST.EMULATOR.log, sim.txt;
#                     xen.trace (the guest's lines from Xen's console) and
#                     trace-diff.txt
#   --guest NAME      the guest's name in the config (default demo)
#   --type T          pvh (default) or hvm; --memory SIZE (default 32M,
#                     as the scenario's xl config)
#   --sim-kill EMU    in xensim too, stop EMU (SIGSTOP) once the script
#                     runs, then kill -9 it, as the scenario does on Xen
#   RUN.SH-ARGS       tests/xen/run.sh and its arguments, without --log-dir
#
# The scenario writes the guest's domid to $LOGS/guest-domid; the Xen trace
# is taken from the serial console (console-main.log: Xen's ring may have
# dropped the start of a long trace).
#
# Exit: 0 the scenario passed on Xen, the xensim side passed and the traces
# match; 77 run.sh skipped (no Xen here); 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trace_diff=$here/../guest/trace_diff.sh

usage() { sed -n '8,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---- the xensim side, run inside `xensim run` (a private simulator) ----
# --sim-inside T BIN SCRIPT CONFIG GUEST TYPE MEMORY KILL: writes T/sim.trace
# (the guest's trace), T/router.log, T/logs/ (the emulators' logs) and
# prints what it did; exit 0 when everything held.
sim_inside() {
    local T=$1 BIN=$2 script=$3 config=$4 guest=$5 type=$6 memory=$7 kill=$8
    local sock=$T/control root=/tool/ioreq-router failures=0
    say() { echo "sim: $*"; }
    bad() { echo "sim: FAIL: $*"; failures=$((failures + 1)); }
    st() { xenstore-read "$root/state/$1/$2/$3" 2>/dev/null; }
    # until ... [S]: polls a command, 20 per second, up to S (10) seconds
    until_ok() {
        local n=$(( ${UNTIL_S:-10} * 20 ))
        while ! "$@" >/dev/null 2>&1; do
            n=$((n - 1))
            [ $n -gt 0 ] || return 1
            sleep 0.05
        done
    }
    # shellcheck disable=SC2317 # called through until_ok
    # (a missing path, not a failed call: the store answers for /)
    state_gone() { ! xenstore-exists "$root/state/$1" && xenstore-exists /; }

    mkdir -p "$T/logs"
    "$BIN/ioreq-routerd" -v --config "$config" --exec-path "$BIN" --log-dir "$T/logs" \
        --control-socket "$sock" 2>"$T/router.log" &
    local router=$!
    trap 'kill -KILL $router 2>/dev/null' EXIT
    until_ok "$BIN/ioreqctl" --socket "$sock" list || { bad "the router did not come up"; return 1; }

    local domid
    domid=$("$BIN/xensim" domain create --name "$guest" --type "$type" --vcpus 1 \
            --memory "$memory" --paused) || { bad "xensim domain create"; return 1; }
    say "domain $domid ($guest, $type, $memory) created paused"
    # Held by the router (a pause of its own) once picked up; then the
    # toolstack's unpause, as on Xen.  The run waits until both are gone.
    UNTIL_S=20 until_ok grep -q ', held paused$' "$T/router.log" || bad "not held by the router"
    "$BIN/xensim" domain unpause "$domid" || bad "xensim domain unpause"
    "$BIN/xensim" guest run --trace "$domid" "$script" >"$T/sim.trace" 2>"$T/guest.err" &
    local g=$!
    if [ -n "$kill" ]; then
        # (xensim prints the trace when the run ends: go by the router's log)
        UNTIL_S=20 until_ok grep -q ': hold released$' "$T/router.log" || bad "no hold release"
        local pid
        pid=$(st "$domid" "$kill" pid)
        sleep 1
        say "SIGSTOP, then SIGKILL, to $kill (pid $pid) while the script runs"
        kill -STOP "$pid"
        sleep 0.5
        kill -KILL "$pid"
    fi
    wait "$g"
    say "guest run: exit status $? ($(tail -n1 "$T/sim.trace"))"
    [ -s "$T/guest.err" ] && sed 's/^/sim: guest run: /' "$T/guest.err"
    grep -qx 'v0 END pass' "$T/sim.trace" || bad "the script did not pass under xensim"
    if [ -n "$kill" ]; then
        [ "$(st "$domid" "$kill" restarts)" = 1 ] || bad "$kill restarts [$(st "$domid" "$kill" restarts)]"
        [ "$(st "$domid" "$kill" exit-status)" = "killed by SIGKILL" ] ||
            bad "$kill exit-status [$(st "$domid" "$kill" exit-status)]"
    fi
    "$BIN/ioreqctl" --socket "$sock" list >"$T/list.txt" 2>&1 || bad "ioreqctl list"
    "$BIN/xensim" domain destroy "$domid" || bad "xensim domain destroy"
    until_ok state_gone "$domid" || bad "state/$domid not removed"
    kill -TERM "$router"
    local rc
    wait "$router"
    rc=$?
    trap - EXIT
    [ $rc -eq 0 ] || bad "the router exited with $rc after SIGTERM"
    say "router stopped (exit status $rc); $failures failure(s)"
    [ $failures -eq 0 ]
}

if [ "${1:-}" = --sim-inside ]; then
    shift
    sim_inside "$@"
    exit
fi

# ---- outside: the whole check ----
bin='' script='' config='' logdir='' guest=demo type=pvh memory=32M kill=''
while [ $# -gt 0 ]; do
    case $1 in
    --bin-dir) bin=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --log-dir) logdir=$2; shift 2 ;;
    --guest) guest=$2; shift 2 ;;
    --type) type=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --sim-kill) kill=$2; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
    esac
done
{ [ -n "$bin" ] && [ -n "$script" ] && [ -n "$config" ] && [ -n "$logdir" ] && [ $# -ge 1 ]; } || usage
for f in "$bin/xensim" "$bin/ioreq-routerd" "$script" "$config"; do
    [ -e "$f" ] || { echo "run_diff: no $f" >&2; exit 2; }
done
name=$(basename "${@: -1}" .sh)
say() { echo "xen-diff[$name]: $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ioreq-xen-diff.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failed=()

# 1. xensim (seconds), in the background while 2. boots Xen: the xensim
#    side mostly waits (the script's sleeps, the router's restart delay), and
#    Xen's boot is the long part.
say "xensim: $(basename "$script") under ioreq-routerd with $(basename "$config"), beside the Xen run"
(
    t0=$SECONDS
    "$bin/xensim" run -- bash "${BASH_SOURCE[0]}" --sim-inside "$T" "$bin" "$script" "$config" \
        "$guest" "$type" "$memory" "$kill" >"$T/sim.txt" 2>&1
    rc=$?
    echo $((SECONDS - t0)) >"$T/sim.seconds"
    exit $rc
) &
sim_job=$!

# 2. real Xen (a minute or more)
bash "$@" --log-dir "$logdir"
xen_rc=$?
wait "$sim_job"
sim_rc=$?
sed 's/^/  /' "$T/sim.txt"
say "xensim side: exit status $sim_rc ($(cat "$T/sim.seconds" 2>/dev/null || echo '?') s)"
[ $sim_rc -eq 0 ] || failed+=("the xensim side failed (sim.txt)")
if [ $xen_rc -eq 77 ]; then
    say "SKIP: run.sh skipped (no Xen here); no differential check"
    exit 77
fi
[ $xen_rc -eq 0 ] || failed+=("the scenario failed on Xen (run.sh exit status $xen_rc)")

# 3. the two traces
mkdir -p "$logdir"
cp "$T/sim.txt" "$logdir/sim.txt"
[ -f "$T/sim.trace" ] && cp "$T/sim.trace" "$logdir/sim.trace"
[ -f "$T/router.log" ] && cp "$T/router.log" "$logdir/sim-router.log"
[ -f "$T/list.txt" ] && cp "$T/list.txt" "$logdir/sim-ioreqctl-list.txt"
for f in "$T"/logs/*; do
    [ -f "$f" ] && cp "$f" "$logdir/sim-${f##*/}"
done
domid=''
[ -f "$logdir/guest-domid" ] && read -r domid <"$logdir/guest-domid"
if [ -z "$domid" ]; then
    failed+=("no guest-domid from the scenario: no Xen trace to compare")
elif [ ! -s "$T/sim.trace" ]; then
    failed+=("no trace from xensim")
elif [ ! -s "$logdir/console-main.log" ]; then
    failed+=("no console log from the Xen run")
else
    sed -n "s/\r\$//; s/^.*(d$domid) \(\[[^]]*\] \)\{0,1\}//p" "$logdir/console-main.log" |
        grep -E '^(L[0-9]+~? |END )' >"$logdir/xen.trace"
    say "differential check: xensim's trace against Xen's (domain $domid)"
    if bash "$trace_diff" --domid "$domid" "$logdir/sim.trace" "$logdir/console-main.log" \
        >"$logdir/trace-diff.txt" 2>&1; then
        sed 's/^/  /' "$logdir/trace-diff.txt"
    else
        sed 's/^/  /' "$logdir/trace-diff.txt"
        failed+=("the traces differ between xensim and Xen (trace-diff.txt)")
    fi
fi

if [ ${#failed[@]} -eq 0 ]; then
    say "PASS (Xen scenario, xensim side, traces equal)"
    exit 0
fi
for f in "${failed[@]}"; do say "FAIL: $f"; done
say "logs: $logdir"
exit 1
