#!/usr/bin/env python3
"""Integration test: libtca's tokenizer against an independent reference, the Hugging Face
`tokenizers` pipeline of the model built from the same GGUF (hf_reference.py says how and why
that is the tokenizer the model was trained with).

    test_reference.py --model smollm2 --helper tok_helper --tca tca --gutenberg DIR

Checks, each failure printed with the first differing position:
  * ids identical on the full text of four Project Gutenberg books (DIR from TCA_GUTENBERG_DIR),
    with specials parsed (the books hold none, so this is also the no-special result)
  * ids identical on the torture set (torture.TEXTS), with and without special-token parsing,
    and on invalid UTF-8 (torture.INVALID) against the reference fed
    raw.decode("utf-8", errors="replace")
  * ids identical on a sweep over every assigned code point (torture.unicode_sweep)
  * decoding: tca_detokenize(ids) == reference decode(ids) == the text (NFC for Qwen2; minus the
    characters whose bytes SmolLM2's vocab lacks), for every text above
  * streaming: pushing ids one at a time yields only complete UTF-8 chunks whose concatenation
    is the whole decode, for the texts above and for random id sequences (which split and
    garble multi-byte characters on purpose)
  * the `tca tokenize` command agrees with the library (-p, -f, --ids, --no-special, --bos)
  * for Qwen2.5: the 0.5b and 1.5b files hold the same tokenizer (when both are present)
  * every NORMAL token is its own BPE result, so BPE's ignore_merges flag cannot matter
"""
import argparse
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as H  # noqa: E402
import torture as T  # noqa: E402

BOOKS = ["austen-emma.txt", "melville-moby_dick.txt", "carroll-alice.txt", "shakespeare-hamlet.txt"]
PARSE_SPECIAL, FORCE_BOS = 1, 4

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg, flush=True)


class Helper:
    def __init__(self, exe, model):
        self.p = subprocess.Popen([exe, model], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _read(self, n):
        b = self.p.stdout.read(n)
        if len(b) != n:
            raise SystemExit("FAIL: tok_helper died (exit %s)" % self.p.wait())
        return b

    def _u32(self):
        return struct.unpack("<I", self._read(4))[0]

    def _reply(self):
        st = self._u32()
        if st:
            raise RuntimeError(self._read(self._u32()).decode("utf-8", "replace"))

    def _send(self, b):
        self.p.stdin.write(b)
        self.p.stdin.flush()

    def encode(self, raw, flags):
        self._send(b"E" + struct.pack("<II", flags, len(raw)) + raw)
        self._reply()
        n = self._u32()
        return list(struct.unpack("<%di" % n, self._read(4 * n)))

    def _ids(self, op, ids):
        self._send(op + struct.pack("<I%di" % len(ids), len(ids), *ids))
        self._reply()

    def decode(self, ids):
        self._ids(b"D", ids)
        return self._read(self._u32())

    def stream(self, ids):
        self._ids(b"S", ids)
        return [self._read(self._u32()) for _ in range(self._u32())]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def compare(label, got, want, tok):
    if got == want:
        return True
    i = first_diff(got, want)
    fail("%s: ids differ at %d of %d/%d: got %s (%s), reference %s (%s)" % (
        label, i, len(got), len(want), got[i:i + 6], [tok.id_to_token(x) for x in got[i:i + 6]],
        want[i:i + 6], [tok.id_to_token(x) for x in want[i:i + 6]]))
    return False


def representable(text, vocab):
    """The text minus characters whose UTF-8 bytes have no token (the BPE drops them)."""
    return "".join(c for c in text if all(vocab.byte_ok[b] for b in c.encode("utf-8")))


def check_decode(label, helper, tok, vocab, ids, text):
    want = tok.decode(ids, skip_special_tokens=False).encode("utf-8")
    got = helper.decode(ids)
    if got != want:
        i = first_diff(got, want)
        fail("%s: detokenize differs from the reference at byte %d: %r vs %r" % (
            label, i, got[i:i + 20], want[i:i + 20]))
    if text is not None:
        expect = text
        if tok.normalizer is not None:
            # NFC as the reference normalizer does it (its Unicode tables are older than
            # Python's: gen_nfc_tables.py)
            expect = tok.normalizer.normalize_str(expect)
        expect = representable(expect, vocab).encode("utf-8")
        if got != expect:
            i = first_diff(got, expect)
            fail("%s: round trip differs at byte %d: %r vs %r" % (label, i, got[i:i + 20],
                                                                  expect[i:i + 20]))
    chunks = helper.stream(ids)
    for k, c in enumerate(chunks):
        try:
            c.decode("utf-8", "strict")
        except UnicodeDecodeError as e:
            fail("%s: streamed chunk %d is not whole UTF-8 (%s): %r" % (label, k, e, c))
            break
    if b"".join(chunks) != want:
        fail("%s: streamed text differs from the whole decode" % label)


def run_cli(args, tca, model):
    r = subprocess.run([tca, "tokenize", "-m", model] + args, capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def check_cli(tca, model, helper, tmpdir):
    text = "Hi <|im_start|>there 123\n"
    want = helper.encode(text.encode(), PARSE_SPECIAL)
    rc, out, err = run_cli(["-p", text, "--ids"], tca, model)
    if rc != 0 or [int(x) for x in out.split()] != want:
        fail("tca tokenize -p --ids: rc %d, %r, stderr %r, want %s" % (rc, out, err, want))
    if str(len(want)) not in err:
        fail("tca tokenize: the count %d is not on stderr: %r" % (len(want), err))
    want_ns = helper.encode(text.encode(), 0)
    rc, out, err = run_cli(["-p", text, "--ids", "--no-special"], tca, model)
    if rc != 0 or [int(x) for x in out.split()] != want_ns:
        fail("tca tokenize --no-special: rc %d, %r, want %s" % (rc, out, want_ns))
    want_bos = helper.encode(text.encode(), PARSE_SPECIAL | FORCE_BOS)
    rc, out, err = run_cli(["-p", text, "--ids", "--bos"], tca, model)
    if rc != 0 or [int(x) for x in out.split()] != want_bos:
        fail("tca tokenize --bos: rc %d, %r, want %s" % (rc, out, want_bos))
    path = os.path.join(tmpdir, "tca_tok_cli_input.txt")
    raw = "caf\u00e9 \U0001F600\n<|im_end|> ok".encode() + b"\xff"
    with open(path, "wb") as f:
        f.write(raw)
    want = helper.encode(raw, PARSE_SPECIAL)
    rc, out, err = run_cli(["-f", path], tca, model)
    lines = out.splitlines()
    if rc != 0 or [int(line.split("\t")[0]) for line in lines] != want:
        fail("tca tokenize -f: rc %d, %r, want %s" % (rc, out, want))
    rc, out, err = run_cli(["-p", "x", "--bogus"], tca, model)
    if rc == 0 or "--bogus" not in err:
        fail("tca tokenize --bogus: rc %d, stderr %r" % (rc, err))
    rc, out, err = run_cli(["-f", os.path.join(tmpdir, "no/such/file")], tca, model)
    if rc == 0 or "no/such/file" not in err:
        fail("tca tokenize -f missing: rc %d, stderr %r" % (rc, err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="smollm2 or qwen2.5 (0.5b, else 1.5b)")
    ap.add_argument("--helper", required=True)
    ap.add_argument("--tca", required=True)
    ap.add_argument("--gutenberg", required=True,
                    help="the book directory when TCA_GUTENBERG_DIR is not set")
    ap.add_argument("--tmpdir", default=os.environ.get("TMPDIR", "/tmp"))
    a = ap.parse_args()
    a.gutenberg = os.environ.get("TCA_GUTENBERG_DIR") or a.gutenberg

    if a.model == "qwen2.5":
        d = os.environ.get("TCA_MODELS_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tca", "models")
        names = [n for n in ("qwen2.5-0.5b", "qwen2.5-1.5b") if os.path.isfile(os.path.join(d, n + ".gguf"))]
        if not names:
            raise SystemExit("FAIL: no Qwen2.5 model: run `tca fetch qwen2.5-0.5b`")
        name = names[0]
    else:
        name = a.model
    path = H.model_path(name)
    vocab = H.GgufVocab(path)
    print("model %s (%s): %d tokens, %d merges, pre %s" % (name, path, len(vocab.tokens),
                                                          len(vocab.merges), vocab.pre), flush=True)
    if a.model == "qwen2.5" and len(names) == 2:
        other = H.GgufVocab(H.model_path(names[1]))
        for field in ("tokens", "types", "merges", "model", "pre", "bos", "eos", "add_bos"):
            if getattr(vocab, field) != getattr(other, field):
                fail("qwen2.5-0.5b and -1.5b differ in tokenizer field %s" % field)
        print("qwen2.5-0.5b and qwen2.5-1.5b: same tokenizer metadata", flush=True)
    tok = H.build(vocab)
    byte_tok = {}
    for i, (t, ty) in enumerate(zip(vocab.tokens, vocab.types)):
        if ty == 1 and len(t) == 1:
            byte_tok[t] = i
    u2b = H.unicode_to_byte()
    vocab.byte_ok = [False] * 256
    for ch in byte_tok:
        vocab.byte_ok[u2b[ch]] = True
    print("bytes without a token of their own: %d" % vocab.byte_ok.count(False), flush=True)
    helper = Helper(a.helper, path)

    # BPE's ignore_merges (a whole word that is a vocab token is taken as is) is not visible in
    # the GGUF. It cannot change any id if every NORMAL token is its own BPE result: check that.
    not_self = [i for i, (t, ty) in enumerate(zip(vocab.tokens, vocab.types))
                if ty == 1 and [x.id for x in tok.model.tokenize(t)] != [i]]
    if not_self:
        fail("%d vocab tokens are not their own BPE result (e.g. %s): ignore_merges matters" % (
            len(not_self), not_self[:5]))
    else:
        print("every NORMAL token is its own BPE result: ignore_merges is irrelevant", flush=True)

    # Books, in full.
    for book in BOOKS:
        p = os.path.join(a.gutenberg, book)
        if not os.path.isfile(p):
            raise SystemExit("FAIL: book %s not found (set TCA_GUTENBERG_DIR)" % p)
        raw = open(p, "rb").read()
        text = raw.decode("utf-8", "replace")
        got = helper.encode(raw, PARSE_SPECIAL)
        want = H.encode(tok, text, True)
        if compare(book, got, want, tok):
            print("%s: %d bytes, %d tokens, identical" % (book, len(raw), len(got)), flush=True)
        check_decode(book, helper, tok, vocab, got, text)

    # Torture set, both special modes.
    n = 0
    for ps in (True, False):
        for text in T.TEXTS:
            label = "torture %r (specials %s)" % (text[:40], "on" if ps else "off")
            got = helper.encode(text.encode("utf-8"), PARSE_SPECIAL if ps else 0)
            compare(label, got, H.encode(tok, text, ps), tok)
            check_decode(label, helper, tok, vocab, got, text)
            n += 1
        for raw in T.INVALID:
            label = "invalid %r (specials %s)" % (raw[:40], "on" if ps else "off")
            text = raw.decode("utf-8", "replace")
            got = helper.encode(raw, PARSE_SPECIAL if ps else 0)
            compare(label, got, H.encode(tok, text, ps), tok)
            check_decode(label, helper, tok, vocab, got, text)
            n += 1
    print("torture set: %d encodings checked" % n, flush=True)

    # Every assigned code point.
    n = 0
    for label, text in T.unicode_sweep(vocab.pre == "qwen2"):
        got = helper.encode(text.encode("utf-8"), PARSE_SPECIAL)
        compare("sweep " + label, got, H.encode(tok, text, True), tok)
        check_decode("sweep " + label, helper, tok, vocab, got, text)
        n += 1
    print("unicode sweep: %d chunks checked" % n, flush=True)

    # Random id sequences: the decoders on byte soup (seeded, so replayable).
    rng = random.Random(1234)
    normal = [i for i, ty in enumerate(vocab.types) if ty == 1]
    control = [i for i, ty in enumerate(vocab.types) if ty == 3]
    single = sorted(byte_tok.values())
    for k in range(300):
        ids = []
        for _ in range(rng.randint(0, 40)):
            r = rng.random()
            ids.append(rng.choice(single) if r < 0.6 else rng.choice(control) if r < 0.65
                       else rng.choice(normal))
        check_decode("random ids #%d %s" % (k, ids[:8]), helper, tok, vocab, ids, None)
    print("random id sequences: 300 decoded and streamed", flush=True)

    # Out-of-range ids are errors, not crashes.
    for bad in (-1, len(vocab.tokens), 1 << 30):
        try:
            helper.decode([1, bad])
            fail("detokenize accepted id %d" % bad)
        except RuntimeError as e:
            if str(bad) not in str(e):
                fail("detokenize error for id %d does not name it: %s" % (bad, e))

    check_cli(a.tca, path, helper, a.tmpdir)
    print("tca tokenize: checked", flush=True)

    if failures:
        print("%d FAILURES" % failures)
        return 1
    print("all identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
