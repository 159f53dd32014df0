#!/usr/bin/env bash
# Benchmarks: build an optimised tree (RelWithDebInfo, no sanitizers) in
# build-bench/ and run every benchmark in tests/bench:
#   bench_select     the core's server selection vs the number of ranges;
#   bench_roundtrip  the synchronous ioreq round trip through xensim vs a raw
#                    two-process ping-pong (the floor), and buffered-ring
#                    throughput.
# They print measurements and ratios; timing never fails them.  Arguments
# go to bench_roundtrip (--verbose, --reps R).
# BENCH_BUILD_DIR overrides the build directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

dir=${BENCH_BUILD_DIR:-build-bench}

scripts/install-deps.sh
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOREQ_SANITIZE=OFF
cmake --build "$dir" --parallel "$(nproc)" --target bench_select bench_roundtrip

printf '\n== server selection: look-up index vs a linear scan of every range\n'
"$dir/tests/bench/bench_select"

printf '\n== ioreq round trip through xensim vs the raw ping-pong floor; buffered ring\n'
"$dir/tests/bench/bench_roundtrip" "$@"
