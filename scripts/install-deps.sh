#!/usr/bin/env bash
# Install the Debian packages this project needs, only those that are missing.
# Idempotent and non-interactive: safe to run again, and with no stdin (CI).
set -euo pipefail

packages=(
    cmake gcc make pkg-config
    libxen-dev libjson-c-dev libcmocka-dev libseccomp-dev
    xenstore-utils   # Debian's xenstore tools, run against the simulated store
)

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
"${apt[@]}" update </dev/null
"${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null

for pkg in "${missing[@]}"; do
    if ! installed "$pkg"; then
        echo "install-deps: $pkg is still not installed" >&2
        exit 1
    fi
done
echo "install-deps: done"
