#!/usr/bin/env bash
# One entry point for setting up, building and testing tca on Debian (as root or with sudo).
#
#   tools/dev.sh quickstart   install, build, fetch the default model, answer a question about a book
#   tools/dev.sh test         install, build, fetch, run every test (what .ci/run calls)
#   tools/dev.sh deps|build|fetch   the single steps
#
# Environment: BUILD_DIR (default build), TCA_VENV (default ~/.cache/tca/venv: the Python
# packages the tests use as independent references), TCA_MODELS_DIR (model cache),
# FUZZ_SECONDS (default 60).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
BUILD_DIR=${BUILD_DIR:-build}
TCA_VENV=${TCA_VENV:-$HOME/.cache/tca/venv}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

# Debian packages: toolchain, the runtime's libraries, the aarch64 cross toolchain and qemu for
# the NEON kernel tests, clang for the libFuzzer target, gnuplot for the calibration report's PNGs.
APT_PACKAGES="build-essential pkg-config meson ninja-build git python3 python3-venv python3-pip
  libopenblas-openmp-dev libsleef-dev libcjson-dev libpcre2-dev
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang libclang-rt-14-dev gnuplot-nox"
# PyPI packages, pinned: independent references for the tests (GGUF dequantisation, tokenizer).
PIP_PACKAGES="numpy==2.4.6 gguf==0.19.0 tokenizers==0.23.3 jinja2==3.1.6"

log() { printf '\n== %s\n' "$*" >&2; }

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
    log "installing Debian packages"
    local missing=""
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        sudo_ apt-get update -qq
        sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    log "Python packages into $TCA_VENV"
    if [ ! -x "$TCA_VENV/bin/python3" ]; then
        python3 -m venv "$TCA_VENV"
    fi
    "$TCA_VENV/bin/python3" -m pip install -q --disable-pip-version-check $PIP_PACKAGES
}

# The venv's python3 comes first, so that meson's find_program('python3') and the fetch script use it.
with_venv() { PATH="$TCA_VENV/bin:$PATH" "$@"; }

build() {
    log "building in $BUILD_DIR"
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        with_venv meson setup "$BUILD_DIR" >/dev/null
    fi
    with_venv ninja -C "$BUILD_DIR"
}

fetch() {
    log "fetching ${1:-smollm2}"
    with_venv "$BUILD_DIR/tools/tca" fetch "${1:-smollm2}"
}

# Sums meson's test log into the plain closing line "N passed, N failed, N skipped".
count_meson() {
    python3 - "$1" <<'EOF'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: fail += 1
print(ok, fail, skip)
EOF
}

total_ok=0 total_fail=0 total_skip=0
add_counts() {
    read -r a b c <<<"$1"
    total_ok=$((total_ok + a)); total_fail=$((total_fail + b)); total_skip=$((total_skip + c))
}

run_tests() {
    local rc=0
    log "meson test (unit, kernels, integration; the Qwen-sized suite 'slow' is opt-in)"
    with_venv meson test -C "$BUILD_DIR" --no-suite slow --print-errorlogs --num-processes 2 || rc=1
    add_counts "$(count_meson "$BUILD_DIR/meson-logs/testlog.json")"

    log "aarch64 kernel tests under qemu"
    if with_venv tools/test_arm.sh build-arm; then :; else rc=1; fi
    add_counts "$(count_meson build-arm/meson-logs/testlog.json)"

    log "GGUF parser fuzzing (${FUZZ_SECONDS}s, ASan + UBSan)"
    if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang with_venv meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
            -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
    fi
    if ninja -C build-fuzz tests/fuzz/fuzz_gguf && tests/fuzz/run_fuzz.sh build-fuzz "$FUZZ_SECONDS"; then
        add_counts "1 0 0"
    else
        add_counts "0 1 0"; rc=1
    fi

    log "CUDA build (-Dcuda=true)"
    if command -v nvcc >/dev/null 2>&1; then
        if [ ! -f build-cuda/build.ninja ]; then
            with_venv meson setup build-cuda -Dcuda=true >/dev/null
        fi
        # Builds the CUDA library and runs its suite: exit 77 (skipped) where no GPU is present.
        if ninja -C build-cuda && with_venv meson test -C build-cuda --suite cuda --print-errorlogs; then :; else rc=1; fi
        add_counts "$(count_meson build-cuda/meson-logs/testlog.json)"
    else
        echo "nvcc not found: CUDA build not checked" >&2
    fi

    printf '\n%d passed, %d failed, %d skipped\n' "$total_ok" "$total_fail" "$total_skip"
    return $rc
}

case "${1:-}" in
deps) deps ;;
build) build ;;
fetch) fetch "${2:-smollm2}" ;;
test)
    deps
    build
    fetch smollm2
    # the tokenizer's Qwen2 reference test needs a qwen2 file: the 0.5B is the small one (491 MB)
    fetch qwen2.5-0.5b
    run_tests
    ;;
quickstart)
    deps
    build
    model=$(fetch smollm2)
    log "model info"
    "$BUILD_DIR/tools/tca" info "$model"
    log "asking about a bundled public-domain text (docs/texts/alice-chapter1.txt)"
    "$BUILD_DIR/tools/tca" ask -m "$model" --doc docs/texts/alice-chapter1.txt \
        "What did Alice see running close by her?"
    ;;
*)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
