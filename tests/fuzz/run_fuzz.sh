#!/bin/sh
# run_fuzz.sh BUILD_DIR SECONDS: fuzzes the GGUF reader for SECONDS seconds, starting from the
# crafted seed files, and fails (non-zero exit) on any crash, sanitizer report, trap, leak,
# timeout or out-of-memory. BUILD_DIR is configured with
#   CC=clang meson setup BUILD_DIR -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
# Findings (crash-*, timeout-*, oom-*) are written to BUILD_DIR/fuzz-artifacts/; the growing
# corpus is kept in BUILD_DIR/fuzz-corpus/ so that later runs start where this one ended.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
secs=$2
ninja -C "$build" tests/fuzz/fuzz_gguf tests/fuzz/gen_seeds >/dev/null
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts"
"$build/tests/fuzz/gen_seeds" "$corpus"
# UBSan reports are made fatal so that they count as crashes.
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
"$build/tests/fuzz/fuzz_gguf" "$corpus" \
    -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -dict="$(dirname "$0")/gguf.dict" -print_final_stats=1
echo "run_fuzz: no crash in $secs s"
