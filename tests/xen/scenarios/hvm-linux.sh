# hvm-linux: Debian's unmodified kernel (the one dom0 boots) as an HVM guest
# beside Debian's real QEMU (serial="none": QEMU leaves COM1 alone), whose
# COM1 (0x3f8-0x3ff, ISA IRQ 4) is ioreq-uart under ioreq-routerd with a
# file backend.  The 8250 driver must find a 16550A there, the whole printk
# console must come out of the backend, and so must a userspace write to
# /dev/ttyS0 from the guest's /init (tests/xen/hvm/init_hvm.c, part com1),
# sent by the driver's THRE interrupt handler: IRQ 4 must count interrupts.
#
# Order: xl create -p (QEMU starts, the domain stays paused), the router
# picks the domain up, takes its own pause ("hold") and starts ioreq-uart;
# xl unpause (libxl resumes QEMU, the toolstack's pause goes); the router
# drops its pause once ioreq-uart serves.  See tests/xen/hvm/README.md.
. ./lib_hvm.sh

name=hvmlinux
out=$LOGS/uart-com1.out
cfg=$LOGS/router-$name.json
cat >"$cfg" <<EOF
{
  "guests": [
    {
      "name": "$name",
      "hold": true,
      "emulators": [
        {
          "id": "com1",
          "exec": "ioreq-uart",
          "args": ["--base", "0x3f8", "--irq", "4", "--backend", "file:$out", "-v"],
          "ports": ["0x3f8-0x3ff"]
        }
      ]
    }
  ]
}
EOF
router_start "$cfg"

# pci=noearly: the CPU model says AMD family 0xf, so the kernel would look
# for an AGP/GART bridge on all 256 buses through CF8/CFC (8192 reads, each
# a round trip to QEMU: 30-80 s).  nokaslr: symbols match dom0's, for
# debugging.
hvm_start "$name" "console=ttyS0,115200 loglevel=7 pci=noearly nokaslr ioreq_test=com1" com1
domid=${GUEST_DOMID[$name]}
t0=$HVM_T0

wait_file_match "$out" 'is a 16550A' 150
t_uart=$((SECONDS - t0))
wait_file_match "$out" 'IOREQ-HVM-DONE' 90
t_done=$((SECONDS - t0))
guest_wait_down "$domid" 60
t_down=$((SECONDS - t0))
guest_wait_gone "$domid" 30
wait_file_match "$ROUTER_LOG" "$name\($domid\): released" 15
log "timing: unpause to the 16550A line ${t_uart} s, to the userspace test's end ${t_done} s, to power-off ${t_down} s"

# The whole console: from the kernel's first line to its last.
expect_file_line "$out" '^\[ *0\.000000\] Linux version '
expect_file_line "$out" 'ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A'
expect_file_line "$out" 'Run /init as init process'
expect_file_line "$out" 'hvm-init: powering off'
expect_file_line "$out" 'reboot: Power down'
# Userspace, through the tty layer and THRE interrupts on IRQ 4.
expect_file_line "$out" '^IOREQ-HVM-USERSPACE: hello from PID 1 through /dev/ttyS0, 0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'
expect_file_line "$out" '^IOREQ-HVM-SERIAL: 0: uart:16550A port:000003F8 irq:4 tx:[1-9]'
irq_line=$(grep -aE '^IOREQ-HVM-IRQ4: ' "$out" | tr -d '\r')
if [[ $irq_line =~ before=([0-9]+)\ after=([0-9]+) ]] &&
    [ "${BASH_REMATCH[2]}" -gt "${BASH_REMATCH[1]}" ]; then
    log "ok       IRQ 4 counted $((BASH_REMATCH[2] - BASH_REMATCH[1])) interrupts during the write ($irq_line)"
else
    log "MISMATCH IRQ 4 counted no interrupt during the write (${irq_line:-no IOREQ-HVM-IRQ4 line})"
    CHECK_FAILURES=$((CHECK_FAILURES + 1))
fi
# The router: the emulator ran, and went with the guest.
expect_file_line "$LOGS/router.log" "$name\($domid\)/com1: starting -> running"
expect_file_line "$LOGS/router.log" "$name\($domid\): released: emulators stopped, ioreq servers destroyed"
expect_file_line "$LOGS/$name.com1.log" '16550A at 0x3f8-0x3ff, ISA IRQ 4'
checks_done
