"""`tca calibrate` end to end on SmolLM2 (small: 1536 tokens, window 256, 128 measured rows).

Checks: the same inputs give a byte-identical budget file with 1 and 2 threads, and choosing a
second target from the same pass equals a fresh run; the file loads (`tca run --tca-budget`);
every candidate's keep ratio equals the spec's formula (tca_ref.whole_cache_keep) at the
calibration length; the keep-all candidate has error 0; the target-keep choice is the
Lagrangian minimiser err + lambda * keep of every head and meets the target; a tolerance run
picks, per head, the smallest keep whose error is within it; bad requests are refused.

usage: check_calibrate.py TCA_BIN
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
import tca_ref  # noqa: E402

TCA = sys.argv[1]
ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
TEXT = os.path.join(ROOT, 'docs', 'texts', 'carroll-alice.txt')
failures = []


def check(ok, msg):
    print(('ok   ' if ok else 'FAIL ') + msg, flush=True)
    if not ok:
        failures.append(msg)


def calibrate(d, name, *extra, threads=2):
    out = os.path.join(d, name)
    cmd = [TCA, 'calibrate', '-m', 'smollm2', '--text', TEXT, '--tokens', '1536', '--window', '256', '--rows', '128',
           '-t', str(threads), *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
    return r


with tempfile.TemporaryDirectory() as d:
    a = calibrate(d, 'a', '--target-keep', '0.5,0.7', '-o', f'{d}/a.json,{d}/a7.json', '--report', f'{d}/ra.json',
                  threads=2)
    check(a.returncode == 0, 'calibrate --target-keep 0.5,0.7 runs')
    b = calibrate(d, 'b', '--target-keep', '0.5', '-o', f'{d}/b.json', threads=1)
    c = calibrate(d, 'c', '--target-keep', '0.7', '-o', f'{d}/c.json', threads=2)
    same = open(f'{d}/a.json', 'rb').read() == open(f'{d}/b.json', 'rb').read()
    check(b.returncode == 0 and same, 'byte-identical budget with 2 threads and with 1')
    same7 = open(f'{d}/a7.json', 'rb').read() == open(f'{d}/c.json', 'rb').read()
    check(c.returncode == 0 and same7, 'a second target chosen from one pass equals a fresh calibration for it')
    if a.returncode == 0:
        sel = json.load(open(f'{d}/a.json'))
        check(sel['scorer'] == 'prompt-last' and sel['redundancy'] == 'mass',
              f'default selection: scorer {sel["scorer"]}, redundancy {sel["redundancy"]} (prompt-last, mass)')

    chapter = os.path.join(ROOT, 'docs', 'texts', 'alice-chapter1.txt')
    run = subprocess.run([TCA, 'run', '-m', 'smollm2', '-f', chapter, '-n', '4', '--tca-budget', f'{d}/a.json',
                          '--json'], capture_output=True, text=True)
    ok = run.returncode == 0
    summary = json.loads(run.stdout) if ok else {}
    check(ok and summary.get('attention', '').startswith('tca budget'),
          f'the calibrated file drives tca run (keep {summary.get("keep_ratio", 0):.3f})')

    rep = json.load(open(f'{d}/ra.json'))
    bud = json.load(open(f'{d}/a.json'))
    cfg = tca_ref.Config(block=32, sink=64, window=256)
    L = rep['tokens']
    mus, sigmas = rep['candidate_mu'], rep['candidate_sigma']
    bad = 0
    for ci, (mu, sg) in enumerate(zip(mus, sigmas)):
        p = np.zeros(6)
        if sg == 0:
            p[-1] = 1
        else:
            p = tca_ref.log_gaussian(cfg, mu, sg)
        want = tca_ref.whole_cache_keep(cfg, L, p)
        for h in rep['heads']:
            if abs(h['keep'][ci] - want) > 1e-12:
                bad += 1
    check(bad == 0, f'every candidate keep ({len(mus)} candidates x {len(rep["heads"])} heads) equals the formula')
    check(all(h['err'][-1] == 0 and h['keep'][-1] == 1 for h in rep['heads']), 'the keep-all candidate: error 0, keep 1')
    lam = rep['lambda']
    opt = all(h['err'][h['chosen']] + lam * h['keep'][h['chosen']] <=
              min(e + lam * k for e, k in zip(h['err'], h['keep'])) + 1e-12 for h in rep['heads'])
    mean_keep = np.mean([h['keep'][h['chosen']] for h in rep['heads']])
    check(opt, f'each head\'s choice minimises err + lambda keep (lambda {lam:.4g})')
    check(mean_keep <= 0.5 + 1e-9 and mean_keep > 0.45, f'mean keep {mean_keep:.4f} meets the target 0.5 from below')
    fits = all(abs(bh['keep'] - h['keep'][h['chosen']]) < 1e-12 and abs(sum(bh['p']) - 1) < 1e-9
               for bh, h in zip(bud['heads'], rep['heads']))
    check(fits, 'the budget file records each head\'s chosen keep and a p summing to 1')

    t = calibrate(d, 't', '--tolerance', '0.03', '-o', f'{d}/t.json', '--report', f'{d}/rt.json')
    rt = json.load(open(f'{d}/rt.json'))
    ok = t.returncode == 0
    for h in rt['heads']:
        ch = h['chosen']
        smallest = min(k for e, k in zip(h['err'], h['keep']) if e <= 0.03)
        ok &= h['err'][ch] <= 0.03 and h['keep'][ch] == smallest
    check(ok, 'tolerance 0.03: each head takes the smallest keep whose error is within it')

    for args, needle in [(['--target-keep', '0.5', '-o', ''], '-o needs one file per target keep'),
                         (['--target-keep', '0', '-o', f'{d}/x.json'], '--target-keep expects ratios in (0, 1]'),
                         (['--target-keep', '0.5', '--tolerance', '0.1', '-o', f'{d}/x.json'], 'needs --text FILE, -o BUDGET.json and one of'),
                         (['--target-keep', '0.5,0.3', '-o', f'{d}/x.json'], '-o needs one file per target keep'),
                         (['--target-keep', '0.01', '-o', f'{d}/x.json'], 'target keep 0.01 is below the floor'),
                         (['--scorer', 'block-last', '--redundancy', 'mass', '--target-keep', '0.5', '-o', f'{d}/x.json'],
                          '--redundancy mass needs --scorer prompt-last')]:
        r = calibrate(d, 'x', *args)
        check(r.returncode != 0 and needle in r.stderr, f'refused: {" ".join(args[:2])} -> {r.stderr.strip()[-90:]!r}')
    # the floor at 1536 tokens, block 32, sink 64, window 256: (64 + 256 + 38 blocks x 1 token) / 1536
    # = 0.2331, with 2 tokens per block 0.2578: 0.25 is warned about, 0.01 refused before the pass
    r = calibrate(d, 'x', '--target-keep', '0.25,0.01', '-o', f'{d}/x.json,{d}/y.json')
    check(r.returncode == 2 and 'warning: target keep 0.25 is within one token per block of the floor' in r.stderr
          and 'holds 0.2331, two 0.2578' in r.stderr and 'calibrating: layer' not in r.stderr,
          f'a target near the floor is warned about, one under it refused before the pass ({r.stderr.strip()[-120:]!r})')
    check('floor' not in a.stderr, 'no floor warning at targets 0.5 and 0.7')
    r = subprocess.run([TCA, 'calibrate', '-m', 'smollm2', '--text', TEXT, '--tokens', '500', '--target-keep', '0.5',
                        '-o', f'{d}/x.json'], capture_output=True, text=True)
    check(r.returncode != 0 and 'leave no block to compress' in r.stderr, 'refused: a text too short for sink + window')

print(f'{len(failures)} failure(s)')
sys.exit(1 if failures else 0)
