#!/bin/sh
# Cross-compiles simd/ and its kernel tests for AArch64 and runs them under qemu-user, so the
# NEON variants are tested against the reference on an x86 machine.
# Needs the Debian packages gcc-aarch64-linux-gnu and qemu-user (plus meson and ninja).
#
#   tools/test_arm.sh [BUILD_DIR [MESON_TEST_ARGS...]]      (default: build-arm)
#
# Runs `meson test --suite kernels` (the C tests only: the Python checks are not built in a
# cross build) and exits with its status.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-arm}
[ $# -gt 0 ] && shift
for tool in aarch64-linux-gnu-gcc qemu-aarch64 meson ninja; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "test_arm.sh: $tool not found (apt-get install gcc-aarch64-linux-gnu qemu-user meson ninja-build)" >&2
        exit 1
    }
done
if [ ! -d "$build/meson-private" ]; then
    meson setup "$build" --cross-file tools/cross/aarch64-linux-gnu.ini -Dkernels_only=true
fi
ninja -C "$build"
meson test -C "$build" --suite kernels --print-errorlogs "$@" || status=$?
# Show which levels each test exercised (the NEON level must appear under qemu).
grep -h -E '^(levels tested|neon|TCA_ISA)' "$build/meson-logs/testlog.txt" | sort | uniq -c
# Also the AArch64 ref and NEON kernels against gguf-py, when a Python with the gguf package is
# at hand ($PYTHON, default python3): the test above compares NEON with the AArch64 build of
# ref, this one checks that build of ref itself (other compiler, other flags) independently.
python=${PYTHON:-python3}
if "$python" -c 'import gguf, numpy' >/dev/null 2>&1; then
    "$python" tests/kernels/check_dequant_ref.py "$build/tests/kernels/dequant_cli" \
        qemu-aarch64 -L /usr/aarch64-linux-gnu || status=1
else
    echo "test_arm.sh: $python has no gguf/numpy: AArch64 kernels not checked against gguf-py"
fi
exit "${status:-0}"
