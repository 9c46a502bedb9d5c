#!/usr/bin/env python3
"""`tca info --json --tensors` against the gguf Python package, on every fetched model.

usage: check_info.py TCA

SmolLM2 must be fetched; the Qwen files are checked when present. Also checks the error paths:
a missing model, a malformed file and a bad option each exit 1 with one line on stderr.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf

MODELS = ["smollm2", "qwen2.5-0.5b", "qwen2.5-1.5b"]
REQUIRED = {"smollm2"}


def models_dir():
    d = os.environ.get("TCA_MODELS_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "tca", "models")
    return os.path.join(os.path.expanduser("~"), ".cache", "tca", "models")


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]].tolist()[0]


def expected(path):
    r = gguf.GGUFReader(path)
    arch = field(r, "general.architecture")
    hp = lambda k: field(r, f"{arch}.{k}")
    tokens = r.fields["tokenizer.ggml.tokens"]
    tok_text = lambda i: bytes(tokens.parts[tokens.data[i]]).decode("utf-8")
    types = {}
    for t in r.tensors:
        e = types.setdefault(t.tensor_type.name, {"count": 0, "bytes": 0})
        e["count"] += 1
        e["bytes"] += int(t.n_bytes)
    base = min(int(t.data_offset) for t in r.tensors)
    want = {
        "gguf_version": 3,
        "file_bytes": os.path.getsize(path),
        "name": field(r, "general.name"),
        "architecture": arch,
        "layers": hp("block_count"),
        "embedding": hp("embedding_length"),
        "ffn": hp("feed_forward_length"),
        "heads": hp("attention.head_count"),
        "kv_heads": hp("attention.head_count_kv"),
        "rope_base": hp("rope.freq_base"),
        "rms_eps": hp("attention.layer_norm_rms_epsilon"),
        "context_length": hp("context_length"),
        "count": len(r.tensors),
        "types": types,
        "vocab_size": len(tokens.data),
        "model": field(r, "tokenizer.ggml.model"),
        "pre": field(r, "tokenizer.ggml.pre"),
        "chat_template": "tokenizer.chat_template" in r.fields,
        "list": [{"name": t.name, "type": t.tensor_type.name,
                  "shape": [int(x) for x in t.shape], "bytes": int(t.n_bytes),
                  "offset": int(t.data_offset) - base} for t in r.tensors],
    }
    for k, key in (("bos", "bos_token_id"), ("eos", "eos_token_id"), ("pad", "padding_token_id")):
        i = field(r, "tokenizer.ggml." + key)
        want[k] = None if i is None else {"id": i, "text": tok_text(i)}
    return want


def got_flat(j):
    hp = j["hyperparameters"]
    tok = j["tokenizer"]
    return {
        "gguf_version": j["gguf_version"], "file_bytes": j["file_bytes"], "name": j["name"],
        "architecture": j["architecture"], "layers": hp["layers"], "embedding": hp["embedding"],
        "ffn": hp["ffn"], "heads": hp["heads"], "kv_heads": hp["kv_heads"],
        "rope_base": hp["rope_base"], "rms_eps": hp["rms_eps"],
        "context_length": hp["context_length"], "count": j["tensors"]["count"],
        "types": j["tensors"]["types"], "vocab_size": tok["vocab_size"], "model": tok["model"],
        "pre": tok["pre"], "chat_template": tok["chat_template"], "list": j["tensors"]["list"],
        "bos": tok["bos"], "eos": tok["eos"], "pad": tok["pad"],
    }


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        # f32 metadata: tca prints the shortest decimal that reads back as the same f32
        return a is not None and b is not None and np.float32(a) == np.float32(b)
    return a == b


def expect_error(tca, args, what):
    p = subprocess.run([tca, "info"] + args, capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    if p.returncode != 1 or len(lines) != 1 or p.stdout:
        print(f"{what}: rc {p.returncode}, stderr {p.stderr!r}, stdout {p.stdout[:80]!r}",
              file=sys.stderr)
        return 1
    print(f"{what}: exit 1: {lines[0]}")
    return 0


def main():
    tca = sys.argv[1]
    failures = 0
    for model in MODELS:
        path = os.path.join(models_dir(), model + ".gguf")
        if not os.path.exists(path):
            if model in REQUIRED:
                print(f"{model}: {path} missing: run `tca fetch {model}` first", file=sys.stderr)
                failures += 1
            else:
                print(f"{model}: not fetched, not checked")
            continue
        p = subprocess.run([tca, "info", "--json", "--tensors", model], capture_output=True,
                           text=True)
        if p.returncode != 0:
            print(f"{model}: tca info failed: {p.stderr.strip()}", file=sys.stderr)
            failures += 1
            continue
        got = got_flat(json.loads(p.stdout))
        want = expected(path)
        bad = [k for k in want if not same(got.get(k), want[k])]
        for k in bad:
            g, w = got.get(k), want[k]
            if k == "list":
                g = next((x for x, y in zip(g, w) if x != y), g)
                w = next((y for x, y in zip(got["list"], w) if x != y), w)
            print(f"{model}: {k}: tca {g!r}, gguf {w!r}", file=sys.stderr)
        failures += len(bad)
        # the text form shows the same numbers
        t = subprocess.run([tca, "info", model], capture_output=True, text=True)
        if t.returncode != 0 or f"layers           {want['layers']}" not in t.stdout:
            print(f"{model}: text output lacks the layer count", file=sys.stderr)
            failures += 1
        if not bad:
            print(f"{model}: {len(want)} fields and {want['count']} tensors agree with gguf")

    failures += expect_error(tca, ["no-such-model"], "missing model")
    failures += expect_error(tca, ["--no-such-option"], "bad option")
    with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
        f.write(b"GGUF\x01\x00\x00\x00")
        f.flush()
        failures += expect_error(tca, [f.name], "GGUF v1 file")
    h = subprocess.run([tca, "info", "--help"], capture_output=True, text=True)
    if h.returncode != 0 or "--json" not in h.stdout or "--tensors" not in h.stdout:
        print("--help: does not describe the options", file=sys.stderr)
        failures += 1
    if failures:
        print(f"check_info: {failures} failure(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
