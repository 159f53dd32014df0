#!/usr/bin/env bash
# The demo, until the simulator exists: build the hypervisor core and run its
# selection benchmark, which sets up 8 ioreq servers for a guest through real
# dm_op calls, maps 1, 64 and 2048 MMIO ranges, checks that the core routes
# every access to the right server, and times the look-up against a linear
# scan of every range (what Xen's list-based rangesets do).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOREQ_SANITIZE=OFF
cmake --build build --parallel "$(nproc)" --target bench_select
echo
exec build/tests/bench/bench_select "$@"
