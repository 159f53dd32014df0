#!/usr/bin/env bash
# pkgconfig.sh BUILD_DIR EXAMPLE_C CC [CFLAGS]: install the build to a scratch prefix
# and build the port-device example with `pkg-config --cflags --libs libioreq`
# alone, as a device author outside this tree would.
set -eu
build=$1 example=$2 cc=$3 extra=${4:-} # extra: the sanitizer flags of a sanitized build
T=$(mktemp -d "${TMPDIR:-/tmp}/libioreq-pc.XXXXXX")
trap 'rm -rf "$T"' EXIT
cmake --install "$build" --prefix "$T/prefix" --component libioreq >/dev/null
pc=$(dirname "$(find "$T/prefix" -name libioreq.pc | head -1)")
[ -n "$pc" ] || { echo "no libioreq.pc installed"; exit 1; }
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs libioreq)
echo "pkg-config --cflags --libs libioreq: $flags"
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Werror $extra -o "$T/port_device" "$example" $flags
libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir libioreq)
rc=0 # without arguments it prints its usage and exits 2
LD_LIBRARY_PATH=$libdir "$T/port_device" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || { echo "the example did not run (exit $rc)"; exit 1; }
echo "built and ran the example against the installed libioreq"
