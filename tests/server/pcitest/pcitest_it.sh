#!/usr/bin/env bash
# ioreq-pcitest under xensim: a real emulator process, guests that find the
# function through CF8/CFC, size and move its BARs, run DMA and take its
# interrupts, checking every value they read.
#
#   pcitest_it.sh CASE XENSIM IOREQ_PCITEST [MAKE_SERVER]
#
# Each CASE runs in its own private simulator (`xensim run`).  Exit 0 when
# every check held, 77 when the case cannot run here (restart needs
# MAKE_SERVER, the libioreq tests' server maker).
# shellcheck disable=SC2317,SC2154 # cases are called as case_$CASE; the trap's loop sets p
set -u

# shellcheck source-path=SCRIPTDIR source=../it_harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../it_harness.sh"

if [ "${1:-}" != "--inside" ]; then
    [ $# -ge 3 ] || it_usage "CASE XENSIM IOREQ_PCITEST [MAKE_SERVER [POKE_SERVER]]"
    export CASE=$1 X=$2 PT=$3 MK=${4:-} POKE=${5:-}
    it_outer pcitest-it ioreq-pcitest skip77
fi

# ---- inside the simulator ----
it_inside
pt_pid= # set by start_pt

# start_pt NAME ARGS...: start ioreq-pcitest (log to NAME.log), wait until
# it serves; sets $pt_pid
start_pt() {
    start_server pt_pid "$1" /dev/null "$T/$1.out" "$PT" "${@:2}" -v
}

stop_pt() { stop_server "$@"; } # PID NAME: SIGTERM, expect exit 0

irq_count() { # DOMID LINE: how many irq-log lines are exactly LINE
    "$X" irq-log "$1" | grep -cxF -- "$2"
}

# BAR0 at 0xfebf0000 with memory decode and COMMAND = $1 (the guest's setup)
bar0_setup() {
    cat <<EOF
pci-write 00:05.0 0x10 4 0xfebf0000
pci-write 00:05.0 0x04 2 $1
mmio-read 0xfebf0000 4 expect 0x7e570001
EOF
}

# ---- cases ----

# Enumeration as firmware does it: vendor/device of every slot through CF8/CFC.
case_enumerate() {
    local d dev
    d=$(domain g hvm)
    start_pt pt --domid "$d" || return
    local pid=$pt_pid
    {
        for ((dev = 0; dev < 32; dev++)); do
            if [ $dev -eq 5 ]; then
                echo "pci-read 00:05.0 0x00 4 expect 0x11e81234"
            else
                printf 'pci-read 00:%02x.0 0x00 4 expect 0xffffffff\n' $dev
            fi
        done
        for fn in 1 2 3 4 5 6 7; do
            echo "pci-read 00:05.$fn 0x00 4 expect 0xffffffff   # single function"
        done
        cat <<'EOF'
pci-read 00:05.0 0x00 2 expect 0x1234
pci-read 00:05.0 0x02 2 expect 0x11e8
pci-read 00:05.0 0x04 4 expect 0x00100000         # COMMAND 0; STATUS: capability list
pci-read 00:05.0 0x08 4 expect 0xff000001         # class ff0000, revision 1
pci-read 00:05.0 0x0b 1 expect 0xff
pci-read 00:05.0 0x0e 1 expect 0x00               # type 0, single function
pci-read 00:05.0 0x2c 4 expect 0x11e81234         # subsystem
pci-read 00:05.0 0x30 4 expect 0                  # no expansion ROM
pci-read 00:05.0 0x3d 1 expect 0x01               # INTA
pci-read 00:05.0 0x34 1 expect 0x40               # capabilities: MSI, then the end
pci-read 00:05.0 0x40 1 expect 0x05
pci-read 00:05.0 0x41 1 expect 0x00
pci-read 00:05.0 0x42 2 expect 0x0080             # 64-bit, one vector, disabled
pci-write 00:05.0 0x00 4 0                        # identity is read-only
pci-read 00:05.0 0x00 4 expect 0x11e81234
pci-write 00:05.0 0x3c 1 0x0b                     # interrupt line is the guest's
pci-read 00:05.0 0x3c 1 expect 0x0b
EOF
    } | script enum
    guest "$d" enum
    stop_pt "$pid" pt
}

case_bars() {
    local d
    d=$(domain g hvm)
    start_pt pt --domid "$d" || return
    local pid=$pt_pid
    script bars <<'EOF'
# sizing: all ones reads back the size mask and the type bits
pci-write 00:05.0 0x10 4 0xffffffff
pci-read 00:05.0 0x10 4 expect 0xfffff000         # 4 KiB, 32-bit memory
pci-write 00:05.0 0x14 4 0xffffffff
pci-read 00:05.0 0x14 4 expect 0xfffffff1         # 16 ports
pci-write 00:05.0 0x18 4 0xffffffff
pci-read 00:05.0 0x18 4 expect 0                  # BAR2..5 unimplemented
pci-write 00:05.0 0x24 4 0xffffffff
pci-read 00:05.0 0x24 4 expect 0
# programming: nothing decodes until COMMAND says so
pci-write 00:05.0 0x10 4 0xfebf0000
pci-write 00:05.0 0x14 4 0xc000
pci-read 00:05.0 0x10 4 expect 0xfebf0000
pci-read 00:05.0 0x14 4 expect 0xc001
mmio-read 0xfebf0000 4 expect 0xffffffff
in 0xc000 4 expect 0xffffffff
pci-write 00:05.0 0x04 2 0x0003                   # I/O and memory decode
pci-read 00:05.0 0x04 2 expect 0x0003
# the registers at BAR0
mmio-read 0xfebf0000 4 expect 0x7e570001          # ID
mmio-read 0xfebf0002 2 expect 0x7e57
mmio-write 0xfebf0000 4 0                         # read-only
mmio-read 0xfebf0000 4 expect 0x7e570001
mmio-read 0xfebf0004 4 expect 0                   # SCRATCH
mmio-write 0xfebf0004 4 0x12345678
mmio-read 0xfebf0004 4 expect 0x12345678
mmio-write 0xfebf0005 1 0x99
mmio-read 0xfebf0004 4 expect 0x12349978
mmio-read 0xfebf0000 8 expect 0x123499787e570001
mmio-read 0xfebf0ffc 4 expect 0                   # reserved, to the end of the BAR
mmio-read 0xfebf1000 4 expect 0xffffffff          # past it
# the same registers at BAR1
in 0xc000 4 expect 0x7e570001
in 0xc002 2 expect 0x7e57
in 0xc004 4 expect 0x12349978
out 0xc004 1 0xab
mmio-read 0xfebf0004 4 expect 0x123499ab
out 0xc004 4 0x5ca1ab1e
mmio-read 0xfebf0004 4 expect 0x5ca1ab1e
in 0xc008 4 expect 0                              # IRQ_STATUS
in 0xc010 1 expect 0xff                           # past BAR1
# moving BAR0: the old address reads all ones, the new one works
pci-write 00:05.0 0x10 4 0xfebe0000
pci-read 00:05.0 0x10 4 expect 0xfebe0000
mmio-read 0xfebf0000 4 expect 0xffffffff
mmio-read 0xfebf0004 4 expect 0xffffffff
mmio-write 0xfebf0004 4 0x0badf00d                # dropped
mmio-read 0xfebe0000 4 expect 0x7e570001
mmio-read 0xfebe0004 4 expect 0x5ca1ab1e          # same device, same scratch
mmio-write 0xfebe0004 4 0x600df00d
mmio-read 0xfebe0004 4 expect 0x600df00d
# moving BAR1
pci-write 00:05.0 0x14 4 0xd000
in 0xc000 4 expect 0xffffffff
in 0xd000 4 expect 0x7e570001
in 0xd004 4 expect 0x600df00d
# sizing a decoding BAR takes it away; programming it brings it back
pci-write 00:05.0 0x10 4 0xffffffff
pci-read 00:05.0 0x10 4 expect 0xfffff000
mmio-read 0xfebe0000 4 expect 0xffffffff
pci-write 00:05.0 0x10 4 0xfebe0000
mmio-read 0xfebe0000 4 expect 0x7e570001
# memory decode off: BAR0 goes, BAR1 stays; I/O off: BAR1 goes
pci-write 00:05.0 0x04 2 0x0001
mmio-read 0xfebe0000 4 expect 0xffffffff
in 0xd000 4 expect 0x7e570001
pci-write 00:05.0 0x04 2 0x0002
in 0xd000 4 expect 0xffffffff
mmio-read 0xfebe0004 4 expect 0x600df00d
EOF
    guest "$d" bars
    stop_pt "$pid" pt
}

hex_pattern() { # N: N bytes 0x00 0x07 0x0e ... as hex
    awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%02x", (i * 7) % 256 }'
}

case_dma() {
    local d
    d=$(domain g hvm)
    start_pt pt --domid "$d" || return
    local pid=$pt_pid
    {
        bar0_setup 0x0002
        cat <<'EOF'
# a copy across page boundaries, the addresses as 32-bit halves
mem-write 0x3ffc "hello, pcitest dma"
mmio-write 0xfebf0020 4 0x3ffc
mmio-write 0xfebf0024 4 0
mmio-write 0xfebf0028 4 0x9ff8
mmio-write 0xfebf002c 4 0
mmio-write 0xfebf0030 4 18
mmio-read 0xfebf0038 4 expect 0                   # no command yet
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 1                   # DONE
mem-read 0x9ff8 18 expect "hello, pcitest dma"
mem-read 0xa00a 2 expect hex:0000                 # not a byte more
mmio-read 0xfebf0008 4 expect 2                   # IRQ_STATUS: DMA
mmio-write 0xfebf0010 4 2                         # ack
mmio-read 0xfebf0008 4 expect 0
# registers read back; 64-bit writes
mmio-write 0xfebf0020 8 0x20000
mmio-write 0xfebf0028 8 0x40001
mmio-read 0xfebf0020 8 expect 0x20000
mmio-read 0xfebf0028 4 expect 0x40001
mmio-read 0xfebf002c 4 expect 0
EOF
        echo "mem-write 0x20000 hex:$(hex_pattern 12291)"   # scripts stay below 64 KiB
        cat <<'EOF'
mmio-write 0xfebf0030 4 12291
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 1
EOF
        echo "mem-read 0x40001 12291 expect hex:$(hex_pattern 12291)"
        cat <<'EOF'
# overlapping ranges copy as memmove does
mem-write 0x50000 "0123456789"
mmio-write 0xfebf0020 8 0x50000
mmio-write 0xfebf0028 8 0x50002
mmio-write 0xfebf0030 4 8
mmio-write 0xfebf0034 4 1
mem-read 0x50000 10 expect "0101234567"
# exactly 1 MiB: allowed
mem-write 0x100000 "first"
mem-write 0x1ffffb "last!"
mmio-write 0xfebf0020 8 0x100000
mmio-write 0xfebf0028 8 0x300000
mmio-write 0xfebf0030 4 0x100000
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 1
mem-read 0x300000 5 expect "first"
mem-read 0x3ffffb 5 expect "last!"
# one byte more: refused, nothing copied (error 1 in bits 15..8)
mmio-write 0xfebf0028 8 0x500000
mmio-write 0xfebf0030 4 0x100001
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 0x0103
mem-read 0x500000 5 expect hex:0000000000
# a source outside guest RAM (64 MiB): error 3, the destination untouched
mmio-write 0xfebf0020 8 0x10000000
mmio-write 0xfebf0028 8 0x9ff8
mmio-write 0xfebf0030 4 18
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 0x0303
mem-read 0x9ff8 18 expect "hello, pcitest dma"
# a source running past the end of RAM: error 3 as well
mmio-write 0xfebf0020 8 0x3fffff0
mmio-write 0xfebf0030 4 0x20
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 0x0303
mem-read 0x9ff8 18 expect "hello, pcitest dma"
# a destination outside guest RAM: error 4
mmio-write 0xfebf0020 8 0x3ffc
mmio-write 0xfebf0028 8 0xfee00000
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 0x0403
# an address range wrapping past 2^64: error 2
mmio-write 0xfebf0028 8 0xfffffffffffffff0
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 0x0203
# length 0: done, nothing to copy
mmio-write 0xfebf0030 4 0
mmio-write 0xfebf0034 4 1
mmio-read 0xfebf0038 4 expect 1
# every command interrupts: still pending, acked once
mmio-read 0xfebf0008 4 expect 2
mmio-write 0xfebf0010 4 0xffffffff
mmio-read 0xfebf0008 4 expect 0
EOF
    } | script dma
    guest "$d" dma
    stop_pt "$pid" pt
    grep -q "after 10 DMA command(s)" "$T/pt.log" || fail "DMA commands: $(grep stopped "$T/pt.log")"
}

case_intx() {
    local d
    d=$(domain g hvm)
    start_pt pt --domid "$d" || return
    local pid=$pt_pid
    {
        bar0_setup 0x0002
        cat <<'EOF'
# MSI is off: IRQ_RAISE asserts INTA
mmio-write 0xfebf000c 4 1
wait-irq intx 00:05.0 A timeout 2000
mmio-read 0xfebf0008 4 expect 1                   # IRQ_STATUS: SOFT
pci-read 00:05.0 0x06 2 expect 0x0018             # STATUS: interrupt + capabilities
mmio-write 0xfebf0010 4 2                         # acking another cause: still asserted
pci-read 00:05.0 0x06 2 expect 0x0018
mmio-write 0xfebf0010 4 1                         # ack: deasserted
pci-read 00:05.0 0x06 2 expect 0x0010
mmio-read 0xfebf0008 4 expect 0
# a DMA interrupts on INTA too
mem-write 0x1000 "intx"
mmio-write 0xfebf0020 8 0x1000
mmio-write 0xfebf0028 8 0x2000
mmio-write 0xfebf0030 4 4
mmio-write 0xfebf0034 4 1
wait-irq intx 00:05.0 A timeout 2000
mem-read 0x2000 4 expect "intx"
mmio-read 0xfebf0008 4 expect 2
mmio-write 0xfebf0010 4 2
pci-read 00:05.0 0x06 2 expect 0x0010
# COMMAND's INTx-disable: STATUS shows it, the guest does not get it
pci-write 00:05.0 0x04 2 0x0402
mmio-write 0xfebf000c 4 1
pci-read 00:05.0 0x06 2 expect 0x0018
mmio-write 0xfebf0010 4 1
pci-read 00:05.0 0x06 2 expect 0x0010
EOF
    } | script intx
    guest "$d" intx
    stop_pt "$pid" pt
    "$X" irq-log "$d" >"$T/irq.out"
    [ "$(grep -cx 'intx 00:05 A level 1' "$T/irq.out")" = 2 ] ||
        fail "want two INTA assertions: $(cat "$T/irq.out")"
    [ "$(grep -cx 'intx 00:05 A level 0' "$T/irq.out")" = 2 ] ||
        fail "want two INTA deassertions: $(cat "$T/irq.out")"
    [ "$(tail -1 "$T/irq.out")" = "intx 00:05 A level 0" ] || fail "INTA left high"
    ! grep -q '^msi' "$T/irq.out" || fail "an MSI with MSI off: $(cat "$T/irq.out")"
}

case_msi() {
    local d
    d=$(domain g hvm)
    start_pt pt --domid "$d" || return
    local pid=$pt_pid
    {
        bar0_setup 0x0006
        cat <<'EOF'
# bus mastering is on (COMMAND 0x0006); program and enable MSI
pci-write 00:05.0 0x44 4 0xfee00000
pci-write 00:05.0 0x48 4 0
pci-write 00:05.0 0x4c 2 0x0041
pci-write 00:05.0 0x42 2 0x0001
pci-read 00:05.0 0x42 2 expect 0x0081
pci-read 00:05.0 0x44 4 expect 0xfee00000
# a DMA, then its message
mem-write 0x6000 "message signalled"
mmio-write 0xfebf0020 8 0x6000
mmio-write 0xfebf0028 8 0x7000
mmio-write 0xfebf0030 4 17
mmio-write 0xfebf0034 4 1
wait-irq msi timeout 2000
mem-read 0x7000 17 expect "message signalled"
mmio-read 0xfebf0038 4 expect 1
mmio-read 0xfebf0008 4 expect 2
pci-read 00:05.0 0x06 2 expect 0x0010             # no INTx status with MSI
mmio-write 0xfebf0010 4 2
# IRQ_RAISE: another message
mmio-write 0xfebf000c 4 1
wait-irq msi timeout 2000
mmio-write 0xfebf0010 4 1
# no bus mastering: no message
pci-write 00:05.0 0x04 2 0x0002
mmio-write 0xfebf000c 4 1
mmio-write 0xfebf0010 4 1
# MSI off again: INTA
pci-write 00:05.0 0x42 2 0x0000
mmio-write 0xfebf000c 4 1
wait-irq intx 00:05.0 A timeout 2000
mmio-write 0xfebf0010 4 1
EOF
    } | script msi
    guest "$d" msi
    stop_pt "$pid" pt
    "$X" irq-log "$d" >"$T/irq.out"
    [ "$(grep -cx 'msi addr 0xfee00000 data 0x41' "$T/irq.out")" = 2 ] ||
        fail "want exactly two MSIs: $(cat "$T/irq.out")"
    [ "$(grep -c '^msi' "$T/irq.out")" = 2 ] || fail "other MSIs: $(cat "$T/irq.out")"
    [ "$(grep -cx 'intx 00:05 A level 1' "$T/irq.out")" = 1 ] ||
        fail "want one INTA assertion: $(cat "$T/irq.out")"
}

# A guest without a PIC: INTx is never driven, MSI is; the device works.
case_pvh() {
    local d
    d=$(domain p pvh)
    start_pt pt --domid "$d" --pvh || return
    local pid=$pt_pid
    {
        bar0_setup 0x0006
        cat <<'EOF'
mmio-write 0xfebf000c 4 1
mmio-read 0xfebf0008 4 expect 1                   # pending, but no line to drive
mmio-write 0xfebf0010 4 1
pci-write 00:05.0 0x44 4 0xfee00000
pci-write 00:05.0 0x4c 2 0x0030
pci-write 00:05.0 0x42 2 0x0001
mmio-write 0xfebf000c 4 1
wait-irq msi timeout 2000
mmio-write 0xfebf0010 4 1
EOF
    } | script pvh
    guest "$d" pvh
    stop_pt "$pid" pt
    [ "$("$X" irq-log "$d")" = "msi addr 0xfee00000 data 0x30" ] ||
        fail "interrupts on the PVH guest: $("$X" irq-log "$d")"
    grep -q "not driven" "$T/pt.log" || fail "the refused INTx was not logged"
}

case_slot() {
    local d
    d=$(domain g hvm)
    start_pt a --domid "$d" --slot 07.0 || return
    local apid=$pt_pid
    start_pt b --domid "$d" --slot 00:1f.3 || return
    local bpid=$pt_pid
    script slot <<'EOF'
pci-read 00:05.0 0x00 4 expect 0xffffffff
pci-read 00:07.0 0x00 4 expect 0x11e81234
pci-read 00:1f.3 0x00 4 expect 0x11e81234
pci-read 00:1f.0 0x00 4 expect 0xffffffff
pci-write 00:07.0 0x10 4 0xfebf0000
pci-write 00:07.0 0x04 2 0x0002
pci-write 00:1f.3 0x10 4 0xfebe0000
pci-write 00:1f.3 0x04 2 0x0002
mmio-write 0xfebf0004 4 7
mmio-write 0xfebe0004 4 0x1f3
mmio-read 0xfebf0004 4 expect 7
mmio-read 0xfebe0004 4 expect 0x1f3
mmio-write 0xfebe000c 4 1
wait-irq intx 00:1f.3 A timeout 2000
mmio-write 0xfebe0010 4 1
EOF
    guest "$d" slot
    stop_pt "$apid" a
    stop_pt "$bpid" b
    "$X" irq-log "$d" | grep -qx 'intx 00:1f A level 1' || fail "no INTA of 00:1f"
}

# SIGKILL while a guest vCPU waits on the emulator; a new instance attached
# to the same server answers that request.  Config space is not kept across
# a restart, so the request is a config read of the identity, which the new
# instance answers like the old one would have.
case_restart() {
    local d id
    [ -n "$MK" ] && [ -n "$POKE" ] || { echo "skipped: no make_server or poke_server"; exit 77; }
    d=$(domain g hvm)
    id=$("$MK" "$d" pci 05.0) || { fail "make_server"; return; }
    start_pt pt --domid "$d" --ioservid "$id" || return
    local pid=$pt_pid
    [ "$(cat "$T/pt.ready")" = "$id" ] || fail "ready file: $(cat "$T/pt.ready"), want $id"
    {
        bar0_setup 0x0002
        cat <<'EOF'
mmio-write 0xfebf0004 4 0x11111111
mmio-write 0xfebf000c 4 1                         # INTA asserted, never acked
wait-irq intx 00:05.0 A timeout 2000
EOF
    } | script before
    guest "$d" before
    kill -STOP "$pid"
    script stuck <<'EOF'
pci-read 00:05.0 0x00 4 expect 0x11e81234         # waits while the emulator is dead
pci-read 00:05.0 0x04 2 expect 0                  # a new instance: config space reset
EOF
    "$X" guest run "$d" "$T/stuck.gio" >"$T/stuck.out" 2>&1 &
    local gpid=$!
    wait_request "$d" "$id" 0 || fail "the guest's request never reached the slot"
    kill -0 "$gpid" 2>/dev/null || fail "the guest did not wait for its request"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    [ "$("$X" irq-log "$d" | tail -1)" = "intx 00:05 A level 1" ] || fail "INTA not left high"
    start_pt pt2 --domid "$d" --ioservid "$id" || return
    pid=$pt_pid
    wait "$gpid" || fail "guest run after the restart: $(cat "$T/stuck.out")"
    grep -q "finished 1 request(s) a previous instance left" "$T/pt2.log" ||
        fail "the waiting request was not finished by the new instance"
    [ "$("$X" irq-log "$d" | tail -1)" = "intx 00:05 A level 0" ] ||
        fail "INTA still high after the restart: $("$X" irq-log "$d" | tail -3)"
    # The guest programs the function again (BAR0 where it was: the range
    # the dead instance mapped is still on the server) and it works.
    {
        bar0_setup 0x0002
        cat <<'EOF'
mmio-read 0xfebf0004 4 expect 0                   # fresh registers
mmio-read 0xfebf0008 4 expect 0
mmio-write 0xfebf000c 4 1
wait-irq intx 00:05.0 A timeout 2000
mmio-write 0xfebf0010 4 1
pci-write 00:05.0 0x10 4 0xfebe0000
mmio-read 0xfebe0000 4 expect 0x7e570001
mmio-read 0xfebf0000 4 expect 0xffffffff
EOF
    } | script after
    guest "$d" after
    stop_pt "$pid" pt2
    [ "$("$X" irq-log "$d" | tail -1)" = "intx 00:05 A level 0" ] || fail "INTA left high"
}

case_args() {
    local rc d
    "$PT" --help >"$T/help" 2>&1 || fail "--help failed"
    grep -q '^Usage: ioreq-pcitest' "$T/help" || fail "--help: $(cat "$T/help")"
    check_usage() { # EXPECTED-STATUS REGEX ARGS...
        local want=$1 re=$2
        shift 2
        "$PT" "$@" >"$T/args.out" 2>&1 </dev/null
        rc=$?
        [ $rc -eq "$want" ] || fail "ioreq-pcitest $*: exit $rc, want $want"
        grep -qE -- "$re" "$T/args.out" || fail "ioreq-pcitest $*: '$(cat "$T/args.out")' lacks '$re'"
        if [ "$want" -eq 2 ] && ! { [ "$(wc -l <"$T/args.out")" -eq 2 ] &&
            grep -qx "Try 'ioreq-pcitest --help'." "$T/args.out"; }; then
            fail "ioreq-pcitest $*: not one line and a pointer to --help: $(cat "$T/args.out")"
        fi
    }
    check_usage 2 '--domid is required' --slot 05.0
    check_usage 2 "--domid: 'x' is not a number" --domid x
    check_usage 2 "--ioservid: '65536' is out of range" --domid 1 --ioservid 65536
    check_usage 2 "--slot: '5' is not DD.F" --domid 1 --slot 5
    check_usage 2 "--slot: '05.8' is not DD.F" --domid 1 --slot 05.8
    check_usage 2 "--slot: '01:05.0' is not DD.F" --domid 1 --slot 01:05.0
    check_usage 2 "--slot: '005.0' is not DD.F" --domid 1 --slot 005.0
    check_usage 2 "--slot: '05.0x' is not DD.F" --domid 1 --slot 05.0x
    check_usage 2 "--slot: '20.0': device 20 is above 1f" --domid 1 --slot 20.0
    check_usage 2 "unknown option '--bogus'" --domid 1 --bogus
    check_usage 2 "--slot needs an argument" --domid 1 --slot
    check_usage 2 "unexpected argument 'extra'" --domid 1 extra
    check_usage 1 'creating an ioreq server for domain 999' --domid 999
    d=$(domain g hvm)
    check_usage 1 "attaching to ioreq server 7 of domain $d" --domid "$d" --ioservid 7
}

fn=case_$CASE
if ! declare -F "$fn" >/dev/null; then
    echo "unknown case $CASE"
    exit 2
fi
"$fn"
[ $failures -eq 0 ]
