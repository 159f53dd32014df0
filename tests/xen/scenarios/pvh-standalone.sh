# pvh-standalone: a PVH guest (harness/min_guest.S) served by three
# emulators that each create their own ioreq server (no router):
#   ioreq-uart       0x3f8-0x3ff (--pvh: polled, no ISA IRQ)
#   ioreq-debugcon   0x402
#   mini_emulator    ports 0x510-0x51f, MMIO 0xfebf0000-0xfebf0fff
# The guest prints each access's result on Xen's debug port; the values and
# the emulators' outputs are checked, then the guest powers itself off.

guest_create pvh1 "$GUESTS/min_guest.elf"
domid=${GUEST_DOMID[pvh1]}

bg_start uart ioreq-uart --domid "$domid" --pvh --backend "file:$LOGS/uart.out" \
    --ready-file "$(ready_file uart)" -v
bg_start debugcon ioreq-debugcon --domid "$domid" --port 0x402 --output "$LOGS/debugcon.out" \
    --ready-file "$(ready_file debugcon)" -v
bg_start mini mini_emulator --domid "$domid" --port 0x510-0x51f --mmio 0xfebf0000-0xfebf0fff \
    --ready-file "$(ready_file mini)"
bg_wait_ready uart
bg_wait_ready debugcon
bg_wait_ready mini

guest_unpause "$domid"
guest_wait_line "$domid" '^min_guest: done' 90
guest_output "$domid" | sed 's/^/  guest: /' >&2

expect_guest_value "$domid" uart.scr 0x5a
expect_guest_value "$domid" uart.lsr 0x60
expect_guest_value "$domid" uart.ier 0x0f
expect_guest_value "$domid" debugcon.read 0xe9
expect_guest_value "$domid" mini.port.unwritten 0x00000054
expect_guest_value "$domid" mini.port.written 0x12345678
expect_guest_value "$domid" mini.port.last_word 0x005e
expect_guest_value "$domid" mini.port.straddle 0xffffffff
expect_guest_value "$domid" mini.mmio.unwritten 0x5b1aa5b5
expect_guest_value "$domid" mini.mmio.written 0xcafef00d
expect_guest_value "$domid" unmapped.port8 0xff
expect_guest_value "$domid" unmapped.port16 0xffff
expect_guest_value "$domid" unmapped.port32 0xffffffff
expect_guest_value "$domid" unmapped.mmio32 0xffffffff

# cli; hlt: Xen powers the guest off; xl destroys it, and it is gone once
# the emulators (which map its ioreq pages) have exited.
guest_wait_down "$domid" 30
expect_stop uart
expect_stop debugcon
expect_stop mini
guest_wait_gone "$domid" 30
# The output files are complete once the emulators have exited.
expect_file_line "$LOGS/uart.out" '^uart says hi$'
expect_file_line "$LOGS/debugcon.out" '^debugcon says hi$'
checks_done
