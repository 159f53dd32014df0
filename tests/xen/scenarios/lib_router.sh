# Helpers for the real-Xen scenarios with ioreq-routerd (tests/xen/router/,
# and the HVM scenarios through lib_hvm.sh): sourced by a scenario after
# lib.sh (`. ./lib_router.sh`).  Every wait is bounded; checks log
# ok/MISMATCH and count in lib.sh's CHECK_FAILURES.
#
# The router runs as the background process "router" (its log:
# $LOGS/router.log) with --log-dir $LOGS, so each emulator's output is
# $LOGS/GUEST.EMULATOR.log and lands in the host's log directory, and its
# control socket in $RUN.  Under QEMU's software CPU every process costs
# ~0.2 s: the helpers read files with shell builtins, and take xenstore's
# state with one xenstore-ls.
# shellcheck shell=bash
# shellcheck disable=SC2034 # STOPPED_PID: for the scenarios

ROUTER_XS=/tool/ioreq-router
ROUTER_SOCK=$RUN/router.sock
ROUTER_LOG=$LOGS/router.log

# router_start CONFIG [ARGS...]: start ioreq-routerd -v with CONFIG (bare
# exec names found in $BIN), wait until it logs "running: " (its control
# socket listens by then; builtins only) and check that the socket answers.
router_start() {
    local config=$1
    shift
    ioreq-routerd --check "$config" --exec-path "$BIN" >&2 || fail "$config does not validate"
    bg_start router ioreq-routerd -v --config "$config" --exec-path "$BIN" \
        --log-dir "$LOGS" --control-socket "$ROUTER_SOCK" "$@"
    local deadline=$((SECONDS + 30))
    until router_log_has '^ioreq-routerd: running: '; do
        bg_alive router || fail "the router exited: $(tail -n 5 "$ROUTER_LOG")"
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after 30 s waiting for the router to run"
        bsleep 0.1
    done
    wait_until 10 "the router's control socket" rctl list
    log "router up (control socket $ROUTER_SOCK)"
}

# rctl ARGS...: ioreqctl against this router
rctl() { ioreqctl --socket "$ROUTER_SOCK" "$@"; }

# router_log_has REGEX: the router's log has a matching line (no process)
router_log_has() { file_has "$ROUTER_LOG" "$1"; }

# file_has FILE REGEX: a line of FILE matches the (bash) REGEX; builtins only
file_has() {
    local line
    [ -f "$1" ] || return 1
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ $2 ]] && return 0
    done <"$1"
    return 1
}

# file_matches FILE REGEX: the whole of FILE, read at once, matches the
# (bash) REGEX: anchors are not line anchors.  Builtins only, and cheaper
# than file_has on a long file (a guest's console).
file_matches() {
    local content=''
    [ -r "$1" ] || return 1
    IFS= read -r -d '' content <"$1"
    [[ $content =~ $2 ]]
}

# router_wait_log REGEX [SECONDS]: until the router logged a matching line
# (builtins only: reacts within 0.05 s)
router_wait_log() {
    local limit=${2:-30} deadline=$((SECONDS + ${2:-30}))
    until router_log_has "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for the router to log /$1/"
        bsleep 0.05
    done
    log "router logged /$1/"
}

# wait_file_match FILE REGEX [SECONDS]: until FILE matches REGEX (as
# file_matches: the whole file; polled every 0.5 s, no process); SECONDS
# defaults to 60.
wait_file_match() {
    local limit=${3:-60} deadline=$((SECONDS + ${3:-60}))
    until file_matches "$1" "$2"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for ${1##*/} to match /$2/"
        bsleep 0.5
    done
    log "${1##*/} matches /$2/"
}

# router_log_pid GUEST DOMID EMULATOR: sets LOG_PID to the pid of the last
# process the router started for EMULATOR ("... started EXEC: pid N, ..."),
# or empty; builtins only
router_log_pid() {
    local line re="^ioreq-routerd: $1\\($2\\)/$3: started [^:]+: pid ([0-9]+),"
    LOG_PID=''
    while IFS= read -r line; do
        [[ $line =~ $re ]] && LOG_PID=${BASH_REMATCH[1]}
    done <"$ROUTER_LOG"
}

# stop_when_logged NAME REGEX GUEST DOMID EMULATOR [DELAY]: in the
# background (a subshell, shell builtins only, so that it reacts within
# 0.02 s whatever dom0 is busy with, `xl create` included): once the router
# logged a line matching REGEX, waits DELAY seconds (default 0), then stops
# EMULATOR's process (SIGSTOP; its pid from the router's log) and writes
# that pid to $RUN/NAME.stopped.  wait_stopped NAME [SECONDS] waits for that
# and sets STOPPED_PID.  The process stays stopped until the scenario sends
# SIGCONT (or SIGKILL).
stop_when_logged() {
    local name=$1 re=$2 guest=$3 domid=$4 emu=$5 delay=${6:-0}
    rm -f "$RUN/$name.stopped"
    bg_start "$name" stop_when_logged_run "$name" "$re" "$guest" "$domid" "$emu" "$delay"
}
stop_when_logged_run() {
    local name=$1 re=$2 guest=$3 domid=$4 emu=$5 delay=$6 deadline=$((SECONDS + 300))
    until router_log_has "$re"; do
        [ "$SECONDS" -lt "$deadline" ] || { log "$name: the router did not log /$re/ in 300 s"; exit 1; }
        bsleep 0.02
    done
    [ "$delay" = 0 ] || bsleep "$delay"
    router_log_pid "$guest" "$domid" "$emu"
    [ -n "$LOG_PID" ] || { log "$name: no pid for $emu in the router's log"; exit 1; }
    kill -STOP "$LOG_PID" || { log "$name: SIGSTOP $LOG_PID failed"; exit 1; }
    log "$name: $emu (pid $LOG_PID) stopped"
    echo "$LOG_PID" >"$RUN/$name.stopped"
}
wait_stopped() {
    local name=$1 limit=${2:-60} deadline=$((SECONDS + ${2:-60}))
    until [ -s "$RUN/$name.stopped" ]; do
        bg_alive "$name" || fail "$name ended without stopping anything: $(cat "$LOGS/$name.log")"
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for $name"
        bsleep 0.05
    done
    read -r STOPPED_PID <"$RUN/$name.stopped"
    log "$(cat "$LOGS/$name.log")"
}

# router_state DOMID: takes the router's xenstore state of DOMID with one
# xenstore-ls into ROUTER_STATE (an associative array: [name]=demo,
# [uart0/state]=running, [uart0/pid]=..., one entry per node below
# state/DOMID; empty when there is none) and $RUN/state-DOMID (KEY=VALUE
# lines).
declare -A ROUTER_STATE=()
router_state() {
    local domid=$1 out=$RUN/state-$1 line
    xenstore-ls -f "$ROUTER_XS/state/$domid" 2>/dev/null |
        sed -n "s|^$ROUTER_XS/state/$domid/\([^ ]*\) = \"\(.*\)\"\$|\1=\2|p" >"$out"
    ROUTER_STATE=()
    while IFS= read -r line; do
        ROUTER_STATE[${line%%=*}]=${line#*=}
    done <"$out"
}

# router_state_print DOMID: the last router_state DOMID, on stderr
router_state_print() { sed 's/^/  state: /' "$RUN/state-$1" >&2; }

# router_wait_running DOMID EMULATOR...: until each EMULATOR of domain DOMID
# is running in xenstore (its server enabled, its process ready), up to 30 s
# each; fails at once, with the router's error, if one has failed.
router_wait_running() {
    local domid=$1 emu
    shift
    for emu in "$@"; do
        wait_until 30 "$emu of domain $domid to be running" emu_settled "$domid" "$emu"
        [ "$EMU_STATE" = running ] ||
            fail "$emu of domain $domid failed: $(xenstore-read "$ROUTER_XS/state/$domid/$emu/error" 2>/dev/null)"
    done
    log "domain $domid: running: $*"
}
# emu_settled DOMID EMULATOR: its state (into EMU_STATE) is running or failed
# (called by wait_until, whose output goes nowhere: it must not fail itself)
emu_settled() {
    EMU_STATE=$(xenstore-read "$ROUTER_XS/state/$1/$2/state" 2>/dev/null)
    [ "$EMU_STATE" = running ] || [ "$EMU_STATE" = failed ]
}

# router_wait_released DOMID [SECONDS]: until the router removed state/DOMID
router_wait_released() {
    wait_until "${2:-30}" "the router to remove state/$1" state_gone "$1"
    log "state/$1 removed"
}
# (xenstore-exists fails alike for a missing path and a failed call: the
# store answering for / tells the two apart)
state_gone() { ! xenstore-exists "$ROUTER_XS/state/$1" 2>/dev/null && xenstore-exists / 2>/dev/null; }

# ---- checks ----

# expect_eq WHAT GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then
        log "ok       $1 = $2"
    else
        log "MISMATCH $1 = ${2:-<none>}, expected $3"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# expect_match WHAT GOT REGEX (bash regex)
expect_match() {
    if [[ $2 =~ $3 ]]; then
        log "ok       $1 = $2"
    else
        log "MISMATCH $1 = ${2:-<none>}, expected /$3/"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# expect_state DOMID KEY VALUE-REGEX: in the last router_state DOMID
expect_state() {
    expect_match "state/$1/$2" "${ROUTER_STATE[$2]:-}" "^($3)\$"
}

# expect_log FILE REGEX: FILE has a line matching the bash REGEX
expect_log() {
    if file_has "$1" "$2"; then
        log "ok       ${1##*/} has /$2/"
    else
        log "MISMATCH ${1##*/} has no line /$2/"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# expect_no_log FILE REGEX
expect_no_log() {
    if file_has "$1" "$2"; then
        log "MISMATCH ${1##*/} has a line /$2/"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    else
        log "ok       ${1##*/} has no line /$2/"
    fi
}

# expect_dead PID WHAT: no such process (an emulator the router stopped)
expect_dead() {
    if [ -n "$1" ] && ! kill -0 "$1" 2>/dev/null; then
        log "ok       $2 (pid $1) is gone"
    else
        log "MISMATCH $2 (pid ${1:-<none>}) is still running"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# pid_gone PID: for wait_until
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---- the guest's trace (tests/xen/guest: "L<line> ... = result", "END pass") ----

# guest_note_domid DOMID: $LOGS/guest-domid, which the host's differential
# check (tests/xen/router/run_diff.sh) reads to find the guest's lines on
# Xen's console
guest_note_domid() { echo "$1" >"$LOGS/guest-domid"; }

# guest_wait_end DOMID [SECONDS]: until the guest's trace has its END line;
# keeps the guest's output in $LOGS/guest-DOMID.trace (from xl dmesg: Xen's
# ring may have lost the start of a long trace; the host reads the serial
# console instead)
guest_wait_end() {
    guest_wait_line "$1" '^END ' "${2:-60}"
    cp "$RUN/d$1.out" "$LOGS/guest-$1.trace"
}

# expect_trace_pass DOMID: the trace ended "END pass"; else the failed lines
expect_trace_pass() {
    local end
    end=$(grep -E '^END ' "$RUN/d$1.out" | tail -n 1)
    if [ "$end" = "END pass" ]; then
        log "ok       d$1's trace: $end ($(grep -cE '^L[0-9]' "$RUN/d$1.out") lines)"
    else
        log "MISMATCH d$1's trace: ${end:-<no END>}, expected END pass; failed lines:"
        grep -E '\(expected ' "$RUN/d$1.out" | head -n 20 | sed 's/^/    /' >&2
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}
