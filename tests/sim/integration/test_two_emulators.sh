# Two mini_emulator processes (built against Debian's libraries only) serve
# disjoint ranges of one HVM guest at the same time, while two vCPU scripts
# run concurrently: ports, MMIO, PCI config through CF8/CFC, unmapped
# accesses (all ones), string I/O checked in guest memory, and buffered
# writes to the VGA window through a legacy and an atomic ring, read back.
# Then a wrong expectation: `xensim guest run` exits 1 naming FILE:LINE.
# Runs under `xensim run` (run_test.sh).
. "$INT_LIB"

D=$(create_domain g1 hvm 2 32M) || { fail "domain create"; finish; }
echo "domid $D"

# A: COM1 ports, PCI 00:05.0, VGA 0xa0000-0xaffff on a legacy ring.
start_emu emuA --domid "$D" --port 0x3f8-0x3ff --pci 00:05.0 \
    --mmio 0xa0000-0xaffff --bufioreq legacy || finish
# B: ports 0x100-0x10f, an MMIO BAR, PCI 00:07.0, VGA 0xb0000-0xbffff on an atomic ring.
start_emu emuB --domid "$D" --port 0x100-0x10f --mmio 0xfe000000-0xfe000fff \
    --mmio 0xb0000-0xbffff --pci 00:07.0 --bufioreq atomic || finish

# Both announced themselves through Debian's libxenstore, in the simulated store.
ids=$(cat "$T"/emuA.ready "$T"/emuB.ready 2>/dev/null)
[ "$(echo $ids | wc -w)" -eq 2 ] || fail "two server ids in the ready files: $ids"
for id in $ids; do
    v=$(timeout 10 xenstore-read "/local/domain/0/device-model/$D/ioreq-server/$id" 2>&1)
    [ "$v" = running ] || fail "xenstore entry of server $id: $v"
done

timeout 10 "$X" domain list >"$T/list"
grep -qE "^$D +g1 +hvm +2 +32M +0 +2\$" "$T/list" || fail "domain list shows 2 servers: $(cat "$T/list")"

# vCPU 0: emulator A, the unmapped holes, and a loop on both emulators.
{
    cat <<'EOF'
# emulator A: ports
in 0x3f8 1 expect 0x78
in 0x3fa 2 expect 0x7a
in 0x3fc 4 expect 0x7c
out 0x3f9 1 0x5a
in 0x3f9 1 expect 0x5a
# PCI config of 00:05.0 through CF8/CFC
pci-read 00:05.0 0x00 4 expect 0x11e81234
pci-read 00:05.0 0x00 2 expect 0x1234
pci-read 00:05.0 0x04 4 expect 0
pci-write 00:05.0 0x10 4 0xfebf0000
pci-read 00:05.0 0x10 4 expect 0xfebf0000
# unmapped: all ones
pci-read 00:06.0 0x00 4 expect 0xffffffff
in 0x2f8 1 expect 0xff
in 0x2f8 2 expect 0xffff
in 0x2f8 4 expect 0xffffffff
mmio-read 0xfed00000 8 expect 0xffffffffffffffff
mmio-read 0xc0000 4 expect 0xffffffff
out 0x2f8 1 0x12
# string I/O: guest memory -> port, port -> guest memory
mem-write 0x1000 "hello"
rep-outsb 0x3fa 0x1000 5
in 0x3fa 1 expect 0x6f
rep-insb 0x3fb 0x1800 4
mem-read 0x1800 4 expect hex:7b7b7b7b
rep-insb 0x2f8 0x1900 3
mem-read 0x1900 3 expect hex:ffffff
# buffered writes (legacy ring), then synchronous reads
mmio-write 0xa0000 1 0x11
mmio-write 0xa0002 2 0x2233
mmio-write 0xa0004 4 0x44556677
mmio-write 0xa0008 8 0x8899aabbccddeeff
mmio-read 0xa0000 1 expect 0x11
mmio-read 0xa0002 2 expect 0x2233
mmio-read 0xa0004 4 expect 0x44556677
mmio-read 0xa0008 8 expect 0x8899aabbccddeeff
mmio-read 0xa0100 4 expect 0xa5afa4a5
EOF
    # Many buffered writes, then their values read back.
    for i in $(seq 0 199); do printf 'mmio-write 0x%x 2 0x%x\n' $((0xa1000 + 2 * i)) $((0x1000 + i)); done
    for i in $(seq 0 199); do printf 'mmio-read 0x%x 2 expect 0x%x\n' $((0xa1000 + 2 * i)) $((0x1000 + i)); done
    # Both emulators, interleaved, while vCPU 1 runs.
    for i in $(seq 0 99); do
        printf 'out 0x3fe 1 0x%x\nin 0x3fe 1 expect 0x%x\n' $((i & 0xff)) $((i & 0xff))
        printf 'in 0x10f 1 expect 0x4f\n'
    done
} >"$T/v0.gio"

# vCPU 1: emulator B.
{
    cat <<'EOF'
in 0x100 2 expect 0x40
in 0x10e 1 expect 0x4e
mmio-read 0xfe000010 4 expect 0x5ba5a5b5
mmio-read 0xfe000010 8 expect 0x5ba5a5b5
mmio-write 0xfe000010 4 0xdeadbeef
mmio-read 0xfe000010 4 expect 0xdeadbeef
mmio-read 0xfe001000 4 expect 0xffffffff
pci-read 00:07.0 0x00 4 expect 0x11e81234
pci-write 00:07.0 0x3c 1 0x0b
pci-read 00:07.0 0x3c 1 expect 0x0b
rep-insb 0x101 0x2000 3
mem-read 0x2000 3 expect hex:414141
mem-write 0x3000 hex:0102030405060708
rep-mmio-write 0xfe000100 4 0x3000 2
mmio-read 0xfe000100 4 expect 0x04030201
mmio-read 0xfe000104 4 expect 0x08070605
rep-mmio-read 0xfe000100 4 0x3100 2
mem-read 0x3100 8 expect hex:0102030405060708
# buffered writes (atomic ring)
mmio-write 0xb0000 1 0x99
mmio-write 0xb0010 8 0x0123456789abcdef
mmio-read 0xb0000 1 expect 0x99
mmio-read 0xb0010 8 expect 0x0123456789abcdef
EOF
    for i in $(seq 0 199); do printf 'mmio-write 0x%x 4 0x%x\n' $((0xb1000 + 4 * i)) $((0x5000000 + i)); done
    for i in $(seq 0 199); do printf 'mmio-read 0x%x 4 expect 0x%x\n' $((0xb1000 + 4 * i)) $((0x5000000 + i)); done
    for i in $(seq 0 99); do
        printf 'out 0x108 2 0x%x\nin 0x108 2 expect 0x%x\n' $((0x100 + i)) $((0x100 + i))
        printf 'in 0x3ff 1 expect 0x7f\n'
    done
} >"$T/v1.gio"

guest_run --timeout 30000 "$D" "$T/v0.gio" "$T/v1.gio" >"$T/run.out" 2>&1
rc=$?
check "guest run with two emulators (output: $(head -c 2000 "$T/run.out"))" 0 $rc

# CF8/CFC from two vCPUs at once: the CF8 latch is the domain's, so a guest
# serialises its config cycles (Linux: pci_config_lock), and so do the
# scripts' pci-* ops.  Each vCPU must read its own device every time.
# (700 each: one request carries at most 64 KiB of script; three runs.)
for _ in $(seq 700); do echo 'pci-read 00:05.0 0x00 4 expect 0x11e81234'; done >"$T/cfg0.gio"
for _ in $(seq 700); do echo 'pci-read 00:07.0 0x3c 1 expect 0x0b'; done >"$T/cfg1.gio"
for run in 1 2 3; do
    guest_run --timeout 60000 "$D" "$T/cfg0.gio" "$T/cfg1.gio" >"$T/cfg.out" 2>&1
    rc=$?
    check "config cycles from two vCPUs, run $run (output: $(head -c 600 "$T/cfg.out"))" 0 $rc
done

# A wrong expectation names its line; exit status 1.
printf 'in 0x3f8 1 expect 0x78\nin 0x100 1 expect 0x41\n\n# value from emulator B\nin 0x100 1 expect 0x41\n' >"$T/wrong.gio"
guest_run "$D" "$T/wrong.gio" >"$T/wrong.out" 2>&1
rc=$?
check "wrong expectation: exit status" 1 $rc
grep -qx "$T/wrong.gio:2: expected 0x41, got 0x40" "$T/wrong.out" ||
    fail "wrong expectation: report line 2 missing: $(cat "$T/wrong.out")"
grep -qx "$T/wrong.gio:5: expected 0x41, got 0x40" "$T/wrong.out" ||
    fail "wrong expectation: report line 5 missing: $(cat "$T/wrong.out")"

# A string compare that fails is reported too.
printf 'mem-write 0x4000 "abc"\nmem-read 0x4000 3 expect "abd"\n' >"$T/wrongmem.gio"
guest_run "$D" "$T/wrongmem.gio" >"$T/wrongmem.out" 2>&1
check "wrong memory expectation: exit status" 1 $?
grep -q "^$T/wrongmem.gio:2: expected " "$T/wrongmem.out" ||
    fail "wrong memory expectation: no report: $(cat "$T/wrongmem.out")"

stop_emu emuA
stop_emu emuB
grep -q "served" "$T/emuA.log" || fail "emulator A did not report"
daemon_alive || fail "daemon does not answer after the run"
finish
