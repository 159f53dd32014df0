#!/usr/bin/env bash
# Install dependencies, then build and run every test twice: a normal
# build in build/ and an AddressSanitizer + UBSan build in build-asan/;
# then the real-Xen end-to-end tests (label "xen": Xen 4.17 booted under
# QEMU, tests/xen/README.md) once, on the normal build, alone.
# IOREQ_TEST_XEN=0 leaves the real-Xen tests out.
# Exits non-zero if any step fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

scripts/install-deps.sh || { echo "test.sh: FAIL (installing dependencies)"; exit 1; }

jobs=$(nproc)
results=()
failed=0

# build_and_test DIR BUILD_TYPE [CMAKE_ARGS...]
build_and_test() {
    local dir=$1 type=$2
    shift 2
    echo "==> $dir: configure ($type $*)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" || return 1
    echo "==> $dir: build"
    cmake --build "$dir" --parallel "$jobs" || return 1
    echo "==> $dir: test"
    ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ctest --test-dir "$dir" --output-on-failure --parallel "$jobs" -LE '^xen$'
}

run() {
    local dir=$1
    if build_and_test "$@"; then
        results+=("$dir: ok")
    else
        results+=("$dir: FAILED")
        failed=1
    fi
}

run build RelWithDebInfo -DIOREQ_SANITIZE=OFF
run build-asan Debug -DIOREQ_SANITIZE=ON

# The real-Xen tests use both cores (QEMU's software CPU): after the rest.
if [ "${IOREQ_TEST_XEN:-1}" != 0 ]; then
    echo "==> build: real-Xen tests"
    if ctest --test-dir build --output-on-failure -L '^xen$'; then
        results+=("real Xen (build): ok")
    else
        results+=("real Xen (build): FAILED")
        failed=1
    fi
fi

summary=$(IFS=,; echo "${results[*]}")
if [ $failed -eq 0 ]; then
    echo "test.sh: PASS (${summary//,/, })"
else
    echo "test.sh: FAIL (${summary//,/, })"
fi
exit $failed
