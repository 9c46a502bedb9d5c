"""Independent reference forward pass for the llama and qwen2 architectures, in numpy.

Reads and dequantises the GGUF with the `gguf` PyPI package (not with our loader) and follows the
published architectures: RMSNorm, RoPE (llama: GGUF stores Q/K rows permuted for the "normal"
pairing of adjacent dimensions; qwen2: "neox" pairing of dimension i with i + d/2), grouped-query
attention, SwiGLU, tied or separate output head, Q/K/V biases for qwen2.

Float64 arithmetic throughout: it is the oracle our f32 runtime is measured against, not a fast
path. Weights are dequantised on demand and cached as float32 (every dequantised value is exact
in float32) and widened per use, so the 1.5B model's cache takes 6 GB, not 12.

    m = RefModel('~/.cache/tca/models/smollm2.gguf')
    logits = m.forward([1, 2, 3])            # (vocab,) logits of the last position
    ids = m.greedy([1, 2, 3], n=64)          # greedy continuation, with the top-2 margins
"""
import math
import os

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class RefModel:
    def __init__(self, path):
        self.r = GGUFReader(os.path.expanduser(path))
        self.arch = self._field('general.architecture')
        if self.arch not in ('llama', 'qwen2'):
            raise ValueError(f'reference supports llama and qwen2, not {self.arch}')
        a = self.arch
        self.n_layer = int(self._field(f'{a}.block_count'))
        self.n_embd = int(self._field(f'{a}.embedding_length'))
        self.n_head = int(self._field(f'{a}.attention.head_count'))
        self.n_head_kv = int(self._field(f'{a}.attention.head_count_kv'))
        self.head_dim = self.n_embd // self.n_head
        self.eps = float(self._field(f'{a}.attention.layer_norm_rms_epsilon'))
        self.rope_base = float(self._field(f'{a}.rope.freq_base', 10000.0))
        self.neox = a == 'qwen2'
        self.tensors = {t.name: t for t in self.r.tensors}
        self._cache = {}

    def _field(self, key, default=None):
        f = self.r.fields.get(key)
        if f is None:
            if default is None:
                raise KeyError(key)
            return default
        return f.contents()

    def weight(self, name):
        """Dequantised tensor as float64 with numpy shape (rows, ne0)."""
        if name not in self._cache:
            t = self.tensors[name]
            w = dequantize(t.data, t.tensor_type).astype(np.float32)
            self._cache[name] = w.reshape([int(x) for x in reversed(t.shape)] if w.ndim > 1 or len(t.shape) > 1 else -1)
        return self._cache[name].astype(np.float64)

    def has(self, name):
        return name in self.tensors

    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos):
        """x: (T, heads, d); rotate with the model's pairing."""
        d = self.head_dim
        inv = self.rope_base ** (-np.arange(0, d, 2, dtype=np.float64) / d)   # (d/2,)
        ang = np.outer(pos, inv)                                              # (T, d/2)
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        if self.neox:
            x0, x1 = x[..., :d // 2], x[..., d // 2:]
            return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def linear(self, x, name):
        y = x @ self.weight(name + '.weight').T
        if self.has(name + '.bias'):
            y = y + self.weight(name + '.bias')
        return y

    def forward(self, tokens, all_logits=False, cache=None):
        """Logits of the last position (or of every position). cache: None, or a dict that
        holds the K and V of earlier calls and is extended, so that calls can continue a sequence."""
        T = len(tokens)
        H, G, d = self.n_head, self.n_head_kv, self.head_dim
        past = cache['n'] if cache else 0
        pos = np.arange(past, past + T, dtype=np.float64)
        self.weight('token_embd.weight')  # cached as float32; widen only the rows used
        x = self._cache['token_embd.weight'][np.asarray(tokens)].astype(np.float64)
        mask = np.triu(np.full((T, past + T), -np.inf), past + 1)
        for l in range(self.n_layer):
            p = f'blk.{l}'
            h = self.rmsnorm(x, self.weight(p + '.attn_norm.weight'))
            q = self.rope(self.linear(h, p + '.attn_q').reshape(T, H, d), pos)
            k = self.rope(self.linear(h, p + '.attn_k').reshape(T, G, d), pos)
            v = self.linear(h, p + '.attn_v').reshape(T, G, d)
            if cache is not None:
                if l in cache:
                    k = np.concatenate([cache[l][0], k])
                    v = np.concatenate([cache[l][1], v])
                cache[l] = (k, v)
            att = np.empty((T, H, d))
            for hh in range(H):
                g = hh // (H // G)
                s = q[:, hh] @ k[:, g].T / math.sqrt(d) + mask
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                att[:, hh] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, g]
            x = x + self.linear(att.reshape(T, H * d), p + '.attn_output')
            h = self.rmsnorm(x, self.weight(p + '.ffn_norm.weight'))
            gate = self.linear(h, p + '.ffn_gate')
            up = self.linear(h, p + '.ffn_up')
            x = x + self.linear(gate / (1 + np.exp(-gate)) * up, p + '.ffn_down')
        if cache is not None:
            cache['n'] = past + T
        x = self.rmsnorm(x if all_logits else x[-1:], self.weight('output_norm.weight'))
        out = 'output.weight' if self.has('output.weight') else 'token_embd.weight'
        logits = x @ self.weight(out).T
        return logits if all_logits else logits[0]

    def greedy(self, tokens, n):
        """Greedy continuation with a KV cache. Returns (ids, margins): margins[i] = top1 - top2
        logit at step i (small margins are near ties, where rounding may rightly pick either)."""
        cache = {'n': 0}
        lg = self.forward(list(tokens), cache=cache)
        ids, margins = [], []
        for _ in range(n):
            top2 = np.argsort(lg)[-2:]
            ids.append(int(top2[1]))
            margins.append(float(lg[top2[1]] - lg[top2[0]]))
            lg = self.forward([ids[-1]], cache=cache)
        return ids, margins
