# control_fuzz against the daemon: malformed and hostile traffic on its
# socket; a fresh HELLO + DOMAIN_LIST must be answered after every batch.
# run_test.sh fails the test on any sanitizer report in the daemon's
# stderr or if the daemon stopped uncleanly.  Runs under `xensim run`.
. "$INT_LIB"

timeout 60 "$TOOLS/control_fuzz" --seed 20240611 2>"$T/control_fuzz.log"
rc=$?
cat "$T/control_fuzz.log"
check "control_fuzz exit status" 0 $rc
check_log "$T/control_fuzz.log"
daemon_alive || fail "daemon does not answer after the fuzzing"
# The guests it made are still listed.
timeout 10 "$X" domain list >"$T/list" 2>&1
grep -q "fuzz-hvm" "$T/list" || fail "domain list after fuzzing: $(cat "$T/list")"
finish
