# router-pvh-demo: the demo config (router-demo.json: uart0, pcitest0,
# debugcon0) under ioreq-routerd in dom0, serving a PVH guest whose kernel
# is demo.gio built into a guest image (router_demo.elf).
#
#   1. the router starts first; the guest is created paused (xl create -p);
#      the router picks it up by name on @introduceDomain and takes a pause
#      reference of its own; the scenario gives the toolstack's unpause (xl
#      unpause) at once, and the guest still waits until the router has
#      brought up one ioreq server and one emulator process each;
#   2. while the guest waits on debugcon0, which the scenario stopped
#      (SIGSTOP) once ready: the router's xenstore state, `ioreqctl list`;
#      then SIGCONT;
#   3. the guest's trace (on Xen's debug console) ends "END pass"; the
#      emulators' logs show what the guest did (the line on the UART, the
#      debug console's text) and that no ISA IRQ or INTx was driven (PVH);
#   4. the guest powers off (cli; hlt): the router tears down (state
#      removed, processes gone, servers destroyed); SIGTERM stops it, exit 0.
# The host compares the trace with xensim's for the same script and config
# (run_diff.sh).
# shellcheck shell=bash source-path=SCRIPTDIR/../scenarios source=lib_router.sh
. ./lib_router.sh

router_start router-demo.json
router_log_has 'running: 1 guest\(s\) configured' || fail "the router did not report its config"

# 1. picked up by name, held, brought up, released.  As soon as debugcon0
#    is ready it is stopped (SIGSTOP, from a watcher started before the
#    guest is created, as the emulators can be ready before `xl create`
#    returns; the guest reaches its first debug console access after a 2 s
#    sleep), so that the guest waits on it while the router's state is taken.
stop_when_logged stop-debugcon0 '^ioreq-routerd: demo\([0-9]+\)/debugcon0: ready: ' demo '[0-9]+' debugcon0
guest_create demo "$GUESTS/router_demo.elf"
domid=${GUEST_DOMID[demo]}
guest_note_domid "$domid"
pfx="demo\\($domid\\)"
router_wait_log "^ioreq-routerd: $pfx: picked up: 3 emulators, held paused\$" 60
guest_unpause "$domid"
router_wait_log "^ioreq-routerd: $pfx: all 3 emulators ready: hold released\$" 60
wait_stopped stop-debugcon0 30
stopped=$STOPPED_PID

# 2. the router's state while the guest lives (it waits on debugcon0)
router_state "$domid"
rctl list >"$LOGS/ioreqctl-list.txt" 2>&1 || fail "ioreqctl list: $(cat "$LOGS/ioreqctl-list.txt")"
declare -A pid=() server=() alive=()
for emu in uart0 pcitest0 debugcon0; do
    pid[$emu]=${ROUTER_STATE[$emu/pid]:-}
    server[$emu]=${ROUTER_STATE[$emu/server]:-}
    [ -n "${pid[$emu]}" ] && kill -0 "${pid[$emu]}" 2>/dev/null && alive[$emu]=yes
done
router_state_print "$domid"
sed 's/^/  ioreqctl list: /' "$LOGS/ioreqctl-list.txt" >&2
expect_state "$domid" name demo
for emu in uart0 pcitest0 debugcon0; do
    expect_state "$domid" "$emu/state" running
    expect_state "$domid" "$emu/pid" '[0-9]+'
    expect_state "$domid" "$emu/server" '[0-9]+'
    expect_state "$domid" "$emu/restarts" 0
    expect_eq "$emu process ${pid[$emu]} alive" "${alive[$emu]:-no}" yes
done
expect_eq "debugcon0's pid in xenstore and in the router's log" "${pid[debugcon0]}" "$stopped"
expect_eq "three distinct ioreq servers" \
    "$(printf '%s\n' "${server[@]}" | sort -u | grep -c .)" 3
guest_snapshot "$domid"
expect_no_log "$RUN/d$domid.out" '^L[0-9]+ in 0402 '   # it waits on debugcon0
log "debugcon0 (pid $stopped) continues"
kill -CONT "$stopped" || fail "SIGCONT debugcon0 ($stopped)"
list=$LOGS/ioreqctl-list.txt
expect_log "$list" "^guest demo \\(domid $domid, running\\)"
expect_log "$list" "^ +uart0 +running +${pid[uart0]} +${server[uart0]} +0 +ports 0x3f8-0x3ff\$"
expect_log "$list" "^ +pcitest0 +running +${pid[pcitest0]} +${server[pcitest0]} +0 +pci 0000:00:05.0\$"
expect_log "$list" "^ +debugcon0 +running +${pid[debugcon0]} +${server[debugcon0]} +0 +ports 0x402-0x402\$"

# 3. the guest's run
guest_wait_end "$domid" 90
expect_trace_pass "$domid"

# 4. power-off (xl destroys the domain): the router tears down
guest_wait_down "$domid" 30
router_wait_released "$domid" 30
router_wait_log "^ioreq-routerd: $pfx: released: emulators stopped, ioreq servers destroyed\$" 10
for emu in uart0 pcitest0 debugcon0; do
    wait_until 10 "$emu (pid ${pid[$emu]}) to exit" pid_gone "${pid[$emu]}"
    expect_dead "${pid[$emu]}" "$emu"
done
guest_wait_gone "$domid" 30
rctl list >"$LOGS/ioreqctl-list-after.txt" 2>&1
expect_log "$LOGS/ioreqctl-list-after.txt" '^guest demo \(domid -, absent\)$'
expect_stop router 0

# the router's account of it
r=$ROUTER_LOG
expect_log "$r" "^ioreq-routerd: $pfx: picked up: 3 emulators, held paused\$"
for emu in uart0 pcitest0 debugcon0; do
    expect_log "$r" "^ioreq-routerd: $pfx/$emu: started ioreq-[a-z]+: pid ${pid[$emu]}, ioreq server ${server[$emu]}, log $LOGS/demo.$emu.log\$"
    expect_log "$r" "^ioreq-routerd: $pfx/$emu: ready: ioreq server ${server[$emu]} enabled"
    expect_log "$r" "^ioreq-routerd: $pfx/$emu: ioreq server ${server[$emu]} destroyed\$"
done
expect_log "$r" '^ioreq-routerd: stopped$'
expect_no_log "$r" 'restart|failed|error'

# the emulators' own logs (GUEST.EMULATOR.log in the router's --log-dir)
u=$LOGS/demo.uart0.log p=$LOGS/demo.pcitest0.log d=$LOGS/demo.debugcon0.log
expect_log "$u" "^ioreq-uart: domain $domid has no emulated PIC/IOAPIC: ISA IRQs will not be raised\$"
expect_log "$u" "^ioreq-uart: warning: ISA IRQ 4 not driven: domain $domid has no emulated PIC/IOAPIC \\(PVH\\)"
expect_log "$u" "^ioreq-uart: serving ioreq server ${server[uart0]} of domain $domid "
expect_log "$u" '^uart: hi$'
expect_log "$p" "^ioreq-pcitest: domain $domid has no emulated PIC/IOAPIC: ISA IRQs will not be raised\$"
expect_log "$p" "^ioreq-pcitest: warning: INTx of PCI device 5 not driven: domain $domid has no emulated PIC/IOAPIC"
expect_log "$p" '^ioreq-pcitest: DMA: reading 30 bytes at 0x10000000: Bad address$'
expect_log "$p" '^ioreq-pcitest: stopped after 2 DMA command\(s\)$'
expect_log "$d" "^ioreq-debugcon: serving ioreq server ${server[debugcon0]} of domain $domid "
expect_log "$d" '^debugcon: hello from a pvh guest$'
expect_log "$d" '^OK$'
for f in "$u" "$p" "$d"; do
    expect_no_log "$f" 'error:'
done
checks_done
