# Helpers for the real-Xen scenarios: sourced by dom0's /init (bash) before
# the scenario script, in /opt/ioreq/scenarios.  Every wait is bounded.
#
# Paths: $BIN (the project's programs, on PATH too), $GUESTS (guest images),
# $FILES (--file extras), $LOGS (each file there is printed on the console
# at the end and lands in the host's log directory), $RUN (scratch).
#
# A scenario exits 0 to pass; `fail MSG` ends it failing.  On exit, all
# background processes started with bg_start are stopped and all guests
# created with guest_create are destroyed.
#
# Under QEMU's software CPU every process dom0 starts costs about 0.2 s
# (and an xl command about 1 s): the helpers use shell builtins where they
# can, and limits are in seconds of wall-clock time, not in tries.
# shellcheck disable=SC2034 # GUESTS, FILES, GUEST_DOMID: for the scenarios
set -u

BIN=$IOREQ_ROOT/bin
GUESTS=$IOREQ_ROOT/guests
FILES=$IOREQ_ROOT/files
LOGS=$IOREQ_LOGS
RUN=/run/ioreq
mkdir -p "$RUN"

log() {
    local up _
    read -r up _ </proc/uptime
    echo "[$up] $*" >&2
}
fail() { log "FAIL: $*"; exit 1; }

# ---- bounded waits ----

# wait_until SECONDS WHAT COMMAND...: polls COMMAND (in this shell, every
# 0.1 s; its output discarded) until it succeeds; fails the scenario with
# "timed out after SECONDS s waiting for WHAT".  wait_until_every INTERVAL
# SECONDS WHAT COMMAND...: the same, every INTERVAL seconds.
# bsleep SECONDS: sleep without starting a process (read -t on a FIFO
# nobody writes).  Under QEMU's software CPU a dom0 process started while an
# HVM guest runs now and then crashes in the dynamic loader, and every
# process costs ~0.2 s, so the waits here start none of their own.
# The FIFO is opened here, once, so that background subshells share it.
mkfifo "$RUN/bsleep.fifo" 2>/dev/null
exec {BSLEEP_FD}<>"$RUN/bsleep.fifo"
bsleep() { read -r -t "$1" -u "$BSLEEP_FD" _ || :; }

wait_until() { wait_until_every 0.1 "$@"; }
wait_until_every() {
    local every=$1 limit=$2 what=$3 deadline=$((SECONDS + $2))
    shift 3
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for $what"
        bsleep "$every"
    done
}

# ---- background processes (emulators, the router) ----

declare -A BG_PID=()

# bg_start NAME COMMAND...: runs COMMAND in the background, its stdout and
# stderr in $LOGS/NAME.log.
bg_start() {
    local name=$1
    shift
    log "start $name: $*"
    "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    BG_PID[$name]=$!
}

bg_alive() { kill -0 "${BG_PID[$1]}" 2>/dev/null; }

# ready_file NAME: the path to hand to NAME's --ready-file.
ready_file() { echo "$RUN/$1.ready"; }

# bg_wait_ready NAME [SECONDS]: until NAME has written its ready file;
# fails at once if NAME exits first.
bg_wait_ready() {
    local name=$1 limit=${2:-30} deadline=$((SECONDS + ${2:-30})) file=$RUN/$1.ready content
    until [ -s "$file" ]; do
        bg_alive "$name" || { wait "${BG_PID[$name]}"; fail "$name exited (status $?) before it was ready"; }
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for $name to be ready"
        bsleep 0.1
    done
    read -r content <"$file"
    log "$name ready ($content)"
}

# bg_stop NAME [SIGNAL]: SIGTERM (or SIGNAL), up to 10 s, then SIGKILL;
# returns NAME's exit status.
bg_stop() {
    local name=$1 sig=${2:-TERM} pid=${BG_PID[$1]:-} deadline=$((SECONDS + 10))
    [ -n "$pid" ] || return 0
    kill "-$sig" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        bsleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not exit in 10 s after SIG$sig: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"
    local rc=$?
    unset "BG_PID[$name]"
    log "$name exited (status $rc)"
    return "$rc"
}

# ---- guests ----

declare -A GUEST_CFG=() GUEST_DOMID=()

# guest_create NAME KERNEL [KEY=VALUE]...: creates a guest paused (xl create
# -p) from a generated config (in $LOGS/NAME.cfg), PVH by default, and sets
# GUEST_DOMID[NAME] (not in a $(...) subshell: it records the guest for the
# cleanup).  KEY=VALUE lines replace the defaults with the same key; values
# are xl syntax (strings quoted).
guest_create() {
    local name=$1 kernel=$2 cfg="$LOGS/$1.cfg" kv key
    shift 2
    declare -A conf=(
        [name]="\"$name\"" [type]='"pvh"' [kernel]="\"$kernel\"" [memory]=32 [vcpus]=1
        [cpuid]='"host,pku=0"' [tsc_mode]='"native"' [on_crash]='"preserve"'
    )
    for kv in "$@"; do
        key=${kv%%=*}
        conf[$key]=${kv#*=}
    done
    : >"$cfg"
    for key in "${!conf[@]}"; do
        echo "$key = ${conf[$key]}" >>"$cfg"
    done
    GUEST_CFG[$name]=$cfg
    log "xl create -p $cfg"
    timeout 120 xl create -p "$cfg" >"$LOGS/xl-create-$name.log" 2>&1 ||
        { sed 's/^/  /' "$LOGS/xl-create-$name.log" >&2; fail "xl create $name failed"; }
    local domid
    domid=$(xl domid "$name") || fail "no domid for $name"
    GUEST_DOMID[$name]=$domid
    log "guest $name is domain $domid (paused)"
}

guest_unpause() { # DOMID
    log "xl unpause $1"
    timeout 30 xl unpause "$1" || fail "xl unpause $1 failed"
}

# guest_state DOMID: the domain's state as `xl list` shows it (r, b, p, s,
# c, d: running, blocked, paused, shut down, crashed, dying), "gone", or
# "unknown" when xl list failed (neither down nor gone: a crashed xl must
# not pass for a domain that went away).
# A destroyed domain stays listed, dying, as long as a dom0 process still
# maps its memory (an emulator's ioreq pages).
guest_state() {
    local list name id mem vcpus state
    list=$(xl list 2>/dev/null) || { echo unknown; return; }
    while read -r name id mem vcpus state _; do
        [ "$id" = "$1" ] && { echo "$state"; return; }
    done <<<"$list"
    echo gone
}
guest_gone() { [ "$(guest_state "$1")" = gone ]; }
guest_down() { # shut down, crashed, dying or gone
    case $(guest_state "$1") in *[scd]* | gone) return 0 ;; esac
    return 1
}

# guest_wait_down DOMID [SECONDS]: until the domain has shut down (or crashed,
# or is dying or gone).  Both poll every 0.2 s: one xl list each time, the
# only process a poll starts (it takes about that long under TCG).
guest_wait_down() {
    wait_until_every 0.2 "${2:-30}" "domain $1 to shut down" guest_down "$1"
    log "domain $1 is down ($(guest_state "$1"))"
}

# guest_wait_gone DOMID [SECONDS]: until the domain no longer exists (stop
# its emulators first).
guest_wait_gone() {
    wait_until_every 0.2 "${2:-30}" "domain $1 to go away" guest_gone "$1"
    log "domain $1 is gone"
}

# guest_output DOMID: what the guest printed on Xen's debug port 0xE9
# ("(dN) ..." lines of xl dmesg), without the prefix (nor the timestamp
# Xen adds with console_timestamps).  Also kept in
# $RUN/dN.out, which the expect_guest_* checks read (one xl dmesg, not one
# per check: each costs about a second under QEMU's software CPU).
guest_output() {
    guest_snapshot "$1"
    cat "$RUN/d$1.out"
}
guest_snapshot() { # DOMID: only $RUN/dDOMID.out
    xl dmesg 2>/dev/null |
        sed -n "s/\r\$//; s/^.*(d$1) \(\[[ 0-9.]*\] \)\{0,1\}//p" >"$RUN/d$1.out"
}

# guest_wait_line DOMID REGEX [SECONDS]: until the guest printed a matching line.
guest_wait_line() {
    local domid=$1 re=$2 limit=${3:-60}
    wait_until "$limit" "d$domid to print /$re/" guest_printed "$domid" "$re"
    log "d$domid printed /$re/"
}
guest_printed() { # DOMID REGEX
    guest_snapshot "$1" && grep -qE -- "$2" "$RUN/d$1.out"
}

# ---- checks: each logs ok/MISMATCH; checks_done fails if any mismatched ----

CHECK_FAILURES=0

# expect_guest_value DOMID NAME EXPECTED: the guest's last line "NAME=VALUE"
# has VALUE equal to EXPECTED (hex compared case-insensitively).  It reads
# the output as the last guest_output or guest_wait_line saw it.
expect_guest_value() {
    local domid=$1 name=$2 want=$3 got='' line
    [ -f "$RUN/d$domid.out" ] || guest_snapshot "$domid"
    while IFS= read -r line; do
        [ "${line%%=*}" = "$name" ] && got=${line#*=}
    done <"$RUN/d$domid.out"
    if [ "${got,,}" = "${want,,}" ]; then
        log "ok       $name = $got"
    else
        log "MISMATCH $name = ${got:-<none>}, expected $want"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# expect_file_line FILE REGEX: FILE has a line matching REGEX.
expect_file_line() {
    if grep -qE -- "$2" "$1" 2>/dev/null; then
        log "ok       ${1##*/} has /$2/"
    else
        log "MISMATCH ${1##*/} has no line /$2/"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

# expect_stop NAME [STATUS]: bg_stop NAME (SIGTERM), which must exit with
# STATUS (default 0; a sanitizer report makes it non-zero).
expect_stop() {
    local name=$1 want=${2:-0} rc=0
    bg_stop "$name" || rc=$?
    if [ "$rc" -eq "$want" ]; then
        log "ok       $name exit status $rc"
    else
        log "MISMATCH $name exit status $rc, expected $want (its log: $name.log)"
        CHECK_FAILURES=$((CHECK_FAILURES + 1))
    fi
}

checks_done() {
    [ "$CHECK_FAILURES" -eq 0 ] || fail "$CHECK_FAILURES check(s) failed"
    log "all checks passed"
}

# ---- cleanup on exit ----

scenario_cleanup() {
    local rc=$? name domid
    trap - EXIT
    for name in "${!BG_PID[@]}"; do
        bg_stop "$name"
    done
    for name in "${!GUEST_CFG[@]}"; do
        domid=$(xl domid "$name" 2>/dev/null) || continue
        log "destroying $name (domain $domid)"
        timeout 30 xl destroy "$domid" || log "xl destroy $domid failed"
    done
    exit "$rc"
}
trap scenario_cleanup EXIT

export PATH=$BIN:$PATH
