"""The docs' comparison scripts (tools/eval/paired.py, tools/eval/by_length.py) on result files
written here with known answers: the counts, the disagreements, the sign test (against values
worked out by hand) and the refusal of files that do not hold what is asked.

usage: check_eval_scripts.py SOURCE_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = sys.argv[1]
PAIRED = os.path.join(ROOT, 'tools', 'eval', 'paired.py')
BY_LENGTH = os.path.join(ROOT, 'tools', 'eval', 'by_length.py')
failures = []


def check(ok, msg):
    print(('ok   ' if ok else 'FAIL ') + msg, flush=True)
    if not ok:
        failures.append(msg)


def write_run(path, length, answers):
    """A result file as tca eval writes it: answers is {method: {question id: correct}}."""
    samples = [{'length': length, 'task': 'qa', 'sample': f'qa {q} depth {10 + 20 * (i % 5)}%', 'method': m,
                'correct': ok, 'output': f'{m} says {q}', 'answers_any': [q]}
               for m, got in answers.items() for i, (q, ok) in enumerate(sorted(got.items()))]
    json.dump({'model': 'test', 'samples': samples}, open(path, 'w'))


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


d = tempfile.mkdtemp()
ids = [f'q-{i:02d}' for i in range(10)]
# dense right on 0-7; tca right on 0-5 and 8-9: they disagree on 6, 7 (to dense) and 8, 9 (to tca)
dense = {q: i < 8 for i, q in enumerate(ids)}
tca = {q: i < 6 or i >= 8 for i, q in enumerate(ids)}
write_run(f'{d}/1k.json', 1024, {'dense': dense, 'tca:x': tca})
# at 2K only the first 6 questions have run; dense right on 4 of them, tca on 3
write_run(f'{d}/2k.json', 2048, {'dense': {q: i < 4 for i, q in enumerate(ids[:6])},
                                 'tca': {q: i < 3 for i, q in enumerate(ids[:6])}})

r = run(PAIRED, f'{d}/1k.json', '--b', 'tca:x')
print(r.stdout)
check(r.returncode == 0, f'paired.py exits 0 ({r.stderr.strip()})')
check('| all | | | 10 | 8 (80.0%) | 8 (80.0%) |' in r.stdout, 'paired.py: 8 of 10 each')
# 2 to 2: the two-sided sign test is 1
check('they disagree on 4: 2 to dense, 2 to tca:x (sign test p = 1)' in r.stdout, 'paired.py: 4 disagreements, p = 1')
check("dense: 'dense says q-06'" in r.stdout and "tca:x: 'tca:x says q-09'" in r.stdout,
      'paired.py prints both answers of a disagreement')

# 6 to 2 (an unbalanced split): p = 2 * (1 + 8 + 28) / 2^8 = 0.2890625
write_run(f'{d}/split.json', 1024, {'dense': {q: i < 6 for i, q in enumerate(ids[:8])},
                                    'tca': {q: i >= 6 for i, q in enumerate(ids[:8])}})
r = run(PAIRED, f'{d}/split.json')
check('2 to tca (sign test p = 0.289)' in r.stdout and '6 to dense' in r.stdout, 'paired.py: sign test of 6 to 2 is 0.289')

# a retrieval sample records the values it needs (expected_all), not answers_any
ret = [{'length': 2048, 'task': 'retrieval', 'sample': 'retrieval single depth 25%', 'method': m, 'correct': ok,
        'output': out, 'expected_all': ['4631542']} for m, ok, out in [('dense', True, ' 4631542.'), ('tca', False, ' 4.')]]
json.dump({'model': 'test', 'samples': ret}, open(f'{d}/ret.json', 'w'))
r = run(PAIRED, f'{d}/ret.json')
check("right: dense; expected ['4631542']" in r.stdout, 'paired.py names a retrieval needle\'s expected value')

r = run(PAIRED, f'{d}/1k.json', '--b', 'nope')
check(r.returncode != 0 and 'no sample answered by both' in r.stderr, 'paired.py refuses a method no file has')
open(f'{d}/bad.json', 'w').write('{"samples": ')
r = run(PAIRED, f'{d}/bad.json')
check(r.returncode != 0 and 'bad.json' in r.stderr, 'paired.py refuses a truncated file, naming it')

# a run at two keep targets records tca twice under one label: tca right on 0-7 at keep 0.6 and
# on 0-1 at keep 0.2; the label alone is ambiguous, tca@KEEP picks one
sweep = [{'length': 1024, 'task': 'qa', 'sample': f'qa {q} depth 10%', 'method': m, 'keep_target': k,
          'correct': i < n, 'output': f'{m}@{k}', 'answers_any': [q]}
         for m, k, n in (('dense', 1.0, 8), ('tca', 0.6, 8), ('tca', 0.2, 2)) for i, q in enumerate(ids)]
json.dump({'model': 'test', 'samples': sweep}, open(f'{d}/keep.json', 'w'))
r = run(PAIRED, f'{d}/keep.json')
check(r.returncode != 0 and 'keep targets 0.2, 0.6' in r.stderr, 'paired.py refuses a label run at two keep targets')
r = run(PAIRED, f'{d}/keep.json', '--b', 'tca@0.2')
check(r.returncode == 0 and '| all | | | 10 | 8 (80.0%) | 2 (20.0%) |' in r.stdout, 'paired.py: tca@0.2 takes keep 0.2 only')
r = run(PAIRED, f'{d}/keep.json', '--b', 'tca@0.6')
check('they disagree on 0' in r.stdout, 'paired.py: tca@0.6 takes keep 0.6 only')
r = run(PAIRED, f'{d}/keep.json', '--b', 'tca@0.39')
check(r.returncode != 0 and 'no samples at keep target 0.39' in r.stderr, 'paired.py refuses a keep target the file lacks')
# the same label in two runs (TCA with two budget directories): --a-from / --b-from pick the file
write_run(f'{d}/old.json', 1024, {'tca': {q: i < 6 for i, q in enumerate(ids)}})
write_run(f'{d}/new.json', 1024, {'tca': {q: i < 8 for i, q in enumerate(ids)}})
r = run(PAIRED, '--a', 'tca', '--a-from', f'{d}/old.json', '--b', 'tca', '--b-from', f'{d}/new.json')
check(r.returncode == 0 and '| all | | | 10 | 6 (60.0%) | 8 (80.0%) |' in r.stdout
      and 'they disagree on 2: 0 to tca (old.json), 2 to tca (new.json) (sign test p = 0.5)' in r.stdout,
      f'paired.py --a-from/--b-from: 6 against 8 of the same label ({r.stderr.strip()})')
r = run(PAIRED, '--a', 'tca', '--a-from', f'{d}/old.json', '--b', 'tca')
check(r.returncode != 0 and 'no result file' in r.stderr, 'paired.py refuses --a-from alone with no other file')
r = run(BY_LENGTH, '--row', 'tca', f'{d}/keep.json:tca@0.2')
check(r.returncode == 0 and '| tca | 2 |' in r.stdout, 'by_length.py: METHOD@KEEP takes that keep target only')

r = run(BY_LENGTH, '--row', 'dense', f'{d}/1k.json', f'{d}/2k.json', '--row', 'tca', f'{d}/1k.json:tca:x', f'{d}/2k.json')
print(r.stdout)
check(r.returncode == 0, f'by_length.py exits 0 ({r.stderr.strip()})')
# on the 6 questions of both lengths: dense 6 at 1K, 4 at 2K; tca 6 at 1K, 3 at 2K
check('6 questions in every run' in r.stdout, 'by_length.py keeps the 6 questions every run has')
check('| dense | 6 | 4 |' in r.stdout and '| tca | 6 | 3 |' in r.stdout, f'by_length.py counts on those only')
r = run(BY_LENGTH, '--row', 'tca', f'{d}/2k.json:nope')
check(r.returncode != 0 and 'found lengths none' in r.stderr, 'by_length.py refuses a method the file lacks')
r = run(BY_LENGTH, '--row', 'dense', f'{d}/bad.json')
check(r.returncode != 0 and 'bad.json' in r.stderr, 'by_length.py refuses a truncated file, naming it')

print(f'{len(failures)} failed' if failures else 'all passed')
sys.exit(1 if failures else 0)
