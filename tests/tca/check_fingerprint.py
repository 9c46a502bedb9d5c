"""tca_model_fingerprint (src/model/fingerprint.c) against the byte sequence of docs/tca.md
("Budget file"), computed here from the gguf Python package's reading of the same file:
FNV-1a 64 over, per tensor in file order, name bytes, 0, n_dims u32 LE, dims u64 LE, type u32 LE.

usage: check_fingerprint.py FINGERPRINT_CLI MODEL..."""
import os
import struct
import subprocess
import sys

from gguf import GGUFReader

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
from model_cache import model_path  # noqa: E402


def fnv1a64(data, h=0xcbf29ce484222325):
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return h


def fingerprint(path):
    seq = bytearray()
    for t in GGUFReader(path).tensors:
        seq += t.name.encode() + b'\0'
        seq += struct.pack('<I', len(t.shape))
        seq += b''.join(struct.pack('<Q', int(d)) for d in t.shape)
        seq += struct.pack('<I', int(t.tensor_type))
    return f'{fnv1a64(seq):016x}'


# FNV-1a 64's published test vectors, so that the reference hash itself is right
assert f'{fnv1a64(b""):016x}' == 'cbf29ce484222325'
assert f'{fnv1a64(b"a"):016x}' == 'af63dc4c8601ec8c'
assert f'{fnv1a64(b"foobar"):016x}' == '85944171f73967e8'

cli, names = sys.argv[1], sys.argv[2:]
bad = 0
for name in names:
    want = fingerprint(model_path(name))
    got = subprocess.run([cli, name], capture_output=True, text=True, check=True).stdout.strip()
    print(f'{name}: tca {got}, gguf-py {want}')
    bad += got != want
sys.exit(1 if bad else 0)
