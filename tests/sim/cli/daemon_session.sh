# Shared set-up of the tests of the xensim CLI against the real daemon
# (test_cli_daemon.sh, test_cli_trace.sh), sourced with the test's
# arguments: BIN_DIR (holding xensim and xensim-daemon).
#
# Sets X (the xensim binary) and T (a scratch directory, removed on exit),
# exported for the session script as XENSIM_BIN and T.
#
# run_session SHELL: run $T/session.sh with SHELL under `xensim run`, with
# the domains g (HVM, 2 vCPUs) and p (PVH, 1 vCPU) of 64M each.  xensim's
# and the daemon's stderr go to $T/err, printed when the session fails.
# Returns the session's exit status.
set -u

[ $# -eq 1 ] || { echo "usage: $0 BIN_DIR"; exit 2; }
X=$1/xensim
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim-$(basename "$0" .sh).XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export XENSIM_BIN=$X T

run_session() {
    local rc

    "$X" run --domain g:hvm:2:64M --domain p:pvh:1:64M -- "$1" "$T/session.sh" 2>"$T/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "failed ($rc); stderr:"
        cat "$T/err"
    fi
    return $rc
}
