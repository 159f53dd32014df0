#!/usr/bin/env bash
# Pack one run's files as a small cpio that goes after the cached dom0 root
# (the kernel unpacks both; later files win):
#
#   /init                      harness/init
#   /opt/ioreq/run.env         SCENARIO, SCENARIO_TIMEOUT
#   /opt/ioreq/bin/            the programs (--bin)
#   /opt/ioreq/lib/            the libraries they need that the root lacks
#                              (libioreq.so.0 from the build tree, the
#                              sanitizer runtimes of a sanitized build)
#   /opt/ioreq/guests/         guest images (--guest)
#   /opt/ioreq/files/          anything else (--file)
#   /opt/ioreq/scenarios/      tests/xen/scenarios (lib.sh, ...), and the
#                              files of the scenario's own folder (NAME.sh,
#                              its data) when it lives elsewhere
#
# Nothing at top-level lib/ or bin/: that would replace the root's merged-/usr
# symlinks.
#
#   overlay.sh --out FILE --root DIR --scenario PATH/NAME.sh --timeout S
#              [--bin FILE]... [--guest FILE]... [--file FILE]...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scenarios=$(cd "$here/../scenarios" && pwd)
out='' root='' scenario='' timeout=''
bins=() guests=() files=()
while [ $# -gt 0 ]; do
    case $1 in
    --out) out=$2 ;;
    --root) root=$2 ;;
    --scenario) scenario=$2 ;;
    --timeout) timeout=$2 ;;
    --bin) bins+=("$2") ;;
    --guest) guests+=("$2") ;;
    --file) files+=("$2") ;;
    *) echo "overlay: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
if [ -z "$out" ] || [ ! -d "$root" ] || [ -z "$scenario" ] || [ -z "$timeout" ]; then
    echo "overlay: --out, --root, --scenario and --timeout are required" >&2
    exit 2
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ioreq-xen-overlay.XXXXXX")
trap 'rm -rf "$stage"' EXIT
opt=$stage/opt/ioreq
mkdir -p "$opt/bin" "$opt/lib" "$opt/guests" "$opt/files"

install -m 0755 "$here/init" "$stage/init"
name=$(basename "$scenario" .sh)
printf 'SCENARIO=%q\nSCENARIO_TIMEOUT=%q\n' "$name" "$timeout" >"$opt/run.env"
cp -r "$scenarios" "$opt/scenarios"
own=$(cd "$(dirname "$scenario")" && pwd)
if [ "$own" != "$scenarios" ]; then
    cp -r "$own"/. "$opt/scenarios/"
    cp "$scenarios/lib.sh" "$opt/scenarios/lib.sh" # the library, whatever the folder has
fi
[ -f "$opt/scenarios/$name.sh" ] || { echo "overlay: no scenario $scenario" >&2; exit 1; }

# A library the program needs: copied unless the dom0 root has it at the
# same path (Debian's Xen libraries, libc, ...: dom0's own are used).
add_libs() {
    local lib
    while read -r lib; do
        [ -e "$root$lib" ] && continue
        [ -e "$opt/lib/${lib##*/}" ] && continue
        cp -L "$lib" "$opt/lib/${lib##*/}"
    done < <(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

for f in "${bins[@]}"; do
    [ -x "$f" ] || { echo "overlay: not a program: $f" >&2; exit 1; }
    install -m 0755 "$f" "$opt/bin/"
    add_libs "$f"
done
for f in "${guests[@]}"; do
    [ -f "$f" ] || { echo "overlay: no guest image $f" >&2; exit 1; }
    cp "$f" "$opt/guests/"
done
for f in "${files[@]}"; do
    [ -e "$f" ] || { echo "overlay: no file $f" >&2; exit 1; }
    cp -r "$f" "$opt/files/"
done

# Only init and opt/ at the top level.
(cd "$stage" && find init opt | LC_ALL=C sort |
     cpio -o -H newc --owner=0:0 --quiet) >"$out"
