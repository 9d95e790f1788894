"""Summary statistics and comparisons of repeated runs, apart from any plotting.

A configuration trained with R different seeds gives R final test RMSEs. This
module describes such samples, puts confidence intervals on their mean and
median, and asks which configurations cannot be told apart from the best one:

* :func:`describe` is ``pandas.Series.describe`` on the finite runs, counting
  the diverged (non-finite) ones it dropped.
* :func:`mean_ci` is Student's t interval of the mean, :func:`median_ci` the
  order-statistic (binomial) interval of the median, both SciPy's.
* :func:`compare_to_best` finds the configurations indistinguishable from the
  best: the model confidence set (:func:`best_set`, Hansen, Lunde & Nason 2011,
  with a studentized max-t statistic over pairwise differences, resampling
  repeats jointly when seeds are shared and each configuration on its own when
  not). Testing each against the lowest sample mean, even Holm-corrected,
  declares identical configurations worse too often, because picking the
  reference is itself a selection; the error rate of the set is measured by
  simulation in ``tests/test_mcs.py``.
* :func:`holm` (Holm 1979) adjusts p-values for multiple comparisons.

Lower RMSE is better throughout. Nothing here plots or prints.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats

from lstmtune.errors import LstmtuneError

DESCRIBE_KEYS = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")
SUMMARY_COLUMNS = (
    *DESCRIBE_KEYS,
    "n_missing",
    "mean_ci_low",
    "mean_ci_high",
    "median_ci_low",
    "median_ci_high",
    "skill_%",
)



def _as_1d(values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise LstmtuneError(f"expected a 1-D array of run results, got shape {arr.shape}")
    return arr


def _finite(values) -> np.ndarray:
    arr = _as_1d(values)
    return arr[np.isfinite(arr)]


def describe(values: np.ndarray) -> dict[str, float]:
    """Describe a sample of run results the way ``pandas.Series.describe`` does.

    Non-finite values (NaN or infinite: diverged runs) are dropped first and
    counted in ``n_missing``.

    Args:
      values: 1-D array of results, one per run.

    Returns:
      ``count``, ``mean``, ``std`` (ddof=1), ``min``, ``25%``, ``50%``, ``75%``,
      ``max`` exactly as :meth:`pandas.Series.describe` (linear-interpolation
      quantiles) computes them on the finite values, and ``n_missing``. All
      values are floats; statistics of an empty sample are NaN.
    """
    arr = _as_1d(values)
    finite = arr[np.isfinite(arr)]
    desc = pd.Series(finite, dtype=np.float64).describe()
    out = {key: float(desc[key]) for key in DESCRIBE_KEYS}
    out["n_missing"] = float(arr.size - finite.size)
    return out


def mean_ci(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float]:
    """Student's t confidence interval of the mean, ``mean +- t(n - 1) * s / sqrt(n)``
    (:meth:`scipy.stats.ttest_1samp`'s ``confidence_interval``).

    Why not the percentile bootstrap used before: at the repeat counts studies use it covers
    less than it says (a probe's simulation of normal samples: 84.6% at 5 repeats, 91.9% at
    10, 93.7% at 30, against the t interval's 95.7%, 95.7% and 95.3%; tests/selection/test_stats.py
    measures it again), and it drew 2000 resamples per configuration and statistic.

    Args:
      values: 1-D array of results; non-finite values are dropped.
      confidence: the confidence level, in (0, 1).

    Returns:
      ``(low, high)``; ``(v, v)`` when every finite value is ``v``; ``(nan, nan)`` when fewer
      than 2 finite values remain.
    """
    finite = _confidence_sample(values, confidence)
    if finite.size < 2:
        return (float("nan"), float("nan"))
    if finite.min() == finite.max():
        return (float(finite[0]), float(finite[0]))
    with warnings.catch_warnings():  # nearly equal values: scipy warns of precision loss in its moments
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = scipy.stats.ttest_1samp(finite, 0.0).confidence_interval(confidence)
    return (float(ci.low), float(ci.high))


def median_ci(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float]:
    """The distribution-free confidence interval of the median: the order statistics that
    bracket it with at least ``confidence`` by the binomial distribution
    (:func:`scipy.stats.quantile_test`'s ``confidence_interval``).

    Returns:
      ``(low, high)``; ``(nan, nan)`` when fewer than 2 finite values remain, or too few for the
      level (at 95%: five or fewer, whose widest interval, the minimum to the maximum, covers
      the median with 93.75% at five).
    """
    finite = _confidence_sample(values, confidence)
    if finite.size < 2:
        return (float("nan"), float("nan"))
    ci = scipy.stats.quantile_test(finite, q=float(np.median(finite)), p=0.5).confidence_interval(confidence)
    return (float(ci.low), float(ci.high))


def _confidence_sample(values: np.ndarray, confidence: float) -> np.ndarray:
    if not 0.0 < confidence < 1.0:
        raise LstmtuneError(f"confidence must be between 0 and 1, got {confidence}")
    return _finite(values)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values (Holm 1979).

    With the m non-NaN p-values sorted ascending, p_(1) <= ... <= p_(m), the
    adjusted value of p_(i) is ``max_{j <= i} min(1, (m - j + 1) p_(j))``.
    Rejecting where the adjusted value is below alpha controls the family-wise
    error rate at alpha.

    Args:
      pvalues: raw p-values in [0, 1]; NaN entries (tests that could not run)
        stay NaN and do not count towards m.

    Returns:
      Adjusted p-values, float64, in the input order.
    """
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    present = np.flatnonzero(~np.isnan(p))
    if np.any((p[present] < 0.0) | (p[present] > 1.0)):
        raise LstmtuneError(f"p-values must lie in [0, 1], got {p[present].tolist()}")
    out = np.full(p.shape, np.nan)
    m = present.size
    order = present[np.argsort(p[present], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One configuration's place relative to the best: in the model confidence set or not.

    Attributes:
      config: label of the configuration.
      best: label of the best configuration (lowest mean).
      test: ``"MCS"`` (:func:`best_set`).
      statistic: unused (NaN); kept for the table layout.
      p_value: the configuration's MCS p-value (Hansen, Lunde & Nason 2011): it
        is in the set at every level below it, outside at every level at or
        above it (NaN when untestable).
      p_adjusted: the same (the MCS p-value already accounts for every
        comparison; no further adjustment applies).
      indistinguishable: in the set at level ``alpha`` (``p_value > alpha``).
      mean_difference: ``mean(config) - mean(best)`` over finite runs.
    """

    config: str
    best: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    indistinguishable: bool
    mean_difference: float


def _format_p(p: float, relation: str = "=") -> str:
    """``p = 0.41``, ``p ≤ 0.003``, ``p < 0.001``: two significant digits, a bound rounded
    outward (``p ≥ 0.68`` for 0.6895: ``p ≥ 0.69`` would claim more than it is)."""
    if p < 0.001 and relation in ("=", "≤"):
        return "p < 0.001"
    if relation in ("≥", "≤") and 0 < p < 1:
        step = 10.0 ** (math.floor(math.log10(p)) - 1)  # the second significant digit
        scaled = round(p / step, 9)  # 0.7 / 0.01 is 69.99999999999999
        p = (math.floor(scaled) if relation == "≥" else math.ceil(scaled)) * step
    return f"p {relation} {p:.2g}"


def _join(labels: Sequence[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


@dataclasses.dataclass(frozen=True)
class StudyComparison:
    """Which configurations cannot be told apart from the best: the model confidence set.

    Attributes:
      best: label of the configuration with the lowest mean.
      alpha: the set's level: it contains the truly best configuration(s) with
        probability at least ``1 - alpha`` (every one of k identical
        configurations, measured in ``tests/test_mcs.py``).
      best_mean: mean of the best configuration's finite runs.
      comparisons: one :class:`Comparison` per other configuration, input order.
      indistinguishable: the best, then the other configurations in the set, in
        input order.
      worse: the configurations the set excludes, input order.
      untestable: configurations with fewer than 2 finite runs (not compared).
      paired: whether repeats were resampled jointly (shared seeds).
    """

    best: str
    alpha: float
    comparisons: list[Comparison]
    indistinguishable: list[str]
    worse: list[str]
    untestable: list[str] = dataclasses.field(default_factory=list)
    best_mean: float = float("nan")
    paired: bool = False

    def groups(self) -> list[dict]:
        """The comparison as lists (for a report with many configurations): the best, then
        ``{"what": ..., "labels": [...]}`` for the indistinguishable, the worse and the untestable."""
        level = f"{100 * (1 - self.alpha):.0f}%"
        by_label = {c.config: c for c in self.comparisons}
        out = []
        same = self.indistinguishable[1:] if self.comparisons else []
        if same:
            ps = [by_label[label].p_adjusted for label in same]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(min(ps), "≥")
            out.append({"what": f"indistinguishable from it (in the {level} model confidence set, MCS {p_text})", "labels": list(same)})
        if self.worse:
            ps = [by_label[label].p_adjusted for label in self.worse]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(max(ps), "≤")
            out.append({"what": f"worse (outside the {level} model confidence set, MCS {p_text})", "labels": list(self.worse)})
        if self.untestable:
            out.append({"what": "not compared (fewer than 2 finite runs)", "labels": list(self.untestable)})
        return out

    def sentence(self) -> str:
        """The comparison in plain words, e.g. for a report."""
        head = f"{self.best} is best (mean {self.best_mean:.4g})"
        if not self.comparisons:
            return f"{head}; it is the only configuration, so there is nothing to compare it with."
        by_label = {c.config: c for c in self.comparisons}
        level = f"{100 * (1 - self.alpha):.0f}%"
        parts = [head]
        same = self.indistinguishable[1:]
        if same:
            ps = [by_label[label].p_adjusted for label in same]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(min(ps), "≥")
            verb = "is" if len(same) == 1 else "are"
            parts.append(f"{_join(same)} {verb} indistinguishable from it (in the {level} model confidence set, MCS {p_text})")
        if self.worse:
            ps = [by_label[label].p_adjusted for label in self.worse]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(max(ps), "≤")
            verb = "is" if len(self.worse) == 1 else "are"
            prefix = "no other configuration is indistinguishable from it: " if not same else ""
            parts.append(f"{prefix}{_join(self.worse)} {verb} worse (outside the {level} model confidence set, MCS {p_text})")
        if self.untestable:
            verb = "was" if len(self.untestable) == 1 else "were"
            parts.append(f"{_join(self.untestable)} {verb} not compared (fewer than 2 finite runs)")
        return "; ".join(parts) + "."


def _pairwise_t(cols: list[np.ndarray], *, paired: bool, reps: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Observed and bootstrap studentized pairwise differences of means.

    Returns ``(observed, boot, dof)``: ``observed[i, j] = (mean_i - mean_j) / se_ij``
    (``-inf`` on the diagonal; ``+-inf`` for a constant nonzero difference), shape
    (k, k); ``boot`` the same statistic in each resample, centred at the observed
    difference and studentized with the resample's own standard error, shape
    (reps, k, k); ``dof`` the degrees of freedom of one pair's t statistic (the
    smallest sample's ``n - 1``).
    """
    k = len(cols)
    if paired:
        x = np.stack(cols, axis=1)  # (n, k)
        n = x.shape[0]
        rows = np.random.default_rng(seed).integers(0, n, (reps, n))  # rows resampled jointly
        xb = x[rows]  # (reps, n, k)
        m, mb = x.mean(0), xb.mean(1)
        cov = np.cov(x, rowvar=False).reshape(k, k)
        centred = xb - mb[:, None, :]
        covb = np.matmul(centred.transpose(0, 2, 1), centred) / (n - 1)  # (reps, k, k)
        var = (np.diag(cov)[:, None] + np.diag(cov)[None, :] - 2 * cov) / n  # variance of paired differences
        diagb = np.diagonal(covb, axis1=1, axis2=2)
        varb = (diagb[:, :, None] + diagb[:, None, :] - 2 * covb) / n
        dof = n - 1
    else:
        ns = np.array([c.size for c in cols], dtype=np.float64)
        m = np.array([c.mean() for c in cols])
        v = np.array([c.var(ddof=1) for c in cols]) / ns
        # Each configuration its own stream: independent seeds, independent resamples.
        boots = [c[np.random.default_rng([seed, i]).integers(0, c.size, (reps, c.size))] for i, c in enumerate(cols)]
        mb = np.stack([b.mean(1) for b in boots], axis=1)
        vb = np.stack([b.var(1, ddof=1) for b in boots], axis=1) / ns
        var = v[:, None] + v[None, :]  # Welch
        varb = vb[:, :, None] + vb[:, None, :]
        dof = int(ns.min()) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        se, seb = np.sqrt(np.maximum(var, 0.0)), np.sqrt(np.maximum(varb, 0.0))
        diff = m[:, None] - m[None, :]
        certain = np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))  # a constant nonzero difference
        observed = np.where(se > 0, diff / se, certain)
        shifted = (mb[:, :, None] - mb[:, None, :]) - diff[None]
        boot = np.where(seb > 0, shifted / seb, 0.0)
    np.fill_diagonal(observed, -np.inf)
    return observed, boot, dof


def best_set(
    samples: Sequence[np.ndarray], *, paired: bool, alpha: float = 0.05, reps: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The model confidence set (Hansen, Lunde & Nason 2011) with a studentized max-t statistic.

    HLN's elimination procedure: among the surviving configurations ``M``, the
    statistic is ``T = max_{i, j in M} t_ij`` with ``t_ij = (mean_i - mean_j) /
    se_ij``; its null distribution is the bootstrap distribution of the same
    maximum of centred differences, studentized in every resample. Step p-value
    ``P*(T* >= T)``; the configuration with the largest ``t_ij`` (the worst) is
    eliminated and the step repeats until one is left. A configuration's MCS
    p-value is the largest step p-value up to its elimination (HLN, Def. 2); the
    set at level ``alpha`` is the configurations with p-value ``> alpha``. When
    every configuration is equally good the first step is a level-``alpha`` test
    of that, so ``k`` identical configurations are all kept with probability at
    least ``1 - alpha``; the truly best are kept with that probability.

    Why not ``arch.bootstrap.MCS``: it standardizes with one bootstrap variance
    instead of studentizing each resample, so at 30 repeats the observed
    t-statistics have heavier tails than its bootstrap distribution. With an
    i.i.d. bootstrap (``block_size=1``, 400 simulations, 1000 resamples) it
    excluded one of k identical configurations in 6.5%, 12.8% and 18.8% of
    simulations for k = 2, 5, 13 (method "R", paired) and 6.5%, 10.7%, 10.0%
    (method "max"), at alpha = 0.05. It also resamples rows jointly only, which is
    wrong for configurations trained with their own seeds.

    The step p-value is never below the two-sided Student-t p-value of the
    largest pair (``n - 1`` degrees of freedom): the maximum over pairs is at
    least one pair's two-sided statistic, whose exact null distribution under
    normality is Student's; at 30 repeats and k = 2 the bootstrap-t quantile
    falls below it (measured 6.9% false exclusions without this floor).

    Args:
      samples: one 1-D array of finite losses per configuration (same length and
        row order when ``paired``).
      paired: repeat ``t`` of every configuration shares a seed: rows are
        resampled jointly and ``se_ij`` is the standard error of the paired
        differences. Otherwise each configuration is resampled independently,
        each with its own random stream (rows of different configurations are
        unrelated draws, so joint resampling would invent a pairing), and ``se_ij``
        is Welch's.
      alpha: the set's level.
      reps: bootstrap resamples.
      seed: the bootstrap's seed (results are reproducible).

    Returns:
      ``(excluded, pvalues)``: a boolean mask of the configurations outside the
      set at level ``alpha`` (``pvalues <= alpha``), and each configuration's MCS
      p-value (1 for the last survivor, the best).
    """
    cols = [np.asarray(c, dtype=np.float64) for c in samples]
    k = len(cols)
    if k < 2:
        return np.zeros(k, dtype=bool), np.ones(k)
    observed, boot, dof = _pairwise_t(cols, paired=paired, reps=reps, seed=seed)
    alive = np.ones(k, dtype=bool)
    pvalues = np.ones(k)
    running = 0.0
    while alive.sum() > 1:
        idx = np.flatnonzero(alive)
        worst = observed[np.ix_(idx, idx)].max(axis=1)  # each survivor against its best surviving rival
        out = idx[len(idx) - 1 - int(np.argmax(worst[::-1]))]  # ties: the later one goes, the best stays
        stat = float(worst.max())
        tmax = boot[:, idx[:, None], idx[None, :]].reshape(reps, -1).max(axis=1)
        step = max(float((tmax >= stat).mean()), float(2.0 * scipy.special.stdtr(dof, -stat)))  # Student-t floor
        running = max(running, min(step, 1.0))
        pvalues[out] = running
        alive[out] = False
    return pvalues <= alpha, pvalues


def compare_to_best(
    groups: Mapping[str, np.ndarray], *, paired: bool, alpha: float = 0.05, reps: int = 2000, seed: int = 0
) -> StudyComparison:
    """Which configurations are indistinguishable from the best: the model confidence set.

    "Compare each with the lowest sample mean" is itself a selection, and tests
    against it declare identical configurations worse too often; the model
    confidence set (:func:`best_set`) answers the question directly: it holds the
    truly best configuration(s) with probability at least ``1 - alpha``.

    The best is the configuration with the lowest mean over its finite runs (the
    first in input order on ties); choosing it is unchanged, only the set around
    it is computed here. Diverged runs (NaN or infinite) are left out: when
    paired, only the repeats finite in every compared configuration are used (a
    pair needs both halves); when not, each configuration's own finite runs
    (sample sizes may then differ). A configuration with fewer than 2 finite runs
    is not compared (``untestable``).

    Args:
      groups: label -> 1-D array of one loss (e.g. RMSE) per repeat, ordered by repeat.
      paired: whether repeat i of every configuration shares a seed.
      alpha: the set's level.
      reps: bootstrap replications.
      seed: the bootstrap's seed.

    Returns:
      A :class:`StudyComparison`.

    Raises:
      LstmtuneError (a ValueError): no configuration with a finite run, paired
        arrays of different lengths, or alpha outside (0, 1).
    """
    if not 0.0 < alpha < 1.0:
        raise LstmtuneError(f"alpha must be between 0 and 1, got {alpha}")
    arrays = {str(label): _as_1d(values) for label, values in groups.items()}
    if not arrays:
        raise LstmtuneError("no configurations to compare")
    if paired:
        lengths = {label: arr.size for label, arr in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise LstmtuneError(f"paired comparison needs the same number of repeats per configuration, got {lengths}")
    means = {label: (float(np.mean(f)) if (f := arr[np.isfinite(arr)]).size else np.inf) for label, arr in arrays.items()}
    best = min(means, key=means.__getitem__)  # first minimum in input order
    if not np.isfinite(means[best]):
        raise LstmtuneError("every run of every configuration is missing (NaN or infinite)")
    testable = [label for label, arr in arrays.items() if np.isfinite(arr).sum() >= 2]
    untestable = [label for label in arrays if label not in testable]
    if best in untestable:  # a single finite run cannot anchor a comparison
        testable, untestable = [], [label for label in arrays if label != best]
    if paired and testable:
        matrix = np.stack([arrays[label] for label in testable], axis=1)
        samples = list(matrix[np.isfinite(matrix).all(axis=1)].T)  # repeats finite in all
    else:
        samples = [arrays[label][np.isfinite(arrays[label])] for label in testable]
    if len(testable) >= 2 and min(s.size for s in samples) >= 2:
        excluded, pvalues = best_set(samples, paired=paired, alpha=alpha, reps=reps, seed=seed)
        p_of = dict(zip(testable, pvalues))
        in_of = dict(zip(testable, ~excluded))
    else:
        p_of = {label: 1.0 for label in testable}
        in_of = {label: True for label in testable}
        if len(testable) >= 2:  # fewer than 2 rows finite in all: nothing can be compared
            untestable += [label for label in testable if label != best]
            p_of = {best: 1.0}
            in_of = {best: True}
    comparisons, same, worse = [], [best], []
    for label in arrays:
        if label == best:
            continue
        testable_here = label in p_of
        p = float(p_of[label]) if testable_here else float("nan")
        inside = bool(testable_here and in_of[label])
        comparisons.append(
            Comparison(
                config=label,
                best=best,
                test="MCS",
                statistic=float("nan"),
                p_value=p,
                p_adjusted=p,
                indistinguishable=inside,
                mean_difference=float(means[label] - means[best]) if np.isfinite(means[label]) else float("nan"),
            )
        )
        if not testable_here:
            continue
        (same if inside else worse).append(label)
    return StudyComparison(
        best=best,
        alpha=alpha,
        comparisons=comparisons,
        indistinguishable=same,
        worse=worse,
        untestable=[label for label in untestable if label != best],
        best_mean=means[best],
        paired=paired,
    )


def skill(mean_rmse: float, baseline_rmse: float) -> float:
    """Percent improvement over a baseline (a skill score, Murphy 1988).

    Args:
      mean_rmse: the configuration's (mean) RMSE.
      baseline_rmse: the baseline's RMSE, e.g. persistence; must be positive.

    Returns:
      ``100 * (1 - mean_rmse / baseline_rmse)``: positive when better than the
      baseline, 0 when equal, negative when worse.
    """
    if not baseline_rmse > 0.0:
        raise LstmtuneError(f"baseline RMSE must be positive, got {baseline_rmse}")
    return 100.0 * (1.0 - float(mean_rmse) / float(baseline_rmse))


def stream_seed(seed: int, label: str) -> int:
    """The bootstrap seed of one configuration: its own stream, keyed by its label.

    One shared seed would give every configuration the same resample indices and
    correlate their intervals. Keying by the label (not the position) keeps a
    configuration's interval the same whatever else the table holds: adding,
    dropping or reordering configurations changes nobody else's numbers.

    Args:
      seed: the study's bootstrap seed (non-negative).
      label: the configuration's label.

    Returns:
      A 32-bit seed from ``numpy.random.SeedSequence([seed, blake2b(label)])``.
    """
    key = int.from_bytes(hashlib.blake2b(label.encode("utf-8"), digest_size=8).digest(), "little")
    return int(np.random.SeedSequence([seed, key]).generate_state(1)[0])


def summary_table(groups: Mapping[str, np.ndarray], *, baseline_rmse: float) -> pd.DataFrame:
    """One row of summary statistics per configuration.

    Args:
      groups: label -> 1-D array of final test RMSE, one per repeat.
      baseline_rmse: the baseline's RMSE that ``skill_%`` is measured against.

    Returns:
      A DataFrame indexed by ``config`` (input order) with the :func:`describe`
      columns (``count`` and ``n_missing`` as integers), the 95% intervals of the mean
      (:func:`mean_ci`: ``mean_ci_low``, ``mean_ci_high``) and the median (:func:`median_ci`:
      ``median_ci_low``, ``median_ci_high``), and ``skill_%`` of the mean against the baseline.
      The intervals are computed, not resampled: a configuration's do not depend on its label.
    """
    if not baseline_rmse > 0.0:
        raise LstmtuneError(f"baseline RMSE must be positive, got {baseline_rmse}")
    rows = []
    for label, values in groups.items():
        row = describe(values)
        row["mean_ci_low"], row["mean_ci_high"] = mean_ci(values)
        row["median_ci_low"], row["median_ci_high"] = median_ci(values)
        row["skill_%"] = skill(row["mean"], baseline_rmse)
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index([str(label) for label in groups], name="config"), columns=list(SUMMARY_COLUMNS))
    return table.astype({"count": np.int64, "n_missing": np.int64})
