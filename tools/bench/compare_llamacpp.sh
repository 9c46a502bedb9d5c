#!/usr/bin/env bash
# Side-by-side speed and memory of `tca bench` and llama.cpp's `llama-bench` on the same GGUF file.
#
# Usage: tools/bench/compare_llamacpp.sh MODEL [-p LIST] [-n N] [-d LIST] [-r N] [-t N]
#   MODEL    a .gguf path or a fetched model name (smollm2 -> $TCA_MODELS_DIR/smollm2.gguf or
#            ~/.cache/tca/models/smollm2.gguf)
#   -p LIST  prompt lengths, comma-separated (default 512; 0 for none)
#   -n N     tokens per generation test (default 64; 0 for none)
#   -d LIST  context depths for the generation tests (default 0)
#   -r N     repetitions (default 3)
#   -t N     threads for both tools (default: nproc)
# Environment:
#   TCA_BIN      tca binary (default: build/tools/tca in this repository)
#   LLAMA_BENCH  llama-bench binary (default: ~/.cache/tca/llama.cpp/bin/llama-bench, made by
#                tools/bench/build_llamacpp.sh)
#   KEEP_DIR     if set, the raw JSON and /usr/bin/time reports are kept there
#
# Prints one markdown table (test | tca t/s | llama.cpp t/s | ratio) and lines for peak memory,
# machine, ISA, threads and versions. See docs/benchmarks.md for the methodology.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

[[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
model_arg="$1"
shift
pp=512 ng=64 depth=0 reps=3 threads="$(nproc)"
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || { echo "compare_llamacpp: $1 needs a value" >&2; exit 2; }
    case "$1" in
        -p) pp="$2" ;;
        -n) ng="$2" ;;
        -d) depth="$2" ;;
        -r) reps="$2" ;;
        -t) threads="$2" ;;
        *) echo "compare_llamacpp: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift 2
done

# Same file for both tools: resolve the name the way tca_model_resolve does, then follow links
# so llama-bench reports the real file name.
if [[ -f "$model_arg" ]]; then
    model="$model_arg"
else
    models_dir="${TCA_MODELS_DIR:-$HOME/.cache/tca/models}"
    model="$models_dir/${model_arg%.gguf}.gguf"
    [[ -f "$model" ]] || {
        echo "compare_llamacpp: model '$model_arg' not found as a file or as $model; run \`tca fetch $model_arg\`" >&2
        exit 1
    }
fi
model="$(readlink -f "$model")"

tca="${TCA_BIN:-$root/build/tools/tca}"
[[ -x "$tca" ]] || { echo "compare_llamacpp: $tca not found; build tca first (meson setup build && ninja -C build)" >&2; exit 1; }
llama_dir="$HOME/.cache/tca/llama.cpp"
llama_bench="${LLAMA_BENCH:-$llama_dir/bin/llama-bench}"
[[ -x "$llama_bench" ]] || {
    echo "compare_llamacpp: $llama_bench not found; run tools/bench/build_llamacpp.sh first" >&2
    exit 1
}
llama_info="$(readlink -f "$(dirname "$llama_bench")")/../../BUILD_INFO"
[[ -x /usr/bin/time ]] || { echo "compare_llamacpp: /usr/bin/time missing; apt-get install -y time" >&2; exit 1; }

if [[ -n "${KEEP_DIR:-}" ]]; then
    work="$KEEP_DIR"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

# Runs "$@" under /usr/bin/time -v; stdout to $1.json, the time report to $1.time, stderr to $1.err.
timed() {
    local name="$1"
    shift
    if ! /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.json" 2>"$work/$name.err"; then
        echo "compare_llamacpp: '$*' failed; its stderr:" >&2
        tail -n 30 "$work/$name.err" >&2
        exit 1
    fi
}

echo "tca bench ..." >&2
timed tca "$tca" bench -m "$model" -p "$pp" -n "$ng" -d "$depth" -r "$reps" -t "$threads" -o json

# llama-bench crosses every -p and -n with every -d, which would add prompt tests at depth that
# tca bench does not run (and that cost a long prefill each); so prompts run at depth 0 and
# generation at the requested depths, in two invocations.
llama_common=(-m "$model" -r "$reps" -t "$threads" -fa 1 -o json)
llama_json=() llama_time=()
if [[ "$pp" != 0 ]]; then
    echo "llama-bench (prompt) ..." >&2
    timed llama_pp "$llama_bench" "${llama_common[@]}" -p "$pp" -n 0 -d 0
    llama_json+=("$work/llama_pp.json") llama_time+=("$work/llama_pp.time")
fi
if [[ "$ng" != 0 ]]; then
    echo "llama-bench (generation) ..." >&2
    timed llama_tg "$llama_bench" "${llama_common[@]}" -p 0 -n "$ng" -d "$depth"
    llama_json+=("$work/llama_tg.json") llama_time+=("$work/llama_tg.time")
fi
[[ ${#llama_json[@]} -gt 0 ]] || { echo "compare_llamacpp: nothing to run (-p 0 and -n 0)" >&2; exit 2; }

info_args=()
[[ -f "$llama_info" ]] && info_args=(--llama-info "$llama_info")
python3 "$here/compare_llamacpp.py" --tca "$work/tca.json" --tca-time "$work/tca.time" \
    --llama "${llama_json[@]}" --llama-time "${llama_time[@]}" "${info_args[@]}"
