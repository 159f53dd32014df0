# The libxenctrl drop-in, through xc_probe (linked with Debian's -lxenctrl):
# xc_domain_getinfolist ranges and what it says of dom0, HVM, PVH, paused
# and crashed domains; the older xc_domain_getinfo; pause and unpause with
# Xen's errors, and a guest script that waits while its domain is paused;
# the handle after xentoolcore_restrict_all(); a caller that is not dom0;
# a program that needs a function the drop-in lacks.  Runs under `xensim
# run` (run_test.sh).
. "$INT_LIB"

XC=$TOOLS/xc_probe

# xc ARGS...: xc_probe's output (stdout), bounded
xc() {
    timeout 20 "$XC" "$@"
}

# ids ARGS...: xc_probe's output on one line, "n=COUNT" then the domids
ids() {
    xc "$@" | awk '{ printf "%s%s", s, ($1 == "domid" ? $2 : $1); s = " " }'
}

# line_of OUTPUT DOMID: the line of a list/getinfo output for DOMID
line_of() {
    printf '%s\n' "$1" | grep "^domid $2 "
}

mk() { # NAME TYPE DOMID [--paused]
    timeout 20 "$X" domain create --name "$1" --type "$2" --vcpus 2 --memory 16M --domid "$3" ${4:+"$4"} >/dev/null ||
        fail "domain create $1"
}
mk h1 hvm 1
mk p1 pvh 2
mk held pvh 3 --paused
mk h10 hvm 10

# ---- xc_domain_getinfolist ----
out=$(xc list 0 100)
check "list: count" "n=5" "$(printf '%s\n' "$out" | head -1)"
check "list: ascending" "0 1 2 3 10" "$(printf '%s\n' "$out" | awk '$1 == "domid" { printf "%s%s", s, $2; s = " " }')"
check "list: dom0 (PV: no emulation, no vCPU)" \
    "domid 0 flags 0x0 emu 0x0 vcpus 0 maxid 0xffffffff tot 0 max 0" "$(line_of "$out" 0)"
check "list: HVM (hvm_guest, blocked, hap; all but vPCI)" \
    "domid 1 flags 0x112 emu 0x3ff vcpus 2 maxid 0x1 tot 4096 max 4096" "$(line_of "$out" 1)"
check "list: PVH (an HVM container; LAPIC only)" \
    "domid 2 flags 0x112 emu 0x1 vcpus 2 maxid 0x1 tot 4096 max 4096" "$(line_of "$out" 2)"
check "list: created paused" \
    "domid 3 flags 0x11a emu 0x1 vcpus 2 maxid 0x1 tot 4096 max 4096" "$(line_of "$out" 3)"

check "list 2 2" "n=2 2 3" "$(ids list 2 2)"
check "list 4 10: the next one up" "n=1 10" "$(ids list 4 10)"
check "list 11 10: none" "n=0" "$(xc list 11 10)"
check "list 0 0" "n=0" "$(xc list 0 0)"
check "list 0x10001 1: first is a domid_t" "n=1 1" "$(ids list 0x10001 1)"
check "list 0x7ff0 5: reserved ids" "n=0" "$(xc list 0x7ff0 5)"

# ---- xc_domain_getinfo (the older loop, 4.17: the next domain at or after) ----
out=$(xc getinfo 0 100)
check "getinfo: count" "n=5" "$(printf '%s\n' "$out" | head -1)"
check "getinfo: HVM" \
    "domid 1 hvm 1 paused 0 dying 0 shutdown 0 crashed 0 reason 0 vcpus 2 maxid 0x1 pages 4096 maxkb 16384 emu 0x3ff" \
    "$(line_of "$out" 1)"
check "getinfo: paused PVH" \
    "domid 3 hvm 1 paused 1 dying 0 shutdown 0 crashed 0 reason 0 vcpus 2 maxid 0x1 pages 4096 maxkb 16384 emu 0x1" \
    "$(line_of "$out" 3)"
check "getinfo 4 1: the next one up" "n=1 10" "$(ids getinfo 4 1)"
check "getinfo 11 1: ESRCH" "error ESRCH" "$(xc getinfo 11 1)"
check "getinfo 0x7ff0 1: EINVAL" "error EINVAL" "$(xc getinfo 0x7ff0 1)"
check "getinfo 0 0" "n=0" "$(xc getinfo 0 0)"
check "getinfo 3 100: stops after the last" "n=2" "$(xc getinfo 3 100 | head -1)"

# A crashed domain: shut down with SHUTDOWN_crash (3); getinfo says crashed.
mk c1 pvh 20
printf 'wait-irq isa 4 timeout 5000\n' >"$T/stall.gio"
guest_run --timeout 200 20 "$T/stall.gio" >/dev/null 2>&1
check "crash: list" "domid 20 flags 0x30116 emu 0x1 vcpus 2 maxid 0x1 tot 4096 max 4096" \
    "$(line_of "$(xc list 20 1)" 20)"
check "crash: getinfo" \
    "domid 20 hvm 1 paused 0 dying 0 shutdown 0 crashed 1 reason 3 vcpus 2 maxid 0x1 pages 4096 maxkb 16384 emu 0x1" \
    "$(line_of "$(xc getinfo 20 1)" 20)"

# ---- pause / unpause ----
check "pause unknown: ESRCH" "error ESRCH" "$(xc pause 99)"
check "unpause unknown: ESRCH" "error ESRCH" "$(xc unpause 99)"
check "pause a reserved id: ESRCH" "error ESRCH" "$(xc pause 0x7ff0)"
check "unpause at 0: EINVAL" "error EINVAL" "$(xc unpause 1)"
check "pause dom0 (the caller): EINVAL" "error EINVAL" "$(xc pause 0)"
check "unpause dom0 at 0: EINVAL" "error EINVAL" "$(xc unpause 0)"
check "pause 0x10001: domid_t 1" "ok" "$(xc pause 0x10001)"
check "unpause 1" "ok" "$(xc unpause 1)"
check "unpause 1 again: EINVAL" "error EINVAL" "$(xc unpause 1)"

# Paused twice, a guest script waits until the second unpause.
check "pause 1 twice" "ok" "$(xc pause 1 2)"
check "paused flag" "domid 1 flags 0x11a emu 0x3ff vcpus 2 maxid 0x1 tot 4096 max 4096" \
    "$(line_of "$(xc list 1 1)" 1)"
printf 'in 0x80 1 expect 0xff\nin 0x81 1 expect 0xff\n' >"$T/run.gio"
guest_run 1 "$T/run.gio" "$T/run.gio" >"$T/run.out" 2>&1 &
run=$!
# Both vCPUs hold the run (busy-vcpus) before the checks, or they prove nothing.
wait_for 10 info_has 1 '^busy-vcpus 2$'
check "the run holds both vCPUs while paused" 0 $?
check "paused, with a run: still not running" "domid 1 flags 0x11a emu 0x3ff vcpus 2 maxid 0x1 tot 4096 max 4096" \
    "$(line_of "$(xc list 1 1)" 1)"
sleep 0.5
if kill -0 $run 2>/dev/null; then
    pass "guest run waits while paused"
else
    fail "guest run finished while paused: $(cat "$T/run.out")"
fi
check "unpause once" "ok" "$(xc unpause 1)"
sleep 0.5
if kill -0 $run 2>/dev/null; then
    pass "guest run waits while paused once more"
else
    fail "guest run finished while still paused: $(cat "$T/run.out")"
fi
check "unpause twice" "ok" "$(xc unpause 1)"
wait_pid $run 10
check "guest run finishes after unpause" 0 $?
check "not paused any more" "domid 1 flags 0x112 emu 0x3ff vcpus 2 maxid 0x1 tot 4096 max 4096" \
    "$(line_of "$(xc list 1 1)" 1)"

# The pause count stops at 255 (held starts at 1).
check "pause held 254 times" "ok" "$(xc pause 3 254)"
check "the 256th pause: EOVERFLOW" "error EOVERFLOW" "$(xc pause 3)"
check "CLI: pause count 255" "pause-count 255" "$(timeout 10 "$X" domain info 3 | grep pause-count)"

# ---- restriction, privilege, missing functions ----
check "after xentoolcore_restrict_all: ENOTTY" "error ENOTTY
error ENOTTY" "$(xc restricted)"
check "not dom0: list EPERM" "error EPERM" "$(XENSIM_DOMID=2 xc list 0 10)"
check "not dom0: pause EPERM" "error EPERM" "$(XENSIM_DOMID=2 xc pause 1)"
check "not dom0: unknown domain still ESRCH" "error ESRCH" "$(XENSIM_DOMID=2 xc pause 99)"
out=$(unset XENSIM_SOCKET; xc list 0 1 2>"$T/nosock.err")
check "no daemon: ENOENT" "error ENOENT" "$out"
grep -q "xenctrl: error: .*XENSIM_SOCKET" "$T/nosock.err" || fail "no daemon: no message: $(cat "$T/nosock.err")"

# xc_domain_destroy is not in the drop-in: the dynamic linker says so, at
# the first call (lazy binding) or before main (LD_BIND_NOW).
xc missing >/dev/null 2>"$T/missing.err"
check "missing function: exit status" 127 $?
grep -q "undefined symbol: xc_domain_destroy" "$T/missing.err" ||
    fail "missing function: $(cat "$T/missing.err")"
LD_BIND_NOW=1 xc list 0 1 >"$T/bindnow.out" 2>"$T/bindnow.err"
check "missing function, LD_BIND_NOW: exit status" 127 $?
grep -q "undefined symbol: xc_domain_destroy" "$T/bindnow.err" ||
    fail "missing function, LD_BIND_NOW: $(cat "$T/bindnow.err")"
[ ! -s "$T/bindnow.out" ] || fail "LD_BIND_NOW: main ran: $(cat "$T/bindnow.out")"

daemon_alive || fail "daemon does not answer"
finish
