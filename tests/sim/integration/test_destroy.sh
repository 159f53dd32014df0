# `xensim domain destroy` with emulators attached and a vCPU blocked on one
# of them: the guest run ends, the emulators' later dm_ops fail with ESRCH
# (dm_probe prints them), the emulators exit cleanly, and the daemon goes
# on: `xensim domain list` works and a new domain can be served.
# Runs under `xensim run` (run_test.sh).
. "$INT_LIB"

D=$(create_domain doomed hvm 2 16M) || { fail "domain create"; finish; }

# An emulator that answers one request and then stalls, holding vCPU 0.
start_emu emu --domid "$D" --port 0x3f8-0x3ff --mmio 0xa0000-0xbffff --bufioreq atomic \
    --stall-after 1 || finish
# The probe: a second emulator that will make calls after the destroy.
"$TOOLS/dm_probe" --domid "$D" --ready-file "$T/probe.ready" --go-file "$T/probe.go" \
    >"$T/probe.out" 2>"$T/probe.log" &
PROBE=$!
EMU_PID[probe]=$PROBE # killed at exit if the test stops early
wait_for 10 test -s "$T/probe.ready" || fail "dm_probe did not get ready"

printf 'in 0x3f8 1 expect 0x78\n# blocks\nin 0x3f9 1\n' >"$T/v0.gio"
printf 'wait-irq isa 7 timeout 30000\n' >"$T/v1.gio"
guest_run --timeout 40000 "$D" "$T/v0.gio" "$T/v1.gio" >"$T/run.out" 2>&1 &
RUN=$!
wait_for 20 grep -q "stalled on vCPU 0" "$T/emu.log" || fail "vCPU 0 never waited on the stalled emulator"
kill -0 $RUN 2>/dev/null || fail "the guest run ended before the destroy: $(cat "$T/run.out")"

timeout 20 "$X" domain destroy "$D"
check "domain destroy with emulators attached" 0 $?
# The run ends promptly, with an error, naming why.
wait_pid $RUN 10
rc=$?
check "guest run of a destroyed domain: exit status" 1 $rc
[ -s "$T/run.out" ] || fail "the guest run said nothing about the destroy"
echo "guest run said: $(cat "$T/run.out")"

# The daemon is healthy and the domain is gone.
timeout 10 "$X" domain list >"$T/list" 2>&1
check "domain list after destroy" 0 $?
grep -qE "^$D +doomed " "$T/list" && fail "destroyed domain still listed: $(cat "$T/list")"

# Later calls of an attached emulator fail with ESRCH.
touch "$T/probe.go"
wait_pid $PROBE 20
check "dm_probe exit status" 0 $?
unset "EMU_PID[probe]"
cat "$T/probe.out"
for call in get_ioreq_server_info map_io_range set_ioreq_server_state set_isa_irq_level \
            destroy_ioreq_server nr_vcpus map_guest_frame map_resource; do
    check "$call after destroy" "$call: ESRCH" "$(grep "^$call: " "$T/probe.out")"
done
check_log "$T/probe.log"

# The stalled emulator notices nothing until told to stop; it exits cleanly.
stop_emu emu

# The same name can be used again, and a new emulator serves it.
D2=$(create_domain doomed hvm 1 16M) || fail "domain create after destroy"
start_emu emu2 --domid "$D2" --port 0x3f8-0x3ff || finish
printf 'in 0x3f8 1 expect 0x78\n' >"$T/new.gio"
guest_run "$D2" "$T/new.gio" >"$T/new.out" 2>&1
rc=$?
check "guest run on the new domain (output: $(cat "$T/new.out"))" 0 $rc
# Destroy with an emulator attached but idle, then stop it.
timeout 20 "$X" domain destroy doomed
check "second destroy" 0 $?
stop_emu emu2
daemon_alive || fail "daemon does not answer"
finish
