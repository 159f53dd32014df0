#!/usr/bin/env bash
# Build, or reuse from the cache, the dom0 root of the real-Xen test: a
# minimal Debian 12 (debootstrap --variant=minbase) with Xen's toolstack, the
# hypervisor and Debian's kernel, pruned, and packed as an uncompressed cpio.
#
#   dom0-root.sh            prints the cache entry's directory on stdout
#
# The entry holds base.cpio (the dom0 root), xen.elf (the hypervisor, the
# 32-bit multiboot ELF QEMU boots), dom0-kernel (Debian's kernel as an ELF
# vmlinux), vmlinuz (the same as a bzImage), root/ (the unpacked root) and
# manifest (the package versions).
# Cache: ${IOREQ_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioreq-router/xen}/KEY,
# KEY a hash of this file and the package list: any change builds a new
# entry.  An entry is built in KEY.tmp.PID and renamed when complete, so a
# half-built one is never used.  Entries of other keys unused for 7 days are
# removed.
# Exit: 0 ok; 77 cannot be built here (no network, or neither root nor
# sudo) and none cached; 1 failure.  Progress goes to stderr.
set -euo pipefail

suite=bookworm
packages=(
    xen-hypervisor-4.17-amd64   # /boot/xen-4.17-amd64.gz
    xen-utils-4.17              # xl, xenstored, xenconsoled, xen-init-dom0
    linux-image-amd64           # the dom0 kernel (and a guest kernel)
    kmod                        # modprobe
    procps                      # ps, for the logs
    libjson-c5 libseccomp2      # what the project's programs link
    qemu-system-xen             # the device model of HVM guests
)
# Kernel modules kept (with what they depend on); all others are removed.
modules=(xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs xen-blkback
         xen-netback loop tun)

log() { echo "dom0-root: $*" >&2; }

key=$( { cat "${BASH_SOURCE[0]}"; echo "${packages[*]}"; } | sha256sum | cut -c1-16)
cache=${IOREQ_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioreq-router/xen}
entry=$cache/$key

if [ -f "$entry/complete" ]; then
    touch "$entry/last-used" 2>/dev/null || true
    echo "$entry"
    exit 0
fi

# Building needs root (debootstrap, chroot, device nodes): run again as root.
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n env IOREQ_XEN_CACHE="$cache" IOREQ_XEN_MIRROR="${IOREQ_XEN_MIRROR:-}" \
            bash "${BASH_SOURCE[0]}"
    fi
    log "building the dom0 root needs root or sudo without a password, and none is cached in $cache"
    exit 77
fi

# The Debian mirror the host uses (deb822 sources, then one-line ones).
host_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk -v suite="$suite" 'BEGIN { RS = "" }
            {
                types = uris = suites = ""; enabled = 1
                n = split($0, lines, "\n")
                for (i = 1; i <= n; i++) {
                    l = lines[i]
                    if (l ~ /^#/) continue
                    if (l ~ /^Types:/) types = " " substr(l, 7) " "
                    if (l ~ /^URIs:/) uris = substr(l, 6)
                    if (l ~ /^Suites:/) suites = " " substr(l, 8) " "
                    if (l ~ /^Enabled:[ \t]*no/) enabled = 0
                }
                if (enabled && types ~ / deb / && suites ~ (" " suite " ")) {
                    split(uris, u, " "); print u[1]; exit
                }
            }' "$f"
    done
    if [ -r /etc/apt/sources.list ]; then
        awk -v suite="$suite" '$1 == "deb" {
                i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++
                if ($i ~ /^\[/ || $i ~ /\]$/) i++
                if ($(i + 1) == suite) { print $i; exit }
            }' /etc/apt/sources.list
    fi
}
mirror=${IOREQ_XEN_MIRROR:-$(host_mirror | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 1000 9 || { log "cache lock: timed out"; exit 1; }
if [ -f "$entry/complete" ]; then # another run built it meanwhile
    touch "$entry/last-used" 2>/dev/null || true
    echo "$entry"
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    log "debootstrap is not installed (scripts/install-deps.sh --xen)"
    exit 77
fi
if ! timeout 60 wget -q -T 20 -t 2 -O /dev/null "$mirror/dists/$suite/Release" 9>&-; then
    log "cannot reach $mirror and no dom0 root is cached in $cache"
    exit 77
fi

# Half-built entries (a run killed while building) and old ones.
rm -rf "$cache"/*.tmp.*
shopt -s nullglob
for old in "$cache"/*/; do
    old=${old%/}
    [ "$old" = "$entry" ] && continue
    if [ -z "$(find "$old" -maxdepth 1 -name last-used -mtime -7)" ]; then
        log "removing unused cache entry $old"
        rm -rf "$old"
    fi
done

tmp=$entry.tmp.$$
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
root=$tmp/root
t0=$SECONDS

log "debootstrap $suite from $mirror (log: $tmp/debootstrap.log)"
include=$(IFS=,; echo "${packages[*]}")
# INITRD=No: the kernel's postinst makes no initramfs (dom0 boots the cpio).
# (9>&-: the lock is not inherited, so a killed build cannot leave it held)
if ! INITRD=No DEBIAN_FRONTEND=noninteractive timeout 900 \
        debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" \
        >"$tmp/debootstrap.log" 2>&1 9>&-; then
    log "debootstrap failed; the end of its log:"
    tail -n 30 "$tmp/debootstrap.log" >&2
    exit 1
fi
log "debootstrap done in $((SECONDS - t0)) s"

kver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
if [ -z "$kver" ] || [ ! -f "$root/boot/vmlinuz-$kver" ]; then
    log "no kernel in the root"
    exit 1
fi
[ -f "$root/boot/xen-4.17-amd64.gz" ] || { log "no /boot/xen-4.17-amd64.gz in the root"; exit 1; }

# Keep the wanted modules and their dependencies (modules.dep), then depmod.
moddir=$root/lib/modules/$kver
keep=$tmp/modules.keep
: >"$keep"
for m in "${modules[@]}"; do
    chroot "$root" modprobe -S "$kver" --show-depends "$m" 2>/dev/null |
        awk '$1 == "insmod" { print $2 }' >>"$keep" || true
done
[ -s "$keep" ] || { log "none of the modules ${modules[*]} found"; exit 1; }
sed -i "s|^/lib/modules/$kver/||; s|^/usr/lib/modules/$kver/||" "$keep"
(cd "$moddir" && find kernel -name '*.ko*' | { grep -vxF -f "$keep" || true; } | xargs -r rm -f)
find "$moddir/kernel" -type d -empty -delete
chroot "$root" depmod -a "$kver"

# What dom0 never needs (Python: only pygrub and a few xen tools use it;
# udev's hardware database: no udev runs).  A smaller cpio boots faster.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old \
       "$root"/usr/lib/python3* "$root"/usr/bin/python3* "$root"/usr/share/python3 \
       "$root"/usr/lib/udev/hwdb.d "$root"/usr/lib/udev/hwdb.bin "$root"/etc/udev/hwdb.bin

# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$tmp/manifest"
zcat "$root/boot/xen-4.17-amd64.gz" >"$tmp/xen.elf"
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"

# dom0-kernel: the bzImage's payload decompressed (an ELF vmlinux), which Xen
# boots as well; decompressing it under QEMU's software CPU takes Xen 5-15 s.
# The bzImage itself when that fails.
extract_vmlinux() { # BZIMAGE OUT
    local setup off len start dec
    setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')
    [ "${setup:-0}" -eq 0 ] && setup=4
    read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$1")
    start=$(((setup + 1) * 512 + off))
    case $(od -An -tx1 -j "$start" -N4 "$1" | tr -d ' ') in
    fd377a58) dec=(xz -dc --single-stream) ;;
    28b52ffd) dec=(zstd -dc) ;;
    1f8b*) dec=(gzip -dc) ;;
    *) return 1 ;;
    esac
    # (trailing bytes after the stream make some decompressors complain)
    { tail -c +$((start + 1)) "$1" | head -c "$len" | "${dec[@]}" >"$2"; } 2>/dev/null || true
    [ "$(od -An -tx1 -N4 "$2" | tr -d ' ')" = 7f454c46 ]
}
if ! extract_vmlinux "$tmp/vmlinuz" "$tmp/dom0-kernel"; then
    log "cannot decompress the kernel; dom0 boots the bzImage"
    cp "$tmp/vmlinuz" "$tmp/dom0-kernel"
fi

# The root as one uncompressed cpio; Xen's own files stay out of it.
(cd "$root" && find . -xdev \( -path './boot/xen*' -o -path ./boot/System.map-"$kver" \) -prune \
     -o -print | LC_ALL=C sort | cpio -o -H newc --quiet) >"$tmp/base.cpio"

echo "$key" >"$tmp/key"
touch "$tmp/last-used" "$tmp/complete"
rm -rf "$entry"
mv "$tmp" "$entry"
trap - EXIT
log "dom0 root built in $((SECONDS - t0)) s: $entry ($(du -sh "$entry/base.cpio" | cut -f1) cpio)"
echo "$entry"
