# An emulator killed (SIGKILL) while vCPUs wait on it, restarted with
# --attach ID: its ports went back to unbound when it died (the new
# instance binds them again), and the requests in flight are not lost: the
# blocked accesses complete with the right values and the scripts go on.
# Done twice over, with requests of both vCPUs in flight the first time.
# Runs under `xensim run` (run_test.sh).
. "$INT_LIB"

D=$(create_domain r1 hvm 2 16M) || { fail "domain create"; finish; }

# Instance 1 answers two requests, then plays dead.
start_emu emu1 --domid "$D" --port 0x3f8-0x3ff --stall-after 2 || finish
ID=$(cat "$T/emu1.ready")
echo "ioreq server $ID"

# Instances 1 and 2 serve 5 requests in all, whatever the interleaving of
# the vCPUs; every read expects the device's default value, so it does not
# matter which instance serves it.  The write/read pair at the end comes
# after vCPU 0's first 5 accesses: instance 3 serves both halves.
cat >"$T/v0.gio" <<'EOF'
in 0x3f8 1 expect 0x78
in 0x3f9 1 expect 0x79
# blocks: instance 1 has stalled; instance 2 answers it
in 0x3fa 1 expect 0x7a
in 0x3fb 2 expect 0x7b
# blocks: instance 2 has stalled too; instance 3 answers it
in 0x3fc 4 expect 0x7c
out 0x3fd 1 0x22
in 0x3fd 1 expect 0x22
EOF
cat >"$T/v1.gio" <<'EOF'
# after vCPU 0's first two accesses: blocks until instance 2
sleep 500
in 0x3ff 1 expect 0x7f
EOF

guest_run --timeout 40000 "$D" "$T/v0.gio" "$T/v1.gio" >"$T/run.out" 2>&1 &
RUN=$!

# vCPU 0 waits on the stalled instance (vCPU 1 too, once its sleep is
# over, unless a slow vCPU 0 let instance 1 serve vCPU 1's access): the run
# goes on.
wait_for 20 grep -q "stalled on vCPU 0" "$T/emu1.log" || fail "vCPU 0 never waited on instance 1: $(cat "$T/emu1.log")"
wait_for 5 grep -q "stalled on vCPU 1" "$T/emu1.log" ||
    echo "note: instance 1 served vCPU 1's access: only vCPU 0's request is in flight"
kill -0 $RUN 2>/dev/null || fail "the guest run ended while its emulator was stalled: $(cat "$T/run.out")"
kill_emu emu1

# The server outlives its emulator.
timeout 10 "$X" domain list >"$T/list"
grep -qE "^$D +r1 +hvm +2 +16M +0 +1\$" "$T/list" || fail "the server is gone: $(cat "$T/list")"

# Instance 2 takes over: it binds the vCPU ports again (they were unbound
# when instance 1 died), answers the requests in flight, one more, stalls.
start_emu emu2 --domid "$D" --attach "$ID" --stall-after 3 || finish
check "instance 2 serves server" "$ID" "$(cat "$T/emu2.ready")"
wait_for 20 grep -q "stalled on vCPU" "$T/emu2.log" || fail "nothing waited on instance 2: $(cat "$T/emu2.log")"
kill -0 $RUN 2>/dev/null || fail "the guest run ended while instance 2 was stalled: $(cat "$T/run.out")"
kill_emu emu2

# Instance 3 finishes the run.
start_emu emu3 --domid "$D" --attach "$ID" || finish
wait_pid $RUN 45
rc=$?
check "guest run across two emulator crashes (output: $(cat "$T/run.out"))" 0 $rc

# The restarted emulator serves a new run too.
printf 'in 0x3ff 1 expect 0x7f\nout 0x3fe 1 0x5\nin 0x3fe 1 expect 0x5\n' >"$T/after.gio"
guest_run "$D" "$T/after.gio" >"$T/after.out" 2>&1
rc=$?
check "guest run after the restarts (output: $(cat "$T/after.out"))" 0 $rc
stop_emu emu3
grep -q "served" "$T/emu3.log" || fail "instance 3 did not report"
daemon_alive || fail "daemon does not answer"
finish
