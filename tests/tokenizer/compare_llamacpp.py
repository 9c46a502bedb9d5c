#!/usr/bin/env python3
"""Manual cross-check: libtca's tokenizer against llama.cpp's (not a meson test: it needs the
llama.cpp that tools/bench/build_llamacpp.sh builds outside the repository).

    python3 tests/tokenizer/compare_llamacpp.py BUILD_DIR [LLAMA_CPP_DIR]

BUILD_DIR is a meson build of this repo (for tests/tokenizer/tok_helper); LLAMA_CPP_DIR defaults
to ~/.cache/tca/llama.cpp. Compiles llamacpp_tokenize.c against its libllama, then compares ids
on the books, the torture set and the code point sweep of test_reference.py, for SmolLM2 and
Qwen2.5, with Qwen's input also given to llama.cpp after the reference's NFC (llama.cpp does not
normalize). Prints the cases that differ; docs/tokenizer.md records the outcome.
"""
import glob
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_reference as H  # noqa: E402
import torture as T  # noqa: E402
from test_reference import BOOKS, Helper  # noqa: E402


def build_filter(lc_dir, out_dir):
    src = glob.glob(os.path.join(lc_dir, "*", "llama_cpp_python-*", "vendor", "llama.cpp"))
    if not src:
        raise SystemExit("no llama.cpp source under %s: run tools/bench/build_llamacpp.sh" % lc_dir)
    lib = os.path.join(lc_dir, "bin")
    exe = os.path.join(out_dir, "llamacpp_tokenize")
    subprocess.run(["cc", "-O2", "-I" + os.path.join(src[0], "include"),
                    "-I" + os.path.join(src[0], "ggml", "include"),
                    os.path.join(HERE, "llamacpp_tokenize.c"), "-L" + lib, "-lllama", "-lggml",
                    "-lggml-base", "-Wl,-rpath," + lib, "-o", exe], check=True)
    return exe


def main():
    build = sys.argv[1]
    lc_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/tca/llama.cpp")
    gut = os.environ.get("TCA_GUTENBERG_DIR") or os.path.join(HERE, "..", "..", "..", "shared",
                                                              "data", "gutenberg")
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_filter(lc_dir, tmp)
        for name in ("smollm2", "qwen2.5-0.5b"):
            path = H.model_path(name)
            vocab = H.GgufVocab(path)
            tok = H.build(vocab)
            ours = Helper(os.path.join(build, "tests", "tokenizer", "tok_helper"), path)

            def lc(raw, ps):
                out = subprocess.run([exe, path, "1" if ps else "0"], input=raw,
                                     capture_output=True, check=True).stdout
                return list(struct.unpack("<%di" % (len(out) // 4), out))

            cases = [(b, open(os.path.join(gut, b), encoding="utf-8", errors="replace").read())
                     for b in BOOKS]
            cases += [("torture %r" % t[:30], t) for t in T.TEXTS]
            cases += [("invalid %r" % r[:30], r.decode("utf-8", "replace")) for r in T.INVALID]
            cases += [("sweep " + label, t) for label, t in T.unicode_sweep(vocab.pre == "qwen2")]
            for nfc_first in ((False, True) if tok.normalizer else (False,)):
                differ = []
                for label, text in cases:
                    if nfc_first:
                        text = tok.normalizer.normalize_str(text)
                    raw = text.encode("utf-8")
                    for ps in (True, False):
                        if ours.encode(raw, 1 if ps else 0) != lc(raw, ps):
                            differ.append("%s (specials %s)" % (label, "on" if ps else "off"))
                print("%s%s: %d of %d encodings differ from llama.cpp" % (
                    name, " (input NFC'd first)" if nfc_first else "", len(differ), 2 * len(cases)))
                for d in differ[:20]:
                    print("   " + d)


if __name__ == "__main__":
    main()
