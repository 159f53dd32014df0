#!/usr/bin/env bash
# Install the Debian packages this project needs, only those that are missing.
# Idempotent and non-interactive: safe to run again, and with no stdin (CI).
#
#   scripts/install-deps.sh          build and test the project
#   scripts/install-deps.sh --xen    also what the real-Xen test needs on the
#                                    host (QEMU, debootstrap, cpio); Xen and
#                                    the dom0 kernel go into a cached root,
#                                    not onto the host (tests/xen/README.md)
set -euo pipefail

build_packages=(
    cmake gcc make pkg-config
    libxen-dev libjson-c-dev libcmocka-dev libseccomp-dev
    xenstore-utils   # Debian's xenstore tools, run against the simulated store
)

# The real-Xen test (tests/xen): boots Xen + dom0 under QEMU's software CPU;
# the dom0 root is made with debootstrap and packed with cpio.
xen_packages=(qemu-system-x86 debootstrap cpio)

packages=("${build_packages[@]}")
case "${1:-}" in
    "") ;;
    --xen) packages+=("${xen_packages[@]}") ;;
    *) echo "usage: install-deps.sh [--xen]" >&2; exit 2 ;;
esac

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for pkg in "${packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"

# sudo only when not root; never prompt when there is no terminal.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2
        exit 1
    fi
    as_root=(sudo)
    [ -t 0 ] || as_root+=(-n)
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
     -o DPkg::Lock::Timeout=300)
apt_install() {
    "${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null
}
# `apt-get update` only when needed: the package lists are missing, or
# installing from them fails (a package unknown or a file gone from the mirror).
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt_install; then
    "${apt[@]}" update </dev/null
    apt_install
fi

for pkg in "${missing[@]}"; do
    if ! installed "$pkg"; then
        echo "install-deps: $pkg is still not installed" >&2
        exit 1
    fi
done
echo "install-deps: done"
