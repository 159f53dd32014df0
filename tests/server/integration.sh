#!/usr/bin/env bash
# libioreq integration tests: real emulator processes built on libioreq,
# guests simulated by xensim.
#
#   integration.sh CASE XENSIM SAMPLE_DEVICE MAKE_SERVER POKE_SERVER PORT_DEVICE_EXAMPLE
#
# Each CASE runs in its own private simulator (`xensim run`).  Guest scripts
# (see hypervisor/sim/daemon/guest_script.h) check every value; the
# emulators' logs and counters are checked too.  Exit 0 when all held.
# shellcheck disable=SC2317,SC2028 # cases are called as case_$CASE; echo keeps script escapes
set -u

# shellcheck source-path=SCRIPTDIR source=it_harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/it_harness.sh"

if [ "${1:-}" != "--inside" ]; then
    [ $# -eq 6 ] || it_usage "CASE XENSIM SAMPLE_DEVICE MAKE_SERVER POKE_SERVER PORT_DEVICE_EXAMPLE"
    export CASE=$1 X=$2 DEV=$3 MK=$4 POKE=$5 EX=$6
    it_outer libioreq-it libioreq
fi

# ---- inside the simulator ----
it_inside
dev_pid= # set by start_dev

# start_dev NAME ARGS...: start sample_device, wait until it serves; sets $dev_pid
start_dev() {
    start_server dev_pid "$1" /dev/null - "$DEV" "${@:2}"
}

# stop_dev PID NAME: SIGTERM, expect a clean exit
stop_dev() { stop_server "$@"; }

# expect_log NAME REGEX [COUNT]: the emulator's log has REGEX (exactly COUNT times)
expect_log() {
    local n
    n=$(grep -cE -- "$2" "$T/$1.log")
    if [ $# -ge 3 ]; then
        [ "$n" -eq "$3" ] || fail "$1.log: '$2' $n times, want $3"
    else
        [ "$n" -ge 1 ] || fail "$1.log: no '$2'"
    fi
}

# counter NAME FIELD: a counter from the emulator's exit line
counter() {
    grep "stopped (" "$T/$1.log" | tail -1 | grep -oE "(;| )$2 [0-9]+" | awk '{ print $NF }'
}

servers_of() { # DOMID -> number of ioreq servers
    "$X" domain list | awk -v d="$1" '$1 == d { print $NF }'
}

# hex_counter FIRST N: hex of the bytes FIRST, FIRST+1, ... (mod 256), N of them
hex_counter() {
    awk -v first="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%02x", (first + i) % 256 }'
}

# ---- cases ----

case_ports_mmio() {
    local d
    d=$(domain g hvm 2)
    start_dev dev --domid "$d" --create || return
    local pid=$dev_pid
    script vcpu0 <<'EOF'
in 0x101 1 expect 0x5a
out 0x100 1 0x42
in 0x100 1 expect 0x42
out 0x102 2 0xbeef
in 0x102 2 expect 0xbeef
out 0x104 4 0xdeadbeef
in 0x104 4 expect 0xdeadbeef
in 0x104 2 expect 0xbeef             # narrower reads of a wider register
in 0x10e 4 expect 0xffffffff         # runs past the region: nobody serves it
in 0x110 1 expect 0xff               # outside the region
mmio-write 0xa0000 1 0x11
mmio-write 0xa0001 1 0x22
mmio-write 0xa0002 2 0x4433
mmio-read 0xa0000 4 expect 0x44332211
mmio-write 0xa0008 8 0x0123456789abcdef
mmio-read 0xa0008 8 expect 0x0123456789abcdef
mmio-read 0xa000c 4 expect 0x01234567
mmio-read 0xafff8 8 expect 0
mmio-read 0xafffc 8 expect 0xffffffffffffffff   # crosses the end of the RAM region
mmio-read 0xfed00000 4 expect 0xfeedface
mmio-write 0xfed00004 4 0x600d
mmio-read 0xfed00004 4 expect 0x600d
out 0x10e 1 2                        # the device moves its window to 0xfed02000
mmio-read 0xfed02000 4 expect 0xfeedface
mmio-read 0xfed02004 4 expect 0x600d
mmio-read 0xfed00000 4 expect 0xffffffff
out 0x10e 1 0
mmio-read 0xfed00000 4 expect 0xfeedface
mmio-read 0xfed02000 4 expect 0xffffffff
EOF
    script vcpu1 <<'EOF'
in 0x101 1 expect 0x5a
in 0x109 1 expect 0
in 0x109 1 expect 1
in 0x109 1 expect 2
mmio-write 0xa8000 4 0x76543210
mmio-read 0xa8000 4 expect 0x76543210
in 0x101 1 expect 0x5a
EOF
    guest "$d" vcpu0 vcpu1
    stop_dev "$pid" dev
    [ "$(counter dev sync)" -ge 30 ] || fail "sync counter $(counter dev sync)"
    [ "$(counter dev invalid)" -eq 0 ] || fail "invalid requests: $(counter dev invalid)"
    [ "$(servers_of "$d")" = 0 ] || fail "the emulator's server outlived it"
}

# four vCPUs at once, each on its own addresses, served by a program with its own poll loop
case_vcpus() {
    local d v i
    d=$(domain g hvm 4)
    start_dev dev --domid "$d" --create --own-loop || return
    local pid=$dev_pid
    for v in 0 1 2 3; do
        for ((i = 0; i < 150; i++)); do
            printf 'mmio-write 0x%x 4 0x%x\n' $((0xa0000 + 0x1000 * v + 4 * i)) $((v << 24 | i))
            printf 'mmio-read 0x%x 4 expect 0x%x\n' $((0xa0000 + 0x1000 * v + 4 * i)) $((v << 24 | i))
            echo 'in 0x101 1 expect 0x5a'
        done | script "v$v"
    done
    guest "$d" v0 v1 v2 v3
    stop_dev "$pid" dev
    [ "$(counter dev sync)" -eq 1800 ] || fail "sync $(counter dev sync), want 1800"
}

case_strings() {
    local d
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create || return
    local pid=$dev_pid
    {
        echo 'mem-write 0x1000 "Hello, FIFO!\x00\xff\x80"'
        echo 'rep-outsb 0x108 0x1000 15                # 15 bytes into the FIFO, in order'
        echo 'rep-insb 0x108 0x2000 15'
        echo 'mem-read 0x2000 15 expect "Hello, FIFO!\x00\xff\x80"'
        echo 'in 0x108 1 expect 0xee                   # empty now'
        echo 'rep-insb 0x109 0x3000 8                  # the counter: 0..7 at ascending addresses'
        echo 'mem-read 0x3000 8 expect hex:0001020304050607'
        echo 'mem-write 0x4000 hex:11111111222222223333333344444444'
        echo 'rep-outsl 0x104 0x4000 4                 # the register keeps the last element'
        echo 'in 0x104 4 expect 0x44444444'
        echo 'rep-insw 0x102 0x4100 3'
        echo 'out 0x102 2 0xabcd'
        echo 'rep-insw 0x102 0x4100 3'
        echo 'mem-read 0x4100 6 expect hex:cdabcdabcdab'
        # MMIO string moves: successive device addresses
        echo 'mem-write 0x5000 hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
        echo 'rep-mmio-write 0xa0100 4 0x5000 8'
        echo 'mmio-read 0xa0100 4 expect 0x03020100'
        echo 'mmio-read 0xa011c 4 expect 0x1f1e1d1c'
        echo 'rep-mmio-write 0xa0200 8 0x5000 4'
        echo 'mmio-read 0xa0218 8 expect 0x1f1e1d1c1b1a1918'
        echo 'rep-mmio-read 0xa0100 2 0x6000 16'
        echo 'mem-read 0x6000 32 expect hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
        # guest buffer across a page boundary and, below, across mapping-cache buckets
        echo 'mem-write 0x7ffc hex:a1a2a3a4a5a6a7a8'
        echo 'rep-mmio-write 0xa1000 1 0x7ffc 8'
        echo 'mmio-read 0xa1000 8 expect 0xa8a7a6a5a4a3a2a1'
        echo 'rep-insb 0x109 0x1f800 4096'
        echo "mem-read 0x1f800 4096 expect hex:$(hex_counter 8 4096)"
        echo 'invalidate                               # drops the mapping cache'
        echo 'rep-mmio-read 0xa1000 1 0x30000 8'
        echo 'mem-read 0x30000 8 expect hex:a1a2a3a4a5a6a7a8'
        # a guest buffer outside guest RAM: the emulator says so and goes on
        echo 'rep-outsb 0x108 0x10000000 4'
        echo 'in 0x108 1 expect 0xee'
        echo 'in 0x101 1 expect 0x5a'
    } | script strings
    guest "$d" strings
    stop_dev "$pid" dev
    expect_log dev "guest memory from 0x10000000 is not accessible" 1
}

# buffered MODE
buffered() {
    local d
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create --bufioreq "$1" || return
    local pid=$dev_pid i
    # 560 8-byte writes take 1120 slots: the 511-slot ring wraps twice (and
    # fills up: the core then goes synchronous), then mixed sizes.
    {
        for ((i = 0; i < 560; i++)); do
            printf 'mmio-write 0x%x 8 0x%x\n' $((0xa0000 + 8 * i)) $((0x1000000000000000 + i * 0x100010001))
        done
        echo 'mmio-write 0xa2000 1 0x11'
        echo 'mmio-write 0xa2001 1 0x22'
        echo 'mmio-write 0xa2002 2 0x4433'
        echo 'mmio-write 0xa2004 4 0x88776655'
        echo 'timeoffset -5'
        echo 'mmio-read 0xa2000 8 expect 0x8877665544332211'
    } | script writes
    {
        for ((i = 0; i < 560; i += 7)); do
            printf 'mmio-read 0x%x 8 expect 0x%x\n' $((0xa0000 + 8 * i)) $((0x1000000000000000 + i * 0x100010001))
        done
        printf 'mmio-read 0x%x 8 expect 0x%x\n' $((0xa0000 + 8 * 559)) $((0x1000000000000000 + 559 * 0x100010001))
    } | script reads
    guest "$d" writes
    guest "$d" reads
    stop_dev "$pid" dev
    local n
    n=$(counter dev buffered)
    [ "${n:-0}" -ge 100 ] || fail "only ${n:-0} posted writes went through the ring"
    [ "$(counter dev invalid)" -eq 0 ] || fail "invalid requests: $(counter dev invalid)"
    expect_log dev "timeoffset -5" 1
}

case_buffered_legacy() { buffered legacy; }
case_buffered_atomic() { buffered atomic; }

case_pci() {
    local d
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create || return
    local pid=$dev_pid
    script pci <<'EOF'
# identity, as enumeration sees it through CF8/CFC
pci-read 00:05.0 0x00 4 expect 0x11e91234
pci-read 00:05.0 0x00 2 expect 0x1234
pci-read 00:05.0 0x02 2 expect 0x11e9
pci-read 00:05.0 0x08 4 expect 0x08800001
pci-read 00:05.0 0x0e 1 expect 0x00
pci-read 00:05.0 0x2c 4 expect 0x11001af4
pci-read 00:05.0 0x3d 1 expect 0x01
pci-read 00:06.0 0x00 4 expect 0xffffffff         # nobody there
# read-only and writable header bits
pci-write 00:05.0 0x00 4 0xffffffff
pci-read 00:05.0 0x00 4 expect 0x11e91234
pci-write 00:05.0 0x08 4 0
pci-read 00:05.0 0x08 4 expect 0x08800001
pci-write 00:05.0 0x04 2 0xffff
pci-read 00:05.0 0x04 2 expect 0x0547
pci-write 00:05.0 0x04 2 0
pci-write 00:05.0 0x06 2 0xffff                   # W1C bits (none set), RO bits stay
pci-read 00:05.0 0x06 2 expect 0x0010
pci-write 00:05.0 0x0c 1 0x10
pci-read 00:05.0 0x0c 1 expect 0x10
pci-write 00:05.0 0x3c 1 0x0b
pci-read 00:05.0 0x3c 1 expect 0x0b
pci-write 00:05.0 0x3d 1 0x04
pci-read 00:05.0 0x3d 1 expect 0x01
# the capability list: 0x40 MSI -> 0x50 vendor-specific -> end
pci-read 00:05.0 0x34 1 expect 0x40
pci-read 00:05.0 0x40 2 expect 0x5005
pci-read 00:05.0 0x42 2 expect 0x0080
pci-read 00:05.0 0x50 2 expect 0x0009
# device-specific registers go to the device
pci-write 00:05.0 0x60 4 0x12345678
pci-read 00:05.0 0x60 4 expect 0x12345678
pci-read 00:05.0 0x62 2 expect 0x1234
pci-write 00:05.0 0x61 1 0xaa
pci-read 00:05.0 0x60 4 expect 0x1234aa78
pci-read 00:05.0 0x70 4 expect 0
# BAR sizing: all ones reads back the size mask and the type bits
pci-write 00:05.0 0x10 4 0xffffffff
pci-read 00:05.0 0x10 4 expect 0xfffff000
pci-write 00:05.0 0x14 4 0xffffffff
pci-read 00:05.0 0x14 4 expect 0xfffffff1
pci-write 00:05.0 0x18 4 0xffffffff
pci-read 00:05.0 0x18 4 expect 0
pci-write 00:05.0 0x30 4 0xffffffff              # no expansion ROM
pci-read 00:05.0 0x30 4 expect 0
# programming: nothing decodes until COMMAND says so
pci-write 00:05.0 0x10 4 0xfebf0000
pci-write 00:05.0 0x14 4 0xc000
pci-read 00:05.0 0x10 4 expect 0xfebf0000
pci-read 00:05.0 0x14 4 expect 0xc001
mmio-read 0xfebf0000 4 expect 0xffffffff
in 0xc000 1 expect 0xff
pci-write 00:05.0 0x04 2 0x0003
mmio-read 0xfebf0000 4 expect 0x5a5a1234
mmio-write 0xfebf0004 4 0xcafef00d
mmio-read 0xfebf0004 4 expect 0xcafef00d
in 0xc000 1 expect 0xb1
out 0xc004 1 0x5c
in 0xc004 1 expect 0x5c
# moving the BARs moves the device; the old addresses read all ones
pci-write 00:05.0 0x10 4 0xfebe0000
mmio-read 0xfebe0000 4 expect 0x5a5a1234
mmio-read 0xfebe0004 4 expect 0xcafef00d
mmio-read 0xfebf0000 4 expect 0xffffffff
pci-write 00:05.0 0x14 4 0xd000
in 0xd000 1 expect 0xb1
in 0xc000 1 expect 0xff
# sizing a decoding BAR takes it away (the pattern is not a placement), reprogramming brings it back
pci-write 00:05.0 0x10 4 0xffffffff
mmio-read 0xfebe0000 4 expect 0xffffffff
pci-write 00:05.0 0x10 4 0xfebe0000
mmio-read 0xfebe0000 4 expect 0x5a5a1234
# memory decode off: BAR0 goes, BAR1 stays
pci-write 00:05.0 0x04 2 0x0001
mmio-read 0xfebe0000 4 expect 0xffffffff
in 0xd000 1 expect 0xb1
pci-write 00:05.0 0x04 2 0x0003
# DMA through BAR0: guest memory to guest memory, across a page boundary
mem-write 0x3ffc "hello, dma"
mmio-write 0xfebe0020 8 0x3ffc
mmio-write 0xfebe0028 8 0x9000
mmio-write 0xfebe0030 4 10
mmio-write 0xfebe0034 4 1
mmio-read 0xfebe0038 4 expect 0
mem-read 0x9000 10 expect "hello, dma"
mmio-write 0xfebe0020 8 0x10000000                # outside guest RAM
mmio-write 0xfebe0034 4 1
mmio-read 0xfebe0038 4 expect 14                  # EFAULT
EOF
    guest "$d" pci
    stop_dev "$pid" dev
}

case_msi_intx() {
    local d
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create || return
    local pid=$dev_pid
    script intx <<'EOF'
pci-write 00:05.0 0x10 4 0xfebf0000
pci-write 00:05.0 0x04 2 0x0002
mmio-write 0xfebf0008 4 1                         # raise: INTx (MSI is off)
mmio-read 0xfebf000c 4 expect 0
wait-irq intx 00:05.0 A timeout 2000
pci-read 00:05.0 0x06 2 expect 0x0018             # interrupt status + capabilities
mmio-write 0xfebf0010 4 1                         # lower
pci-read 00:05.0 0x06 2 expect 0x0010
pci-write 00:05.0 0x04 2 0x0402                   # INTx disabled: status only
mmio-write 0xfebf0008 4 1
pci-read 00:05.0 0x06 2 expect 0x0018
mmio-write 0xfebf0010 4 1
EOF
    script msi <<'EOF'
pci-write 00:05.0 0x44 4 0xfee00000
pci-write 00:05.0 0x48 4 0
pci-write 00:05.0 0x4c 2 0x0041
pci-write 00:05.0 0x42 2 0x00f1                   # only the enable bit is writable
pci-read 00:05.0 0x42 2 expect 0x0081
pci-read 00:05.0 0x44 4 expect 0xfee00000
pci-write 00:05.0 0x04 2 0x0002                   # no bus mastering: no message
mmio-write 0xfebf0008 4 1
pci-write 00:05.0 0x04 2 0x0006
mmio-write 0xfebf0008 4 1
mmio-read 0xfebf000c 4 expect 0
wait-irq msi timeout 2000
EOF
    guest "$d" intx
    guest "$d" msi
    stop_dev "$pid" dev
    "$X" irq-log "$d" >"$T/irq.out"
    [ "$(grep -c 'intx 00:05 A level 1' "$T/irq.out")" = 1 ] ||
        fail "want one INTx assertion: $(cat "$T/irq.out")"
    [ "$(grep -c 'intx 00:05 A level 0' "$T/irq.out")" = 1 ] ||
        fail "want one INTx deassertion: $(cat "$T/irq.out")"
    [ "$(grep -c '^msi addr 0xfee00000 data 0x41$' "$T/irq.out")" = 1 ] ||
        fail "want exactly one MSI: $(cat "$T/irq.out")"
}

case_isa_irq() {
    local h p
    h=$(domain hvm hvm 1)
    p=$(domain pvh pvh 1)
    start_dev hvm --domid "$h" --create || return
    local hpid=$dev_pid
    start_dev pvh --domid "$p" --create --no-pic || return
    local ppid=$dev_pid
    script hvm <<'EOF'
out 0x10a 1 5
in 0x10b 1 expect 0
wait-irq isa 5 timeout 2000
EOF
    script pvh <<'EOF'
out 0x10a 1 5
in 0x10b 1 expect 95                              # EOPNOTSUPP: no PIC, never sent
out 0x10a 1 6
in 0x10b 1 expect 95
in 0x101 1 expect 0x5a
EOF
    guest "$h" hvm
    guest "$p" pvh
    stop_dev "$hpid" hvm
    stop_dev "$ppid" pvh
    "$X" irq-log "$h" | grep -qx 'isa 5 level 1' || fail "no ISA IRQ 5 on the HVM guest"
    "$X" irq-log "$h" | grep -qx 'isa 5 level 0' || fail "ISA IRQ 5 not lowered"
    [ -z "$("$X" irq-log "$p")" ] || fail "interrupts on the PVH guest: $("$X" irq-log "$p")"
    expect_log pvh "ISA IRQ 5 not driven: domain $p has no emulated PIC" 1
    expect_log pvh "not driven" 1
}

case_attach() {
    local d id
    d=$(domain g hvm 1)
    # a server as the router makes one: created elsewhere, ranges mapped, not enabled
    id=$("$MK" "$d" port 0x100-0x10f mmio 0xfed00000-0xfed1ffff pci 05.0) ||
        { fail "make_server"; return; }
    script before <<'EOF'
in 0x101 1 expect 0xff                            # not enabled yet: nobody serves
EOF
    guest "$d" before
    start_dev dev --domid "$d" --attach "$id" || return
    local pid=$dev_pid
    [ "$(cat "$T/dev.ready")" = "$id" ] || fail "attached to $(cat "$T/dev.ready"), want $id"
    script after <<'EOF'
in 0x101 1 expect 0x5a
mmio-read 0xfed00000 4 expect 0xfeedface
pci-read 00:05.0 0x00 4 expect 0x11e91234
mmio-read 0xa0000 4 expect 0xffffffff             # the router did not map the RAM
out 0x10e 1 1                                     # the window moves inside the router's range:
mmio-read 0xfed01000 4 expect 0xfeedface
mmio-read 0xfed00000 4 expect 0xffffffff          # still routed here, but no region: all ones
pci-write 00:05.0 0x10 4 0xfebf0000               # a BAR: the emulator maps it itself
pci-write 00:05.0 0x04 2 0x0002
mmio-read 0xfebf0000 4 expect 0x5a5a1234
EOF
    guest "$d" after
    stop_dev "$pid" dev
    [ "$(servers_of "$d")" = 1 ] || fail "the attached server did not stay"
    [ "$(counter dev unhandled)" -ge 1 ] || fail "no unhandled access counted"
    # a second instance attaches again; the BAR mapping went with the first
    start_dev dev2 --domid "$d" --attach "$id" || return
    script again <<'EOF'
in 0x101 1 expect 0x5a
mmio-read 0xfebf0000 4 expect 0xffffffff
EOF
    guest "$d" again
    stop_dev "$dev_pid" dev2
}

case_restart_inprocess() {
    local d id
    d=$(domain g hvm 2)
    start_dev dev --domid "$d" --create --hang "$T/hung" || return
    local pid=$dev_pid
    id=$(cat "$T/dev.ready")
    script stuck <<'EOF'
out 0x100 1 0x77
in 0x10c 1 expect 0xc3                            # the first instance dies serving this
in 0x101 1 expect 0x5a
EOF
    "$X" guest run "$d" "$T/stuck.gio" >"$T/stuck.out" 2>&1 &
    local gpid=$!
    wait_file "$T/hung" -e || fail "the request never reached the emulator"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    sleep 0.2
    kill -0 "$gpid" 2>/dev/null || fail "the guest did not wait for its request"
    start_dev dev2 --domid "$d" --attach "$id" || return
    wait "$gpid" || fail "guest run after restart: $(cat "$T/stuck.out")"
    script more <<'EOF'
in 0x101 1 expect 0x5a
EOF
    guest "$d" more
    stop_dev "$dev_pid" dev2
    [ "$(counter dev2 resumed)" = 1 ] || fail "resumed $(counter dev2 resumed), want 1"
    expect_log dev2 "finished 1 request\(s\) a previous instance left" 1
}

case_restart_ready() {
    local d id
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create --bufioreq atomic || return
    local pid=$dev_pid
    id=$(cat "$T/dev.ready")
    kill -STOP "$pid"
    script stuck <<'EOF'
mmio-write 0xa0010 4 0xcafe0001                   # posted: left in the ring
in 0x101 1 expect 0x5a                            # left READY in the slot
mmio-read 0xa0010 4 expect 0xcafe0001
EOF
    "$X" guest run "$d" "$T/stuck.gio" >"$T/stuck.out" 2>&1 &
    local gpid=$!
    wait_request "$d" "$id" 0 || fail "the guest's request never reached the slot"
    kill -0 "$gpid" 2>/dev/null || fail "the guest did not wait for its request"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    start_dev dev2 --domid "$d" --attach "$id" || return
    wait "$gpid" || fail "guest run after restart: $(cat "$T/stuck.out")"
    stop_dev "$dev_pid" dev2
    [ "$(counter dev2 resumed)" = 1 ] || fail "resumed $(counter dev2 resumed), want 1"
    [ "$(counter dev2 buffered)" -ge 1 ] || fail "the posted write was not drained"
}

case_sigterm() {
    local d id
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create || return
    local pid=$dev_pid
    id=$(cat "$T/dev.ready")
    kill -STOP "$pid"
    script inflight <<'EOF'
in 0x101 1 expect 0x5a                            # pending when SIGTERM comes: still answered
EOF
    "$X" guest run "$d" "$T/inflight.gio" >"$T/inflight.out" 2>&1 &
    local gpid=$!
    wait_request "$d" "$id" 0 || fail "the guest's request never reached the slot"
    kill -TERM "$pid"
    kill -CONT "$pid"
    wait "$pid"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
    wait "$gpid" || fail "the in-flight request: $(cat "$T/inflight.out")"
    expect_log dev "stopped \(Terminated\)" 1
    [ "$(servers_of "$d")" = 0 ] || fail "the server was not destroyed"
    script after <<'EOF'
in 0x101 1 expect 0xff
EOF
    guest "$d" after
}

case_garbage() {
    local d id
    d=$(domain g hvm 1)
    start_dev dev --domid "$d" --create --bufioreq legacy || return
    local pid=$dev_pid
    id=$(cat "$T/dev.ready")
    # requests rewritten in the slot while READY: each is answered as unhandled
    local i
    local -a pokes=(
        "size=3"
        "size=0"
        "count=0"
        "type=0x55"
        "type=2 addr=0x12340000ffff"
        "count=0xffffffff ptr=1 data=0x1000"
        "ptr=1 df=1 data=0 count=2"
        "addr=0x10000"
    )
    for i in "${!pokes[@]}"; do
        kill -STOP "$pid"
        script "g$i" <<'EOF'
in 0x101 1 expect 0xff
EOF
        "$X" guest run "$d" "$T/g$i.gio" >"$T/g.out" 2>&1 &
        local gpid=$!
        wait_request "$d" "$id" 0 || fail "garbage '${pokes[$i]}': the request never reached the slot"
        # shellcheck disable=SC2086
        "$POKE" "$d" "$id" slot 0 ${pokes[$i]} || fail "poke ${pokes[$i]}"
        kill -CONT "$pid"
        wait "$gpid" || fail "garbage '${pokes[$i]}': $(cat "$T/g.out")"
    done
    # garbage in the ring: skipped; a valid entry after it still lands
    "$POKE" "$d" "$id" ring-push 0x55 0 0 0 0  0 1 0 0x100 0  0 0 0 0x100 0x77 ||
        fail "ring-push"
    script ring <<'EOF'
in 0x100 1 expect 0x77
EOF
    guest "$d" ring
    # inconsistent ring pointers: the ring is reset, service goes on
    "$POKE" "$d" "$id" ring-pointers 5 2000 || fail "ring-pointers"
    script after <<'EOF'
in 0x101 1 expect 0x5a
mmio-write 0xa0000 4 0x12345678
mmio-read 0xa0000 4 expect 0x12345678
EOF
    guest "$d" after
    stop_dev "$pid" dev
    [ "$(counter dev invalid)" -ge 11 ] || fail "invalid $(counter dev invalid), want >= 11"
    expect_log dev "malformed request"
    expect_log dev "ring reset" 1
}

case_example() {
    local d id
    d=$(domain g hvm 1)
    "$EX" "$d" >"$T/example.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do
        grep -q serving "$T/example.log" && break
        sleep 0.05
    done
    script ex <<'EOF'
out 0x510 1 0x33
in 0x510 1 expect 0x33
in 0x511 1 expect 1
in 0x511 1 expect 2
EOF
    guest "$d" ex
    stop_dev "$pid" example
    # attached to a server made elsewhere
    id=$("$MK" "$d" port 0x510-0x511) || { fail "make_server"; return; }
    "$EX" "$d" "$id" >"$T/example2.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do
        grep -q serving "$T/example2.log" && break
        sleep 0.05
    done
    guest "$d" ex
    stop_dev "$pid" example2
}

fn=case_$CASE
if ! declare -F "$fn" >/dev/null; then
    echo "unknown case $CASE"
    exit 2
fi
"$fn"
exit $failures
