# Helpers for the real-Xen scenarios with ioreq-routerd (tests/xen/router/):
# sourced by a scenario after lib.sh (`. ./lib_router.sh`).  Every wait is
# bounded; checks log ok/MISMATCH and count in lib.sh's CHECK_FAILURES.
#
# The router runs as the background process "router" (its log:
# $LOGS/router.log) with --log-dir $LOGS, so each emulator's output is
# $LOGS/GUEST.EMULATOR.log and lands in the host's log directory, and its
# control socket in $RUN.  Under QEMU's software CPU every process costs
# ~0.2 s: the helpers read files with shell builtins, and take xenstore's
# state with one xenstore-ls.
# shellcheck shell=bash
# shellcheck disable=SC2034 # ROUTER_PIDS: for the scenarios

ROUTER_XS=/tool/ioreq-router
ROUTER_SOCK=$RUN/router.sock
ROUTER_LOG=$LOGS/router.log

# router_start CONFIG [ARGS...]: start ioreq-routerd -v with CONFIG (bare
# exec names found in $BIN) and wait until its control socket answers.
router_start() {
    local config=$1
    shift
    ioreq-routerd --check "$config" --exec-path "$BIN" >&2 || fail "$config does not validate"
    bg_start router ioreq-routerd -v --config "$config" --exec-path "$BIN" \
        --log-dir "$LOGS" --control-socket "$ROUTER_SOCK" "$@"
    local deadline=$((SECONDS + 30))
    until rctl list >/dev/null 2>&1; do
        bg_alive router || fail "the router exited: $(tail -n 5 "$ROUTER_LOG")"
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after 30 s waiting for the router's control socket"
        bsleep 0.1
    done
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
    local name=$1 re=$2 guest=$3 domid=$4 emu=$5 delay=$6
    until router_log_has "$re"; do bsleep 0.02; done
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
# lines).  state_value DOMID KEY prints one of them.
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
state_value() { [ -n "${ROUTER_STATE[$2]+set}" ] && echo "${ROUTER_STATE[$2]}"; }

# router_state_print DOMID: the last router_state DOMID, on stderr
router_state_print() { sed 's/^/  state: /' "$RUN/state-$1" >&2; }

# router_wait_state DOMID EMULATOR STATE [SECONDS]
router_wait_state() {
    wait_until "${4:-30}" "$2 of domain $1 to be $3" state_is "$1" "$2" "$3"
    log "$2 of domain $1 is $3"
}
state_is() { [ "$(xenstore-read "$ROUTER_XS/state/$1/$2/state" 2>/dev/null)" = "$3" ]; }

# router_wait_released DOMID [SECONDS]: until the router removed state/DOMID
router_wait_released() {
    wait_until "${2:-30}" "the router to remove state/$1" state_gone "$1"
    log "state/$1 removed"
}
state_gone() { ! xenstore-exists "$ROUTER_XS/state/$1" 2>/dev/null; }

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
