"""tca eval end to end on SmolLM2 at a small length: every method runs every task, the JSON holds
what the report says, the scoring is redone here from the recorded outputs, the KV budget equals
the calibrated file's keep at that length (computed here with tests/reference/tca_ref.py), a run
stopped early leaves a report of what it did and resumes with --reuse, and bad input is refused with a clear message.

usage: check_eval.py TCA SOURCE_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
import tca_ref  # noqa: E402

TCA, ROOT = sys.argv[1:3]
failures = []
L, DEPTHS, QA, FINAL, FROM = 1024, 2, 2, 32, 512  # 1024: the shortest length tca eval takes
METHODS = ['dense', 'tca', 'uniform', 'streaming', 'snapkv', 'tca:prefill-window=1024', 'tca:prefill-window=0',
           'tca:fit=core']


def check(ok, msg):
    print(('ok   ' if ok else 'FAIL ') + msg, flush=True)
    if not ok:
        failures.append(msg)


def run(*args):
    return subprocess.run([TCA, 'eval', '-m', 'smollm2', *map(str, args)], capture_output=True, text=True)


out = tempfile.mkdtemp()
r = run('--length', L, '--methods', ','.join(METHODS), '--keep', 0.39, '--depths', DEPTHS, '--qa', QA, '--lm', 1,
        '--lm-final', FINAL, '--lm-from', FROM, '-o', out, '--name', 't', '-t', 2)
print(r.stderr[-3000:])
check(r.returncode == 0, f'tca eval exits 0 (got {r.returncode})')
check(all(os.path.exists(os.path.join(out, f)) for f in ('t.json', 't.md', 't-depth.png')),
      't.json, t.md and t-depth.png written')
res = json.load(open(os.path.join(out, 't.json')))
cells = {c['method']: c for c in res['results']}
check(sorted(cells) == sorted(METHODS) and not any(c['skipped'] for c in cells.values()),
      f'one result per method, none skipped: {sorted(cells)}')
check(all(k in res for k in ('model', 'fingerprint', 'commit', 'seed', 'command', 'samples')),
      'the JSON records model, fingerprint, commit, seed and the command')

# the KV budget: the shipped calibrated file's keep at L, as the oracle computes it
# (at this short length its sink and window hold too much: the window is halved until it fits)
budget = json.load(open(os.path.join(ROOT, 'models', 'budgets', cells['tca']['budget_file'])))
cfg = tca_ref.Config(block=budget['block_size'], sink=budget['sink'], window=budget['window'])


def halve_until(cfg, too_big):
    """the evaluation's fit: while too_big, the window halves (whole blocks, down to one), then the sink"""
    while too_big(cfg) and (cfg.window > cfg.block or cfg.sink > 0):
        if cfg.window > cfg.block:
            cfg.window = cfg.window // 2 // cfg.block * cfg.block
        else:
            cfg.sink //= 2
    return cfg


def keep_at(cfg, shift=None):
    ps = [h['p'] if shift is None else tca_ref.log_gaussian(cfg, h['mu'] + shift, h['sigma']) for h in budget['heads']]
    return sum(tca_ref.whole_cache_keep(cfg, L, p) for p in ps) / len(ps)


# fit=core: sink and window halved only until they hold half the budget, then every head's mu
# lowered by the largest common shift that meets it (bisection here, on the oracle's keep)
core = halve_until(tca_ref.Config(block=budget['block_size'], sink=budget['sink'], window=budget['window']),
                  lambda c: c.sink + c.window > 0.39 * L / 2)
lo, hi = -20.0, 0.0
for _ in range(60):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if keep_at(core, mid) <= 0.39 else (lo, mid)
want_core = keep_at(core, lo)
c = cells['tca:fit=core']
check(c['window'] == core.window and c['sink'] == core.sink and c['core_lowered']
      and abs(c['kv_budget'] - want_core) < 1e-6 and 0.39 - 0.01 < want_core <= 0.39,
      f'tca:fit=core at {L}: sink {core.sink}, window {core.window}, retain counts lowered to keep '
      f'{want_core:.4f} (got sink {c["sink"]}, window {c["window"]}, KV budget {c["kv_budget"]:.4f})')

halve_until(cfg, lambda c: keep_at(c) > 0.39 + 0.01)
want = keep_at(cfg)
check(cells['tca']['window'] == cfg.window and cells['tca']['sink'] == cfg.sink,
      f'tca at {L}: sink and window shrunk to {cfg.sink} and {cfg.window} to fit keep 0.39')
# the fit shrinks the cache's window only: by default the prompt's own rows of every sparse
# method see the file's window, as `tca ask` runs; prefill-window=0 asks for the fitted one
for name in ('tca', 'uniform', 'streaming', 'snapkv'):
    check(cells[name]['prefill_window'] == budget['window'] > cells[name]['window'],
          f'{name}: the prompt\'s rows see the file\'s {budget["window"]}-token window, the cache keeps '
          f'{cells[name]["window"]} (got prefill window {cells[name]["prefill_window"]})')
check(cells['tca:prefill-window=0']['prefill_window'] == 0, 'tca:prefill-window=0: prefill window 0 (the fitted one)')
for name in METHODS[1:-1]:
    c = cells[name]
    check(abs(c['kv_budget'] - want) < 1e-9 and abs(c['keep'] - want) < 0.03,
          f'{name}: KV budget {c["kv_budget"]:.4f} = calibrated keep at {L} ({want:.4f}); measured {c["keep"]:.4f}')
for name, c in cells.items():
    check(all(c['retrieval'][k]['n'] == DEPTHS for k in ('single', 'multikey', 'multivalue')) and c['qa']['n'] == QA,
          f'{name}: {DEPTHS} prompts per retrieval task, {QA} questions')
    n_pos = L - 1 - FROM
    check(c['lm']['final_chunk_tokens'] == FINAL and c['lm']['final_chunk_perplexity'] > 1,
          f'{name}: final-chunk perplexity over {FINAL} tokens: {c["lm"]["final_chunk_perplexity"]}')
    if name != 'dense':
        check(c['lm']['kl_positions'] == n_pos and c['lm']['top1_positions'] == n_pos and c['lm']['kl_vs_dense'] >= 0
              and 0 <= c['lm']['top1_agreement'] <= 1,
              f'{name}: KL {c["lm"]["kl_vs_dense"]:.4f} and top-1 {c["lm"]["top1_agreement"]:.3f} over the {n_pos} '
              f'positions from {FROM}')

# prefill-window=1024 >= L: the prompt's rows are computed as dense computes them, so the KL of
# the language-modelling prompt rows (every position before the final chunk) is zero; only the
# final chunk, decoded over the cut cache, differs. The cache is still cut (checked above).
def prompt_kl(c):
    return c['lm']['kl_vs_dense'] * c['lm']['kl_positions'] - c['lm']['kl_vs_dense_final_chunk'] * FINAL


# A wider prefill window brings the prompt rows closer to dense's: the fitted window (0) is
# the farthest, the file's (the default) nearer.
pw, tca_c, pw0 = cells['tca:prefill-window=1024'], cells['tca'], cells['tca:prefill-window=0']
check(pw['prefill_window'] == 1024 and pw['window'] == tca_c['window'] == pw0['window']
      and prompt_kl(pw) < 1e-3 < prompt_kl(tca_c) < prompt_kl(pw0),
      f'tca:prefill-window=1024: window {pw["window"]} kept, KL summed over the prompt rows {prompt_kl(pw):.2e} '
      f'(tca: {prompt_kl(tca_c):.2e}, tca:prefill-window=0: {prompt_kl(pw0):.2e})')

# scoring redone from the recorded outputs; prompt lengths fit L
agree = True
for s in res['samples']:
    o = s['output']
    if 'expected_all' in s:
        ok = all(e in o for e in s['expected_all'])
    else:
        ok = any(a.lower() in o.lower() for a in s['answers_any'])
    agree &= ok == s['correct'] and L - 64 <= s['prompt_tokens'] <= L
check(agree and len(res['samples']) == len(METHODS) * (3 * DEPTHS + QA),
      f'{len(res["samples"])} samples: each one\'s score recomputed from its output agrees; prompts within [L-64, L]')
md = open(os.path.join(out, 't.md')).read()
check('| tca | 0.39 |' in md and 'Targets at keep 0.39' in md, 'the markdown has the table and the target lines')
check(res['runs_done'] == res['runs_planned'] == len(res['samples']) + len(METHODS) and 'Partial' not in md,
      f'complete: {res["runs_done"]} of {res["runs_planned"]} runs, not marked partial')

# a run stopped after its first sample leaves a report of what it did, marked partial
p = subprocess.Popen([TCA, 'eval', '-m', 'smollm2', '--length', str(L), '--tasks', 'qa', '--qa', '3', '--methods',
                      'dense,tca', '-o', out, '--name', 'stopped', '-t', '2'], stderr=subprocess.PIPE, text=True)
for line in p.stderr:
    if line.startswith('[1/6]'):
        break
p.kill()
p.wait()
part = json.load(open(os.path.join(out, 'stopped.json')))
md = open(os.path.join(out, 'stopped.md')).read()
check(part['runs_done'] == len(part['samples']) == 1 and part['runs_planned'] == 6 and 'Partial: 1 of 6 runs' in md,
      f'stopped after one run: the report holds it ({part["runs_done"]} of {part["runs_planned"]}), marked partial')

# --resume: the stopped run's own command, resumed from its JSON, computes only what it lacks
r = run('--length', L, '--tasks', 'qa', '--qa', 3, '--methods', 'dense,tca', '-o', out, '--name', 'stopped', '-t', 2,
        '--resume')
done = json.load(open(os.path.join(out, 'stopped.json')))
first = done['samples'][0]
check(r.returncode == 0 and done['runs_done'] == len(done['samples']) == 6 and done['runs_reused'] == 1
      and first.get('reused_from') == part['commit'] and first['output'] == part['samples'][0]['output']
      and sum('reused_from' in s for s in done['samples']) == 1,
      f'resumed: 6 of 6 runs, the one the stopped run did reused ({done.get("runs_reused")}), the rest computed')
# the same prompt in two runs of different --qa has the same hash, and was answered the same
same = [s for s in res['samples'] if s['sample'] == first['sample'] and s['method'] == first['method']]
check(len(same) == 1 and same[0]['prompt_fnv1a64'] == first['prompt_fnv1a64'] and same[0]['output'] == first['output'],
      f'"{first["sample"]}" in the first run and the stopped one: same prompt hash, same answer')
# --reuse: another keep target is another configuration, so dense is reused and tca is not
# (--resume with no keep02.json yet starts afresh)
r = run('--length', L, '--tasks', 'qa', '--qa', QA, '--methods', 'dense,tca', '--keep', 0.2, '-o', out, '--name',
        'keep02', '-t', 2, '--reuse', os.path.join(out, 't.json'), '--resume')
k2 = json.load(open(os.path.join(out, 'keep02.json')))
check(r.returncode == 0 and k2['runs_reused'] == QA and all(('reused_from' in s) == (s['method'] == 'dense')
                                                             for s in k2['samples']),
      f'--keep 0.2 reusing the 0.39 run: the {QA} dense answers reused, tca recomputed ({k2.get("runs_reused")})')
# --reuse of a file written before the prefill window was recorded: its tca ran the fitted
# window in prefill, so today's default (the file's window) does not take its answers; dense's it does
legacy = json.loads(json.dumps(done))
for x in legacy['results']:
    x.pop('prefill_window', None)
json.dump(legacy, open(os.path.join(out, 'legacy.json'), 'w'))
r = run('--length', L, '--tasks', 'qa', '--qa', 3, '--methods', 'dense,tca', '-o', out, '--name', 'legacy-reuse',
        '-t', 2, '--reuse', os.path.join(out, 'legacy.json'))
lr = json.load(open(os.path.join(out, 'legacy-reuse.json')))
check(r.returncode == 0 and all(('reused_from' in s) == (s['method'] == 'dense') for s in lr['samples']),
      f'--reuse of a file without prefill_window: dense reused, tca recomputed ({lr.get("runs_reused")} reused)')
# --qa-ids: questions by id, each at its depth in the whole set (its index mod 5), so the first
# question asks what --qa 3 asked first (item 0, depth 10%) and is reused from it; item 6 is at 30%
qa_set = json.load(open(os.path.join(ROOT, 'tools', 'eval', 'qa_questions.json')))['items']
r = run('--length', L, '--tasks', 'qa', '--qa-ids', f'{qa_set[0]["id"]},{qa_set[6]["id"]}', '--methods', 'dense',
        '-o', out, '--name', 'ids', '-t', 2, '--reuse', os.path.join(out, 'stopped.json'))
ids = json.load(open(os.path.join(out, 'ids.json')))
dense_first = next(s for s in done['samples'] if s['method'] == 'dense' and qa_set[0]['id'] in s['sample'])
check(r.returncode == 0 and [s['sample'] for s in ids['samples']] ==
      [f'qa {qa_set[0]["id"]} depth 10%', f'qa {qa_set[6]["id"]} depth 30%']
      and ids['samples'][0]['prompt_fnv1a64'] == dense_first['prompt_fnv1a64'] and ids['runs_reused'] == 1,
      f'--qa-ids {qa_set[0]["id"]},{qa_set[6]["id"]}: at their whole-set depths, the first reused from the --qa 3 run')
# budgets=DIR: a method takes its calibrated file from DIR in place of --budgets, so one run
# compares two calibrations. DIR holds the shipped 0.2 file relabelled as a 0.39 one: at --keep
# 0.39, tca:budgets=DIR runs that file (its name, its hash, its keep at L after the same fit);
# a directory without a 0.39 file skips the method and says where it looked
other_dir, empty_dir = tempfile.mkdtemp(), tempfile.mkdtemp()
b02 = json.load(open(os.path.join(ROOT, 'models', 'budgets', 'smollm2.keep0.2.json')))
b02['calibration']['target'] = 0.39
json.dump(b02, open(os.path.join(other_dir, 'relabelled.json'), 'w'))
ocfg = tca_ref.Config(block=b02['block_size'], sink=b02['sink'], window=b02['window'])


def keep02(c):
    return sum(tca_ref.whole_cache_keep(c, L, h['p']) for h in b02['heads']) / len(b02['heads'])


halve_until(ocfg, lambda c: keep02(c) > 0.39 + 0.01)
fnv = 0xcbf29ce484222325
for byte in open(os.path.join(other_dir, 'relabelled.json'), 'rb').read():
    fnv = ((fnv ^ byte) * 0x100000001b3) % 2**64
lab_other, lab_empty = f'tca:budgets={other_dir}', f'tca:budgets={empty_dir}'
r = run('--length', L, '--tasks', 'qa', '--qa', 1, '--methods', f'dense,tca,{lab_other},{lab_empty}', '-o', out,
        '--name', 'dirs', '-t', 2, '--reuse', os.path.join(out, 't.json'))
dirs = {c['method']: c for c in json.load(open(os.path.join(out, 'dirs.json')))['results']}
c = dirs.get(lab_other, {})
check(r.returncode == 0 and c.get('budget_file') == 'relabelled.json' and c.get('budget_fnv1a64') == f'{fnv:016x}'
      and abs(c.get('kv_budget', 0) - keep02(ocfg)) < 1e-9 and dirs['tca']['budget_file'] == 'smollm2.keep0.39.json'
      and c['qa']['n'] == 1 and abs(dirs['tca']['kv_budget'] - want) < 1e-9,
      f'tca:budgets=DIR runs DIR\'s file (KV budget {c.get("kv_budget", 0):.4f} = its keep at {L}, '
      f'{keep02(ocfg):.4f}), plain tca the shipped one')
c = dirs.get(lab_empty, {})
check(c.get('skipped') and f'no calibrated budget at keep 0.39 for this model in {empty_dir}' in c.get('note', ''),
      f'tca:budgets=EMPTY_DIR skipped: "{c.get("note")}"')

# --budgets DIR,DIR: at each keep the first directory holding the model's file
for dirs_arg, want_file in [(f'{other_dir},{ROOT}/models/budgets', 'relabelled.json'),
                            (f'{empty_dir},{ROOT}/models/budgets', 'smollm2.keep0.39.json')]:
    r = run('--length', L, '--tasks', 'qa', '--qa', 1, '--methods', 'dense,tca', '--budgets', dirs_arg, '-o', out,
            '--name', 'list', '-t', 2, '--reuse', os.path.join(out, 'dirs.json'))
    got = {c['method']: c for c in json.load(open(os.path.join(out, 'list.json')))['results']}['tca']
    check(r.returncode == 0 and got['budget_file'] == want_file,
          f'--budgets {os.path.basename(dirs_arg.split(",")[0])},models/budgets: tca runs {got["budget_file"]}')

other = dict(res, fingerprint='0123456789abcdef')
json.dump(other, open(os.path.join(out, 'other.json'), 'w'))

# bad input
for args, needle in [(['--reuse', '/nonexistent.json'], "cannot open '/nonexistent.json'"),
                     (['--reuse', os.path.join(ROOT, 'models', 'budgets', 'smollm2.keep0.39.json')],
                      'not a tca eval result'),
                     (['--reuse', os.path.join(out, 'other.json')], 'another model (fingerprint 0123456789abcdef'),
                     (['--methods', 'dense,bogus'], "unknown method 'bogus'"),
                     (['--keep', '1.5'], "--keep: '1.5' is not in (0, 1]"),
                     (['--length', '100000'], 'exceeds the model\'s context'),
                     (['--length', '512'], 'expects an integer in [1024,'),
                     (['--length', '1024,4096', '--tasks', 'qa,lm'], 'length 1024 is too short for language modelling'),
                     (['--tasks', 'lm,poetry'], "unknown task 'poetry'"),
                     (['--methods', 'uniform:window=oops'], 'bad method option window=oops'),
                     (['--methods', 'tca:fit=sink'], 'bad method option fit=sink'),
                     (['--methods', 'tca:budgets=/nonexistent'], 'budgets=/nonexistent in'),
                     (['--budgets', os.path.join(ROOT, 'models', 'budgets') + ',/nonexistent'], "--budgets: '/nonexistent' is not a directory"),
                     (['--data', '/nonexistent', '--tasks', 'lm'], "cannot open '/nonexistent/"),
                     (['--qa-file', os.path.join(ROOT, 'README.md')], 'not a question set'),
                     (['--tasks', 'qa', '--qa-ids', 'alice-01,nobody-07'], "'nobody-07' is not a question of the set")]:
    r = run(*args, '-o', out, '--name', 'bad')
    check(r.returncode != 0 and needle in r.stderr, f'{" ".join(args)}: refused with "{needle}"')

print(f'{len(failures)} failure(s)')
sys.exit(1 if failures else 0)
