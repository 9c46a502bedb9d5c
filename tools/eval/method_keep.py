"""Which samples of a tca eval result a method label names, when a run has several keep targets.

A run with `--keep 0.6,0.2,0.1` records every method once per keep target under the same label
("tca"), so the label alone is ambiguous: `tca@0.2` names the one at keep target 0.2. A label
without `@` is accepted only where the method ran at one keep target.
"""
import sys


def parse(spec):
    """'tca@0.2' -> ('tca', 0.2); 'uniform:block=16' -> ('uniform:block=16', None)."""
    method, at, keep = spec.rpartition('@')
    if not at:
        return spec, None
    try:
        return method, float(keep)
    except ValueError:
        return spec, None


def resolve(samples, spec, prog):
    """(method label, keep target) of the samples spec names, the keep target None for files
    without one; exits with a message when spec has no @KEEP and the method ran at several, or
    when @KEEP is absent."""
    method, keep = parse(spec)
    found = sorted({s.get('keep_target') for s in samples if s['method'] == method},
                   key=lambda k: (k is None, k))
    if keep is not None:
        for k in found:
            if k is not None and abs(k - keep) < 1e-6:
                return method, k
        sys.exit(f'{prog}: {spec}: {method} has no samples at keep target {keep:g} '
                 f'(found {", ".join(f"{k:g}" for k in found if k is not None) or "none"})')
    if len(found) > 1:
        sys.exit(f'{prog}: {spec}: {method} ran at keep targets '
                 f'{", ".join(f"{k:g}" for k in found if k is not None)}: name one, as {method}@{found[0]:g}')
    return method, found[0] if found else None


def matches(sample, method, keep):
    """Whether a sample is that method at that keep target."""
    return sample['method'] == method and sample.get('keep_target') == keep
