#!/usr/bin/env python3
"""Merges `tca bench -o json` and `llama-bench -o json` results into one markdown table.

Called by tools/bench/compare_llamacpp.sh; usable by hand on saved files:

    compare_llamacpp.py --tca tca.json --tca-time tca.time \
        --llama pp.json tg.json --llama-time pp.time tg.time [--llama-info BUILD_INFO]

Rows are matched on (n_prompt, n_gen, depth). A test that only one tool ran is shown with "-"
for the other so that nothing is silently dropped. The *.time files are `/usr/bin/time -v`
reports; peak memory is their "Maximum resident set size", the largest over a tool's runs.
"""

import argparse
import json
import platform
import re
import sys


def load_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        sys.exit(f"compare_llamacpp: {path} is not valid JSON ({e}); the tool's output was:\n{text[:2000]}")


def peak_rss_bytes(paths):
    """Largest "Maximum resident set size (kbytes)" over the given /usr/bin/time -v reports."""
    peak = None
    for path in paths:
        with open(path, encoding="utf-8") as f:
            m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", f.read())
        if not m:
            sys.exit(f"compare_llamacpp: no 'Maximum resident set size' in {path}")
        kib = int(m.group(1))
        peak = kib if peak is None else max(peak, kib)
    return None if peak is None else peak * 1024


def test_name(n_prompt, n_gen, depth):
    """The names both tools print: pp512, tg64, tg64 @ d8192."""
    name = f"pp{n_prompt}" if n_prompt else f"tg{n_gen}"
    return f"{name} @ d{depth}" if depth else name


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mib(n):
    return f"{n / (1 << 20):.1f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tca", required=True, help="tca bench -o json output")
    ap.add_argument("--tca-time", nargs="+", required=True, help="/usr/bin/time -v report(s) of tca")
    ap.add_argument("--llama", nargs="+", required=True, help="llama-bench -o json output(s)")
    ap.add_argument("--llama-time", nargs="+", required=True, help="/usr/bin/time -v report(s) of llama-bench")
    ap.add_argument("--llama-info", help="BUILD_INFO written by build_llamacpp.sh")
    args = ap.parse_args()

    tca = load_json(args.tca)
    ours = {(r["n_prompt"], r["n_gen"], r["depth"]): r for r in tca["results"]}
    theirs = {}
    lrows = []
    for path in args.llama:
        rows = load_json(path)
        lrows += rows
        for r in rows:
            theirs[(r["n_prompt"], r["n_gen"], r.get("n_depth", 0))] = r

    # Prompt tests first, then generation tests, each by depth and size: the order both tools use.
    keys = sorted(set(ours) | set(theirs), key=lambda k: (k[0] == 0, k[2], k[0], k[1]))
    print("| test | tca t/s | llama.cpp t/s | ratio tca/llama.cpp |")
    print("| --- | ---: | ---: | ---: |")
    for k in keys:
        o, t = ours.get(k), theirs.get(k)
        o_s = f"{o['tokens_per_s']:.2f} ± {o['tokens_per_s_sd']:.2f}" if o else "-"
        t_s = f"{t['avg_ts']:.2f} ± {t['stddev_ts']:.2f}" if t else "-"
        ratio = f"{o['tokens_per_s'] / t['avg_ts']:.3g}" if o and t and t["avg_ts"] > 0 else "-"
        print(f"| {test_name(*k)} | {o_s} | {t_s} | {ratio} |")
    print()

    ours_rss = peak_rss_bytes(args.tca_time)
    theirs_rss = peak_rss_bytes(args.llama_time)
    print(f"- peak memory (max RSS, /usr/bin/time -v): tca {mib(ours_rss)}, llama.cpp {mib(theirs_rss)}, "
          f"ratio tca/llama.cpp {ours_rss / theirs_rss:.2f}")

    l0 = lrows[0] if lrows else {}
    info = {}
    if args.llama_info:
        with open(args.llama_info, encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    lver = f"llama-cpp-python {info.get('llama-cpp-python', '?')}, llama.cpp commit {l0.get('build_commit', '?')}"
    print(f"- model: {tca.get('model', '?')} ({tca.get('arch', '?')}, {tca.get('model_bytes', 0) / (1 << 30):.2f} GiB "
          f"of weights; llama.cpp: {l0.get('model_type', '?')})")
    print(f"- machine: {cpu_model()}, {platform.system()} {platform.machine()}; llama.cpp cpu_info: "
          f"{l0.get('cpu_info', '?')}")
    print(f"- ISA: tca {tca.get('isa', '?')}; llama.cpp built with GGML_NATIVE=ON (-march=native)")
    print(f"- threads: tca {tca.get('threads', '?')}, llama.cpp {l0.get('n_threads', '?')}; "
          f"llama.cpp flash_attn {l0.get('flash_attn', '?')}, n_batch {l0.get('n_batch', '?')}, "
          f"n_ubatch {l0.get('n_ubatch', '?')}")
    print(f"- versions: tca commit {tca.get('commit', '?')}; {lver}")


if __name__ == "__main__":
    main()
