#!/usr/bin/env bash
# Boot Xen + dom0 under QEMU's software CPU (XEN-IN-QEMU recipe) and watch
# the serial console until the scenario's verdict, a panic or the time limit.
#
#   boot.sh XEN_ELF DOM0_KERNEL INITRD CONSOLE_LOG LIMIT_SECONDS PROGRESS
#
# Writes the whole console (Xen and dom0) to CONSOLE_LOG; prints, on stdout
# and into the file PROGRESS, "boot: T s MARK" when each mark below first
# appears, T from QEMU's start.
# Exit: 0 a verdict line was seen; 1 none (time limit, panic, QEMU failed);
# 3 dom0's kernel did not reach /init within IOREQ_XEN_INIT_LIMIT seconds
# (default 150; it takes 10-20 s): under the software CPU, one boot in many
# hangs in the kernel (seen once, after Xen's "PCI add device" lines), before
# anything of ours runs, and the caller may boot again.
# Never hangs: QEMU runs under timeout -k, and is stopped 20 s after the
# verdict, at once on a Xen or dom0 panic, or at the /init deadline.
set -uo pipefail

xen=$1 kernel=$2 initrd=$3 console=$4 limit=$5 progress=$6
: >"$progress"
note() { echo "boot: $*" | tee -a "$progress"; }

# -initrd splits modules at commas (",," is a literal one) and a module's
# path from its command line at the first space.
case "$kernel$initrd" in *' '*)
    echo "boot: no spaces allowed in $kernel, $initrd" >&2; exit 1 ;;
esac
esc() { printf '%s' "${1//,/,,}"; }

# IOREQ_XEN_XEN_ARGS, IOREQ_XEN_DOM0_ARGS: more options for Xen, for dom0's
# kernel (e.g. console_timestamps=boot; loglevel=7).
xen_args="console=com1 com1=115200 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all smap=0"
xen_args+=${IOREQ_XEN_XEN_ARGS:+ $IOREQ_XEN_XEN_ARGS}
dom0_args="console=hvc0 earlyprintk=xen loglevel=4"
dom0_args+=${IOREQ_XEN_DOM0_ARGS:+ $IOREQ_XEN_DOM0_ARGS}

: >"$console"
start=$(date +%s.%N)
timeout -k 10 "$limit" qemu-system-x86_64 \
    -accel tcg -machine pc -cpu max -smp 2 -m 2048 \
    -display none -monitor none -serial stdio -no-reboot \
    -kernel "$xen" -append "$xen_args" \
    -initrd "$(esc "$kernel") $dom0_args,$(esc "$initrd")" \
    </dev/null >"$console" 2>"$console.qemu-stderr" &
qemu=$!
trap 'kill "$qemu" 2>/dev/null; exit 1' INT TERM

# mark LABEL PATTERN: a fixed string whose first appearance is timed
marks=(
    "xen banner|Xen version"
    "dom0 kernel starts|Serial input to DOM0"
    "dom0 /init|ioreq-init: ["
    "toolstack up|] toolstack up"
    "scenario start|: start (limit"
    "scenario end|: end (exit"
    "verdict|IOREQ-XEN-VERDICT:"
)
seen=()
elapsed() { awk -v now="$(date +%s.%N)" -v t0="$start" 'BEGIN { printf "%.1f", now - t0 }'; }

init_limit=${IOREQ_XEN_INIT_LIMIT:-150}
verdict_at='' panic='' hung=''
while kill -0 "$qemu" 2>/dev/null; do
    for i in "${!marks[@]}"; do
        [ -n "${seen[i]:-}" ] && continue
        if grep -qF -- "${marks[i]#*|}" "$console"; then
            seen[i]=$(elapsed)
            note "${seen[i]} s ${marks[i]%%|*}"
        fi
    done
    if [ -n "${seen[6]:-}" ] && [ -z "$verdict_at" ]; then
        verdict_at=$SECONDS
    fi
    if [ -n "$verdict_at" ] && [ $((SECONDS - verdict_at)) -ge 20 ]; then
        note "QEMU still running 20 s after the verdict: stopping it"
        kill "$qemu" 2>/dev/null
        break
    fi
    if [ -z "${seen[2]:-}" ] && [ "$SECONDS" -ge "$init_limit" ]; then
        hung=1
        note "$(elapsed) s dom0 did not reach /init in $init_limit s: stopping QEMU"
        kill "$qemu" 2>/dev/null
        break
    fi
    if [ -z "$verdict_at" ] &&
        grep -qE 'Panic on CPU|Kernel panic - not syncing|Reboot in five seconds' "$console"; then
        panic=1
        note "$(elapsed) s panic on the console: stopping QEMU"
        sleep 2     # the rest of the panic message
        kill "$qemu" 2>/dev/null
        break
    fi
    sleep 0.2
done
wait "$qemu"
rc=$?
note "$(elapsed) s QEMU exited (status $rc)"
[ "$rc" -eq 124 ] && note "time limit of $limit s reached"
if [ -s "$console.qemu-stderr" ]; then
    note "QEMU's stderr:"
    sed 's/^/  /' "$console.qemu-stderr" | tee -a "$progress"
fi
tr -d '\r' <"$console" >"$console.tmp" && mv "$console.tmp" "$console"
if grep -qF 'IOREQ-XEN-VERDICT: ' "$console" && [ -z "$panic" ]; then
    exit 0
fi
[ -n "$hung" ] && exit 3
exit 1
