#!/usr/bin/env bash
# The real-Xen end-to-end test: run one scenario inside dom0 of Debian's
# Xen 4.17, booted under QEMU's software CPU.  See tests/xen/README.md.
#
#   tests/xen/run.sh [OPTIONS] SCENARIO
#     --bin FILE        a program for dom0's /opt/ioreq/bin (repeatable)
#     --guest FILE      a guest image for /opt/ioreq/guests (repeatable)
#     --file FILE       anything else, for /opt/ioreq/files (repeatable)
#     --log-dir DIR     where the console and the logs go
#                       (default ${TMPDIR:-/tmp}/ioreq-xen-logs/SCENARIO)
#     --timeout S       the scenario's time limit inside dom0 (default 300;
#                       QEMU's limit is this plus 300 s for booting)
#     --no-install      do not install missing host packages
#
# SCENARIO is NAME, for tests/xen/scenarios/NAME.sh, or the path of a
# NAME.sh elsewhere (its folder's files then join scenarios/ in dom0).
# Exit: 0 PASS, 1 FAIL, 77 SKIP (this machine cannot: no dom0 root cached
# and none can be built, or no QEMU and none can be installed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness=$here/harness

bins=() guests=() files=()
logdir='' timeout=300 install=1 scenario=''
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bins+=(--bin "$2"); shift ;;
    --guest) guests+=(--guest "$2"); shift ;;
    --file) files+=(--file "$2"); shift ;;
    --log-dir) logdir=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    --no-install) install=0 ;;
    -h | --help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$scenario" ] || { echo "run.sh: one scenario only" >&2; exit 2; }
       scenario=$1 ;;
    esac
    shift
done
[ -n "$scenario" ] || { echo "usage: run.sh [OPTIONS] SCENARIO (--help)" >&2; exit 2; }
case $scenario in
*/* | *.sh) script=$scenario ;;
*) script=$here/scenarios/$scenario.sh ;;
esac
[ -f "$script" ] || { echo "run.sh: no scenario $script" >&2; exit 2; }
scenario=$(basename "$script" .sh)
logdir=${logdir:-${TMPDIR:-/tmp}/ioreq-xen-logs/$scenario}

say() { echo "xen-test[$scenario]: $*"; }
t_start=$SECONDS
timings=()
phase_start=$SECONDS
phase_done() { # NAME
    timings+=("$(printf '%-32s %5d s' "$1" $((SECONDS - phase_start)))")
    phase_start=$SECONDS
}
finish() { # PASS|FAIL|SKIP [reason]
    timings+=("$(printf '%-32s %5d s' total $((SECONDS - t_start)))")
    say "timings:"
    printf '  %s\n' "${timings[@]}"
    say "$1${2:+ ($2)}"
    say "logs: $logdir"
    case $1 in PASS) exit 0 ;; SKIP) exit 77 ;; *) exit 1 ;; esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ioreq-xen.XXXXXX")
trap 'rm -rf "$work"' EXIT
boot_pid=''
trap '[ -n "$boot_pid" ] && kill "$boot_pid" 2>/dev/null; exit 1' INT TERM
# The log directory: new, or one of an earlier run (its files are replaced).
if [ -d "$logdir" ] && [ -n "$(ls -A "$logdir")" ]; then
    [ -f "$logdir/console.log" ] ||
        { echo "run.sh: $logdir is not empty and not a log directory of this test" >&2; exit 2; }
    find "$logdir" -maxdepth 1 -type f -delete
fi
mkdir -p "$logdir"

# 1. host packages
if [ "$install" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive "$here/../../scripts/install-deps.sh" --xen </dev/null ||
        say "installing host packages failed; going on with what is there"
fi
for tool in qemu-system-x86_64 cpio; do
    command -v "$tool" >/dev/null ||
        finish SKIP "no $tool (scripts/install-deps.sh --xen could not install it)"
done
phase_done "host packages"

# 2. the dom0 root (cached)
entry=$("$harness/dom0-root.sh")
case $? in
0) ;;
77) finish SKIP "no dom0 root cached, and none can be built here (see above)" ;;
*) finish FAIL "building the dom0 root failed (see above)" ;;
esac
phase_done "dom0 root (cache)"
say "dom0 root: $entry"

# 3. this run's files
"$harness/overlay.sh" --out "$work/overlay.cpio" --root "$entry/root" \
    --scenario "$script" --timeout "$timeout" \
    "${bins[@]}" "${guests[@]}" "${files[@]}" || finish FAIL "packing the run's files failed"
cat "$entry/base.cpio" "$work/overlay.cpio" >"$work/dom0.cpio"
ln -s "$entry/xen.elf" "$work/xen.elf"
ln -s "$entry/dom0-kernel" "$work/dom0-kernel"
phase_done "overlay cpio"

# 4. boot, run, power off
limit=$((timeout + 300))
say "booting Xen under QEMU (time limit $limit s; console: $logdir/console.log)"
# In the background, so that a signal to this script stops it (and QEMU).
# A boot whose dom0 kernel hung before /init (boot.sh's exit 3: nothing of
# ours had run yet) is booted once more; its console stays as
# console-hung.log.
for attempt in 1 2; do
    "$harness/boot.sh" "$work/xen.elf" "$work/dom0-kernel" "$work/dom0.cpio" \
        "$logdir/console.log" "$limit" "$logdir/boot.txt" &
    boot_pid=$!
    wait "$boot_pid"
    booted=$?
    boot_pid=''
    [ $booted -eq 3 ] && [ $attempt -eq 1 ] || break
    mv "$logdir/console.log" "$logdir/console-hung.log"
    mv "$logdir/boot.txt" "$logdir/boot-hung.txt"
    say "dom0's kernel hung before /init (console-hung.log): booting again"
done
rm -f "$work/dom0.cpio"
while read -r _ t _ mark; do
    timings+=("$(printf '%-32s %7s s' "  boot: $mark" "$t")")
done < <(grep -E '^boot: [0-9.]+ s ' "$logdir/boot.txt")
phase_done "boot and scenario"

# 5. the logs dom0 printed, each into its own file; the rest of the console
#    into console-main.log
awk -v dir="$logdir" '
    /IOREQ-XEN-LOG-BEGIN / { name = $NF; gsub(/[^A-Za-z0-9._-]/, "_", name)
                             if (name ~ /^(console.*|boot\.txt)$/) name = "dom0-" name
                             file = dir "/" name; printf "" > file; next }
    /IOREQ-XEN-LOG-END / { if (file != "") close(file); file = ""; next }
    file != "" && /^\| ?/ { sub(/^\| ?/, ""); print > file; next }
    { print > (dir "/console-main.log") }
' "$logdir/console.log"

verdict=$(grep -aF 'IOREQ-XEN-VERDICT: ' "$logdir/console.log" | tail -n1)
verdict=${verdict#*IOREQ-XEN-VERDICT: }
if [ "$booted" -eq 0 ] && [ "${verdict%% *}" = PASS ]; then
    finish PASS
fi

# A failure: what went wrong, from the most to the least specific.
section() { echo; echo "==== $1"; }
if [ -f "$logdir/scenario.log" ]; then
    section "scenario log (scenario.log, last 100 lines)"
    tail -n 100 "$logdir/scenario.log"
fi
if [ -f "$logdir/xl-dmesg.txt" ]; then
    section "xl dmesg (xl-dmesg.txt, last 40 lines)"
    tail -n 40 "$logdir/xl-dmesg.txt"
fi
section "console: Xen and dom0 (console-main.log, last 80 lines)"
tail -n 80 "$logdir/console-main.log" 2>/dev/null
section "log files"
ls -l "$logdir"
echo
if [ -n "$verdict" ]; then
    finish FAIL "dom0's verdict: $verdict"
else
    finish FAIL "no verdict from dom0 (see the console above)"
fi
