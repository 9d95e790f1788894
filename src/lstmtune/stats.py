"""Summary statistics and comparisons of repeated runs, apart from any plotting.

A configuration trained with R different seeds gives R final test RMSEs. This
module describes such samples, puts bootstrap confidence intervals on their
mean and median, and asks which configurations cannot be told apart from the
best one:

* :func:`describe` is ``pandas.Series.describe`` on the finite runs, counting
  the diverged (non-finite) ones it dropped.
* :func:`bootstrap_ci` is the percentile bootstrap (Efron & Tibshirani 1993,
  ch. 13) via :func:`scipy.stats.bootstrap`.
* :func:`compare_to_best` tests every configuration against the one with the
  lowest mean: the Wilcoxon signed-rank test (Wilcoxon 1945) when runs are paired
  by seed, the Mann-Whitney U test (Mann & Whitney 1947) otherwise, with the
  p-values adjusted for multiple comparisons by :func:`holm` (Holm 1979).

Lower RMSE is better throughout. Nothing here plots or prints.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
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

_STATISTICS = {"mean": np.mean, "median": np.median}


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


def bootstrap_ci(
    values: np.ndarray,
    statistic: Literal["mean", "median"],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval for the mean or median.

    Uses :func:`scipy.stats.bootstrap` with ``method="percentile"`` (Efron &
    Tibshirani 1993, ch. 13): BCa fails on degenerate samples (all runs equal),
    which a converged configuration can produce. The resampling generator is
    ``np.random.default_rng(seed)``, so the result is deterministic for a seed.

    Args:
      values: 1-D array of results; non-finite values are dropped.
      statistic: ``"mean"`` or ``"median"``.
      confidence: the confidence level, in (0, 1).
      n_resamples: number of bootstrap resamples.
      seed: seed of the resampling generator.

    Returns:
      ``(low, high)``; ``(nan, nan)`` when fewer than 2 finite values remain.
    """
    if statistic not in _STATISTICS:
        raise LstmtuneError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    if not 0.0 < confidence < 1.0:
        raise LstmtuneError(f"confidence must be between 0 and 1, got {confidence}")
    finite = _finite(values)
    if finite.size < 2:
        return (float("nan"), float("nan"))
    result = scipy.stats.bootstrap(
        (finite,),
        _STATISTICS[statistic],
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return (float(ci.low), float(ci.high))


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
    """One configuration tested against the best.

    Attributes:
      config: label of the compared configuration.
      best: label of the best configuration.
      test: ``"wilcoxon"`` (paired by repeat) or ``"mannwhitney"``.
      statistic: the test statistic (NaN when untestable).
      p_value: the raw two-sided p-value (NaN when untestable).
      p_adjusted: Holm-adjusted across all comparisons of the study.
      indistinguishable: ``p_adjusted >= alpha`` (False when untestable).
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


_TEST_NAMES = {"wilcoxon": "Wilcoxon", "mannwhitney": "Mann-Whitney"}


def _format_p(p: float, relation: str = "=") -> str:
    """``p = 0.41``, ``p ≤ 0.003``, ``p < 0.001``: two significant digits."""
    if p < 0.001 and relation in ("=", "≤"):
        return "p < 0.001"
    return f"p {relation} {p:.2g}"


def _join(labels: Sequence[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


@dataclasses.dataclass(frozen=True)
class StudyComparison:
    """Every configuration of a study tested against the best one.

    Attributes:
      best: label of the configuration with the lowest mean.
      alpha: the family-wise significance level.
      best_mean: mean of the best configuration's finite runs.
      comparisons: one :class:`Comparison` per other configuration, input order.
      indistinguishable: the best, then the configurations not significantly
        different from it, in input order.
      worse: the configurations significantly different from the best (their
        mean is higher, since the best has the lowest mean), input order.
      untestable: configurations that could not be tested (fewer than 2 finite
        runs, or fewer than 2 repeats finite in both when paired), input order.
    """

    best: str
    alpha: float
    comparisons: list[Comparison]
    indistinguishable: list[str]
    worse: list[str]
    untestable: list[str] = dataclasses.field(default_factory=list)
    best_mean: float = float("nan")

    def sentence(self) -> str:
        """The comparison in plain words, e.g. for a report.

        Returns:
          One sentence such as ``"units=1 is best (mean 98.3); units=2 is
          indistinguishable from it (Wilcoxon p = 0.41, Holm-adjusted); units=3
          and units=4 are worse (Wilcoxon p ≤ 0.003, Holm-adjusted)."``
        """
        head = f"{self.best} is best (mean {self.best_mean:.4g})"
        if not self.comparisons:
            return f"{head}; it is the only configuration, so there is nothing to compare it with."
        by_label = {c.config: c for c in self.comparisons}
        test = _TEST_NAMES.get(self.comparisons[0].test, self.comparisons[0].test)
        parts = [head]
        same = self.indistinguishable[1:]
        if same:
            ps = [by_label[label].p_adjusted for label in same]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(min(ps), "≥")
            verb = "is" if len(same) == 1 else "are"
            parts.append(f"{_join(same)} {verb} indistinguishable from it ({test} {p_text}, Holm-adjusted)")
        if self.worse:
            ps = [by_label[label].p_adjusted for label in self.worse]
            p_text = _format_p(ps[0]) if len(ps) == 1 else _format_p(max(ps), "≤")
            verb = "is" if len(self.worse) == 1 else "are"
            prefix = "no other configuration is indistinguishable from it: " if not same else ""
            parts.append(f"{prefix}{_join(self.worse)} {verb} worse ({test} {p_text}, Holm-adjusted)")
        if self.untestable:
            verb = "was" if len(self.untestable) == 1 else "were"
            parts.append(f"{_join(self.untestable)} {verb} not tested (fewer than 2 finite runs)")
        return "; ".join(parts) + "."


def _wilcoxon(config: np.ndarray, best: np.ndarray) -> tuple[float, float]:
    both = np.isfinite(config) & np.isfinite(best)
    x, y = config[both], best[both]
    if x.size < 2:
        return (float("nan"), float("nan"))
    if np.all(x == y):
        # No non-zero difference: no evidence of any difference at all.
        return (0.0, 1.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = scipy.stats.wilcoxon(x, y, alternative="two-sided")
    except ValueError:  # older SciPy: "zero_method 'wilcox' ... all zero"
        return (0.0, 1.0)
    return (float(res.statistic), float(res.pvalue))


def _mannwhitney(config: np.ndarray, best: np.ndarray) -> tuple[float, float]:
    x, y = config[np.isfinite(config)], best[np.isfinite(best)]
    if x.size < 2 or y.size < 2:
        return (float("nan"), float("nan"))
    res = scipy.stats.mannwhitneyu(x, y, alternative="two-sided")
    return (float(res.statistic), float(res.pvalue))


def compare_to_best(groups: Mapping[str, np.ndarray], *, paired: bool, alpha: float = 0.05) -> StudyComparison:
    """Test every configuration against the one with the lowest mean RMSE.

    The best is the configuration with the lowest mean over its finite runs
    (the first such in input order on ties). Each other configuration is tested
    two-sided against it: with ``paired=True`` by the Wilcoxon signed-rank test
    (Wilcoxon 1945; :func:`scipy.stats.wilcoxon`) on the repeats finite in both,
    otherwise by the Mann-Whitney U test (Mann & Whitney 1947;
    :func:`scipy.stats.mannwhitneyu`) on the finite runs. The p-values are
    Holm-adjusted (:func:`holm`) over all comparisons. Identical paired samples
    (all differences zero) get p = 1.

    Args:
      groups: label -> 1-D array of final test RMSE, one per repeat, every
        array ordered by repeat index.
      paired: whether repeat i of every configuration shares a seed (or data
        split) so that runs can be compared pair by pair.
      alpha: the family-wise significance level.

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

    test = "wilcoxon" if paired else "mannwhitney"
    run_test = _wilcoxon if paired else _mannwhitney
    others = [label for label in arrays if label != best]
    raw = [run_test(arrays[label], arrays[best]) for label in others]
    adjusted = holm([p for _, p in raw])

    comparisons, same, worse, untestable = [], [best], [], []
    for label, (stat, p), p_adj in zip(others, raw, adjusted):
        testable = not np.isnan(p_adj)
        indistinguishable = bool(testable and p_adj >= alpha)
        comparisons.append(
            Comparison(
                config=label,
                best=best,
                test=test,
                statistic=stat,
                p_value=p,
                p_adjusted=float(p_adj),
                indistinguishable=indistinguishable,
                mean_difference=float(means[label] - means[best]) if np.isfinite(means[label]) else float("nan"),
            )
        )
        if not testable:
            untestable.append(label)
        elif indistinguishable:
            same.append(label)
        else:
            worse.append(label)
    return StudyComparison(
        best=best,
        alpha=alpha,
        comparisons=comparisons,
        indistinguishable=same,
        worse=worse,
        untestable=untestable,
        best_mean=means[best],
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


def summary_table(groups: Mapping[str, np.ndarray], *, baseline_rmse: float, seed: int = 0) -> pd.DataFrame:
    """One row of summary statistics per configuration.

    Args:
      groups: label -> 1-D array of final test RMSE, one per repeat.
      baseline_rmse: the baseline's RMSE that ``skill_%`` is measured against.
      seed: seed of the bootstrap resampling (see :func:`bootstrap_ci`).

    Returns:
      A DataFrame indexed by ``config`` (input order) with the :func:`describe`
      columns (``count`` and ``n_missing`` as integers), the 95% percentile
      bootstrap intervals ``mean_ci_low``, ``mean_ci_high``, ``median_ci_low``,
      ``median_ci_high``, and ``skill_%`` of the mean against the baseline.
    """
    if not baseline_rmse > 0.0:
        raise LstmtuneError(f"baseline RMSE must be positive, got {baseline_rmse}")
    rows = []
    for label, values in groups.items():
        row = describe(values)
        row["mean_ci_low"], row["mean_ci_high"] = bootstrap_ci(values, "mean", seed=seed)
        row["median_ci_low"], row["median_ci_high"] = bootstrap_ci(values, "median", seed=seed)
        row["skill_%"] = skill(row["mean"], baseline_rmse)
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index([str(label) for label in groups], name="config"), columns=list(SUMMARY_COLUMNS))
    return table.astype({"count": np.int64, "n_missing": np.int64})
