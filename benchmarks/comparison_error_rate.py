"""Error rate of the comparison with the best, by simulation (figures for docs/COMPARISON.md).

k identical configurations, 30 repeats: how often does the procedure call any of
them worse than another (false exclusion; nominal 0.05)? And one configuration
1.5 standard deviations worse: how often is it excluded (power)? Unpaired draws
are lognormal (RMSE-like); paired draws share a repeat (seed) effect.
Usage: ``python benchmarks/comparison_error_rate.py [SIMS]`` (1000: about 2 minutes).
"""

import sys

import numpy as np
import scipy.stats

from lstmtune.selection import stats


def _draw(rng, k, paired, n=30):
    if paired:
        return 100.0 + rng.normal(0, 8, n)[:, None] + rng.normal(0, 6, (n, k))
    return rng.lognormal(np.log(100.0), 0.1, (n, k))


def _old(L):
    """The previous rule: Mann-Whitney against the lowest mean, Holm-corrected."""
    best = int(np.argmin(L.mean(0)))
    ps = [scipy.stats.mannwhitneyu(L[:, j], L[:, best]).pvalue for j in range(L.shape[1]) if j != best]
    return bool((stats.holm(ps) < 0.05).any())


def main(sims: int) -> None:
    print("| k | seeds | false exclusion (new) | false exclusion (old rule) | power, one 1.5 sd worse |")
    print("|---|---|---|---|---|")
    for k in (2, 5, 13):
        for paired in (False, True):
            rng = np.random.default_rng(100 * k + paired)
            new = old = power = 0
            for s in range(sims):
                L = _draw(rng, k, paired)
                g = {f"c{i}": L[:, i] for i in range(k)}
                new += bool(stats.compare_to_best(g, paired=paired, seed=s).worse)
                old += _old(L) if not paired else 0
                W = L.copy()
                W[:, -1] += 1.5 * W[:, 0].std()
                power += f"c{k - 1}" in stats.compare_to_best({f"c{i}": W[:, i] for i in range(k)}, paired=paired, seed=s).worse
            se = np.sqrt(0.05 * 0.95 / sims)
            old_txt = f"{old / sims:.3f}" if not paired else "—"
            print(f"| {k} | {'shared' if paired else 'per-config'} | {new / sims:.3f} (±{se:.3f}) | {old_txt} | {power / sims:.3f} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
