#!/usr/bin/env bash
# The demo session, run by scripts/demo.sh inside `xensim run`: one guest,
# two emulator processes, each its own ioreq server, serving a guest script
# on each vCPU at the same time.  $1 is the build directory.
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
xensim=$build/bin/xensim
emulator=$build/tests/sim/integration/mini_emulator
work=$(mktemp -d)
trap 'kill $emu_a $emu_b 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "create an HVM guest with 2 vCPUs and 64 MiB"
domid=$("$xensim" domain create --name demo --type hvm --vcpus 2 --memory 64M)
echo "domid $domid"

step "start emulator A (ports 0x3f8-0x3ff, PCI 00:05.0) and B (ports 0x100-0x10f, MMIO, VGA with a buffered ring)"
"$emulator" --domid "$domid" --port 0x3f8-0x3ff --pci 00:05.0 --ready-file "$work/a" &
emu_a=$!
"$emulator" --domid "$domid" --port 0x100-0x10f --mmio 0xfe000000-0xfe000fff \
    --mmio 0xa0000-0xbffff --bufioreq atomic --ready-file "$work/b" &
emu_b=$!
for _ in $(seq 100); do
    [ -s "$work/a" ] && [ -s "$work/b" ] && break
    sleep 0.1
done
[ -s "$work/a" ] && [ -s "$work/b" ] || { echo "emulators did not come up" >&2; exit 1; }
echo "emulator A is ioreq server $(cat "$work/a"), emulator B is ioreq server $(cat "$work/b")"
"$xensim" domain list

step "the guest in xenstore (Debian's xenstore-ls against the simulated store)"
xenstore-ls "/local/domain/$domid"

step "run one guest script per vCPU, concurrently"
grep -v '^#' "$here/vcpu0.script" | sed 's/^/  vcpu0: /'
grep -v '^#' "$here/vcpu1.script" | sed 's/^/  vcpu1: /'
"$xensim" guest run "$domid" "$here/vcpu0.script" "$here/vcpu1.script"
echo "every expectation held"

step "destroy the guest; the emulators' servers go with it"
"$xensim" domain destroy "$domid"
"$xensim" domain list
