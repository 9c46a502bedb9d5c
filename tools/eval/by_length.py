#!/usr/bin/env python3
"""Questions answered per method and length, on the questions every given run answered.

Runs of the whole question set at different lengths finish at different times (a 4K run over
several sessions); this counts each row's right answers only on the question ids present in
every FILE:METHOD given, so that the lengths compare the same questions. Each --row names a
label and one FILE[:METHOD] per length (METHOD defaults to the label; METHOD@KEEP for one keep
target of a run at several):

    python3 tools/eval/by_length.py \\
        --row dense docs/eval/qwen2.5-1.5b-qa-all-1024-prefill512.json \\
                    docs/eval/qwen2.5-1.5b-qa-all-2048.json docs/eval/qwen2.5-1.5b-qa-all-4096.json \\
        --row tca docs/eval/qwen2.5-1.5b-qa-all-1024-prefill512.json:tca:prefill-window=512 \\
                  docs/eval/qwen2.5-1.5b-qa-all-2048-prefill512.json:tca:prefill-window=512 \\
                  docs/eval/qwen2.5-1.5b-qa-all-4096.json
"""
import argparse
import json
import sys

import method_keep


def load(spec, label):
    """{question id: correct} for one FILE[:METHOD], and the length it ran at."""
    path, _, method = spec.partition(':')
    method = method or label
    try:
        res = json.load(open(path))
    except (OSError, ValueError) as e:
        sys.exit(f'by_length.py: {path}: {e}')
    samples = [s for s in res.get('samples', []) if s['task'] == 'qa']
    method, keep = method_keep.resolve(samples, method, 'by_length.py')
    got = {}
    lengths = set()
    for s in samples:
        if method_keep.matches(s, method, keep):
            got[s['sample'].split()[1]] = s['correct']  # "qa alice-01 depth 10%"
            lengths.add(s['length'])
    if len(lengths) != 1:
        sys.exit(f'by_length.py: {spec}: expected questions of one length for method {method}, '
                 f'found lengths {sorted(lengths) or "none"}')
    return lengths.pop(), got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--row', nargs='+', action='append', required=True, metavar=('LABEL', 'FILE[:METHOD]'),
                    help='a row label and one FILE[:METHOD] per length')
    args = ap.parse_args()

    rows = []  # (label, {length: {id: correct}})
    for label, *specs in args.row:
        if not specs:
            sys.exit(f'by_length.py: --row {label}: give at least one FILE[:METHOD]')
        by_len = {}
        for spec in specs:
            length, got = load(spec, label)
            by_len[length] = got
        rows.append((label, by_len))
    lengths = sorted({n for _, by_len in rows for n in by_len})
    common = set.intersection(*(set(got) for _, by_len in rows for got in by_len.values()))
    if not common:
        sys.exit('by_length.py: no question is answered in every file')

    print(f'{len(common)} questions in every run\n')
    print('| method | ' + ' | '.join(f'{n}' for n in lengths) + ' |')
    print('| --- |' + ' ---: |' * len(lengths))
    for label, by_len in rows:
        cells = [str(sum(by_len[n][q] for q in common)) if n in by_len else '' for n in lengths]
        print(f'| {label} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
