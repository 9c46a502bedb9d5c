#!/usr/bin/env bash
# Builds llama.cpp's llama-bench and llama-simple OUTSIDE this repository, for side-by-side
# speed comparisons (tools/bench/compare_llamacpp.sh, docs/benchmarks.md).
#
# Usage: tools/bench/build_llamacpp.sh [DIR]
#   DIR   where to download, unpack and build (default: ~/.cache/tca/llama.cpp)
# Environment:
#   LLAMA_CPP_PYTHON_VERSION  which llama-cpp-python sdist to take llama.cpp from (default below)
#   JOBS                      parallel compile jobs (default 2)
#
# The source is the llama.cpp copy vendored in the llama-cpp-python sdist on PyPI: that gives a
# pinned, reproducible source that a plain `pip download` can fetch (no git clone needed). No
# llama.cpp code ever enters this repository.
#
# Result: DIR/<version>/build/bin/{llama-bench,llama-simple}, DIR/<version>/BUILD_INFO, and a
# stable link DIR/bin -> <version>/build/bin. Running it again with the same version and an
# existing llama-bench does nothing.
set -euo pipefail

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
DIR="${1:-$HOME/.cache/tca/llama.cpp}"
JOBS="${JOBS:-2}"
TARGETS=(llama-bench llama-simple)

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
VDIR="$DIR/$VERSION"
SRC="$VDIR/llama_cpp_python-$VERSION/vendor/llama.cpp"
BUILD="$VDIR/build"
BIN="$BUILD/bin"

if [[ -x "$BIN/llama-bench" && -f "$VDIR/BUILD_INFO" ]]; then
    ln -sfn "$VERSION/build/bin" "$DIR/bin"
    echo "llama.cpp from llama-cpp-python $VERSION already built: $BIN/llama-bench"
    cat "$VDIR/BUILD_INFO"
    exit 0
fi

for tool in cmake make g++; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool not found; install with: apt-get install -y cmake build-essential" >&2
        exit 1
    }
done

mkdir -p "$VDIR"
SDIST="$VDIR/llama_cpp_python-$VERSION.tar.gz"
if [[ ! -f "$SDIST" ]]; then
    echo "downloading llama-cpp-python $VERSION sdist from PyPI ..."
    python3 -m pip download --quiet --no-deps --no-binary :all: \
        "llama-cpp-python==$VERSION" -d "$VDIR"
fi
if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
    tar -xzf "$SDIST" -C "$VDIR"
fi

# The sdist carries no .git, so llama.cpp would report commit "unknown"; its changelog names
# the upstream commit each release vendors ("update llama.cpp to ggml-org/llama.cpp@<sha>").
CHANGELOG="$VDIR/llama_cpp_python-$VERSION/CHANGELOG.md"
COMMIT="$(awk -v v="## [$VERSION]" '
    index($0, v) == 1 { inside = 1; next }
    inside && /^## \[/ { exit }
    inside && match($0, /llama\.cpp@[0-9a-f]+/) { print substr($0, RSTART + 10, RLENGTH - 10); exit }
' "$CHANGELOG" 2>/dev/null || true)"
COMMIT="${COMMIT:-unknown}"

# Only what llama-bench/llama-simple need: no server, UI, tests, HTTPS or downloads. Shared
# libraries (libllama.so, libggml*.so in build/bin, found through the binaries' RPATH) so that
# the llama-cpp-python package can load these same libraries through LLAMA_CPP_LIB_PATH instead
# of compiling llama.cpp a second time (see docs/benchmarks.md).
start=$(date +%s)
cmake -S "$SRC" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON \
    -DGGML_OPENMP=ON \
    -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_BUILD_EXAMPLES=ON \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_COMMIT="$COMMIT" \
    -DGGML_CCACHE=OFF \
    >"$VDIR/cmake-configure.log"
cmake --build "$BUILD" --config Release -j "$JOBS" --target "${TARGETS[@]}"
end=$(date +%s)

{
    echo "llama-cpp-python: $VERSION"
    echo "llama.cpp commit: $COMMIT"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((end - start)) s with -j$JOBS"
    echo "compiler: $(g++ --version | head -1)"
    echo "flags: Release GGML_NATIVE=ON GGML_OPENMP=ON BUILD_SHARED_LIBS=ON"
} >"$VDIR/BUILD_INFO"
ln -sfn "$VERSION/build/bin" "$DIR/bin"
cat "$VDIR/BUILD_INFO"
echo "llama-bench: $BIN/llama-bench"
