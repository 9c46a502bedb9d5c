#!/usr/bin/env python3
"""Dequantisation of real model tensors, bit-exact against the gguf Python package.

usage: check_dequant.py DUMP_TENSOR

For each chosen tensor (every type present in SmolLM2, and in the Qwen files when fetched),
runs DUMP_TENSOR (tests/gguf/dump_tensor.c: the tca reader + the dispatch table selected by
TCA_ISA) on a range of rows and compares its f32 output with gguf.quants.dequantize on the same
bytes read by gguf.GGUFReader, as uint32 bit patterns. Big tensors are checked on their first
and last rows only. Exit status 77 (skipped) when TCA_ISA names a level this CPU lacks.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf.quants import dequantize

# (tensor, first row (negative: counted from the end), row count or None for the rest); ranges
# at the end of big tensors too, so that offsets far into the mapping are exercised.
CHECKS = {
    "smollm2": [  # Q8_0, Q4_1, F32
        ("token_embd.weight", 0, 64),
        ("token_embd.weight", -16, 16),
        ("blk.0.attn_q.weight", 0, None),
        ("blk.0.ffn_down.weight", 0, None),
        ("blk.29.ffn_up.weight", -36, None),
        ("output_norm.weight", 0, None),
        ("blk.0.attn_norm.weight", 0, None),
    ],
    "qwen2.5-0.5b": [  # Q5_0, Q8_0, Q6_K, Q4_K, F32
        ("token_embd.weight", 0, 32),
        ("token_embd.weight", -32, 32),
        ("output.weight", 0, 32),
        ("blk.0.attn_v.weight", 0, None),
        ("blk.0.ffn_down.weight", 0, 128),
        ("blk.11.ffn_down.weight", 0, 128),
        ("blk.0.attn_k.bias", 0, None),
    ],
    "qwen2.5-1.5b": [  # Q4_K, Q6_K, F32
        ("token_embd.weight", 0, 32),
        ("token_embd.weight", -32, 32),
        ("output.weight", -16, 16),
        ("blk.0.ffn_down.weight", 0, 64),
        ("blk.0.attn_k.bias", 0, None),
    ],
}
REQUIRED = {"smollm2"}


def models_dir():
    d = os.environ.get("TCA_MODELS_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "tca", "models")
    return os.path.join(os.path.expanduser("~"), ".cache", "tca", "models")


def reference_rows(t, row0, nrows):
    """gguf's dequantisation of rows [row0, row0 + nrows) of tensor t, as (nrows, ne0) f32."""
    ne0 = int(t.shape[0])
    rows = int(np.prod([int(x) for x in t.shape[1:]], dtype=np.int64))
    raw = np.asarray(t.data)
    # quantised types come as (rows, bytes per row) uint8; float types as their elements
    raw = raw.reshape(rows, -1)[row0:row0 + nrows]
    out = dequantize(raw, t.tensor_type)
    return np.ascontiguousarray(out, dtype=np.float32).reshape(nrows, ne0)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dump = sys.argv[1]
    isa = os.environ.get("TCA_ISA", "(best)")
    p = subprocess.run([dump, "--check-isa"], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr.strip())
        return 77 if p.returncode == 77 else 1
    failures = 0
    checked_types = set()
    with tempfile.TemporaryDirectory() as tmp:
        for model, checks in CHECKS.items():
            path = os.path.join(models_dir(), model + ".gguf")
            if not os.path.exists(path):
                if model in REQUIRED:
                    print(f"{model}: {path} missing: run `tca fetch {model}` first", file=sys.stderr)
                    failures += 1
                else:
                    print(f"{model}: not fetched, not checked")
                continue
            reader = gguf.GGUFReader(path)
            tensors = {t.name: t for t in reader.tensors}
            for name, row0, nrows in checks:
                t = tensors.get(name)
                if t is None:
                    print(f"{model} {name}: not in the file (gguf package)", file=sys.stderr)
                    failures += 1
                    continue
                rows = int(np.prod([int(x) for x in t.shape[1:]], dtype=np.int64))
                if row0 < 0:
                    row0 += rows
                n = rows - row0 if nrows is None else nrows
                out_path = os.path.join(tmp, "out.f32")
                p = subprocess.run([dump, path, name, out_path, str(row0), str(n)],
                                   capture_output=True, text=True)
                if p.returncode == 77:
                    print(p.stderr.strip())
                    return 77
                label = f"{model} {name} rows [{row0}, {row0 + n}) {t.tensor_type.name}"
                if p.returncode != 0:
                    print(f"{label}: dump_tensor failed: {p.stderr.strip()}", file=sys.stderr)
                    failures += 1
                    continue
                got = np.fromfile(out_path, dtype=np.float32)
                want = reference_rows(t, row0, n).reshape(-1)
                if got.shape != want.shape:
                    print(f"{label}: {got.size} floats, expected {want.size}", file=sys.stderr)
                    failures += 1
                    continue
                diff = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
                if diff.size:
                    i = int(diff[0])
                    print(f"{label}: {diff.size} of {want.size} values differ; first at {i}: "
                          f"{got[i]!r} vs gguf {want[i]!r}", file=sys.stderr)
                    failures += 1
                    continue
                checked_types.add(t.tensor_type.name)
                print(f"{label}: {want.size} values bit-exact ({p.stdout.strip()})")
    print(f"TCA_ISA={isa}: types checked bit-exact: {', '.join(sorted(checked_types))}")
    if failures:
        print(f"check_dequant: {failures} failure(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
