"""Bad models and bad requests are refused with a message that names the problem.

Crafted GGUF files (written with the gguf package's GGUFWriter, F32 tensors) for: an unknown
architecture, a missing tensor, a misshapen tensor, a tensor type the runtime cannot multiply;
and, on the real SmolLM2, a prompt longer than the context.

usage: check_bad_models.py TCA_BIN
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
from model_cache import model_path  # noqa: E402

E, H, FF, V = 32, 2, 64, 8   # a tiny llama: embedding, heads, ffn, vocab


def write_model(path, arch='llama', drop=None, reshape=None, qtype=None):
    w = GGUFWriter(path, arch)
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(E)
    w.add_feed_forward_length(FF)
    w.add_head_count(H)
    w.add_head_count_kv(H)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model('gpt2')
    w.add_token_list([f't{i}' for i in range(V)])
    rng = np.random.default_rng(0)
    tensors = {
        'token_embd.weight': (V, E), 'output_norm.weight': (E,),
        'blk.0.attn_norm.weight': (E,), 'blk.0.ffn_norm.weight': (E,),
        'blk.0.attn_q.weight': (E, E), 'blk.0.attn_k.weight': (E, E), 'blk.0.attn_v.weight': (E, E),
        'blk.0.attn_output.weight': (E, E), 'blk.0.ffn_gate.weight': (FF, E),
        'blk.0.ffn_up.weight': (FF, E), 'blk.0.ffn_down.weight': (E, FF),
    }
    for name, shape in tensors.items():
        if name == drop:
            continue
        if name == reshape:
            shape = (shape[0] + 1,) + shape[1:]
        if name == qtype:
            # 32 elements per row of IQ4_NL: 18 bytes a block; a type we read but cannot multiply
            raw = np.zeros((shape[0], 18 * shape[1] // 32), dtype=np.uint8)
            w.add_tensor(name, raw, raw_dtype=GGMLQuantizationType.IQ4_NL)
            continue
        w.add_tensor(name, rng.standard_normal(shape).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def expect_error(cmd, needle, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    ok = r.returncode != 0 and needle in r.stderr
    print(f'{"ok  " if ok else "FAIL"} {" ".join(cmd[1:3])} ... -> {r.stderr.strip()!r}')
    return ok


def main():
    tca = sys.argv[1]
    ok = True
    with tempfile.TemporaryDirectory() as d:
        cases = [
            (dict(arch='gpt2'), "architecture 'gpt2' is not supported"),
            (dict(drop='blk.0.attn_k.weight'), "tensor 'blk.0.attn_k.weight' is missing"),
            (dict(reshape='blk.0.ffn_up.weight'), "tensor 'blk.0.ffn_up.weight' has shape"),
            (dict(qtype='blk.0.ffn_down.weight'), 'ffn_down.weight'),
        ]
        for i, (kw, needle) in enumerate(cases):
            path = os.path.join(d, f'bad{i}.gguf')
            write_model(path, **kw)
            ok &= expect_error([tca, 'run', '-m', path, '-p', 'hi'], needle)
    smol = model_path('smollm2')
    ok &= expect_error([tca, 'run', '-m', smol, '-c', '16', '-n', '4', '-p', 'word ' * 40], 'more than -c (16)')
    ok &= expect_error([tca, 'run', '-m', smol, '-n', '8', '-p', 'word ' * 8190], "more than the model's context (8192)")
    ok &= expect_error([tca, 'run', '-m', smol], 'give exactly one of -p PROMPT or -f FILE')
    ok &= expect_error([tca, 'ask', '-m', smol, 'question only'], 'needs --doc FILE and a QUESTION')
    ok &= expect_error([tca, 'run', '-m', smol, '-p', 'x', '--temp', '-1'], '--temp expects a number')
    # TCA requests that cannot be met
    run = [tca, 'run', '-m', smol, '-n', '1', '-p', 'word ' * 100]
    ok &= expect_error(run + ['--attn', 'tca'], 'no budget for this model is shipped',
                       env={'TCA_BUDGETS_DIR': os.path.join(tempfile.gettempdir(), 'no-budgets-here')})
    # without options, the shipped budget is found by the model's fingerprint
    r = subprocess.run(run, capture_output=True, text=True)
    shipped = r.returncode == 0 and 'tca budget' in r.stderr and 'smollm2.keep0.39.json' in r.stderr
    print(f'{"ok  " if shipped else "FAIL"} run with no attention option uses models/budgets/smollm2.keep0.39.json')
    ok &= shipped
    ok &= expect_error(run + ['--tca-keep', '0.3'], 'keep 0.3 is below what sink 64 + window 512 hold at length')
    ok &= expect_error(run + ['--tca-keep', '0'], '--tca-keep expects a number in (0, 1]')
    ok &= expect_error(run + ['--tca-keep', '0.5', '--tca-block', '48'], '--tca-block expects 16, 32 or 64')
    ok &= expect_error(run + ['--tca-keep', '1', '--tca-window', '100'], 'window 100 is not a non-negative multiple of the block size 32')
    ok &= expect_error(run + ['--tca-keep', '1', '--tca-prefill-window', '100'], '--tca-prefill-window 100 is not a multiple of the block size 32')
    ok &= expect_error(run + ['--tca-keep', '1', '--kv-type', 'f32'], 'the TCA cache is f16 only')
    ok &= expect_error(run + ['--tca-keep', '1', '--tca-scorer', 'block-last', '--tca-redundancy', 'mass'], 'needs --tca-scorer prompt-last')
    ok &= expect_error(run + ['--attn', 'dense', '--tca-keep', '0.5'], '--attn dense does not take')
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, 'bad.json')
        with open(bad, 'w') as f:
            f.write('{"format": "tca-budget", "version": 1, ')
        ok &= expect_error(run + ['--tca-budget', bad], 'bad.json')
        ok &= expect_error(run + ['--tca-budget', os.path.join(d, 'missing.json')], 'missing.json')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
