#!/usr/bin/env bash
# The demo session, run by scripts/demo.sh inside `xensim run`: one guest,
# the router with the three emulators of config/demo.json, a guest script
# on each vCPU that talks to all of them, a kill -9 the router repairs, and
# a clean stop.  $1 is the build directory.
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$build/bin
xensim=$bin/xensim
work=$(mktemp -d)
export IOREQ_ROUTER_SOCKET=$work/control
router=
trap '[ -n "$router" ] && kill -KILL "$router" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
ctl() { "$bin/ioreqctl" "$@"; }
state() { xenstore-read "/tool/ioreq-router/state/$domid/$1/$2" 2>/dev/null || true; }
wait_running() { # wait (10 s) until every emulator of the guest runs
    for _ in $(seq 200); do
        [ "$(state uart0 state) $(state pcitest0 state) $(state debugcon0 state)" = \
          "running running running" ] && return 0
        sleep 0.05
    done
    echo "the emulators did not come up; the router said:" >&2
    cat "$work/router.log" >&2
    exit 1
}
# emulator output, without libioreq's own log lines
output_of() { grep -v '^ioreq-\|^libioreq' "$work/logs/demo.$1.log" | sed 's/^/    /' || true; }

step "create the guest \"demo\" (HVM, 2 vCPUs), paused as 'xl create -p' does"
domid=$("$xensim" domain create --name demo --type hvm --vcpus 2 --memory 64M --paused)
"$xensim" domain list

step "start ioreq-routerd with config/demo.json"
"$bin/ioreq-routerd" --config "$repo/config/demo.json" --exec-path "$bin" \
    --log-dir "$work/logs" 2>"$work/router.log" &
router=$!
wait_running
sed 's/^ioreq-routerd: /  /' "$work/router.log"

step "the router held the guest with a pause of its own until its emulators were ready; the toolstack's pause is left to 'xl unpause'"
pause_count() { "$xensim" domain info "$domid" | awk '$1 == "pause-count" { print $2 }'; }
echo "  pause count now: $(pause_count) (the toolstack's)"
"$xensim" domain unpause "$domid"
echo "  after 'xensim domain unpause': $(pause_count)"

step "ioreqctl list: one process and one ioreq server per emulator"
ctl list

step "the router's state in xenstore"
xenstore-ls "/tool/ioreq-router/state/$domid"

step "a guest script on each vCPU, concurrently"
sed 's/^/  vcpu0: /' "$here/vcpu0.script" | grep -v ': #'
sed 's/^/  vcpu1: /' "$here/vcpu1.script" | grep -v ': #'
"$xensim" guest run "$domid" "$here/vcpu0.script" "$here/vcpu1.script"
echo "every expectation held"

step "what each emulator answered"
echo "  uart0 (ioreq-uart, ports 0x3f8-0x3ff) sent to its backend:"
output_of uart0
echo "  debugcon0 (ioreq-debugcon, port 0x402) printed:"
output_of debugcon0
echo "  interrupts the emulators drove (xensim irq-log: uart0 and pcitest0 lower their lines at start, then pcitest0's MSI):"
"$xensim" irq-log "$domid" | sed 's/^/    /'

step "kill -9 uart0 while the guest uses it: the router restarts it on the same ioreq server"
for _ in $(seq 1 40); do printf 'in 0x3fd 1 expect 0x60\nsleep 10\n'; done >"$work/poll.script"
"$xensim" guest run "$domid" "$work/poll.script" &
guest=$!
sleep 0.2
old=$(state uart0 pid)
kill -KILL "$old"
wait "$guest" && echo "the guest's 40 LSR reads all returned 0x60 across the restart"
wait_running
echo "uart0: pid $old -> $(state uart0 pid), server $(state uart0 server), restarts $(state uart0 restarts), last exit: $(state uart0 exit-status)"
grep 'uart0' "$work/router.log" | tail -4 | sed 's/^ioreq-routerd: /  /'

step "stop the router (SIGTERM): emulators stop, servers go"
kill -TERM "$router"
wait "$router"
router=
tail -2 "$work/router.log" | sed 's/^ioreq-routerd: /  /'
"$xensim" domain list
