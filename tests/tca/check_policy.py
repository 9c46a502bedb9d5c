"""src/select/policy.c against the oracle tests/reference/tca_ref.py: the same cases go through
policy_cli (C) and tca_ref (numpy) and must agree. Integer results (blocks, quotas, retain
counts, refusals) exactly; doubles exactly too, with a 1e-14 margin only where libm's exp and
numpy's may differ in the last bit (log-Gaussian p, and the mu found by bisection on it).

usage: check_policy.py POLICY_CLI"""
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
import tca_ref  # noqa: E402

BLOCKS = [2, 4, 8, 16, 32, 64]
EXP_TOL = 1e-14
failures = []
cases = []   # (command line, checker(result fields), label)


def fail(label, msg):
    failures.append(f'{label}: {msg}')


def h(x):
    return float(x).hex()


def f32(x):
    return float(np.float32(x))


def cfg_of(b, s=0, w=0):
    return tca_ref.Config(block=b, sink=s, window=w)


def add(line, check, label):
    cases.append((line, check, label))


def parse_ds(fields):
    return [float.fromhex(t) for t in fields]


def close(a, b, tol):
    return abs(a - b) <= tol


# ---- oracle's mu: uniform_config returns p only; record the mu of its last log_gaussian call
_last_mu = [None]
_orig_lg = tca_ref.log_gaussian


def _recording_lg(cfg, mu, sigma):
    _last_mu[0] = mu
    return _orig_lg(cfg, mu, sigma)


def oracle_uniform(cfg, L, keep, sigma):
    """(mu, p) of tca_ref.uniform_config, or None when it refuses."""
    tca_ref.log_gaussian = _recording_lg
    try:
        p = tca_ref.uniform_config(cfg, L, keep, sigma)
        return _last_mu[0], list(p)
    except ValueError:
        return None
    finally:
        tca_ref.log_gaussian = _orig_lg


rng = np.random.default_rng(20261129)
stats = {'lg_exact': 0, 'lg_total': 0, 'mu_exact': 0, 'mu_total': 0, 'mu_edge': 0}


def random_p(b, kind):
    nc = len(cfg_of(b).counts)
    if kind == 'lg':
        return list(tca_ref.log_gaussian(cfg_of(b), rng.uniform(-4, math.log2(b) + 4), rng.choice([0.25, 0.5, 1, 2, 4])))
    if kind == 'dirichlet':
        return list(rng.dirichlet(np.ones(nc)))
    if kind == 'onehot':
        p = [0.0] * nc
        p[rng.integers(nc)] = 1.0
        return p
    return [1.0 / nc] * nc


# ---- log_gaussian
for b in BLOCKS:
    for mu, sigma in [(0, 1), (math.log2(b), 0.25), (-4, 4), (math.log2(b) + 4, 0.5)] + \
            [(rng.uniform(-4, 10), rng.uniform(0.1, 5)) for _ in range(40)]:
        want = tca_ref.log_gaussian(cfg_of(b), mu, sigma)

        def chk(r, want=want):
            got = parse_ds(r)
            stats['lg_total'] += 1
            stats['lg_exact'] += got == list(want)
            if len(got) != len(want) or max(abs(x - y) for x, y in zip(got, want)) > EXP_TOL:
                return f'got {got}, oracle {list(want)}'
        add(f'lg {b} {h(mu)} {h(sigma)}', chk, f'log_gaussian(b={b}, mu={mu}, sigma={sigma})')

# ---- core_ratio (np.dot may sum in another order: 1e-15)
for b in BLOCKS:
    for kind in ['lg', 'dirichlet', 'onehot', 'uniform'] * 5:
        p = random_p(b, kind)
        want = tca_ref.core_ratio(cfg_of(b), np.array(p))

        def chk(r, want=want):
            got = parse_ds(r)[0]
            if not close(got, want, 1e-15):
                return f'got {got}, oracle {want}'
        add(f'core {b} ' + ' '.join(map(h, p)), chk, f'core_ratio(b={b}, p={p})')

# ---- compressible_blocks, incl. L shorter than the window (Python's floor division)
for b in BLOCKS:
    for s in [0, 1, b - 1, b, b + 1, 64, 100]:
        for w in [0, b, 2 * b, 512]:
            for L in [0, 1, b - 1, b, s + w, s + w + b - 1, s + w + b, s + w + 3 * b + 1, 1000, 4097]:
                blocks = tca_ref.compressible_blocks(cfg_of(b, s, w), L)
                first = -(-s // b)
                want = (first, first + len(blocks))

                def chk(r, want=want, blocks=blocks):
                    got = tuple(int(x) for x in r)
                    if got != want or (blocks and list(range(*got)) != blocks):
                        return f'got {got}, oracle {want}'
                add(f'blocks {b} {s} {w} {L}', chk, f'compressible_blocks(b={b}, s={s}, w={w}, L={L})')

# ---- whole_cache_keep
for _ in range(300):
    b = int(rng.choice(BLOCKS))
    s, w = int(rng.integers(0, 200)), b * int(rng.integers(0, 20))
    L = int(rng.integers(1, 5000))
    p = random_p(b, rng.choice(['lg', 'dirichlet', 'onehot', 'uniform']))
    want = tca_ref.whole_cache_keep(cfg_of(b, s, w), L, np.array(p))

    def chk(r, want=want):
        got = parse_ds(r)[0]
        if got != want:
            return f'got {got!r}, oracle {want!r}'
    add(f'wck {b} {s} {w} {L} ' + ' '.join(map(h, p)), chk, f'whole_cache_keep(b={b}, s={s}, w={w}, L={L}, p={p})')

# ---- uniform_config: mu by bisection, and the refusal below sink + window
uniform_cases = [(32, 64, 512, 8192, 0.39, 1.0), (16, 32, 64, 640, 0.39, 1.0), (16, 32, 64, 100, 0.2, 1.0),
                 (32, 64, 512, 576, 0.5, 1.0), (32, 64, 512, 2048, 1.0, 1.0), (32, 64, 512, 2048, 0.3125, 1.0),
                 (64, 0, 0, 64, 0.5, 0.5), (2, 0, 0, 1000, 0.75, 2.0)]
for _ in range(150):
    b = int(rng.choice(BLOCKS))
    s, w = int(rng.choice([0, 4, 64, 100])), b * int(rng.integers(0, 16))
    L = int(rng.integers(1, 20000))
    uniform_cases.append((b, s, w, L, float(rng.uniform(0.02, 1.0)), float(rng.choice([0.25, 0.5, 1.0, 2.0, 4.0]))))
n_refused = 0
for b, s, w, L, keep, sigma in uniform_cases:
    cfg = cfg_of(b, s, w)
    oracle = oracle_uniform(cfg, L, keep, sigma)
    n_refused += oracle is None

    def chk(r, oracle=oracle, cfg=cfg, L=L, keep=keep, sigma=sigma):
        if oracle is None:
            if r != ['refused', 'out', 'of', 'range']:
                return f'got {r}, oracle refuses'
            return None
        want, p_want = oracle
        if r[0] != 'ok':
            return f'got {r}, oracle mu {want}'
        got = float.fromhex(r[1])
        p_got = parse_ds(r[2:])
        if len(p_got) != len(p_want) or max(abs(x - y) for x, y in zip(p_got, p_want)) > EXP_TOL:
            return f'p {p_got}, oracle {p_want}'
        stats['mu_total'] += 1
        stats['mu_exact'] += got == want
        # the keep ratio is a step function of mu: both must land on the same step, unless both
        # sit on the same step's edge (bisection ends within 1e-12 of it on either side, and
        # libm's exp and numpy's SIMD one, e.g. on AVX-512, place the edge a few ulps apart)
        k_got = tca_ref.whole_cache_keep(cfg, L, tca_ref.log_gaussian(cfg, got, sigma))
        k_want = tca_ref.whole_cache_keep(cfg, L, tca_ref.log_gaussian(cfg, want, sigma))
        if not close(got, want, 1e-12):
            return f'mu {got!r} (keep {k_got}), oracle {want!r} (keep {k_want})'
        if k_got != k_want:
            stats['mu_edge'] += 1
            lo, hi = min(k_got, k_want), max(k_got, k_want)
            if not (lo < keep <= hi + 1e-9):
                return f'mu {got!r} (keep {k_got}), oracle {want!r} (keep {k_want}): not the edge of keep {keep}'
    add(f'mu {b} {s} {w} {L} {h(keep)} {h(sigma)}', chk, f'uniform_config(b={b}, s={s}, w={w}, L={L}, keep={keep}, sigma={sigma})')
# C refuses what the oracle does not check: keep outside (0, 1], sigma <= 0, L < 1
for args in [(32, 64, 512, 8192, 0.0, 1.0), (32, 64, 512, 8192, -0.1, 1.0), (32, 64, 512, 8192, 1.5, 1.0),
             (32, 64, 512, 8192, 0.5, 0.0), (32, 64, 512, 0, 0.5, 1.0)]:
    add('mu {} {} {} {} {} {}'.format(*args[:4], h(args[4]), h(args[5])),
        lambda r: None if r == ['refused', 'out', 'of', 'range'] else f'got {r}, expected a refusal',
        f'uniform_mu{args} refused')

# ---- assign_counts: hand-made cases with the expected counts written here
HAND = [
    (16, [0.5, 0.25, 0.25, 0, 0], [5.0, 1.0, 3.0, 1.0], [4, 1, 2, 1]),   # tca_ref's own example
    (4, [1 / 3, 1 / 3, 1 / 3], [3.0, 2.0, 1.0], [4, 2, 1]),
    (4, [0.5, 0.5, 0.0], [1.0, 1.0, 1.0], [1, 1, 2]),                   # remainder tie -> smaller count; red tie -> lower index
    (16, [0.2] * 5, [7, 6, 5, 4, 3, 2, 1], [16, 8, 4, 2, 2, 1, 1]),     # uniform p, n = 7
    (16, [0.2] * 5, [3.0], [1]),                                        # n = 1, uniform: the smallest count
    (32, [0, 0, 0, 0, 0, 1], [1.5], [32]),                              # n = 1, one-hot dense
    (32, [1, 0, 0, 0, 0, 0], [2.0, 1.0, 3.0], [1, 1, 1]),               # one-hot on k = 1
    (8, [0.25, 0.25, 0.25, 0.25], [2.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0, 2.0], [2, 2, 1, 4, 4, 1, 8, 8]),
    (8, [0.25, 0.25, 0.25, 0.25], [], []),                              # n = 0
]
for b, p, red, want in HAND:
    oracle = tca_ref.assign_counts(cfg_of(b), np.array(p), red)
    if list(oracle) != want:
        fail('hand-made case', f'the oracle gives {oracle} for b={b}, p={p}, red={red}, not the {want} written here')

    def chk(r, want=want):
        got = [int(x) for x in r[1:]]
        if r[0] != 'counts' or got != want:
            return f'got {r}, expected {want}'
    add(f'assign {b} {len(red)} ' + ' '.join(map(h, p)) + ''.join(' ' + h(f32(x)) for x in red), chk,
        f'assign_counts(b={b}, p={p}, red={red}) hand-made')

# ---- assign_counts and count quota: random p and redundancies against the oracle
for _ in range(400):
    b = int(rng.choice(BLOCKS))
    n = int(rng.choice([0, 1, 2, 3, 5, 8, 31, 64, int(rng.integers(0, 600))]))
    p = random_p(b, rng.choice(['lg', 'dirichlet', 'onehot', 'uniform']))
    kind = rng.choice(['continuous', 'integer', 'constant'])
    if kind == 'continuous':
        red = [f32(x) for x in rng.uniform(1, b, n)]
    elif kind == 'integer':                      # many ties
        red = [float(x) for x in rng.integers(1, 4, n)]
    else:
        red = [f32(rng.uniform(1, b))] * n
    want = list(tca_ref.assign_counts(cfg_of(b), np.array(p), red))
    quota = [sum(1 for c in want if c == k) for k in cfg_of(b).counts]
    ps = ' '.join(map(h, p))

    def chk(r, want=want):
        if r[0] != 'counts' or [int(x) for x in r[1:]] != want:
            return f'got {r[:20]}..., oracle {want[:20]}...'

    def chkq(r, quota=quota):
        if [int(x) for x in r] != quota:
            return f'got {r}, oracle {quota}'
    add(f'assign {b} {n} {ps}' + ''.join(' ' + h(x) for x in red), chk, f'assign_counts(b={b}, n={n}, {kind})')
    add(f'quota {b} {n} {ps}', chkq, f'count_quota(b={b}, n={n}, p={p})')

# ---- decode thresholds: for e without ties, counting thresholds gives the prefill assignment
for _ in range(300):
    b = int(rng.choice(BLOCKS))
    n = int(rng.choice([1, 2, 3, 7, int(rng.integers(1, 400))]))
    p = random_p(b, rng.choice(['lg', 'dirichlet', 'onehot', 'uniform']))
    e = sorted(set(f32(x) for x in rng.uniform(1, b, n)))
    rng.shuffle(e)
    n = len(e)
    want = list(tca_ref.assign_counts(cfg_of(b), np.array(p), e))
    s = sorted(e)
    thr_want = []
    c = 0
    for k in cfg_of(b).counts[:-1]:               # the rule of policy.h, from the oracle's counts
        c += sum(1 for x in want if x == k)
        thr_want.append(0.0 if c == 0 else b + 1.0 if c == n else (s[c - 1] + s[c]) / 2)

    def chk(r, want=want, thr_want=thr_want, b=b):
        i1 = r.index('|')
        i2 = r.index('|', i1 + 1)
        thr = parse_ds(r[:i1])
        from_thr = [int(x) for x in r[i1 + 1:i2]]
        assigned = [int(x) for x in r[i2 + 1:]]
        if thr != thr_want:
            return f'thresholds {thr}, expected {thr_want}'
        if any(t < 0 or t > b + 1 for t in thr) or thr != sorted(thr):
            return f'thresholds {thr} not non-decreasing in [0, b + 1]'
        if from_thr != want or assigned != want:
            return f'from thresholds {from_thr[:16]}..., assigned {assigned[:16]}..., oracle {want[:16]}...'
    add(f'thr {b} {n} ' + ' '.join(map(h, p)) + ''.join(' ' + h(x) for x in e), chk, f'thresholds(b={b}, n={n})')

# ---- count from thresholds: k = 2^(number of thresholds <= e), hand-made, incl. e on a threshold
CFT_THR = [1.5, 2.0, 2.0, 4.5, 9.0]
for e, want in [(1.0, 1), (1.5, 2), (1.9, 2), (2.0, 8), (4.0, 8), (4.5, 16), (8.99, 16), (9.0, 32), (32.0, 32)]:
    add(f'cft 32 ' + ' '.join(map(h, CFT_THR)) + f' {h(f32(e))}',
        lambda r, want=want: None if r == [str(want)] else f'got {r}, expected {want}',
        f'count_from_thresholds({CFT_THR}, e={e})')
add('cft 2 0x0p+0 0x1p+0', lambda r: None if r == ['2'] else f'got {r}, expected 2', 'count_from_thresholds(b=2, [0], 1)')

# ---- run and compare
cli = sys.argv[1]
inp = ''.join(line + '\n' for line, _, _ in cases)
res = subprocess.run([cli], input=inp, capture_output=True, text=True, check=False)
if res.returncode != 0:
    sys.exit(f'policy_cli exited {res.returncode}: {res.stderr}')
out = res.stdout.splitlines()
if len(out) != len(cases):
    sys.exit(f'policy_cli printed {len(out)} lines for {len(cases)} cases')
for (line, check, label), r in zip(cases, out):
    fields = r.split()
    if 'CANARY' in fields:
        fail(label, 'wrote past the end of counts')
        continue
    msg = check(fields)
    if msg:
        fail(label, msg)

print(f'{len(cases)} cases; log_gaussian bit-exact {stats["lg_exact"]}/{stats["lg_total"]}, '
      f'uniform mu bit-exact {stats["mu_exact"]}/{stats["mu_total"]} ({stats["mu_edge"]} on a step edge), oracle refusals {n_refused}')
for f in failures[:30]:
    print('FAIL', f)
if failures:
    sys.exit(f'{len(failures)} failures')
print('ok')
