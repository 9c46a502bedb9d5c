"""What check_tca.py and check_baselines.py both compare between two tca_probe runs."""


def greedy_agree(a, b, tol):
    """Greedy tokens of run a against reference run b: how many agree from the start, out of how
    many, and whether they agree. A divergence counts as agreement when it is at a near tie of
    the reference: its top two logits within 2 x tol of the logit range, the most two runs whose
    logits differ by up to tol apart can disagree on (float summation order: the AVX-512 kernel's
    64-key tiles split a prompt differently from TCA's compact prefix, and the f16 cache rounds
    that 1e-7 into 1e-3 of the range; greedy diverges there at SmolLM2's near ties)."""
    ga, gb = a['greedy'], b['greedy']
    n = 0
    while n < len(ga) and ga[n] == gb[n]:
        n += 1
    if n == len(ga):
        return n, len(ga), True, ''
    margin = b['greedy_margin'][n]
    return n, len(ga), margin < 2 * tol, (f", then parts at step {n + 1}, where the reference's top two are "
                                                f'{margin:.1e} of the range apart')
