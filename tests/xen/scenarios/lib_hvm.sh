# Helpers for the HVM scenarios (hvm-*.sh): an unmodified Debian Linux guest
# beside Debian's real QEMU (qemu-system-xen), with the project's emulators
# under ioreq-routerd.  Sourced by the scenario after lib.sh:
#
#   . ./lib_hvm.sh
#
# Every wait is bounded (lib.sh's wait_until).  See tests/xen/hvm/README.md.
# shellcheck shell=bash

# The guest kernel: the one dom0 boots (Debian's linux-image-amd64).
HVM_KERNEL=''
for f in /boot/vmlinuz-*; do
    [ -f "$f" ] && HVM_KERNEL=$f
done
[ -n "$HVM_KERNEL" ] || fail "no /boot/vmlinuz-* in dom0 for the Linux guest"

ROUTER_SOCKET=$RUN/router.sock
ROUTER_XS=/tool/ioreq-router

# router_start CONFIG: ioreq-routerd in the background (its log:
# $LOGS/router.log; each emulator's: $LOGS/GUEST.EMULATOR.log), until it
# says it runs.
router_start() {
    bg_start router ioreq-routerd -v --config "$1" --exec-path "$BIN" \
        --log-dir "$LOGS" --control-socket "$ROUTER_SOCKET"
    wait_until 30 "ioreq-routerd to start" router_up
    log "ioreq-routerd runs"
}
router_up() {
    bg_alive router || { cat "$LOGS/router.log" >&2; fail "ioreq-routerd exited"; }
    grep -q 'running: ' "$LOGS/router.log"
}

# router_state DOMID ID: the emulator's state in xenstore ("" if none).
router_state() {
    xenstore-read "$ROUTER_XS/state/$1/$2/state" 2>/dev/null
}

# router_wait_running DOMID ID... [--limit S]: until each emulator is
# running (the router has enabled its server and the process is ready);
# fails at once if one is failed.
router_wait_running() {
    local domid=$1 limit=30 id ids=()
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --limit) limit=$2; shift ;;
        *) ids+=("$1") ;;
        esac
        shift
    done
    for id in "${ids[@]}"; do
        wait_until "$limit" "emulator $id of d$domid to run" router_emu_running "$domid" "$id"
    done
    log "d$domid: emulators running: ${ids[*]}"
}
router_emu_running() { # DOMID ID
    local s
    s=$(router_state "$1" "$2")
    if [ "$s" = failed ]; then
        fail "emulator $2 of d$1 failed: $(xenstore-read "$ROUTER_XS/state/$1/$2/error" 2>/dev/null)"
    fi
    [ "$s" = running ]
}

# router_list FILE: `ioreqctl list` into $LOGS/FILE (what the router runs).
router_list() {
    ioreqctl --socket "$ROUTER_SOCKET" list >"$LOGS/$1" 2>&1 ||
        log "ioreqctl list failed (see $1)"
}

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

# ---- waiting (lib.sh's bsleep: no process of its own) ----

# file_has FILE REGEX: FILE (read by the shell) matches REGEX (extended).
file_has() {
    local content=''
    [ -r "$1" ] || return 1
    IFS= read -r -d '' content <"$1"
    [[ $content =~ $2 ]]
}

# wait_file_line FILE REGEX [SECONDS]: until FILE has a line matching REGEX
# (polled every 0.5 s; REGEX is matched against the whole file, so anchors
# are not line anchors).
wait_file_line() {
    local limit=${3:-60} deadline=$((SECONDS + ${3:-60}))
    until file_has "$1" "$2"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $limit s waiting for ${1##*/} to have /$2/"
        bsleep 0.5
    done
    log "${1##*/} has /$2/"
}

# hvm_wait_down DOMID [SECONDS], hvm_wait_gone DOMID [SECONDS]: as lib.sh's
# guest_wait_down and guest_wait_gone, polling once a second.
hvm_wait_down() {
    hvm_wait_state "$1" "${2:-30}" guest_down "shut down"
}
hvm_wait_gone() {
    hvm_wait_state "$1" "${2:-30}" guest_gone "go away"
}
hvm_wait_state() { # DOMID SECONDS TEST WHAT
    local deadline=$((SECONDS + $2))
    until "$3" "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after $2 s waiting for domain $1 to $4"
        bsleep 1
    done
    log "domain $1: $4: done ($(guest_state "$1"))"
}
