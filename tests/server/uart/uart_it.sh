#!/usr/bin/env bash
# ioreq-uart under xensim: a real emulator process, guests whose scripts
# check every register value they read.
#
#   uart_it.sh CASE XENSIM IOREQ_UART [MAKE_SERVER]
#
# Each CASE runs in its own private simulator (`xensim run`).  Exit 0 when
# every check held, 77 when the case cannot run here (attach needs
# MAKE_SERVER, the libioreq tests' server maker).
set -u

# shellcheck source-path=SCRIPTDIR source=../it_harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../it_harness.sh"

if [ "${1:-}" != "--inside" ]; then
    [ $# -ge 3 ] || it_usage "CASE XENSIM IOREQ_UART [MAKE_SERVER]"
    export CASE=$1 X=$2 UART=$3 MK=${4:-}
    it_outer uart-it ioreq-uart skip77
fi

# ---- inside the simulator ----
it_inside
uart_pid= # set by start_uart

# start_uart NAME ARGS...: start ioreq-uart (stdin from $uart_stdin or
# /dev/null, stdout to NAME.out), wait until it serves; sets $uart_pid
start_uart() {
    start_server uart_pid "$1" "${uart_stdin:-/dev/null}" "$T/$1.out" "$UART" "${@:2}" -v
}

stop_uart() { stop_server "$@"; } # PID NAME: SIGTERM, expect exit 0

# Linux's 8250 autoconfig and startup, step by step, as a guest at BASE;
# with OUT2 set and THRI enabled the IRQ must be raised (wait-irq).
probe_script() { # BASE IRQ
    local b=$1 irq=$2
    local ier=$((b + 1)) iir=$((b + 2)) lcr=$((b + 3)) mcr=$((b + 4)) lsr=$((b + 5))
    local msr=$((b + 6)) scr=$((b + 7))
    cat <<EOF
# is anything there: IER holds 0 and 0x0f
in $ier 1 expect 0
out $ier 1 0
in $ier 1 expect 0
out $ier 1 0x0f
in $ier 1 expect 0x0f
out $ier 1 0
in $mcr 1 expect 0
in $lcr 1 expect 0
# loopback with RTS and OUT2 shows CTS and DCD (DDSR: DSR dropped)
out $mcr 1 0x1a
in $msr 1 expect 0x92
out $mcr 1 0
# EFR of a 16650 (here: FCR) behind LCR=0xbf
out $lcr 1 0xbf
out $iir 1 0
out $lcr 1 0
# FIFO enable: IIR bits 7..6 = 11
out $iir 1 0x01
in $iir 1 expect 0xc1
# not an ST16C650V1 nor a 16650: offset 2 is IIR with LCR 0x80 / 0xbf
out $lcr 1 0x80
in $iir 1 expect 0xc1
out $lcr 1 0xbf
in $iir 1 expect 0xc1
# not a National part: no loopback bit through bank 2
out $lcr 1 0
in $mcr 1 expect 0
out $lcr 1 0xe0
in $iir 1 expect 0xc1
out $lcr 1 0
out $mcr 1 0x10
out $lcr 1 0xe0
in $iir 1 expect 0xc1
out $lcr 1 0
out $mcr 1 0
# not a 16750: IIR bit 5 never set
out $iir 1 0x21
in $iir 1 expect 0xc1
out $iir 1 0x01
out $lcr 1 0x80
out $iir 1 0x21
in $iir 1 expect 0xc1
out $iir 1 0x01
out $lcr 1 0
# not XScale: IER bit 6 does not stick
out $ier 1 0x40
in $ier 1 expect 0
# so: a 16550A.  Reset FIFOs, interrupts off.
out $iir 1 0x01
out $iir 1 0x07
out $iir 1 0
in $b 1
out $ier 1 0
# scratch register
out $scr 1 0xa5
in $scr 1 expect 0xa5
out $scr 1 0x5a
in $scr 1 expect 0x5a
# startup: idle LSR, 8N1, THRE re-asserts after an IIR read
in $lsr 1 expect 0x60
out $lcr 1 0x03
out $ier 1 0x02
in $iir 1 expect 0x02
in $iir 1 expect 0x01
out $ier 1 0
out $ier 1 0x02
in $iir 1 expect 0x02
out $ier 1 0
# DTR, RTS, OUT2; the TX-enable check raises the IRQ
out $mcr 1 0x0b
out $ier 1 0x02
wait-irq isa $irq timeout 2000
in $lsr 1 expect 0x60
in $iir 1 expect 0x02
out $ier 1 0
# termios: 115200 8N1, FIFOs with an 8-byte trigger
out $lcr 1 0x83
out $b 1 0x01
out $ier 1 0x00
in $b 1 expect 0x01
in $ier 1 expect 0x00
out $lcr 1 0x03
out $iir 1 0x81
in $iir 1 expect 0xc1
in $lsr 1 expect 0x60
out $ier 1 0x05
EOF
}

# ---- cases ----

case_probe() {
    local d
    d=$(domain g hvm)
    start_uart uart --domid "$d" --backend "file:$T/line" || return
    local pid=$uart_pid
    probe_script 0x3f8 4 | script probe
    guest "$d" probe
    stop_uart "$pid" uart
    "$X" irq-log "$d" | grep -qx 'isa 4 level 1' || fail "IRQ 4 never raised"
    [ "$("$X" irq-log "$d" | tail -1)" = "isa 4 level 0" ] || fail "IRQ 4 left high"
    [ ! -s "$T/line" ] || fail "the probe put bytes on the line: $(od -c "$T/line")"
}

case_transmit() {
    local d
    d=$(domain g hvm)
    start_uart uart --domid "$d" --backend "file:$T/line" || return
    local pid=$uart_pid
    {
        probe_script 0x3f8 4
        # polled console output
        echo 'out 0x3f9 1 0'
        for c in 0x6f 0x6b 0x0d 0x0a; do
            echo 'in 0x3fd 1 expect 0x60'
            echo "out 0x3f8 1 $c"
        done
        # interrupt-driven: THRI, IRQ, IIR 0xc2, a FIFO's worth, again
        echo 'out 0x3f9 1 0x07'
        echo 'wait-irq isa 4 timeout 2000'
        echo 'in 0x3fa 1 expect 0xc2'
        echo 'in 0x3fd 1 expect 0x60'
        echo 'rep-outsb 0x3f8 0x1000 16'
        echo 'in 0x3fa 1 expect 0xc2'
        echo 'in 0x3fa 1 expect 0xc1'
        echo 'out 0x3f9 1 0x05'
        echo 'in 0x3fa 1 expect 0xc1'
    } | script tx
    sed -i '1i mem-write 0x1000 "0123456789abcdef"' "$T/tx.gio"
    guest "$d" tx
    stop_uart "$pid" uart
    expect_file "$T/line" 'ok\r\n0123456789abcdef'
    [ "$("$X" irq-log "$d" | tail -1)" = "isa 4 level 0" ] || fail "IRQ 4 left high"
}

case_receive() {
    local d
    d=$(domain g hvm)
    mkfifo "$T/in"
    # Hold the FIFO open for writing so the emulator never sees end of input.
    exec 7<>"$T/in"
    uart_stdin=$T/in start_uart uart --domid "$d" --backend stdio || return
    local pid=$uart_pid
    # One run, so that wait-irq waits for a new interrupt: set up, print a
    # prompt, and wait for the input the host types once it sees the prompt.
    {
        probe_script 0x3f8 4
        cat <<'EOF'
out 0x3f8 1 0x3e                # the prompt
wait-irq isa 4 timeout 30000
in 0x3fa 1 expect 0xcc          # 5 bytes, below the trigger: character timeout
in 0x3fd 1 expect 0x61
in 0x3f8 1 expect 0x68
in 0x3f8 1 expect 0x65
in 0x3f8 1 expect 0x6c
in 0x3f8 1 expect 0x6c
in 0x3f8 1 expect 0x6f
in 0x3fd 1 expect 0x60
in 0x3fa 1 expect 0xc1
# loopback echo: nothing reaches the line
out 0x3fc 1 0x1b
out 0x3f8 1 0x21
in 0x3fd 1 expect 0x61
in 0x3f8 1 expect 0x21
out 0x3fc 1 0x0b
out 0x3f8 1 0x2e
EOF
    } | script rx
    guest "$d" rx &
    local g=$!
    for _ in $(seq 200); do [ -s "$T/uart.out" ] && break; sleep 0.05; done
    printf 'hello' >&7
    wait "$g"
    # guest ran in a subshell: its failures are in guest.out
    [ ! -s "$T/guest.out" ] || fail "guest run rx: $(cat "$T/guest.out")"
    stop_uart "$pid" uart
    exec 7>&-
    expect_file "$T/uart.out" '>.'
}

case_pty() {
    local d pts
    d=$(domain g hvm)
    start_uart uart --domid "$d" --backend pty || return
    local pid=$uart_pid
    pts=$(sed -n 's/^ioreq-uart: pty //p' "$T/uart.out")
    [ -c "$pts" ] || { fail "no pty slave announced: $(cat "$T/uart.out")"; return; }
    timeout 10 head -c 3 <"$pts" >"$T/from_pty" &
    local reader=$!
    script out <<'EOF'
out 0x3f8 1 0x61
out 0x3f8 1 0x62
out 0x3f8 1 0x63
EOF
    guest "$d" out
    wait "$reader" || fail "reading the pty"
    expect_file "$T/from_pty" 'abc'
    printf 'Z' >"$pts"
    script in <<'EOF'
out 0x3fc 1 0x08
out 0x3f9 1 0x01
wait-irq isa 4 timeout 2000
in 0x3fa 1 expect 0x04
in 0x3f8 1 expect 0x5a
in 0x3fa 1 expect 0x01
EOF
    guest "$d" in
    stop_uart "$pid" uart
}

case_pvh() {
    local d
    d=$(domain p pvh)
    start_uart uart --domid "$d" --pvh --backend "file:$T/line" || return
    local pid=$uart_pid
    script pvh <<'EOF'
out 0x3fc 1 0x0b
out 0x3f9 1 0x02
in 0x3fa 1 expect 0x02          # pending in IIR, but no IRQ is ever driven
out 0x3f8 1 0x70
in 0x3fd 1 expect 0x60
EOF
    guest "$d" pvh
    stop_uart "$pid" uart
    [ -z "$("$X" irq-log "$d")" ] || fail "interrupts on the PVH guest: $("$X" irq-log "$d")"
    expect_file "$T/line" 'p'
}

# A PVH guest, and no --pvh: libioreq asks Xen (libxenctrl), learns that
# the domain has no emulated PIC and never drives the IRQ: nothing in the
# interrupt log, nothing even tried (the domain refused no dm_op), and one
# line says so.  The same emulator on an HVM guest still raises it.
case_pvh_auto() {
    local p h
    p=$(domain p pvh)
    h=$(domain h hvm)
    start_uart up --domid "$p" --backend "file:$T/line" || return
    local pid=$uart_pid
    start_uart uh --domid "$h" --base 0x2f8 --irq 3 --backend "file:$T/line2" || return
    local pid2=$uart_pid
    # lowering the line at start is no refusal: nothing to warn about yet
    if grep -q warning "$T/up.log"; then fail "warnings at start: $(grep warning "$T/up.log")"; fi
    script pvh <<'EOF'
out 0x3fc 1 0x0b
out 0x3f9 1 0x02
in 0x3fa 1 expect 0x02          # pending in IIR, but no IRQ is ever driven
out 0x3f8 1 0x70
in 0x3fd 1 expect 0x60
out 0x3f9 1 0
out 0x3f9 1 0x02
EOF
    guest "$p" pvh
    script hvm <<'EOF'
out 0x2fc 1 0x0b
out 0x2f9 1 0x02
wait-irq isa 3 timeout 2000
in 0x2fa 1 expect 0x02
EOF
    guest "$h" hvm
    stop_uart "$pid" up
    stop_uart "$pid2" uh
    [ -z "$("$X" irq-log "$p")" ] || fail "interrupts on the PVH guest: $("$X" irq-log "$p")"
    "$X" domain info "$p" | grep -qx 'refused-irqs 0' ||
        fail "the PVH guest refused interrupts: $("$X" domain info "$p")"
    local said="domain $p has no emulated PIC/IOAPIC: ISA IRQs will not be raised"
    [ "$(grep -cF "$said" "$T/up.log")" = 1 ] || fail "up.log does not say once '$said'"
    # the guest's raise is refused once, by libioreq alone
    [ "$(grep -c warning "$T/up.log")" = 1 ] && grep -q 'warning: ISA IRQ 4 not driven' "$T/up.log" ||
        fail "up.log's warnings: $(grep warning "$T/up.log")"
    "$X" irq-log "$h" | grep -qx 'isa 3 level 1' || fail "IRQ 3 never raised on the HVM guest"
    if grep -q "no emulated PIC" "$T/uh.log"; then
        fail "uh.log: $(grep "no emulated PIC" "$T/uh.log")"
    fi
    expect_file "$T/line" 'p'
}

# The same PVH guest when Xen cannot be asked (here: Debian's libxenctrl,
# which finds no /dev/xen/privcmd, instead of the drop-in): libioreq keeps
# the caller's word (a PIC) and says why at debug level; the domain refuses
# the interrupt dm_op.
case_pvh_noquery() {
    local p lib f
    p=$(domain p pvh)
    lib=${LD_LIBRARY_PATH%%:*}
    if [ -z "$lib" ] || [ ! -e "$lib/libxenctrl.so.4.17" ]; then
        fail "no drop-in libxenctrl in '$lib'"
        return
    fi
    mkdir "$T/lib" || return
    for f in libxendevicemodel.so.1 libxenforeignmemory.so.1 libxenevtchn.so.1; do
        ln -s "$lib/$f" "$T/lib/$f"
    done
    LD_LIBRARY_PATH=$T/lib start_uart up --domid "$p" -v --backend "file:$T/line" || return
    local pid=$uart_pid
    script pvh <<'EOF'
out 0x3fc 1 0x0b
out 0x3f9 1 0x02
in 0x3fa 1 expect 0x02
EOF
    guest "$p" pvh
    stop_uart "$pid" up
    grep -q "cannot ask Xen whether domain $p has an emulated PIC" "$T/up.log" ||
        fail "up.log does not say why it could not ask"
    if grep -q "no emulated PIC/IOAPIC: ISA IRQs" "$T/up.log"; then
        fail "up.log claims to know"
    fi
    "$X" domain info "$p" | grep -qE '^refused-irqs [1-9]' ||
        fail "the interrupt was not even tried: $("$X" domain info "$p")"
    [ -z "$("$X" irq-log "$p")" ] || fail "interrupts on the PVH guest: $("$X" irq-log "$p")"
}

case_attach() {
    local d id
    [ -n "$MK" ] || { echo "skipped: no make_server"; exit 77; }
    d=$(domain g hvm)
    id=$("$MK" "$d" port 0x2f8-0x2ff) || { fail "make_server"; return; }
    start_uart uart --domid "$d" --ioservid "$id" --base 0x2f8 --irq 3 \
        --backend "file:$T/line" || return
    local pid=$uart_pid
    [ "$(cat "$T/uart.ready")" = "$id" ] || fail "ready file: $(cat "$T/uart.ready"), want $id"
    probe_script 0x2f8 3 | script probe
    echo 'out 0x2f8 1 0x43' >>"$T/probe.gio"
    guest "$d" probe
    stop_uart "$pid" uart
    expect_file "$T/line" 'C'
    "$X" irq-log "$d" | grep -qx 'isa 3 level 1' || fail "IRQ 3 never raised"
}

case_restart() {
    local d id
    [ -n "$MK" ] || { echo "skipped: no make_server"; exit 77; }
    d=$(domain g hvm)
    id=$("$MK" "$d" port 0x3f8-0x3ff) || { fail "make_server"; return; }
    start_uart uart --domid "$d" --ioservid "$id" --backend "file:$T/line" || return
    local pid=$uart_pid
    # The IRQ is left high when the emulator dies.
    script high <<'EOF'
out 0x3fc 1 0x0b
out 0x3f9 1 0x02
wait-irq isa 4 timeout 2000
EOF
    guest "$d" high
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    [ "$("$X" irq-log "$d" | tail -1)" = "isa 4 level 1" ] || fail "IRQ 4 not left high"
    # A new instance lowers it, so that its first interrupt is an edge again.
    start_uart uart2 --domid "$d" --ioservid "$id" --backend "file:$T/line" || return
    pid=$uart_pid
    [ "$("$X" irq-log "$d" | tail -1)" = "isa 4 level 0" ] || fail "IRQ 4 still high after restart"
    script again <<'EOF'
in 0x3f9 1 expect 0             # a fresh UART
out 0x3fc 1 0x0b
out 0x3f9 1 0x02
wait-irq isa 4 timeout 2000
in 0x3fa 1 expect 0x02
out 0x3f8 1 0x72
EOF
    guest "$d" again
    stop_uart "$pid" uart2
    expect_file "$T/line" 'r'
    # lowered at start; THRI raises; the IIR read lowers; the THR write
    # (sent at once, THR empty again) raises; lowered at exit
    local want got
    want=$(printf 'isa 4 level %s\n' 0 1 0 1 0)
    got=$("$X" irq-log "$d" | tail -5)
    [ "$got" = "$want" ] || fail "IRQ 4 after the restart: $(echo $got)"
}

case_args() {
    local rc
    "$UART" --help >"$T/help" 2>&1 || fail "--help failed"
    grep -q '^Usage: ioreq-uart' "$T/help" || fail "--help: $(cat "$T/help")"
    check_usage() { # EXPECTED-STATUS REGEX ARGS...
        local want=$1 re=$2
        shift 2
        "$UART" "$@" >"$T/args.out" 2>&1 </dev/null
        rc=$?
        [ $rc -eq "$want" ] || fail "ioreq-uart $*: exit $rc, want $want"
        grep -qE -- "$re" "$T/args.out" || fail "ioreq-uart $*: '$(cat "$T/args.out")' lacks '$re'"
    }
    check_usage 2 '--domid is required' --base 0x3f8
    check_usage 2 "--domid: 'x' is not a number" --domid x
    check_usage 2 "--irq: '16' is out of range" --domid 1 --irq 16
    check_usage 2 "--base: '0xfff9' is out of range" --domid 1 --base 0xfff9
    check_usage 2 "unknown option '--bogus'" --domid 1 --bogus
    check_usage 2 "--backend needs an argument" --domid 1 --backend
    check_usage 2 'unknown backend "tcp:1"' --domid 1 --backend tcp:1
    check_usage 2 "unexpected argument 'extra'" --domid 1 extra
    check_usage 1 'no/such/dir' --domid 1 --backend file:/no/such/dir/x
    check_usage 1 'creating an ioreq server for domain 999' --domid 999 --backend file:/dev/null
}

it_done
