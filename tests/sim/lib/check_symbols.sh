#!/usr/bin/env bash
# Compare the xensim drop-in Xen libraries with Debian's: the version
# definitions with their parent chains and the sonames must be identical;
# the exported (symbol, version) sets too, except for libxenctrl, a subset
# by design, whose every export must be one of Debian's with the same
# version.  The drop-ins may need nothing but libc and libxentoolcore (and
# a sanitizer runtime in sanitized builds).
#
# Usage: check_symbols.sh OUR_LIB_DIR [SYSTEM_LIB_DIR]
set -euo pipefail
export LC_ALL=C # sort and comm agree on the order

ours=${1:?usage: check_symbols.sh OUR_LIB_DIR [SYSTEM_LIB_DIR]}
system=${2:-}
if [ -z "$system" ]; then
    multiarch=$(gcc -print-multiarch 2>/dev/null || true)
    system=/usr/lib/${multiarch:-x86_64-linux-gnu}
fi

# "name@version" for every defined dynamic symbol.
exported() {
    objdump -T "$1" | awk '/^[0-9a-f]+ / && !/\*UND\*/ { print $NF "@" $(NF-1) }' | sort
}

# Version definitions: "def NAME flags", then "  parent NAME" lines.
verdefs() {
    objdump -p "$1" | awk '
        /^Version definitions:/ { f = 1; next }
        f && /^$/ { exit }
        f && /^Version References:/ { exit }
        f && /^[0-9]/ { print "def " $4 " " $2; next }
        f && NF { print "  parent " $1 }'
}

soname() {
    objdump -p "$1" | awk '$1 == "SONAME" { print $2 }'
}

status=0
fail() {
    echo "check_symbols: $*" >&2
    status=1
}

# LIB:equal or LIB:subset (our exports a subset of Debian's)
for spec in libxendevicemodel.so.1:equal libxenforeignmemory.so.1:equal \
            libxenevtchn.so.1:equal libxenctrl.so.4.17:subset; do
    lib=${spec%:*}
    mode=${spec#*:}
    a=$ours/$lib
    b=$system/$lib
    [ -e "$a" ] || { fail "missing $a"; continue; }
    [ -e "$b" ] || { fail "missing $b (is libxen-dev installed?)"; continue; }

    if [ "$mode" = equal ]; then
        if ! d=$(diff -u "--label=$b" "--label=$a" <(exported "$b") <(exported "$a") 2>&1); then
            fail "$lib: exported symbols differ (- Debian, + ours):"
            echo "$d" >&2
        fi
    else
        unknown=$(comm -13 <(exported "$b") <(exported "$a"))
        if [ -n "$unknown" ]; then
            fail "$lib: exports that Debian's does not have (with that version):"
            echo "$unknown" >&2
        fi
    fi
    if ! d=$(diff -u "--label=$b" "--label=$a" <(verdefs "$b") <(verdefs "$a") 2>&1); then
        fail "$lib: version definitions differ (- Debian, + ours):"
        echo "$d" >&2
    fi
    [ "$(soname "$a")" = "$lib" ] || fail "$lib: our soname is '$(soname "$a")'"
    [ "$(soname "$b")" = "$lib" ] || fail "$lib: Debian's soname is '$(soname "$b")'"
    [ -n "$(exported "$a")" ] || fail "$lib: exports nothing"

    # (a sanitizer runtime is tolerated: cmake -DXENSIM_DROPIN_SANITIZE=ON)
    extra=$(objdump -p "$a" | awk '$1 == "NEEDED" && $2 != "libc.so.6" && $2 != "libxentoolcore.so.1" &&
                                   $2 !~ /^lib(a|ub|t|l)san\.so\./ { print $2 }')
    [ -z "$extra" ] || fail "$lib: unexpected dependencies:" $extra
    if [ "$status" -eq 0 ] && [ "$mode" = equal ]; then
        echo "check_symbols: $lib: $(exported "$a" | wc -l) symbols match"
    elif [ "$status" -eq 0 ]; then
        echo "check_symbols: $lib: $(exported "$a" | wc -l) of Debian's $(exported "$b" | wc -l) symbols, same versions"
    fi
done
exit $status
