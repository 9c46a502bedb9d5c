# Copied verbatim from /work/shared/reference/tca_ref.py (the project's oracle, tca-spec.md sections 2-4); keep the two in step.
"""Executable reference for TCA-Attention as specified in ../docs/tca-spec.md (one layer, one
sequence). Slow and plain on purpose: it is the oracle that the C kernels and drivers are tested
against, not an implementation to port. Needs numpy only.

Shapes: q (H, L, d), k and v (G, L, d) with RoPE already applied; H query heads, G KV heads.

    cfg  = Config(block=32, sink=64, window=512, scorer='block-last')
    p    = uniform_config(cfg, L, keep=0.39)        # one distribution over retain counts
    sel  = select(q, k, cfg, [p] * G)               # kept positions per KV head
    out  = sparse_attention(q, k, v, cfg, sel)      # (H, L, d)
    dense_attention(q, k, v) is the dense oracle; with every block keeping all tokens,
    sparse_attention equals it.

Run `python3 tca_ref.py` for the self-checks at the bottom.
"""
from dataclasses import dataclass
import math
import numpy as np


@dataclass
class Config:
    block: int = 32            # b, a power of two
    sink: int = 64             # s, first tokens always kept
    window: int = 512          # w, recent tokens always kept raw (a multiple of b)
    scorer: str = 'block-last'  # or 'prompt-last'
    redundancy: str = 'entropy'  # or 'mass' (prompt-last only)

    @property
    def counts(self):
        """Retain counts K = 1, 2, 4, ..., b."""
        return [1 << i for i in range(int(math.log2(self.block)) + 1)]


def log_gaussian(cfg, mu, sigma):
    """p_k = phi(log2 k) / sum phi, phi(x) = exp(-(x - mu)^2 / (2 sigma^2)) (spec section 2)."""
    x = np.array([math.log2(k) for k in cfg.counts])
    w = np.exp(-(x - mu) ** 2 / (2 * sigma * sigma))
    return w / w.sum()


def core_ratio(cfg, p):
    """rho(p): expected fraction of a compressible block's tokens that are kept."""
    return float(np.dot(p, cfg.counts) / cfg.block)


def compressible_blocks(cfg, L):
    """Indices of blocks that lie entirely after the sink and before the final window."""
    first = -(-cfg.sink // cfg.block)               # first block starting at or after the sink
    last = (L - cfg.window) // cfg.block            # blocks [first, last) are compressible
    return list(range(first, max(first, last)))


def whole_cache_keep(cfg, L, p):
    """Spec section 2: tokens held (sink + core + window, incl. partial blocks kept raw) / L."""
    blocks = compressible_blocks(cfg, L)
    counts = assign_counts(cfg, p, np.arange(len(blocks), dtype=float))  # counts do not depend on order
    return (L - len(blocks) * cfg.block + int(sum(counts))) / L


def uniform_config(cfg, L, keep, sigma=1.0):
    """The log-Gaussian with the given sigma whose whole-cache keep ratio at length L is `keep`,
    found by bisection on mu. Raises ValueError when sink + window alone exceed the request."""
    lo, hi = -4.0, math.log2(cfg.block) + 4.0
    if whole_cache_keep(cfg, L, log_gaussian(cfg, lo, sigma)) > keep + 1e-9:
        raise ValueError(f'keep {keep} is below what sink + window hold at length {L}')
    for _ in range(60):
        mid = (lo + hi) / 2
        if whole_cache_keep(cfg, L, log_gaussian(cfg, mid, sigma)) < keep:
            lo = mid
        else:
            hi = mid
    return log_gaussian(cfg, (lo + hi) / 2, sigma)


def assign_counts(cfg, p, redundancy):
    """Spec 4.2: rank blocks by redundancy ascending (ties: lower index first) and hand out
    retain counts in the proportions p, with largest-remainder rounding. Returns counts in the
    original block order."""
    n = len(redundancy)
    if n == 0:
        return []
    quota = np.asarray(p) * n
    base = np.floor(quota).astype(int)
    rest = n - base.sum()
    # largest remainder first; ties: the smaller retain count first
    order = sorted(range(len(p)), key=lambda i: (-(quota[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    ranked = sorted(range(n), key=lambda j: (redundancy[j], j))
    counts = [0] * n
    pos = 0
    for ci, k in enumerate(cfg.counts):
        for j in ranked[pos:pos + base[ci]]:
            counts[j] = k
        pos += base[ci]
    return counts


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def block_scores(q, k, cfg, g, blocks):
    """Per-block score vectors a_j (length b, summing to 1) for KV head g (spec 4.1), averaged
    over the query heads of g's group."""
    H, L, d = q.shape
    G = k.shape[0]
    heads = range(g * (H // G), (g + 1) * (H // G))
    b = cfg.block
    out = {}
    if cfg.scorer == 'block-last':
        for j in blocks:
            t = (j + 1) * b - 1
            a = np.mean([softmax(q[h, t] @ k[g, j * b:(j + 1) * b].T / math.sqrt(d)) for h in heads], axis=0)
            out[j] = a
    elif cfg.scorer == 'prompt-last':
        full = np.mean([softmax(q[h, L - 1] @ k[g, :L].T / math.sqrt(d)) for h in heads], axis=0)
        for j in blocks:
            a = full[j * b:(j + 1) * b]
            out[j] = (a / a.sum(), float(a.sum()))
    else:
        raise ValueError(cfg.scorer)
    return out


def redundancy_of(cfg, score):
    """Effective token count exp(H(a)) (low = redundant); or block mass for prompt-last."""
    if cfg.scorer == 'prompt-last':
        a, mass = score
        if cfg.redundancy == 'mass':
            return mass
    else:
        a = score
    a = np.clip(a, 1e-30, None)
    return float(np.exp(-(a * np.log(a)).sum()))


def select(q, k, cfg, configs):
    """Kept positions for every KV head, as sorted int arrays over the whole prompt
    (sink, kept tokens of compressible blocks, everything from the last compressible block's end)."""
    H, L, d = q.shape
    G = k.shape[0]
    blocks = compressible_blocks(cfg, L)
    b = cfg.block
    kept = []
    for g in range(G):
        sc = block_scores(q, k, cfg, g, blocks)
        red = [redundancy_of(cfg, sc[j]) for j in blocks]
        counts = assign_counts(cfg, configs[g], red)
        keep = set(range(0, blocks[0] * b if blocks else L))          # sink (block aligned)
        for j, kk in zip(blocks, counts):
            a = sc[j][0] if cfg.scorer == 'prompt-last' else sc[j]
            top = sorted(range(b), key=lambda t: (-a[t], t))[:kk]   # ties: lower position first
            keep.update(j * b + t for t in top)
        if blocks:
            keep.update(range((blocks[-1] + 1) * b, L))               # final window, raw
        kept.append(np.array(sorted(keep), dtype=np.int64))
    return kept


def visible(cfg, i, kept_g):
    """Keys that query i sees under spec 4.3, with a query chunk of one block: the raw window is
    every position from (start of i's block - w) to i; before it, only kept positions."""
    b, w = cfg.block, cfg.window
    raw_from = max(0, (i // b) * b - w)
    old = kept_g[kept_g < raw_from]
    return np.concatenate([old, np.arange(raw_from, i + 1)])


def sparse_attention(q, k, v, cfg, kept):
    H, L, d = q.shape
    G = k.shape[0]
    out = np.zeros_like(q)
    for h in range(H):
        g = h // (H // G)
        for i in range(L):
            idx = visible(cfg, i, kept[g])
            a = softmax(q[h, i] @ k[g, idx].T / math.sqrt(d))
            out[h, i] = a @ v[g, idx]
    return out


def dense_attention(q, k, v):
    H, L, d = q.shape
    G = k.shape[0]
    out = np.zeros_like(q)
    for h in range(H):
        g = h // (H // G)
        s = q[h] @ k[g].T / math.sqrt(d)
        s = s + np.triu(np.full((L, L), -np.inf), 1)
        out[h] = softmax(s) @ v[g]
    return out


def kv_tokens(kept):
    """Tokens held per KV head after prefill (sink + core + window)."""
    return [len(x) for x in kept]


if __name__ == '__main__':
    rng = np.random.default_rng(0)
    H, G, L, d = 4, 2, 640, 16
    cfg = Config(block=16, sink=32, window=64)
    q = rng.standard_normal((H, L, d)); k = rng.standard_normal((G, L, d)); v = rng.standard_normal((G, L, d))
    dense = dense_attention(q, k, v)
    full = np.zeros(len(cfg.counts)); full[-1] = 1.0            # every block keeps b tokens
    assert np.allclose(sparse_attention(q, k, v, cfg, select(q, k, cfg, [full] * G)), dense)
    for scorer in ('block-last', 'prompt-last'):
        c = Config(block=16, sink=32, window=64, scorer=scorer)
        p = uniform_config(c, L, keep=0.39)
        kept = select(q, k, c, [p] * G)
        ratio = sum(kv_tokens(kept)) / (G * L)
        assert abs(ratio - 0.39) < 0.02, ratio
        err = np.linalg.norm(sparse_attention(q, k, v, c, kept) - dense) / np.linalg.norm(dense)
        print(f'{scorer}: whole-cache keep {ratio:.3f}, relative L2 error vs dense {err:.3f}')
    print(assign_counts(cfg, [0.5, 0.25, 0.25, 0, 0], [5.0, 1.0, 3.0, 1.0]))  # -> [4, 1, 2, 1]
    try:
        uniform_config(cfg, 100, keep=0.2)
    except ValueError as e:
        print('refused:', e)
    print('ok')
