# hvm-qemu-mixed: QEMU's devices and ours on one HVM guest.  Debian's real
# QEMU is the main device model (host bridge 00:00.0, PIIX3, IDE, ACPI, the
# Xen platform device); ioreq-routerd adds two servers of the project's:
#   com2     ioreq-uart on COM2, ports 0x2f8-0x2ff, ISA IRQ 3
#   pcitest  ioreq-pcitest at PCI 00:07.0 (a slot QEMU leaves free)
# The guest is Debian's kernel again, its console on the PV console (hvc0:
# cheap, and in the logs as guest-NAME.log), its /init (init_hvm.c, part
# mixed) reading PCI configuration space through CF8/CFC -- QEMU's devices
# and ours --, sizing the test device's BARs and using its registers through
# both BARs, using COM2's registers and writing to /dev/ttyS1 (THRE
# interrupts on ISA IRQ 3), and listing what Linux's own PCI scan found.
# Each result is a NAME=VALUE line on Xen's debug port 0xE9.
#
# Order as in hvm-linux: xl create -p, the router holds the domain and
# starts both emulators, xl unpause, the router releases its hold.
. ./lib_hvm.sh

name=hvmmixed
slot=07
cfg=$LOGS/router-$name.json
cat >"$cfg" <<EOF
{
  "guests": [
    {
      "name": "$name",
      "hold": true,
      "emulators": [
        {
          "id": "com2",
          "exec": "ioreq-uart",
          "args": ["--base", "0x2f8", "--irq", "3", "--backend", "file:$LOGS/uart-com2.out", "-v"],
          "ports": ["0x2f8-0x2ff"]
        },
        {
          "id": "pcitest",
          "exec": "ioreq-pcitest",
          "args": ["--slot", "$slot.0", "-v"],
          "pci": ["00:$slot.0"]
        }
      ]
    }
  ]
}
EOF
router_start "$cfg"

hvm_start "$name" "console=hvc0 loglevel=7 pci=noearly nokaslr ioreq_test=mixed pcitest=$slot" \
    com2 pcitest
domid=${GUEST_DOMID[$name]}
t0=$HVM_T0

wait_file_match "$LOGS/uart-com2.out" 'IOREQ-HVM-DONE' 150
t_done=$((SECONDS - t0))
guest_wait_down "$domid" 60
guest_wait_gone "$domid" 30
wait_file_match "$ROUTER_LOG" "$name\($domid\): released" 15
log "timing: unpause to the mixed test's end ${t_done} s"
guest_output "$domid" | sed 's/^/  guest: /' >&2

# QEMU's devices, through CF8/CFC
expect_guest_value "$domid" qemu.hostbridge.id 0x12378086
expect_guest_value "$domid" qemu.isabridge.id 0x70008086
# ours: ioreq-pcitest's function at 00:07.0 (vendor 1234, device 11e8)
expect_guest_value "$domid" pcitest.id 0x11e81234
expect_guest_value "$domid" pcitest.class_rev 0xff000001
expect_guest_value "$domid" pcitest.subsys 0x11e81234
expect_guest_value "$domid" pcitest.bar0.size_mask 0xfffff000
expect_guest_value "$domid" pcitest.bar1.size_mask 0xfffffff1
expect_guest_value "$domid" pcitest.bar1.id 0x7e570001
expect_guest_value "$domid" pcitest.bar1.scratch 0x600dcafe
expect_guest_value "$domid" pcitest.bar0.id 0x7e570001
expect_guest_value "$domid" pcitest.bar0.scratch 0x5eed1234
# a function nobody serves
expect_guest_value "$domid" pci.absent.id 0xffffffff
# ioreq-uart on COM2
expect_guest_value "$domid" com2.scr 0xa5
expect_guest_value "$domid" com2.lsr 0x60
expect_guest_value "$domid" com2.driver 16550A
expect_guest_value "$domid" com2.tty written
expect_guest_value "$domid" com2.irq3.counted yes
expect_file_line "$LOGS/uart-com2.out" '^IOREQ-HVM-COM2: hello through /dev/ttyS1 \(ISA IRQ 3\)'
# Linux's own PCI scan: QEMU's devices and ours
expect_guest_value "$domid" linux.pci.0000:00:00.0 8086:1237
expect_guest_value "$domid" linux.pci.0000:00:01.0 8086:7000
expect_guest_value "$domid" "linux.pci.0000:00:$slot.0" 1234:11e8
# The kernel's console (hvc0): both ports found as 16550A
console=/var/log/xen/guest-$name.log
expect_file_line "$console" 'ttyS1 at I/O 0x2f8 \(irq = 3, base_baud = 115200\) is a 16550A'
expect_file_line "$console" "pci 0000:00:$slot.0: \[1234:11e8\]"
checks_done
