#!/usr/bin/env bash
# The demo: build, then run a guest on the simulator with the router and
# three emulator processes (built against Debian's Xen libraries, run on our
# drop-ins), each its own ioreq server; then the core's server-selection
# benchmark.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOREQ_SANITIZE=OFF
cmake --build build --parallel "$(nproc)"

build/bin/xensim run -- scripts/demo/session.sh "$PWD/build"

printf '\n== server selection: look-up index vs a linear scan of every range\n'
build/tests/bench/bench_select "$@"
