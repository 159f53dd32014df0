#!/bin/bash
# check_cli.sh ROUTERD SRCDIR BINDIR: ioreq-routerd --check on the demo
# config (found via --exec-path), on a bad file (every kind of key, accounts
# included), and usage errors.  (Without arguments ioreq-routerd runs the
# daemon, so that is not a usage error.)
set -u
routerd=$1 src=$2 bin=$3
fail() { echo "FAIL: $*"; exit 1; }

out=$("$routerd" --check "$src/config/demo.json" --exec-path "$bin" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "demo.json: exit $rc: $out"
[ "$out" = "$src/config/demo.json: ok" ] || fail "demo.json output: $out"

out=$(IOREQ_ROUTER_EXEC_PATH="$bin" "$routerd" --check "$src/config/demo.json" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "demo.json via env: exit $rc: $out"

out=$(PATH=/usr/bin:/bin "$routerd" --check "$src/config/demo.json" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "demo.json without exec path: exit $rc"
echo "$out" | grep -qF 'guests[0].emulators[0].exec: "ioreq-uart" not found (searched $PATH)' \
    || fail "missing exec message: $out"

cd "$src/tests/router" || exit 1
out=$("$routerd" --check bad.json 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "bad.json: exit $rc"
expected='bad.json: guests[0].emulators[1].colour: unknown key
bad.json: guests[0].emulators[1].ports[1]: port 0x10000 is above 0xffff
bad.json: guests[0].emulators[2].restart.backoff_ms: must be between 1 and 60000
bad.json: guests[0].emulators[2].ready_timeout_ms: must be between 100 and 600000
bad.json: guests[0].emulators[2].isolation.net: unknown key
bad.json: guests[0].emulators[2].isolation.namespaces: must be true or false
bad.json: guests[0].emulators[2].isolation.seccomp: must be "default" or "off"
bad.json: guests[0].emulators[2].isolation.cpus[0]: start 4 is above end 2
bad.json: guests[0].emulators[2].isolation.cpus[1]: must be between 0 and 1023
bad.json: guests[0].emulators[2].user: user "no-such-user-xyz" does not exist
bad.json: guests[0].emulators[2].group: group "no-such-group-xyz" does not exist
bad.json: guests[0].emulators[1].ports[0]: overlaps "uart0" 0x3f8-0x3ff'
[ "$out" = "$expected" ] || fail "bad.json output:
$out"

# The other kinds: server limit, duplicate id, wrong types, bad numbers and
# PCI addresses, start above end, a missing executable.
out=$("$routerd" --check bad_kinds.json 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "bad_kinds.json: exit $rc"
expected='bad_kinds.json: guests[0].emulators: 9 emulators, but Xen allows 8 ioreq servers per guest
bad_kinds.json: guests[0].emulators[7].id: duplicate emulator id "e6" (already used by emulators[6])
bad_kinds.json: guests[0].emulators[8].id: id "e/8" must be 1 to 64 of A-Z a-z 0-9 _ . + - (it names files and xenstore paths)
bad_kinds.json: guests[1].name: must be a string
bad_kinds.json: guests[1].hold: must be true or false
bad_kinds.json: guests[1].emulators[0].ports[0]: start 0x20 is above end 0x1f
bad_kinds.json: guests[1].emulators[0].mmio[0]: bad number "0xfee0000g" (expected decimal or 0x-prefixed hex)
bad_kinds.json: guests[1].emulators[0].exec: "/no/such/emulator" not found
bad_kinds.json: guests[1].emulators[1].args: must be an array of strings
bad_kinds.json: guests[1].emulators[1].pci[0]: "00:20.0": device number 0x20 is above 0x1f
bad_kinds.json: guests[1].emulators[1].pci[1]: "0000:00:01.8": function number 8 is above 7
bad_kinds.json: guests[1].emulators[1].pci[2]: "zz:01.0" is not a PCI address (expected "SSSS:BB:DD.F" or "BB:DD.F", e.g. "0000:00:05.0")
bad_kinds.json: guests[1].emulators[2].bufioreq: must be "off", "legacy" or "atomic"
bad_kinds.json: guests[1].emulators[2].restart.max_restarts: must be between 0 and 64'
[ "$out" = "$expected" ] || fail "bad_kinds.json output:
$out"

"$routerd" --help >/dev/null 2>&1 || fail "--help"
"$routerd" --check "$src/config/demo.json" extra >/dev/null 2>&1; [ $? -eq 2 ] \
    || fail "an extra argument should exit 2"
"$routerd" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "--bogus should exit 2"
"$routerd" --check >/dev/null 2>&1; [ $? -eq 2 ] || fail "--check without FILE should exit 2"
"$routerd" --check /nonexistent.json >/dev/null 2>&1; [ $? -eq 1 ] || fail "unreadable should exit 1"
echo PASS
