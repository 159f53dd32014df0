# ISA interrupts: on an HVM guest an emulator's set_isa_irq_level is
# recorded (`wait-irq isa N` in a guest script sees it, `xensim irq-log`
# lists it); a PVH guest has no emulated PIC/IOAPIC, so the same dm_op
# fails with EOPNOTSUPP and nothing is recorded, while MMIO is still
# served.  Runs under `xensim run` (run_test.sh).
. "$INT_LIB"

H=$(create_domain hvm1 hvm 1 16M) || { fail "domain create hvm"; finish; }
P=$(create_domain pvh1 pvh 1 16M) || { fail "domain create pvh"; finish; }

# HVM: the guest sees IRQ 4; the log has it.  wait-irq counts only the
# interrupts of its own run, so the run starts first (the domain shows
# "running" once it has) and the emulator, started then, raises IRQ 4 as
# soon as it is enabled.  That run makes no access: the emulator binds its
# vCPU ports only after enabling (as QEMU does), and an event sent before
# is lost, on Xen too; its port is read by a second run.
printf 'wait-irq isa 4 timeout 30000\n' >"$T/hvm.gio"
guest_run "$H" "$T/hvm.gio" >"$T/hvm.out" 2>&1 &
run=$!
wait_for 10 info_has "$H" '^flags .*running'
check "HVM: the wait-irq run started" 0 $?
start_emu hvm --domid "$H" --port 0x3f8-0x3ff --raise-isa-irq 4 || finish
start_emu pvh --domid "$P" --mmio 0xfe000000-0xfe000fff --raise-isa-irq 4 || finish
wait $run
rc=$?
check "HVM: wait-irq isa 4 (output: $(cat "$T/hvm.out"))" 0 $rc
printf 'in 0x3f8 1 expect 0x78\n' >"$T/hvm-port.gio"
guest_run "$H" "$T/hvm-port.gio" >"$T/hvm-port.out" 2>&1
rc=$?
check "HVM: the port after the interrupt (output: $(cat "$T/hvm-port.out"))" 0 $rc

check "HVM: set_isa_irq_level" "mini_emulator: set_isa_irq_level 4 1: ok" \
    "$(grep set_isa_irq_level "$T/hvm.log")"
check "PVH: set_isa_irq_level" "mini_emulator: set_isa_irq_level 4 1: failed: EOPNOTSUPP" \
    "$(grep set_isa_irq_level "$T/pvh.log")"
timeout 10 "$X" irq-log "$H" >"$T/hvm.irqs" 2>&1
check "HVM: irq-log" "isa 4 level 1" "$(cat "$T/hvm.irqs")"

# PVH: nothing recorded; a guest waiting for it times out; MMIO works.
timeout 10 "$X" irq-log "$P" >"$T/pvh.irqs" 2>&1
check "PVH: irq-log exit status" 0 $?
check "PVH: irq-log is empty" "" "$(cat "$T/pvh.irqs")"
printf 'mmio-read 0xfe000010 4 expect 0x5ba5a5b5\nwait-irq isa 4 timeout 300\n' >"$T/pvh.gio"
guest_run "$P" "$T/pvh.gio" >"$T/pvh.out" 2>&1
check "PVH: wait-irq isa 4 fails" 1 $?
grep -q "pvh.gio:2:" "$T/pvh.out" || fail "PVH: the failed wait names no line: $(cat "$T/pvh.out")"
grep -q "pvh.gio:1:" "$T/pvh.out" && fail "PVH: MMIO failed: $(cat "$T/pvh.out")"

stop_emu hvm
stop_emu pvh
daemon_alive || fail "daemon does not answer"
finish
