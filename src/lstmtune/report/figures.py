"""Matplotlib figures. Each function takes computed data and a path, draws, saves a PNG.

Statistics are computed elsewhere (:mod:`lstmtune.selection.stats`); nothing here computes
more than what it draws.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lstmtune.selection.quantiles import column_percentiles
from lstmtune.report import pages
from lstmtune.store.fileio import atomic_path

TRAIN_COLOR = "tab:blue"
TEST_COLOR = "tab:orange"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    # Text is drawn as written: a '$' in a file's or column's name ("d$x^$.csv", a currency
    # column) was parsed as a formula, and the parser's error ended `run` after its training,
    # with no outputs written (a probe). No figure here uses mathtext (no log axes; tick
    # formatters' offsets are plain text by default).
    matplotlib.rcParams["text.parse_math"] = False
    from matplotlib import pyplot

    return pyplot


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


DPI = 110
PAD_INCHES = 0.1  # savefig's pad around the drawn content


def _concise_dates(fig) -> None:
    """Date axes labelled by :class:`matplotlib.dates.ConciseDateFormatter` (years once, then
    months or days): matplotlib's default labels every tick in full, and on 30 monthly points
    they ran together ("2000-012000-04...", a probe)."""
    from matplotlib import dates

    for ax in fig.axes:
        if isinstance(ax.xaxis.get_major_formatter(), dates.AutoDateFormatter):
            ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def _save(fig, path: Path) -> None:
    _concise_dates(fig)
    with atomic_path(Path(path)) as tmp, warnings.catch_warnings():
        # A name in a script the font lacks (CJK, say) is drawn as boxes; matplotlib's warning
        # about each glyph would reach a user's terminal through a quiet command.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        _write_tight_png(fig, tmp)
    _pyplot().close(fig)


def _sanitize(fig) -> bool:
    """Control characters in the figure's text (names and labels are users' text) replaced by
    ``?``, in tick labels too (their formatter wrapped); whether any was. Called after a
    drawing, which has labelled the ticks."""
    from matplotlib.text import Text
    from matplotlib.ticker import FuncFormatter

    changed = False
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if any(_CONTROL.search(t.label1.get_text()) for t in axis.majorTicks):
                names = axis.get_major_formatter()
                axis.set_major_formatter(FuncFormatter(lambda x, pos, names=names: _CONTROL.sub("?", str(names(x, pos)))))
                changed = True
    for text in fig.findobj(Text):
        if _CONTROL.search(text.get_text()):
            text.set_text(_CONTROL.sub("?", text.get_text()))
            changed = True
    return changed


def _write_tight_png(fig, path: Path) -> None:
    """The figure as a PNG cropped to what it draws plus :data:`PAD_INCHES`, as
    ``savefig(bbox_inches="tight")`` writes it, from one drawing instead of its two.

    savefig's tight box draws the figure once to measure it, then again to save it; here the
    figure is drawn once at full size and that image cropped (where the content reaches past
    the figure's edges, a legend placed outside it say, savefig does it). The pixels match
    savefig's to within antialiasing (its crop is shifted by a fraction of a pixel); about a
    third less drawing time (benchmarks/RESULTS.md, nineteenth session). Text is sanitized
    (:func:`_sanitize`) after the drawing, which has made the axes' ticks (before it, looking
    for text made them, a fifth of the time), and drawn again where that changed anything.
    zlib level 1 instead of Pillow's 6: the PNG encoding about 4x faster, the files about 2%
    larger (seventh session).
    """
    import numpy as np
    from matplotlib import colors, image

    png = {"format": "png", "pil_kwargs": {"compress_level": 1}}
    canvas = fig.canvas  # Agg's (every figure here is made through _pyplot)
    fig.set_dpi(DPI)
    canvas.draw()
    if _sanitize(fig):
        canvas.draw()
    content = fig.get_tightbbox(canvas.get_renderer())
    width, height = canvas.get_width_height(physical=True)
    if content.x0 < 0 or content.y0 < 0 or content.x1 * DPI > width or content.y1 * DPI > height:
        fig.savefig(path, dpi=DPI, bbox_inches="tight", **png)
        return
    box = content.padded(PAD_INCHES)  # inches, from the bottom left; the pad may pass the edges
    x0, y0 = round(box.x0 * DPI), round(box.y0 * DPI)
    x1, y1 = x0 + int(box.width * DPI), y0 + int(box.height * DPI)
    drawn = np.asarray(canvas.buffer_rgba())  # rows from the top
    out = np.empty((y1 - y0, x1 - x0, 4), np.uint8)
    out[...] = np.round(np.asarray(colors.to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
    cx0, cx1, cy0, cy1 = max(x0, 0), min(x1, width), max(y0, 0), min(y1, height)
    out[y1 - cy1:y1 - cy0, cx0 - x0:cx1 - x0] = drawn[height - cy1:height - cy0, cx0:cx1]
    image.imsave(path, out, dpi=DPI, **png)


def series_plot(dates: np.ndarray, values: np.ndarray, path: Path, *, title: str, test_size: int | None = None) -> None:
    """Line plot of a series; the test part shaded when ``test_size`` is given."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(dates, values, color="black", lw=1.4, marker="o", ms=3)
    if test_size:
        ax.axvspan(dates[-test_size], dates[-1], color=TEST_COLOR, alpha=0.12, label=f"test ({test_size})")
        ax.legend(loc="upper left", frameon=False)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _save(fig, path)


def forecast_plot(history_dates, history_values, dates, mean, bands: Mapping[int, tuple[np.ndarray, np.ndarray]], path: Path, *, title: str, label: str) -> None:
    """A series' recent history and its forecast: the mean line and the interval bands
    (``level -> (lower, upper)``, widest drawn lightest)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(history_dates, history_values, color="black", lw=1.2, label="history")
    for i, (level, (lo, hi)) in enumerate(sorted(bands.items(), reverse=True)):
        ax.fill_between(dates, lo, hi, color=TEST_COLOR, alpha=0.15 + 0.15 * i, lw=0, label=f"{level}% interval")
    ax.plot(dates, mean, color=TEST_COLOR, lw=1.6, label=label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    _save(fig, path)


def test_forecasts(history_dates, history_values, dates, actual, one_step, multi_step, path: Path, *, label: str, positional: bool = False,
                   horizon: int = 1) -> None:
    """History, the test's actual values, and the selected configuration's one-step and
    multi-step forecasts over the repeats (median line, 10-90% band across repeats).

    Args: the fields of a :class:`lstmtune.forecast.testpaths.TestPaths` (its arrays, so that
    a drawing helper receives them without the forecaster), ``label`` its configuration's,
    ``horizon`` the steps the test RMSE scored (the one-step forecasts are "as scored" at 1 only:
    a probe found them so labelled at 3).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    hist_x = np.arange(len(history_values)) if positional else history_dates
    x = np.arange(len(history_values), len(history_values) + len(actual)) if positional else dates
    ax.plot(hist_x, history_values, color="black", lw=1.2, marker="o", ms=2.5, label="observed")
    ax.plot(x, actual, color="black", lw=1.4, marker="o", ms=3.5)
    for name, values, color, style in (
        ("one-step walk-forward (as scored)" if horizon == 1 else f"one-step walk-forward (the test RMSE scored {horizon}-step forecasts)", one_step, TEST_COLOR, "-"),
        ("multi-step from the test's start", multi_step, "tab:purple", "--"),
    ):
        lo, mid, hi = np.percentile(values, [10, 50, 90], axis=0)
        ax.plot(x, mid, color=color, lw=1.6, ls=style, label=f"{name}: median of {len(values)} repeats")
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)
    ax.axvspan(x[0], x[-1], color=TEST_COLOR, alpha=0.06)
    ax.set_title(f"{label}: forecasts of the test period (bands: 10-90% over repeats)", fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


def diagnostic_lines(curves: np.ndarray, path: Path, *, title: str, baseline: float | None = None, checkpoints: Sequence[int] = (),
                     holdout: str = "test") -> None:
    """One train line (blue) and one line of the holdout scored (orange) per repeat.

    Args:
      curves: shape ``(repeats, epochs, 2)``: train and holdout RMSE after each epoch.
      holdout: what the second column scores: ``"test"``, or ``"validation"`` where the
        configurations are selected on it.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, curves.shape[1] + 1)
    for r in range(curves.shape[0]):
        ax.plot(epochs, curves[r, :, 0], color=TRAIN_COLOR, lw=0.8, alpha=0.8, label="train" if r == 0 else None)
        ax.plot(epochs, curves[r, :, 1], color=TEST_COLOR, lw=0.8, alpha=0.8, label=holdout if r == 0 else None)
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {pages.short(baseline)}")
    _finish_curve_axes(ax, title, curves, checkpoints)
    _save(fig, path)


def diagnostic_band(curves: np.ndarray, path: Path, *, title: str, baseline: float | None = None, checkpoints: Sequence[int] = (),
                    holdout: str = "test") -> None:
    """Median across repeats with the interquartile band, train and the holdout scored (``holdout``
    names it: ``"test"``, or a search's ``"validation"``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, curves.shape[1] + 1)
    for k, (name, color) in enumerate((("train", TRAIN_COLOR), (holdout, TEST_COLOR))):
        q25, q50, q75 = column_percentiles(curves[:, :, k], [25, 50, 75])  # epochs after every repeat diverged: NaN, gaps
        ax.fill_between(epochs, q25, q75, color=color, alpha=0.25, lw=0)
        ax.plot(epochs, q50, color=color, lw=1.5, label=f"{name} median (IQR band)")
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {pages.short(baseline)}")
    _finish_curve_axes(ax, title, curves, checkpoints)
    _save(fig, path)


def _finish_curve_axes(ax, title: str, curves: np.ndarray, checkpoints: Sequence[int] = ()) -> None:
    for k, e in enumerate(checkpoints):  # the epoch counts this run is also read at (shorter configurations)
        ax.axvline(e, color="black", ls=":", lw=0.9, alpha=0.6, label="checkpoints" if k == 0 else None)
    finite = curves[np.isfinite(curves)]
    if finite.size:
        # Early epochs can be huge; keep the informative range in view.
        hi = np.percentile(finite, 99)
        ax.set_ylim(max(0.0, finite.min() * 0.9), hi * 1.1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("RMSE (original units)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", frameon=False, fontsize=8)


def box_plot(
    groups: Mapping[str, Sequence[float]], path: Path, *, title: str, xlabel: str, baseline: float | None = None, rotate: bool = False,
    facets: Sequence[tuple[str, Sequence[tuple[str, str]]]] | None = None,
) -> None:
    """Box plot of the final score per configuration, persistence drawn as a line.

    Args:
      groups: label -> scores.
      facets: panels when a sub-study varies several parameters: ``(panel title,
        [(label, short tick label), ...])``, e.g. one panel per value of the first
        parameter, ticks naming the others' values (``xlabel`` names them). None:
        one panel, ticks the labels (horizontal boxes when they are many or long).
    """
    plt = _pyplot()
    data = {k: np.asarray(v, dtype=float)[np.isfinite(v)] for k, v in groups.items()}
    props = {"medianprops": {"color": "tab:green", "lw": 1.5}}
    if facets:
        widths = [max(1, len(members)) for _, members in facets]
        fig, axes = plt.subplots(1, len(facets), figsize=(min(16, 2.2 + 0.75 * sum(widths) + 0.6 * len(facets)), 4.2), sharey=True,
                                 gridspec_kw={"width_ratios": widths}, squeeze=False)
        for ax, (panel, members) in zip(axes[0], facets):
            ax.boxplot([data[label] for label, _ in members], tick_labels=[short for _, short in members], **props)
            ax.set_title(panel, fontsize=9)
            ax.tick_params(axis="x", labelsize=8, labelrotation=30 if max((len(t) for _, t in members), default=0) > 6 else 0)
            ax.grid(alpha=0.3, axis="y")
            if baseline is not None:
                ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {baseline:.3g}")
        axes[0][0].set_ylabel(_score_label(title))
        fig.supxlabel(xlabel, fontsize=9)
        fig.suptitle(title, fontsize=10)
        if baseline is not None:
            bottom, top = axes[0][0].get_ylim()
            axes[0][0].set_ylim(bottom, max(top, baseline * 1.06))
            axes[0][-1].legend(loc="best", frameon=True, framealpha=0.9, fontsize=7)
        _save(fig, path)
        return
    labels = list(groups)
    horizontal = len(labels) > 8 or max((len(x) for x in labels), default=0) > 14
    if horizontal:
        fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.32 * len(labels)))
        ax.boxplot([data[k] for k in labels][::-1], tick_labels=labels[::-1], orientation="horizontal", **props)
        ax.tick_params(axis="y", labelsize=8)
        if baseline is not None:
            ax.axvline(baseline, color="grey", ls="--", lw=1, label=f"persistence {baseline:.3g}")
            ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize=8)
        ax.set_xlabel(_score_label(title))
        ax.grid(alpha=0.3, axis="x")
    else:
        fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(labels) + 2), 4 + (1.5 if rotate else 0)))
        ax.boxplot([data[k] for k in labels], tick_labels=labels, **props)
        if rotate:
            ax.tick_params(axis="x", labelrotation=25, labelsize=7)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        if baseline is not None:
            ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {pages.short(baseline)}")
            bottom, top = ax.get_ylim()
            ax.set_ylim(bottom, max(top, baseline * 1.06))  # keep the baseline and its label in view
            ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(_score_label(title))
        ax.grid(alpha=0.3, axis="y")
    ax.set_title(title)
    _save(fig, path)


def _score_label(title: str) -> str:
    """The score a box plot's title names, for its axis ("units: final validation RMSE" ->
    "validation RMSE"; a study selecting on validation scores is not labelled "test")."""
    return title.split(": ")[-1].replace("final ", "").removesuffix(" over repeats") if ": " in title else "score"


def median_curves(curves: Mapping[str, np.ndarray], path: Path, *, title: str, baseline: float | None = None) -> None:
    """Median holdout RMSE per epoch (the holdout the title names), one line per configuration.

    Args:
      curves: label -> array ``(repeats, epochs, 2)``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis", max(2, len(curves)))
    all_medians = []
    for i, (label, c) in enumerate(curves.items()):
        with warnings.catch_warnings():  # epochs after every repeat diverged are all-NaN: drawn as gaps
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(c[:, :, 1], axis=0)
        all_medians.append(med)
        ax.plot(np.arange(1, len(med) + 1), med, color=cmap(i), lw=1.4, label=label)
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {pages.short(baseline)}")
    if all_medians:
        stacked = np.concatenate(all_medians)
        finite = stacked[np.isfinite(stacked)]
        if finite.size:
            ax.set_ylim(max(0.0, finite.min() * 0.9), np.percentile(finite, 99) * 1.1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("median RMSE (original units)")  # of the holdout the title names (validation or test)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    _save(fig, path)


def search_history(numbers: np.ndarray, values: np.ndarray, path: Path, *, baseline: float | None = None, metric: str = "test RMSE") -> None:
    """Objective of each finished trial (a statistic of ``metric`` over its repeats), and the best so far."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    order = np.argsort(numbers)
    numbers, values = np.asarray(numbers)[order], np.asarray(values, dtype=float)[order]
    ax.scatter(numbers, values, s=14, color="tab:blue", label="trial")
    if len(values):
        ax.step(numbers, np.minimum.accumulate(values), where="post", color="tab:red", lw=1.5, label="best so far")
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label=f"persistence {pages.short(baseline)}")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"objective ({metric} statistic)")
    ax.set_title("optimisation history")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize=8)  # not over the last trials, where the best often is
    _save(fig, path)


def importance_bars(importances: Mapping[str, float], path: Path) -> None:
    """Horizontal bars of parameter importances (Optuna's fANOVA), largest on top."""
    plt = _pyplot()
    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.5))
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance")
    ax.set_title("parameter importances")
    ax.grid(alpha=0.3, axis="x")
    _save(fig, path)
