#!/usr/bin/env python3
"""Bit-exact check of the C dequantisation kernels against gguf-py's numpy decoder.

For every type gguf.quants can decode, random blocks (fixed seed) are written to a file,
dequantised by dequant_cli with every ISA level this build and CPU have (ref first), and the f32
bits are compared with gguf.quants.dequantize. The f16 scale fields get finite f16 values over
the whole range, with zero, the smallest subnormal, the largest finite and negative values in
the first blocks; the quant bytes are uniformly random.

usage: check_dequant_ref.py DEQUANT_CLI [EXE_WRAPPER...]   (env TCA_TEST_SEED overrides the seed)

EXE_WRAPPER runs a cross-built dequant_cli, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`
(tools/test_arm.sh uses it to check the AArch64 ref and NEON kernels against gguf-py too).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

# Byte offsets of the f16 scale fields inside one block (GGUF layouts, cf. simd/quant.h).
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
PLAIN = [T.F32, T.F16, T.BF16]
ISAS = ["ref", "avx2", "avx512", "neon"]
EDGE_F16 = [0x0000, 0x8000, 0x0001, 0x8001, 0x7BFF, 0xFBFF, 0x3C00, 0xBC00, 0x0400]
N_BLOCKS = 64


def random_finite_f16(rng, size):
    h = rng.integers(0, 1 << 16, size=size, dtype=np.uint32).astype(np.uint16)
    inf_nan = (h & 0x7C00) == 0x7C00
    h[inf_nan] &= 0xBFFF  # drop the top exponent bit: finite, same sign
    return h


def make_blocks(rng, qtype):
    block_elems, block_bytes = GGML_QUANT_SIZES[qtype]
    if qtype == T.F16:
        # NaN payloads are not part of the contract (hardware converters quieten them).
        h = random_finite_f16(rng, N_BLOCKS * 32)
        h[: len(EDGE_F16)] = EDGE_F16
        h[len(EDGE_F16)] = 0x7C00
        h[len(EDGE_F16) + 1] = 0xFC00
        return h.view(np.uint8)
    raw = rng.integers(0, 256, size=(N_BLOCKS, block_bytes), dtype=np.uint32).astype(np.uint8)
    if qtype in (T.F32, T.BF16):
        return raw.reshape(-1)  # bit copies: every pattern, NaNs included, must survive
    for off in F16_FIELDS[qtype]:
        h = random_finite_f16(rng, N_BLOCKS)
        h[: len(EDGE_F16)] = np.roll(EDGE_F16, off)
        raw[:, off:off + 2] = h.view(np.uint8).reshape(N_BLOCKS, 2)
    return raw.reshape(-1)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cli, wrapper = sys.argv[1], sys.argv[2:]
    seed = int(os.environ.get("TCA_TEST_SEED", "20251129"))
    rng = np.random.default_rng(seed)
    failures = 0
    tested = {}
    with tempfile.TemporaryDirectory() as tmp:
        src_path = os.path.join(tmp, "in.bin")
        dst_path = os.path.join(tmp, "out.bin")
        for qtype in PLAIN + list(F16_FIELDS):
            raw = make_blocks(rng, qtype)
            raw.tofile(src_path)
            want = np.ascontiguousarray(dequantize(raw, qtype), dtype=np.float32).reshape(-1)
            for isa in ISAS:
                r = subprocess.run(wrapper + [cli, isa, str(int(qtype)), src_path, dst_path],
                                   capture_output=True, text=True)
                if r.returncode == 77:
                    continue
                if r.returncode != 0:
                    print(f"FAIL {qtype.name} {isa}: dequant_cli exit {r.returncode}: {r.stderr.strip()}")
                    failures += 1
                    continue
                got = np.fromfile(dst_path, dtype=np.float32)
                tested.setdefault(isa, []).append(qtype.name)
                if got.size != want.size:
                    print(f"FAIL {qtype.name} {isa}: {got.size} values, expected {want.size}")
                    failures += 1
                    continue
                bad = np.nonzero(got.view(np.uint32) != want.view(np.uint32))[0]
                if bad.size:
                    i = int(bad[0])
                    print(f"FAIL {qtype.name} {isa}: {bad.size}/{want.size} values differ; "
                          f"first at element {i} (block {i // GGML_QUANT_SIZES[qtype][0]}): "
                          f"got {got[i]!r} (0x{got.view(np.uint32)[i]:08x}), "
                          f"gguf-py {want[i]!r} (0x{want.view(np.uint32)[i]:08x})")
                    failures += 1
    for isa, names in tested.items():
        print(f"{isa}: {len(names)} types bit-exact vs gguf-py ({' '.join(names)})")
    if "ref" not in tested:
        print("FAIL: the ref level did not run")
        failures += 1
    if failures:
        print(f"{failures} failure(s); seed {seed} (replay with TCA_TEST_SEED={seed})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
