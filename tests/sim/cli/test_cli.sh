#!/usr/bin/env bash
# Tests of the xensim CLI against a fake daemon (fake_xensimd):
#   test_cli.sh XENSIM FAKE_DAEMON [quick]
# Bad arguments must exit 2 with one line on stderr; `xensim run` must
# start the daemon, set the environment, pass on the exit status and
# signals, and clean up; the control commands must send the right requests
# and print the replies.  "quick" skips the tests that wait for timeouts.
set -u

[ $# -ge 2 ] || { echo "usage: $0 XENSIM FAKE_DAEMON [quick]"; exit 2; }
quick=${3:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# xensim finds its daemon and ../xensim-lib next to its own executable.
mkdir -p "$T/bin" "$T/xensim-lib" "$T/tmp"
cp "$1" "$T/bin/xensim" && cp "$2" "$T/bin/xensim-daemon" || exit 1
X=$T/bin/xensim
export TMPDIR=$T/tmp
unset XENSIM_SOCKET XENSIM_LIB_DIR FAKE_XENSIMD_MODE

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# check NAME WANT_RC STDERR_PATTERN [STDOUT_PATTERN]: after run_x.
run_x() {
    "$X" "$@" >"$T/out" 2>"$T/err"
    rc=$?
}
check() {
    local name=$1 want=$2 err_pat=$3 out_pat=${4:-}
    if [ "$rc" != "$want" ]; then
        fail "$name: exit $rc, want $want; stderr: $(cat "$T/err")"
        return
    fi
    if [ -n "$err_pat" ] && ! grep -qE -- "$err_pat" "$T/err"; then
        fail "$name: stderr '$(cat "$T/err")' does not match '$err_pat'"
    fi
    if [ -n "$out_pat" ] && ! grep -qE -- "$out_pat" "$T/out"; then
        fail "$name: stdout '$(cat "$T/out")' does not match '$out_pat'"
    fi
}

# usage NAME PATTERN ARGS...: exit 2, exactly one line on stderr, nothing on stdout.
usage() {
    local name=$1 pat=$2
    shift 2
    run_x "$@"
    check "$name" 2 "$pat"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$T/err")"
    [ ! -s "$T/out" ] || fail "$name: wrote to stdout: $(cat "$T/out")"
}

# ---- argument errors ----

usage no-command "^xensim: a command is required" 
usage unknown-command "^xensim: unknown command 'frob'" frob
usage unknown-global "^xensim: unknown option '--frob'" --frob domain list
usage socket-no-value "^xensim: option --socket needs a value" --socket
usage domain-no-sub "^xensim: 'domain' needs a subcommand" domain
usage domain-bad-sub "^xensim: unknown subcommand 'domain frob'" domain frob
usage guest-bad-sub "^xensim: unknown subcommand 'guest walk'" guest walk
usage control-chars "unknown command 'a\?\[31m'" $'a\e[31m'

C="domain create"
usage create-missing "^xensim domain create: --type is required" $C --name a
usage create-missing-all "^xensim domain create: --name is required" $C
usage create-twice "--name given twice" $C --name a --name b
usage create-unknown "unknown option '--colour'" $C --colour=red
usage create-positional "unexpected argument 'extra'" $C extra
usage create-no-value "option --memory needs a value" $C --name a --memory
usage create-name-digits "--name must be .* not '123'" $C --name 123 --type hvm --vcpus 1 --memory 64M
usage create-name-dash "--name must be .* not '-x'" $C --name=-x --type hvm --vcpus 1 --memory 64M
usage create-name-slash "--name must be .* not 'a/b'" $C --name a/b --type hvm --vcpus 1 --memory 64M
usage create-name-long "--name must be 1 to 63 characters" $C --name "$(printf 'a%.0s' {1..64})" --type hvm --vcpus 1 --memory 64M
usage create-type "--type must be 'hvm' or 'pvh', not 'pv'" $C --name a --type pv --vcpus 1 --memory 64M
usage create-vcpus-0 "--vcpus must be a number from 1 to 128, not '0'" $C --name a --type hvm --vcpus 0 --memory 64M
usage create-vcpus-129 "--vcpus must be a number from 1 to 128, not '129'" $C --name a --type hvm --vcpus 129 --memory 64M
usage create-vcpus-neg "--vcpus must be a number from 1 to 128, not '-1'" $C --name a --type hvm --vcpus -1 --memory 64M
usage create-vcpus-junk "--vcpus must be a number from 1 to 128, not '2x'" $C --name a --type hvm --vcpus 2x --memory 64M
usage create-vcpus-huge "--vcpus must be a number" $C --name a --type hvm --vcpus 99999999999999999999999 --memory 64M
usage create-memory-unit "--memory must be a size with a unit" $C --name a --type hvm --vcpus 1 --memory 64
usage create-memory-zero "--memory must be a size with a unit" $C --name a --type hvm --vcpus 1 --memory 0M
usage create-memory-big "--memory must be a size with a unit" $C --name a --type hvm --vcpus 1 --memory 2T
usage create-memory-page "--memory must be a multiple of 4K, not '6K'" $C --name a --type hvm --vcpus 1 --memory 6K
usage create-domid-0 "--domid must be a number from 1 to 32751, not '0'" $C --name a --type hvm --vcpus 1 --memory 64M --domid 0
usage create-domid-big "--domid must be a number from 1 to 32751, not '32752'" $C --name a --type hvm --vcpus 1 --memory 64M --domid 32752
usage create-no-socket "XENSIM_SOCKET is not set" $C --name a --type hvm --vcpus 1 --memory 64M

usage destroy-none "^xensim domain destroy: a DOMID or NAME is required" domain destroy
usage destroy-two "unexpected argument 'b'" domain destroy a b
usage destroy-domid "DOMID must be a number from 1 to 32751, not '0'" domain destroy 0
usage destroy-name "a domain NAME must be" domain destroy 'a b'
usage list-extra "^xensim domain list: unexpected argument 'x'" domain list x
usage irq-none "^xensim irq-log: a DOMID or NAME is required" irq-log
usage irq-unknown "unknown option '--all'" irq-log --all 1
usage irq-domid "DOMID must be a number from 1 to 32751, not '0x8000'" irq-log 0x8000
usage pause-none "^xensim domain pause: a DOMID or NAME is required" domain pause
usage pause-two "^xensim domain pause: unexpected argument '2'" domain pause 1 2
usage unpause-none "^xensim domain unpause: a DOMID or NAME is required" domain unpause
usage unpause-domid "DOMID must be a number from 1 to 32751, not '32752'" domain unpause 32752
usage info-none "^xensim domain info: a DOMID or NAME is required" domain info
usage info-domid "DOMID must be a number from 1 to 32751, not '0x8000'" domain info 0x8000
usage info-name "a domain NAME must be" domain info 'a b'
usage info-no-socket "XENSIM_SOCKET is not set" domain info 0
usage pause-no-socket "XENSIM_SOCKET is not set" domain pause 0x0
usage create-paused-value "option --paused takes no value" domain create --paused=yes
usage arg-long "unknown option '--a{66}\.\.\.' \(see --help\)$" domain list "--$(printf 'a%.0s' {1..100})=1"

echo "out 0x3f8 1 0x41" >"$T/ok.gio"
printf 'in 0x60 1\nfoo 1\n' >"$T/bad.gio"
printf 'out 0x80 1 \0' >"$T/nul.gio"
usage guest-none "a DOMID or NAME and at least one SCRIPT are required" guest run
usage guest-noscript "at least one SCRIPT is required" guest run 1
usage guest-missing "cannot open '$T/nope.gio': No such file" guest run 1 "$T/nope.gio"
usage guest-dir "'$T' is not a regular file" guest run 1 "$T"
usage guest-syntax "^xensim guest run: $T/bad.gio:2: unknown verb 'foo'$" guest run 1 "$T/ok.gio" "$T/bad.gio"
usage guest-nul "contains a NUL byte" guest run 1 "$T/nul.gio"
usage guest-timeout "--timeout must be a number from 1 to 3600000, not '0'" guest run --timeout 0 1 "$T/ok.gio"
usage guest-timeout2 "--timeout given twice" guest run --timeout 5 --timeout 6 1 "$T/ok.gio"
usage guest-stdin2 "can be given once" guest run 1 - -
usage guest-too-many "at most 128 scripts" guest run 1 $(for i in $(seq 129); do echo "$T/ok.gio"; done)
head -c 70000 /dev/zero | tr '\0' '#' >"$T/big.gio"
usage guest-big "is larger than 65536 bytes" guest run 1 "$T/big.gio"
for i in 1 2; do head -c 40000 /dev/zero | tr '\0' '#' >"$T/half$i.gio"; done
usage guest-total "too large for one request" guest run 1 "$T/half1.gio" "$T/half2.gio"
usage guest-no-socket "XENSIM_SOCKET is not set" guest run 1 "$T/ok.gio"
usage guest-domid "DOMID must be a number from 1 to 32751, not '99999'" guest run 99999 "$T/ok.gio"
usage guest-name "a domain NAME must be" guest run -- -x "$T/ok.gio"
usage connect-refused "cannot connect to the daemon at $T/none.sock" --socket "$T/none.sock" domain list
usage connect-long "File name too long" --socket "/$(printf 'a%.0s' {1..200})" domain list

usage run-nocmd "^xensim run: a command to run is required" run
usage run-nocmd2 "^xensim run: a command to run is required" run --keep-dir --
usage run-keep-value "option --keep-dir takes no value" run --keep-dir=yes true
usage run-domain-fields "--domain must be NAME:TYPE:VCPUS:MEM" run --domain a:hvm:1 true
usage run-domain-fields5 "--domain must be NAME:TYPE:VCPUS:MEM" run --domain a:hvm:1:64M:3 true
usage run-domain-type "--domain TYPE must be 'hvm' or 'pvh'" run --domain a:kvm:1:64M true
usage run-domain-vcpus "--domain VCPUS must be a number from 1 to 128" run --domain a:hvm:x:64M true
usage run-domain-mem "--domain MEM must be a size" run --domain a:hvm:1:64Q true
usage run-domain-dup "two --domain options name 'a'" run --domain a:hvm:1:64M --domain a:pvh:1:64M true

# --help: exit 0, usage on stdout.
for cmd in "" "domain" "domain create" "domain destroy" "domain list" "domain pause" \
           "domain unpause" "domain info" "guest run" "irq-log" "run"; do
    # shellcheck disable=SC2086
    run_x $cmd --help
    check "help '$cmd'" 0 "" "^usage"
done

# ---- xensim run ----

leftovers() { ls -A "$T/tmp"; }

run_x run -- sh -c 'echo "sock=$XENSIM_SOCKET"; echo "xs=$XENSTORED_PATH"; echo "ld=$LD_LIBRARY_PATH"; test -S "$XENSIM_SOCKET" && test -S "$XENSTORED_PATH" && echo sockets-ok'
check run-env 0 "" "^sockets-ok$"
grep -qE "^sock=$T/tmp/xensim\.[A-Za-z0-9]{6}/control\.sock$" "$T/out" || fail "run-env: XENSIM_SOCKET: $(cat "$T/out")"
grep -qE "^xs=$T/tmp/xensim\.[A-Za-z0-9]{6}/xenstored\.sock$" "$T/out" || fail "run-env: XENSTORED_PATH: $(cat "$T/out")"
grep -qx "ld=$T/xensim-lib" "$T/out" || fail "run-env: LD_LIBRARY_PATH: $(cat "$T/out")"
[ -z "$(leftovers)" ] || fail "run-env: directory left behind: $(leftovers)"

LD_LIBRARY_PATH=/opt/x run_x run sh -c 'echo "ld=$LD_LIBRARY_PATH"'
check run-ld-append 0 "" "^ld=$T/xensim-lib:/opt/x$"

mv "$T/xensim-lib" "$T/lib2"
XENSIM_LIB_DIR=$T/lib2 run_x run -- sh -c 'echo "ld=$LD_LIBRARY_PATH"'
check run-lib-env 0 "" "^ld=$T/lib2$"
run_x run -- sh -c 'echo "ld=${LD_LIBRARY_PATH-unset}"'
check run-no-lib 0 "warning: no drop-in libraries" "^ld=unset$"
mv "$T/lib2" "$T/xensim-lib"

run_x run -- sh -c 'exit 7'
check run-status 7 ""
run_x run -- sh -c 'kill -TERM $$'
check run-signal 143 ""
run_x run -- "$T/does-not-exist"
check run-enoent 127 "cannot run '$T/does-not-exist'"
run_x run -- "$T/ok.gio"
check run-eacces 126 "cannot run '$T/ok.gio': Permission denied"
[ -z "$(leftovers)" ] || fail "run: directory left behind: $(leftovers)"

run_x run --keep-dir -- true
check run-keep 0 "^xensim run: kept $T/tmp/xensim\.[A-Za-z0-9]{6}$"
kept=$(sed -n 's/^xensim run: kept //p' "$T/err")
[ -d "$kept" ] && [ -S "$kept/control.sock" ] || fail "run-keep: $kept is not there"
rm -rf "$kept"

# TMPDIR too long for a socket path: /tmp is used instead.
long=$T/tmp/$(printf 'd%.0s' {1..100})
mkdir -p "$long"
TMPDIR=$long run_x run -- sh -c 'echo "$XENSIM_SOCKET"'
check run-long-tmpdir 0 "" "^/tmp/xensim\.[A-Za-z0-9]{6}/control\.sock$"
rmdir "$long"

FAKE_XENSIMD_MODE=exit-early run_x run -- true
check run-daemon-dies 125 "the daemon exited before it was ready \(exit status 3\)"
mv "$T/bin/xensim-daemon" "$T/bin/daemon.off"
run_x run -- true
check run-no-daemon 125 "cannot find the daemon: $T/bin/xensim-daemon"
mv "$T/bin/daemon.off" "$T/bin/xensim-daemon"
[ -z "$(leftovers)" ] || fail "run failures: directory left behind: $(leftovers)"

# A signal sent to xensim goes to the command; the daemon is stopped.
"$X" run -- sh -c 'echo $$ >"$0"; exec sleep 30' "$T/cmd.pid" >/dev/null 2>"$T/err" &
xpid=$!
for _ in $(seq 100); do [ -s "$T/cmd.pid" ] && break; sleep 0.05; done
kill -TERM "$xpid"
wait "$xpid"
rc=$?
check run-forward-term 143 ""
kill -0 "$(cat "$T/cmd.pid")" 2>/dev/null && fail "run-forward-term: command still running"
[ -z "$(leftovers)" ] || fail "run-forward-term: directory left behind: $(leftovers)"

if [ "$quick" != quick ]; then
    start=$(date +%s)
    FAKE_XENSIMD_MODE=never-ready run_x run -- true
    check run-never-ready 125 "the daemon was not ready within 10 s"
    [ $(($(date +%s) - start)) -le 15 ] || fail "run-never-ready: took too long"

    FAKE_XENSIMD_MODE=ignore-term run_x run -- sh -c 'exit 4'
    check run-ignore-term 4 "did not stop within 5 s; killing it"
    [ -z "$(leftovers)" ] || fail "run timeouts: directory left behind: $(leftovers)"
fi

# ---- control commands, inside a run ----

cat >"$T/session.sh" <<'EOF'
set -u
x=$XENSIM_BIN
echo "== list"; "$x" domain list
echo "== create"; "$x" domain create --name db --type hvm --vcpus 4 --memory 1G --domid 20
echo "== create again"; "$x" domain create --name db --type pvh --vcpus 1 --memory 4K; echo "rc=$?"
echo "== irq"; "$x" irq-log web
echo "== guest ok"; "$x" guest run --timeout 500 db "$T/ok.gio" - <"$T/ok.gio"; echo "rc=$?"
echo "== guest fail"; "$x" guest run 20 "$T/ok.gio" "$T/fail.gio"; echo "rc=$?"
echo "== guest vcpu"; "$x" guest run --vcpu 3 20 "$T/ok.gio"; echo "rc=$?"
echo "== guest vcpu past"; "$x" guest run --vcpu 3 20 "$T/ok.gio" "$T/ok.gio"; echo "rc=$?"
echo "== guest too many"; "$x" guest run web "$T/ok.gio" "$T/ok.gio" "$T/ok.gio"; echo "rc=$?"
echo "== guest unknown"; "$x" guest run nosuch "$T/ok.gio"; echo "rc=$?"
echo "== destroy"; "$x" domain destroy web; echo "rc=$?"
echo "== destroy again"; "$x" domain destroy 1; echo "rc=$?"
echo "== list"; "$x" domain list
echo "== irq none"; "$x" irq-log 1; echo "rc=$?"
echo "== create paused"; "$x" domain create --name held --type pvh --vcpus 1 --memory 4K --paused
echo "== pause"; "$x" domain pause db; echo "rc=$?"
echo "== pause again"; "$x" domain pause 20; echo "rc=$?"
echo "== info"; "$x" domain info db
echo "== info paused"; "$x" domain info held
echo "== list paused"; "$x" domain list
echo "== unpause twice"; "$x" domain unpause db && "$x" domain unpause 20; echo "rc=$?"
echo "== unpause at 0"; "$x" domain unpause db; echo "rc=$?"
echo "== pause unknown"; "$x" domain pause 99; echo "rc=$?"
echo "== pause unknown name"; "$x" domain pause nosuch; echo "rc=$?"
echo "== info unknown"; "$x" domain info 99; echo "rc=$?"
echo "== info dom0"; "$x" domain info 0; echo "rc=$?"
EOF
printf '# fails\nin 0x60 1 expect 1 # FAIL\n' >"$T/fail.gio"
T=$T XENSIM_BIN=$X run_x run --keep-dir --domain web:hvm:2:64M --domain tiny:pvh:1:4K -- sh "$T/session.sh"
check session 0 ""
cat >"$T/want" <<EOF
== list
DOMID  NAME  TYPE  VCPUS  MEMORY  PAUSED  SERVERS
1      web   hvm       2     64M       0        1
2      tiny  pvh       1      4K       0        2
== create
20
== create again
rc=1
== irq
isa 4 level 1
intx 00:05 B level 0
msi addr 0xfee00000 data 0x4041
kind 9 line 1 level 1
== guest ok
rc=0
== guest fail
$T/fail.gio:1: expected 0x1, got 0x2
rc=1
== guest vcpu
rc=0
== guest vcpu past
rc=1
== guest too many
rc=1
== guest unknown
rc=1
== destroy
rc=0
== destroy again
rc=1
== list
DOMID  NAME  TYPE  VCPUS  MEMORY  PAUSED  SERVERS
2      tiny  pvh       1      4K       0        2
20     db    hvm       4      1G       0        2
== irq none
rc=1
== create paused
1
== pause
rc=0
== pause again
rc=0
== info
domid 20
name db
type hvm
pause-count 2
flags 0xa hvm_guest,paused
vcpus 4
max-vcpu-id 3
tot-pages 262144
max-pages 262144
emulation-flags 0x3ff lapic,hpet,pm,rtc,ioapic,pic,vga,iommu,pit,use_pirq
servers 2
refused-irqs 30
busy-vcpus 3
== info paused
domid 1
name held
type pvh
pause-count 1
flags 0xa hvm_guest,paused
vcpus 1
max-vcpu-id 0
tot-pages 1
max-pages 1
emulation-flags 0x1 lapic
servers 1
refused-irqs 11
busy-vcpus 0
== list paused
DOMID  NAME  TYPE  VCPUS  MEMORY  PAUSED  SERVERS
1      held  pvh       1      4K       1        1
2      tiny  pvh       1      4K       0        2
20     db    hvm       4      1G       2        2
== unpause twice
rc=0
== unpause at 0
rc=1
== pause unknown
rc=1
== pause unknown name
rc=1
== info unknown
rc=1
== info dom0
rc=1
EOF
diff -u "$T/want" "$T/out" || fail "session: output differs"
kept=$(sed -n 's/^xensim run: kept //p' "$T/err")
sed -i '/^xensim run: kept /d' "$T/err"
cat >"$T/want" <<EOF
xensim domain create: cannot create domain 'db': File exists
xensim guest run: domain 20: Invalid argument
xensim guest run: domain 1: Invalid argument
xensim guest run: no domain named 'nosuch'
xensim domain destroy: cannot destroy domain 1: No such process
xensim irq-log: cannot read the interrupt log: No such process
xensim domain unpause: cannot unpause domain 20: Invalid argument
xensim domain pause: cannot pause domain 99: No such process
xensim domain pause: no domain named 'nosuch'
xensim domain info: cannot get domain 99: No such process
xensim domain info: cannot get domain 0: No such process
EOF
diff -u "$T/want" "$T/err" || fail "session: stderr differs"

# What the daemon was sent.
cat >"$T/want" <<EOF
domid 20 scripts 2 timeout 500 first 0
[$T/ok.gio]
out 0x3f8 1 0x41
[end]
[<stdin>]
out 0x3f8 1 0x41
[end]
domid 20 scripts 2 timeout 0 first 0
[$T/ok.gio]
out 0x3f8 1 0x41
[end]
[$T/fail.gio]
# fails
in 0x60 1 expect 1 # FAIL
[end]
domid 20 scripts 1 timeout 0 first 3
[$T/ok.gio]
out 0x3f8 1 0x41
[end]
EOF
diff -u "$T/want" "$kept/guest-run.log" || fail "session: requests differ"
rm -rf "$kept"
[ -z "$(leftovers)" ] || fail "session: directory left behind: $(leftovers)"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all CLI tests passed"
