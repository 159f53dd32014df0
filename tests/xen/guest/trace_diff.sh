#!/usr/bin/env bash
# trace_diff.sh: compare two guest script traces line by line.
#
#   trace_diff.sh [--vcpu N] [--domid D] [--console] A B
#
# A and B may each be
#   - the output of `xensim guest run --trace` ("vN L3 ..." trace lines,
#     "(dD) text" debug console lines): the trace of vCPU N (--vcpu, default
#     0) is taken;
#   - a Xen console log (`xl dmesg`, or Xen's serial console): the lines that
#     carry "(dD) " (--domid D; default: any domain), with whatever precedes
#     that prefix and a "[timestamp] " after it removed;
#   - bare lines (gio_hostrun without prefixes, QEMU's debugcon file).
# Of those lines, "L<line>[~] ..." and "END ..." are the trace; the others
# are what the script itself printed on the debug console.
#
# The traces must have the same lines in the same order.  A line whose
# script line carries the timing marker ("L12~ ...", from "# timing" in the
# script) is compared only up to its " = ": its result may differ between
# backends.  --console also compares the console lines, in order (their
# interleaving with trace lines differs: the guest image holds its trace
# lines back while the script has a console line open, up to 32 of them,
# and ends a line the script leaves open at its END itself).
#
# Exit status: 0 the same, 1 different (the differences on stdout), 2 usage,
# an unreadable file, or a file without any trace line.
set -u

vcpu=0 domid= console=0
usage() { echo "usage: trace_diff.sh [--vcpu N] [--domid D] [--console] A B" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --vcpu) [ $# -ge 2 ] || usage; vcpu=$2; shift 2 ;;
    --domid) [ $# -ge 2 ] || usage; domid=$2; shift 2 ;;
    --console) console=1; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 2 ] || usage
case $vcpu in ''|*[!0-9]*) usage ;; esac
case $domid in *[!0-9]*) usage ;; esac
for f in "$1" "$2"; do
    [ -r "$f" ] || { echo "trace_diff.sh: cannot read $f" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trace_diff.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# normalize FILE OUT: OUT.trace and OUT.console, one line each.
normalize() {
    awk -v vcpu="$vcpu" -v domid="$domid" -v trace="$2.trace" -v cons="$2.console" '
        { sub(/\r$/, ""); line[NR] = $0 }
        /^v[0-9]+ (L[0-9]|END )/ { xensim = 1 }
        END {
            dpat = domid == "" ? "\\(d[0-9]+\\) " : "\\(d" domid "\\) "
            for (i = 1; i <= NR; i++)
                if (line[i] ~ dpat) { prefixed = 1; break }
            printf "" > trace; printf "" > cons
            for (i = 1; i <= NR; i++) {
                s = line[i]
                if (xensim) {
                    if (s ~ ("^v" vcpu " ")) { print substr(s, length("v" vcpu " ") + 1) > trace; continue }
                    if (s ~ ("^" dpat)) { sub("^" dpat, "", s); print s > cons }
                    continue
                }
                if (prefixed) {
                    if (!match(s, dpat)) continue
                    s = substr(s, RSTART + RLENGTH)
                    sub(/^\[[^]]*\] /, "", s)
                }
                if (s ~ /^L[0-9]+~? / || s ~ /^END /) print s > trace
                else print s > cons
            }
        }' "$1"
}
normalize "$1" "$tmp/a"
normalize "$2" "$tmp/b"
for x in a b; do
    if [ ! -s "$tmp/$x.trace" ]; then
        f=$1; [ $x = b ] && f=$2
        echo "trace_diff.sh: no trace lines in $f" >&2
        exit 2
    fi
done

# compare WHAT A B TIMING: print the differences; exit 1 if any.
compare() {
    awk -v what="$1" -v timing="$4" -v fa="$A" -v fb="$B" '
        FNR == NR { a[++na] = $0; next }
        { b[++nb] = $0 }
        function key(s,    k) { k = index(s, " = "); return k ? substr(s, 1, k - 1) : s }
        function is_timing(s) { return timing && s ~ /^L[0-9]+~ / }
        END {
            n = na > nb ? na : nb
            for (i = 1; i <= na && i <= nb; i++) {
                x = a[i]; y = b[i]
                same = (is_timing(x) || is_timing(y)) ? key(x) == key(y) : x == y
                if (!same) {
                    if (++bad <= 20)
                        printf "%s line %d differs:\n  %s: %s\n  %s: %s\n", what, i, fa, x, fb, y
                }
            }
            if (bad > 20)
                printf "... and %d more %s differences\n", bad - 20, what
            if (na != nb) {
                printf "%s: %s has %d lines, %s has %d\n", what, fa, na, fb, nb
                for (j = i; j <= n && j < i + 5; j++)
                    printf "  %s\n", j <= na ? fa ": " a[j] : fb ": " b[j]
                bad++
            }
            exit bad ? 1 : 0
        }' "$2" "$3"
}
A=$1 B=$2
rc=0
compare trace "$tmp/a.trace" "$tmp/b.trace" 1 || rc=1
if [ $console = 1 ]; then
    compare console "$tmp/a.console" "$tmp/b.console" 0 || rc=1
fi
[ $rc = 0 ] && echo "traces match ($(wc -l <"$tmp/a.trace") lines)"
exit $rc
