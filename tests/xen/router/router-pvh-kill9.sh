# router-pvh-kill9: kill -9 of an emulator while the guest is blocked on it.
# ioreq-routerd runs ioreq-uart for a PVH guest (router-kill9.json: restart
# on failure after 100 ms); the guest (kill9.gio, built into
# router_kill9.elf) polls the UART's LSR and IIR with sleeps between, for
# about 6 s.  While it runs, the scenario stops the emulator (SIGSTOP),
# waits until the guest's trace stops growing (its vCPU now waits on a
# request nobody answers), then kills the emulator with SIGKILL.  The router
# starts a new process on the same ioreq server, which finishes the request
# in flight; every read returns its value (END pass: none lost, none read as
# all ones).  Checked: the router's state and `ioreqctl list` (before the
# kill, and after it: restarts 1, exit-status "killed by SIGKILL", a new
# pid, the same server; each taken while the guest waits on a stopped
# process, so that it cannot be gone meanwhile), the logs, and the teardown
# once the guest powers off.  The host compares the trace with xensim's.
# shellcheck shell=bash source-path=SCRIPTDIR/../scenarios source=lib_router.sh
. ./lib_router.sh

router_start router-kill9.json
# The guest polls (10 a second) for a second after the router released it,
# then its emulator stops (SIGSTOP): the guest's next access waits on it.
# A watcher started before the guest is created does that (builtins only:
# the emulator can be ready before `xl create` returns).
stop_when_logged stop-uart0 '^ioreq-routerd: k9\([0-9]+\): all 1 emulators ready: hold released$' \
    k9 '[0-9]+' uart0 1
guest_create k9 "$GUESTS/router_kill9.elf"
domid=${GUEST_DOMID[k9]}
guest_note_domid "$domid"
pfx="k9\\($domid\\)"
router_wait_log "^ioreq-routerd: $pfx: picked up: 1 emulators, held paused\$" 60
guest_unpause "$domid"
router_wait_log "^ioreq-routerd: $pfx: all 1 emulators ready: hold released\$" 60
wait_stopped stop-uart0 30
pid1=$STOPPED_PID

last_line() { # DOMID: the trace's last line, as the last snapshot saw it
    local line last=''
    while IFS= read -r line; do [[ $line =~ ^(L[0-9]|END) ]] && last=$line; done <"$RUN/d$1.out"
    echo "$last"
}
trace_still() { # DOMID: the trace did not move for 1 s
    local before
    guest_snapshot "$1"
    before=$(last_line "$1")
    bsleep 1
    guest_snapshot "$1"
    [ -n "$before" ] && [ "$(last_line "$1")" = "$before" ]
}
wait_until 20 "the guest to block on the stopped emulator" trace_still "$domid"
blocked_at=$(last_line "$domid")
[[ $blocked_at == END* ]] && fail "the guest finished before the emulator was stopped"
log "the guest waits (its last trace line: $blocked_at)"
expect_log "$RUN/d$domid.out" '^L[0-9]+ in 03fd 1 = 60$'

# while it waits (nothing moves): the router's view of the first process
router_state "$domid"
rctl list >"$LOGS/ioreqctl-list-1.txt" 2>&1 || fail "ioreqctl list"
router_state_print "$domid"
sed 's/^/  ioreqctl list: /' "$LOGS/ioreqctl-list-1.txt" >&2
expect_state "$domid" uart0/state running
expect_state "$domid" uart0/pid "$pid1"
expect_state "$domid" uart0/restarts 0
server1=${ROUTER_STATE[uart0/server]:-}
expect_match "uart0's server" "$server1" '^[0-9]+$'
expect_log "$LOGS/ioreqctl-list-1.txt" "^guest k9 \\(domid $domid, running\\)\$"
expect_log "$LOGS/ioreqctl-list-1.txt" "^ +uart0 +running +$pid1 +$server1 +0 +ports 0x3f8-0x3ff\$"

log "SIGKILL to uart0 (pid $pid1)"
kill -KILL "$pid1" || fail "SIGKILL $pid1"
router_wait_log "^ioreq-routerd: $pfx/uart0: process killed by SIGKILL\$" 10
router_wait_log "^ioreq-routerd: $pfx/uart0: restart 1 in 100 ms" 10
router_wait_log "^ioreq-routerd: $pfx/uart0: restarting -> running\$" 30
# The new process finished the request in flight before it reported ready.
# Stopped at once (builtins only; the guest's polls go on for seconds), it
# holds the guest again while the router's view of it is taken.
router_log_pid k9 "$domid" uart0
stopped2=$LOG_PID
{ [ -n "$stopped2" ] && kill -STOP "$stopped2"; } || fail "SIGSTOP of the new uart0 (pid ${stopped2:-?})"
log "the new uart0 (pid $stopped2) stopped"
router_state "$domid"
rctl list >"$LOGS/ioreqctl-list-2.txt" 2>&1 || fail "ioreqctl list"
alive2=no
[ -n "${ROUTER_STATE[uart0/pid]:-}" ] && kill -0 "${ROUTER_STATE[uart0/pid]}" 2>/dev/null && alive2=yes
router_state_print "$domid"
sed 's/^/  ioreqctl list: /' "$LOGS/ioreqctl-list-2.txt" >&2
expect_state "$domid" uart0/state running
expect_state "$domid" uart0/restarts 1
expect_state "$domid" uart0/exit-status 'killed by SIGKILL'
expect_state "$domid" uart0/server "$server1"
pid2=${ROUTER_STATE[uart0/pid]:-}
expect_match "uart0's new pid" "$pid2" "^[0-9]+\$"
[ "$pid2" != "$pid1" ] || expect_eq "uart0's pid after the restart" "$pid2" "not $pid1"
expect_eq "uart0's new process $pid2 alive" "$alive2" yes
expect_log "$LOGS/ioreqctl-list-2.txt" "^ +uart0 +running +$pid2 +$server1 +1 +ports 0x3f8-0x3ff\$"
expect_log "$LOGS/ioreqctl-list-2.txt" '^ +last exit: killed by SIGKILL$'
expect_eq "uart0's pid in xenstore and in the router's log" "$pid2" "$stopped2"
guest_snapshot "$domid"
expect_no_log "$RUN/d$domid.out" '^END '
log "the new uart0 (pid $stopped2) continues"
kill -CONT "$stopped2" || fail "SIGCONT $stopped2"

# the guest goes on and completes: every read returned its value
guest_wait_end "$domid" 90
expect_trace_pass "$domid"

# power-off: teardown
guest_wait_down "$domid" 30
router_wait_released "$domid" 30
wait_until 10 "uart0 (pid $pid2) to exit" pid_gone "$pid2"
expect_dead "$pid2" uart0
guest_wait_gone "$domid" 30
expect_stop router 0

r=$ROUTER_LOG u=$LOGS/k9.uart0.log
expect_log "$r" "^ioreq-routerd: $pfx/uart0: started ioreq-uart: pid $pid1, ioreq server $server1, "
expect_log "$r" "^ioreq-routerd: $pfx/uart0: started ioreq-uart: pid $pid2, ioreq server $server1, "
expect_log "$r" "^ioreq-routerd: $pfx: released: emulators stopped, ioreq servers destroyed\$"
expect_log "$r" '^ioreq-routerd: stopped$'
expect_no_log "$r" 'failed|giving up'
# both processes wrote to the same log file; the second one finished the
# request the first left
expect_log "$u" "^ioreq-uart: finished 1 request\\(s\\) a previous instance left\$"
expect_log "$u" "^ioreq-uart: serving ioreq server $server1 of domain $domid "
expect_no_log "$u" 'error:'
checks_done
