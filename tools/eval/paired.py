#!/usr/bin/env python3
"""Paired comparison of two methods in tca eval result files (docs/eval/*.json).

Pairs the samples both methods answered (same length, task and sample name), then prints the
accuracy of each by depth, the questions where they disagree (with both answers) and a two-sided
sign test on the disagreements: the chance of a split at least this uneven if neither method
were better. Several files may be given (e.g. a run and one that added a method with --reuse);
a sample found twice for a method is taken from the first file that has it.

    python3 tools/eval/paired.py docs/eval/qwen2.5-1.5b-qa-all-2048.json --a dense --b tca

A run at several keep targets records a method once per target: name one as `--b tca@0.2`.
The same label from two runs (TCA with two budget directories) is told apart by the file:

    python3 tools/eval/paired.py --a tca@0.1 --a-from old.json --b tca@0.1 --b-from new.json
"""
import argparse
import json
import math
import os
import re
import sys

import method_keep


def sign_test(wins, losses):
    """Two-sided exact binomial test of wins against losses at p = 1/2."""
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('files', nargs='*', help='tca eval JSON result files')
    ap.add_argument('--a', default='dense', help='the reference method label (default dense); LABEL@KEEP for '
                    'one keep target of a run at several')
    ap.add_argument('--b', default='tca', help='the method compared with it (default tca); LABEL@KEEP as --a')
    ap.add_argument('--a-from', metavar='FILE', help="take --a's samples from this file only")
    ap.add_argument('--b-from', metavar='FILE', help="take --b's samples from this file only")
    ap.add_argument('--task', default=None, help='only this task (retrieval or qa)')
    args = ap.parse_args()

    def load(path):
        try:
            res = json.load(open(path))
        except (OSError, ValueError) as e:
            sys.exit(f'paired.py: {path}: {e}')
        if 'samples' not in res:
            sys.exit(f'paired.py: {path}: not a tca eval result (no "samples")')
        return [s for s in res['samples'] if not args.task or s['task'] == args.task]

    if not args.files and not (args.a_from and args.b_from):
        sys.exit('paired.py: no result file (give FILE..., or both --a-from and --b-from)')
    samples = [s for path in args.files for s in load(path)]
    # each side's samples: its own file where named, else every file given
    pools = {'a': load(args.a_from) if args.a_from else samples, 'b': load(args.b_from) if args.b_from else samples}
    # the names printed: a label with the file it was taken from, where one is named
    name_a = args.a + (f' ({os.path.basename(args.a_from)})' if args.a_from else '')
    name_b = args.b + (f' ({os.path.basename(args.b_from)})' if args.b_from else '')
    answers = {}  # (side, length, task, sample) -> sample record
    for side, spec in (('a', args.a), ('b', args.b)):
        method, keep = method_keep.resolve(pools[side], spec, 'paired.py')
        for s in pools[side]:
            if method_keep.matches(s, method, keep):
                answers.setdefault((side, s['length'], s['task'], s['sample']), s)
    keys = sorted({k[1:] for k in answers if k[0] == 'a'} & {k[1:] for k in answers if k[0] == 'b'})
    if not keys:
        labels = sorted({s['method'] for s in pools['a'] + pools['b']})
        sys.exit(f'paired.py: no sample answered by both {args.a} and {args.b} (methods found: {", ".join(labels)})')

    by_depth = {}
    wins = []  # (key, a record, b record) where exactly one is correct
    for k in keys:
        a, b = answers[('a',) + k], answers[('b',) + k]
        m = re.search(r'depth (\d+)%', k[2])
        row = by_depth.setdefault((k[0], k[1], int(m.group(1)) if m else -1), [0, 0, 0])
        row[0] += 1
        row[1] += a['correct']
        row[2] += b['correct']
        if a['correct'] != b['correct']:
            wins.append((k, a, b))

    print(f'| length | task | depth | samples | {name_a} | {name_b} |')
    print('| ---: | --- | ---: | ---: | ---: | ---: |')
    for (length, task, depth), (n, na, nb) in sorted(by_depth.items()):
        print(f'| {length} | {task} | {depth if depth >= 0 else "-"}% | {n} | {na} | {nb} |')
    n = len(keys)
    na = sum(answers[('a',) + k]['correct'] for k in keys)
    nb = sum(answers[('b',) + k]['correct'] for k in keys)
    print(f'| all | | | {n} | {na} ({100 * na / n:.1f}%) | {nb} ({100 * nb / n:.1f}%) |\n')
    to_a = sum(a['correct'] for _, a, _ in wins)
    to_b = len(wins) - to_a
    print(f'{name_b} - {name_a}: {100 * (nb - na) / n:+.1f} points; they disagree on {len(wins)}: '
          f'{to_a} to {name_a}, {to_b} to {name_b} (sign test p = {sign_test(to_a, to_b):.3g})\n')
    for k, a, b in wins:
        # questions record any of several answers; retrieval, every value that must appear
        expected = a.get('answers_any') or a.get('expected_all')
        print(f'{k[2]} (L={k[0]}), right: {name_a if a["correct"] else name_b}; expected {expected}')
        print(f'    {name_a}: {a["output"]!r}')
        print(f'    {name_b}: {b["output"]!r}')


if __name__ == '__main__':
    main()
