#!/usr/bin/env bash
# The xensim CLI against the real daemon: test_cli_daemon.sh BIN_DIR
# (BIN_DIR holds xensim and xensim-daemon).  Domains, a guest run whose
# accesses nobody serves (the null handler: reads are all ones), a failed
# expectation naming its line, the run timeout, and exit statuses; pause,
# unpause and domain info, with Xen's errors, and a guest run that waits
# while its domain is paused.
. "$(dirname "$0")/daemon_session.sh" "$@"

cat >"$T/vcpu0.gio" <<'GIO'
# Nothing is mapped: every access goes to the null handler.
in 0x80 1 expect 0xff
in 0x3fd 2 expect 0xffff
pci-read 00:05.0 0x00 4 expect 0xffffffff
mmio-read 0xfed00000 8 expect 0xffffffffffffffff
out 0x3f8 1 0x41
mem-write 0x1000 "hello\n"
mem-read 0x1000 6 expect hex:68656c6c6f0a
rep-insb 0x80 0x2000 4
mem-read 0x2000 4 expect hex:ffffffff
invalidate
timeoffset -5
GIO
printf 'pci-write 00:05.0 0x04 2 0x7\nin 0x60 1 expect 0xff\n' >"$T/vcpu1.gio"
printf 'in 0x60 1 expect 0xff\n\nin 0x61 1 expect 0x12\n' >"$T/fail.gio"
printf 'wait-irq 4 timeout 10000\n' >"$T/wait.gio"

cat >"$T/session.sh" <<'EOF2'
set -u
x=$XENSIM_BIN
check() { # NAME WANT_RC GOT_RC
    [ "$2" = "$3" ] || { echo "FAIL: $1: exit $3, want $2"; fails=$((fails + 1)); }
}
fails=0
"$x" domain list >"$T/list" ; check list 0 $?
grep -qE '^[0-9]+ +g +hvm +2 +64M +0 +0$' "$T/list" || { echo "FAIL: list: $(cat "$T/list")"; fails=$((fails + 1)); }
"$x" guest run g "$T/vcpu0.gio" "$T/vcpu1.gio" >"$T/ok.out"; check guest-ok 0 $?
[ ! -s "$T/ok.out" ] || { echo "FAIL: guest-ok printed: $(cat "$T/ok.out")"; fails=$((fails + 1)); }
"$x" guest run g "$T/fail.gio" >"$T/fail.out"; check guest-fail 1 $?
grep -qx "$T/fail.gio:3: expected 0x12, got 0xff" "$T/fail.out" || { echo "FAIL: guest-fail: $(cat "$T/fail.out")"; fails=$((fails + 1)); }
"$x" guest run g "$T/vcpu0.gio" "$T/vcpu1.gio" "$T/fail.gio" 2>/dev/null; check guest-too-many 1 $?
"$x" guest run --timeout 200 p "$T/wait.gio" >"$T/wait.out"; check guest-timeout 1 $?
grep -q "timed out" "$T/wait.out" || { echo "FAIL: guest-timeout: $(cat "$T/wait.out")"; fails=$((fails + 1)); }
d=$("$x" domain create --name extra --type pvh --vcpus 1 --memory 16M); check create 0 $?
"$x" domain destroy "$d"; check destroy 0 $?
"$x" domain destroy extra 2>/dev/null; check destroy-again 1 $?
"$x" irq-log g; check irq-log 0 $?

# ---- pause, unpause, info ----
expect_err() { # NAME PATTERN: the last command's stderr ($T/e)
    grep -q -- "$2" "$T/e" || { echo "FAIL: $1: stderr '$(cat "$T/e")' lacks '$2'"; fails=$((fails + 1)); }
}
expect_out() { # NAME LINE: a line of $T/o
    grep -qx -- "$2" "$T/o" || { echo "FAIL: $1: no line '$2' in: $(cat "$T/o")"; fails=$((fails + 1)); }
}
"$x" domain pause 99 2>"$T/e"; check pause-unknown 1 $?
expect_err pause-unknown "cannot pause domain 99: No such process"
"$x" domain unpause 99 2>"$T/e"; check unpause-unknown 1 $?
expect_err unpause-unknown "cannot unpause domain 99: No such process"
"$x" domain unpause g 2>"$T/e"; check unpause-at-0 1 $?
expect_err unpause-at-0 "cannot unpause domain 1: Invalid argument"
"$x" domain pause 0 2>"$T/e"; check pause-dom0 1 $?
expect_err pause-dom0 "cannot pause domain 0: Invalid argument"
"$x" domain unpause Domain-0 2>"$T/e"; check unpause-dom0 1 $?
expect_err unpause-dom0 "cannot unpause domain 0: Invalid argument"
"$x" domain info 99 2>"$T/e"; check info-unknown 1 $?
expect_err info-unknown "cannot get domain 99: No such process"

"$x" domain info 0 >"$T/o"; check info-dom0 0 $?
for l in "domid 0" "name Domain-0" "type -" "pause-count 0" "flags 0x0 -" "vcpus 0" \
         "max-vcpu-id -" "emulation-flags 0x0 -"; do expect_out info-dom0 "$l"; done
"$x" domain info g >"$T/o"; check info-hvm 0 $?
for l in "domid 1" "type hvm" "pause-count 0" "flags 0x112 hvm_guest,blocked,hap" "vcpus 2" \
         "max-vcpu-id 1" "tot-pages 16384" "max-pages 16384" "refused-irqs 0" "busy-vcpus 0" \
         "emulation-flags 0x3ff lapic,hpet,pm,rtc,ioapic,pic,vga,iommu,pit,use_pirq"; do
    expect_out info-hvm "$l"
done
# p crashed when its guest run timed out: shut down, reason 3 (SHUTDOWN_crash).
"$x" domain info p >"$T/o"; check info-pvh 0 $?
for l in "type pvh" "flags 0x30116 hvm_guest,shutdown,blocked,hap" "shutdown-code 3" \
         "emulation-flags 0x1 lapic"; do
    expect_out info-pvh "$l"
done

# Paused twice: a guest run waits until the second unpause.
"$x" domain pause g; check pause 0 $?
"$x" domain pause 1; check pause-again 0 $?
"$x" domain info g >"$T/o"; check info-paused 0 $?
expect_out info-paused "pause-count 2"
expect_out info-paused "flags 0x11a hvm_guest,paused,blocked,hap"
"$x" domain list >"$T/o"; check list-paused 0 $?
grep -qE '^1 +g +hvm +2 +64M +2 +0$' "$T/o" || { echo "FAIL: list-paused: $(cat "$T/o")"; fails=$((fails + 1)); }
printf 'in 0x80 1 expect 0xff\n' >"$T/one.gio"
"$x" guest run g "$T/one.gio" >"$T/paused.out" 2>&1 &
run=$!
# The run holds its vCPU (busy-vcpus) before the checks, or they prove nothing.
held=0
for _ in $(seq 200); do
    timeout 10 "$x" domain info g 2>/dev/null | grep -qx 'busy-vcpus 1' && { held=1; break; }
    sleep 0.05
done
check run-held-while-paused 1 $held
"$x" domain info g >"$T/o"
expect_out info-paused-run "flags 0x11a hvm_guest,paused,blocked,hap" # paused: not running
sleep 0.5
kill -0 $run 2>/dev/null || { echo "FAIL: guest run finished while paused: $(cat "$T/paused.out")"; fails=$((fails + 1)); }
"$x" domain unpause g; check unpause 0 $?
sleep 0.5
kill -0 $run 2>/dev/null || { echo "FAIL: guest run finished while paused once: $(cat "$T/paused.out")"; fails=$((fails + 1)); }
"$x" domain unpause g; check unpause-again 0 $?
for _ in $(seq 100); do kill -0 $run 2>/dev/null || break; sleep 0.05; done
wait $run; check paused-run 0 $?
"$x" domain unpause g 2>/dev/null; check unpause-third 1 $?

# Created paused: count 1 (the limit of 255 is tested with xc_probe).
"$x" domain create --name held --type pvh --vcpus 1 --memory 4M --paused >/dev/null
check create-paused 0 $?
"$x" domain info held >"$T/o"; check info-held 0 $?
expect_out info-held "pause-count 1"
expect_out info-held "flags 0x11a hvm_guest,paused,blocked,hap"
"$x" domain destroy held; check destroy-paused 0 $?
exit $fails
EOF2
run_session sh || exit 1
echo "all CLI/daemon tests passed"
