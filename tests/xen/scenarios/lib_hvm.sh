# Helpers for the HVM scenarios (hvm-*.sh): an unmodified Debian Linux guest
# beside Debian's real QEMU (qemu-system-xen), with the project's emulators
# under ioreq-routerd.  Sourced by the scenario after lib.sh:
#
#   . ./lib_hvm.sh
#
# It sources lib_router.sh (router_start, wait_file_match, rctl, ...).
# Every wait is bounded.  See tests/xen/hvm/README.md.
# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034 # HVM_T0: for the scenarios

# shellcheck source=lib_router.sh
. ./lib_router.sh

# The guest kernel: the one dom0 boots (Debian's linux-image-amd64).
HVM_KERNEL=''
for f in /boot/vmlinuz-*; do
    [ -f "$f" ] && HVM_KERNEL=$f
done
[ -n "$HVM_KERNEL" ] || fail "no /boot/vmlinuz-* in dom0 for the Linux guest"

HVM_BOOT=${HVM_BOOT:-hvmboot}
HVM_KERNEL_ADDR=0x5000000
HVM_INITRD_ADDR=0x5a00000

# hvm_linux_create NAME INITRD CMDLINE [KEY=VALUE]...: an HVM guest with a
# real QEMU device model (qemu-xen) and no serial port, VGA, VNC or disk of
# QEMU's, booting $HVM_KERNEL with INITRD and CMDLINE; created paused (xl
# create -p), GUEST_DOMID[NAME] set.  KEY=VALUE: more xl settings.
#   tsc_mode "native": nested SVM under QEMU's TCG reports RDTSCP without a
#     next-RIP, the guest spins after alternatives patching otherwise;
#   cpuid "host,pku=0,xsave=0": no XSAVE warning (XEN-IN-QEMU.md).
# How the kernel gets into the guest (HVM_BOOT):
#   hvmboot (default)  QEMU's generic loader writes the bzImage and INITRD
#                      into guest RAM (at HVM_KERNEL_ADDR, HVM_INITRD_ADDR)
#                      and xl's kernel= is hvmboot.bin, which starts the
#                      kernel by the 32-bit boot protocol: about 1 s;
#   qemu-kernel        xl's kernel=/ramdisk=: QEMU hands both over through
#                      fw_cfg port I/O, about 100 KB/s: 60-90 s more.
hvm_linux_create() {
    local name=$1 initrd=$2 cmdline=$3 isize
    shift 3
    local common=(type='"hvm"' device_model_version='"qemu-xen"'
        memory=128 vcpus=1 serial='"none"' vga='"none"' vnc=0 sdl=0
        cpuid='"host,pku=0,xsave=0"' tsc_mode='"native"')
    case $HVM_BOOT in
    hvmboot)
        isize=$(stat -c %s "$initrd")
        # The kernel below 10 MiB and the initrd below 14 MiB: both between
        # the decompressed kernel (16 MiB + init_size, about 80 MiB) and
        # SeaBIOS's high zone (the top 16 MiB of the 128 MiB).
        [ "$(stat -c %s "$HVM_KERNEL")" -le $((10 << 20)) ] || fail "$HVM_KERNEL is over 10 MiB"
        [ "$isize" -le $((14 << 20)) ] || fail "$initrd is over 14 MiB"
        guest_create "$name" "$GUESTS/hvmboot.bin" "${common[@]}" \
            cmdline="\"hvmboot.kernel=$HVM_KERNEL_ADDR hvmboot.initrd=$HVM_INITRD_ADDR,$isize $cmdline\"" \
            device_model_args_hvm="[ \"-device\", \"loader,file=$HVM_KERNEL,addr=$HVM_KERNEL_ADDR,force-raw=on\", \"-device\", \"loader,file=$initrd,addr=$HVM_INITRD_ADDR,force-raw=on\" ]" \
            "$@"
        ;;
    qemu-kernel)
        guest_create "$name" "$HVM_KERNEL" "${common[@]}" \
            ramdisk="\"$initrd\"" cmdline="\"$cmdline\"" "$@"
        ;;
    *) fail "HVM_BOOT=$HVM_BOOT: hvmboot or qemu-kernel" ;;
    esac
}

# hvm_start NAME CMDLINE EMULATOR...: the guest NAME (hvm_linux_create with
# $GUESTS/hvm-initrd.cpio.gz and CMDLINE) under the router's hold, the
# router's config giving NAME the emulators EMULATOR...: xl create -p (QEMU
# starts, the domain stays paused), the router picks the domain up and
# holds it with a pause of its own; xl unpause (which also resumes QEMU)
# lifts only the toolstack's pause, so the guest starts when the router
# drops its own, once every emulator serves.  Sets HVM_T0 ($SECONDS at the
# unpause); `ioreqctl list` into $LOGS/ioreqctl-list.txt.
hvm_start() {
    local name=$1 cmdline=$2 domid
    shift 2
    hvm_linux_create "$name" "$GUESTS/hvm-initrd.cpio.gz" "$cmdline"
    domid=${GUEST_DOMID[$name]}
    wait_file_match "$ROUTER_LOG" "$name\\($domid\\): picked up: $# emulators, held paused" 60
    HVM_T0=$SECONDS
    guest_unpause "$domid"
    wait_file_match "$ROUTER_LOG" "$name\\($domid\\): all $# emulators ready: hold released" 60
    router_wait_running "$domid" "$@"
    rctl list >"$LOGS/ioreqctl-list.txt" 2>&1 || log "ioreqctl list failed (see ioreqctl-list.txt)"
}
