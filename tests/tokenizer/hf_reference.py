"""The independent reference for tests/tokenizer: a Hugging Face `tokenizers` Tokenizer built from
a GGUF file's vocab and merges (read with the `gguf` package) and the pipeline configuration of
the model's public tokenizer.json. That is the exact tokenizer each model was trained with: the
vocab/merges come from the file, the pipeline below from the model card's tokenizer.json.

SmolLM2 (HuggingFaceTB/SmolLM2-*, GGUF pre "smollm"):
  normalizer     none
  pre_tokenizer  Sequence[Digits(individual_digits=True),
                          ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]
  model          BPE(unk_token=None, byte_fallback=False, fuse_unk=False)
  decoder        ByteLevel
Qwen2 / Qwen2.5 (Qwen/Qwen2.5-*, GGUF pre "qwen2"):
  normalizer     NFC
  pre_tokenizer  Sequence[Split(Regex(QWEN2_PATTERN), behavior="isolated"),
                          ByteLevel(add_prefix_space=False, use_regex=False)]
  model          BPE(unk_token=None, byte_fallback=False, fuse_unk=False)
  decoder        ByteLevel
Added tokens (both): GGUF token_type 3 (CONTROL) as AddedToken(special=True), type 4
(USER_DEFINED) as AddedToken(special=False), all with normalized=False, lstrip/rstrip False,
single_word False (what the models' tokenizer.json say). Type 5 (UNUSED padding rows) are not
in the Hugging Face tokenizer at all and are left out.
"""
import os

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def model_path(name):
    """$TCA_MODELS_DIR or ~/.cache/tca/models/<name>.gguf; a missing model is a failure."""
    d = os.environ.get("TCA_MODELS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tca", "models")
    p = os.path.join(d, name + ".gguf")
    if not os.path.isfile(p):
        raise SystemExit(f"FAIL: model {name} not found at {p}: run `tca fetch {name}`")
    return p


class GgufVocab:
    def __init__(self, path):
        r = gguf.GGUFReader(path)

        def strings(key):
            f = r.fields[key]
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

        def scalar(key, default=None):
            f = r.fields.get(key)
            if f is None:
                return default
            if f.types[0] == gguf.GGUFValueType.STRING:
                return bytes(f.parts[f.data[0]]).decode("utf-8")
            return f.parts[f.data[0]].tolist()[0]

        self.tokens = strings("tokenizer.ggml.tokens")
        self.merges = strings("tokenizer.ggml.merges")
        tt = r.fields["tokenizer.ggml.token_type"]
        self.types = [int(tt.parts[i][0]) for i in tt.data]
        self.model = scalar("tokenizer.ggml.model")
        self.pre = scalar("tokenizer.ggml.pre")
        self.bos = scalar("tokenizer.ggml.bos_token_id")
        self.eos = scalar("tokenizer.ggml.eos_token_id")
        self.add_bos = bool(scalar("tokenizer.ggml.add_bos_token", False))


def build(v: GgufVocab) -> Tokenizer:
    if v.model != "gpt2":
        raise ValueError(f"reference: tokenizer model {v.model!r} not covered")
    # CONTROL and USER_DEFINED rows are in the vocab too (as in SmolLM2's tokenizer.json) so that
    # the added tokens keep their GGUF ids; no merge produces their text.
    vocab = {t: i for i, (t, ty) in enumerate(zip(v.tokens, v.types)) if ty in (1, 3, 4)}
    merges = [tuple(m.split(" ")) for m in v.merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None, byte_fallback=False,
                               fuse_unk=False))
    if v.pre == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    elif v.pre == "qwen2":
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    else:
        raise ValueError(f"reference: pre-tokenizer {v.pre!r} not covered")
    tok.decoder = decoders.ByteLevel()
    added = []
    for i, (t, ty) in enumerate(zip(v.tokens, v.types)):
        if ty in (3, 4):
            added.append((i, AddedToken(t, special=(ty == 3), normalized=False, lstrip=False,
                                        rstrip=False, single_word=False)))
    for i, a in added:
        if a.special:
            tok.add_special_tokens([a])
        else:
            tok.add_tokens([a])
        got = tok.token_to_id(a.content)
        if got != i:
            raise ValueError(f"reference: added token {a.content!r} got id {got}, GGUF says {i}")
    return tok


def encode(tok, text, parse_special=True):
    tok.encode_special_tokens = not parse_special
    return tok.encode(text, add_special_tokens=False).ids


def unicode_to_byte():
    """GPT-2's byte-level alphabet, character -> byte (the inverse of bytes_to_unicode)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}
