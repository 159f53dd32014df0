#!/usr/bin/env bash
# Runs one integration test script under `xensim run --` (a private daemon)
# and judges the whole run:
#
#   run_test.sh XENSIM TOOL_DIR TEST_SCRIPT [SECONDS]
#
# XENSIM is the xensim binary (xensim-daemon next to it, the drop-in
# libraries in ../xensim-lib); TOOL_DIR holds mini_emulator, dm_probe,
# xc_probe and control_fuzz.  The test script gets XENSIM, TOOLS, T (a
# scratch directory, removed afterwards) and INT_LIB (lib.sh) in its
# environment and exits non-zero on failure.  The run fails when the script does, when it takes
# longer than SECONDS (default 90), or when xensim run's or the daemon's
# stderr shows a sanitizer report or says the daemon died or stopped
# uncleanly.  On failure everything is printed: stdout, that stderr, and
# every $T/*.log (the emulators' stderr).
set -u

[ $# -ge 3 ] || { echo "usage: $0 XENSIM TOOL_DIR TEST_SCRIPT [SECONDS]"; exit 2; }
XENSIM=$1
TOOLS=$2
test_script=$3
limit=${4:-90}
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim-int.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
INT_LIB=$(cd "$(dirname "$0")" && pwd)/lib.sh
export XENSIM TOOLS T INT_LIB

# The daemon inherits xensim run's stderr: both land in $T/stderr.
timeout -k 5 "$limit" "$XENSIM" run -- bash "$test_script" >"$T/stdout" 2>"$T/stderr"
rc=$?
cat "$T/stdout"

status=0
if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "FAIL: timed out after $limit s"
    echo "FAIL: $(basename "$test_script") exited with status $rc"
    status=1
fi
# The sanitizer build: any report from the daemon (or from xensim itself)
# fails the test, as does the daemon exiting on its own or uncleanly.
if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|warning: the daemon' "$T/stderr"; then
    echo "FAIL: the daemon (or xensim run) reported a problem on stderr"
    status=1
fi
if [ $status -ne 0 ]; then
    echo "----- xensim run / xensim-daemon stderr -----"
    cat "$T/stderr"
    for f in "$T"/*.log; do
        [ -e "$f" ] || continue
        echo "----- $(basename "$f") -----"
        cat "$f"
    done
    exit 1
fi
echo "PASS: $(basename "$test_script")"
exit 0
