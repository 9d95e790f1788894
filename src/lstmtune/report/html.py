"""Render a study's figures and its self-contained HTML report (Jinja2, images inlined)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import jinja2
import numpy as np

from lstmtune.study.analysis import Analysis, combined_table
from lstmtune.study.evaluation import curves_persistence
from lstmtune.study.results import StudyResults, group_scores, runs_counted
from lstmtune.report import drawing, figures, pages


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "default"


def _slugs(texts) -> dict[str, str]:
    """Each text's file-name slug, unique among ``texts``: names that slug alike (``a<b`` and
    ``a>b``, ``small_units`` and ``Small-Units``) each get a digest of the name after it (they
    shared one figure, so one sub-study's section showed the other's: a probe)."""
    import hashlib

    texts = list(dict.fromkeys(texts))
    plain = {t: _slug(t) for t in texts}
    counts: dict[str, int] = {}
    for slug in plain.values():
        counts[slug] = counts.get(slug, 0) + 1
    return {t: s if counts[s] == 1 else f"{s}-{hashlib.sha256(t.encode()).hexdigest()[:8]}" for t, s in plain.items()}


KEYS = ".keys.json"
"""In ``plots/``: each figure's name -> the fingerprint of what it was drawn from."""


def _fingerprint(obj, h) -> None:
    """Feed everything a figure is drawn from into the hash ``h`` (arrays by their bytes)."""
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    elif isinstance(obj, Mapping):
        h.update(b"{")
        for k in obj:
            _fingerprint(k, h)
            _fingerprint(obj[k], h)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for x in obj:
            _fingerprint(x, h)
        h.update(b"]")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _fingerprint({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, h)
    else:
        h.update(repr(obj).encode())


class _Figures:
    """Draws figures into ``plots`` (all of them at :meth:`close`), or copies one unchanged from
    ``reuse`` (an earlier ``plots/`` whose figure of that name was drawn from the same data by
    this version)."""

    def __init__(self, plots: Path, reuse: Path | None):
        # The drawing code's own bytes: a changed figure function never reuses an old picture.
        self.plots, self.version, self.keys = plots, hashlib.sha256(Path(figures.__file__).read_bytes()).hexdigest(), {}
        self.jobs: list[drawing.Job] = []
        self.batch: drawing.Batch | None = None
        self.old = {}
        if reuse is not None and (reuse / KEYS).is_file():
            try:
                self.old = json.loads((reuse / KEYS).read_text())
            except (OSError, ValueError):
                self.old = {}
        self.reuse = reuse if reuse is not None and reuse.is_dir() and not reuse.is_symlink() else None

    def __call__(self, name: str, draw, *args, **kwargs) -> str:
        h = hashlib.sha256(f"{self.version}:{draw.__name__}".encode())
        _fingerprint([args, kwargs], h)
        key = h.hexdigest()
        self.keys[name] = key
        old = self.reuse / name if self.reuse is not None else None
        if old is not None and self.old.get(name) == key and old.is_file() and not old.is_symlink():
            try:
                shutil.copyfile(old, self.plots / name)
                return name
            except OSError:  # another process sharing the run directory replaced plots/ meanwhile
                pass
        # Drawn by the drawing helpers where there are some (lstmtune.report.drawing): from
        # send() on as they come, else at close().
        job = drawing.Job(draw, args, self.plots / name, kwargs)
        if self.batch is not None:
            self.batch.add([job])
        else:
            self.jobs = [j for j in self.jobs if j.path != job.path]  # the same file named twice: the last one, as drawn in order
            self.jobs.append(job)
        return name

    def send(self) -> None:
        """Start drawing the figures asked for so far; later ones follow them."""
        self.batch, self.jobs = drawing.start(self.jobs), []

    def cancel(self) -> None:
        if self.batch is not None:
            self.batch.cancel()

    def close(self) -> None:
        if self.batch is None:
            self.send()
        self.batch.wait()
        (self.plots / KEYS).write_text(json.dumps(self.keys, indent=0, sort_keys=True))


class StartedFigures:
    """A report's figures being drawn (:func:`start_figures`); :meth:`finish` adds the test
    period's and returns once every figure is drawn."""

    def __init__(self, draw: _Figures, out: dict, positional: bool, horizon: int = 1):
        self._draw, self._out, self._positional, self._horizon = draw, out, positional, horizon

    def finish(self, test_paths=None) -> dict:
        """Draw the test period's forecasts (:mod:`lstmtune.forecast.testpaths`; None: no such
        figure), wait for every figure, and return their descriptions for the report."""
        if test_paths is not None:
            t = test_paths
            self._out["test_paths"] = self._draw("test_forecasts.png", figures.test_forecasts, t.history_dates, t.history_values, t.dates, t.actual,
                                                 t.one_step, t.multi_step, label=t.label, positional=self._positional, horizon=self._horizon)
        self._draw.close()
        return self._out

    def cancel(self) -> None:
        """No report after all (an error): draw nothing more."""
        self._draw.cancel()


def start_figures(results: StudyResults, analysis: Analysis, plots: Path, reuse: Path | None = None) -> StartedFigures:
    """Start drawing every figure but the test period's into ``plots`` (with the drawing
    helpers, while this process goes on: writing the tables, computing the test period's
    forecasts). ``reuse``: an earlier ``plots/`` folder; figures drawn there from the same data
    are copied instead of drawn again (a report redrawn from unchanged results draws nothing)."""
    plots.mkdir(parents=True, exist_ok=True)
    draw = _Figures(plots, reuse)
    persistence = analysis.persistence_rmse
    one_step = curves_persistence(results.spec, results.series)
    s = results.series
    draw("series.png", figures.series_plot, s.axis, s.values, title=f"{s.name} ({s.value_name})", test_size=results.spec.data.test_size)
    out = {"series": "series.png", "substudies": {}, "test_paths": None}
    names = _slugs(sub.name for sub in analysis.substudies)
    for sub in analysis.substudies:
        name = names[sub.name]
        entry = {"box": f"box_{name}.png", "median": None, "diagnostics": []}
        groups = group_scores(results, sub.name)
        points = [p for p in results.points if p.study == sub.name]
        facets, xlabel = _facets(points, sub.varied)
        draw(entry["box"], figures.box_plot, groups, title=f"{sub.name}: final {metric_name(analysis)}", xlabel=xlabel, baseline=persistence, facets=facets)
        # One diagnostic figure per family (configurations that differ only in epochs are
        # checkpoints of one run): the longest, the shorter ones marked on it.
        families: dict[str, list] = {}
        for p in points:
            if p.config.key in results.curves:
                families.setdefault(p.config.family, []).append(p)
        curves = {}
        labels = _slugs(max(members, key=lambda m: m.config.epochs).label for members in families.values())
        for members in families.values():
            p = max(members, key=lambda m: m.config.epochs)
            c = results.curves[p.config.key]
            curves[p.label] = c
            marks = sorted(m.config.epochs for m in members if m.config.epochs < p.config.epochs)
            label = p.label if not marks else f"{p.label} (checkpoints {', '.join(map(str, marks))})"
            lines = f"diag_{name}_{labels[p.label]}.png"
            band = f"band_{name}_{labels[p.label]}.png"
            draw(lines, figures.diagnostic_lines, c, title=f"{p.label}: {c.shape[0]} repeats", baseline=one_step, checkpoints=marks, holdout=holdout_name(analysis))
            draw(band, figures.diagnostic_band, c, title=f"{p.label}: median and IQR", baseline=one_step, checkpoints=marks, holdout=holdout_name(analysis))
            entry["diagnostics"].append({"label": label, "lines": lines, "band": band})
        if curves:
            entry["median"] = f"median_{name}.png"
            draw(entry["median"], figures.median_curves, curves, title=f"{sub.name}: median {metric_name(analysis)} by epoch", baseline=one_step)
        out["substudies"][sub.name] = entry
    draw.send()
    return StartedFigures(draw, out, results.series.positional, results.spec.evaluation.horizon)


def _facets(points, varied: list[str]) -> tuple[list | None, str]:
    """Panels for a sub-study varying several parameters: one per value of the first,
    short tick labels naming the others' values. ``(None, names)`` for one parameter."""
    if len(varied) < 2:
        return None, ", ".join(varied) or "config"
    outer, inner = varied[0], varied[1:]
    panels: dict[str, list[tuple[str, str]]] = {}
    for p in points:
        short = "/".join(str(p.varied.get(k, "")) for k in inner)
        panels.setdefault(f"{outer}={p.varied.get(outer)}", []).append((p.label, short))
    return list(panels.items()), " / ".join(inner) + f" (panels: {outer})"


def holdout_name(analysis: Analysis) -> str:
    """The holdout the configurations are selected on, which their curves score."""
    return "validation" if analysis.honest else "test"


def metric_name(analysis: Analysis) -> str:
    """The selection metric in words."""
    return f"{holdout_name(analysis)} RMSE"


def selection_name(spec) -> str:
    ev = spec.evaluation
    if ev.selection == "backtest":
        v = ev.validation_size or spec.data.test_size
        words = f"backtests ({ev.folds} rolling origins of {v} observation{'s' if v != 1 else ''} before the test set)"
    elif ev.selection == "validation":
        v = ev.validation_size or spec.data.test_size
        words = f"validation (the {v} observations before the test set)" if v != 1 else "validation (the observation before the test set)"
    else:
        words = "the test set"
    if ev.horizon > 1:
        words += f", every score (baselines' too) on {ev.horizon}-step forecasts from each origin with {ev.horizon} observations after it; the per-epoch curves stay one-step"
    return words


def _test_rows(analysis: Analysis, sub) -> list[dict]:
    table = analysis.test_tables.get(sub.name)
    if table is None:
        return []
    return [
        {
            "label": label,
            "selected": label == sub.best_label,
            "count": int(r["count"]),
            "mean": r["mean"],
            "mean_ci": (r["mean_ci_low"], r["mean_ci_high"]),
            "std": r["std"],
            "median": r["50%"],
            "skill": r["skill_%"],
        }
        for label, r in table.iterrows()
    ]


number = pages.number
_inline = pages.inline


def render(
    results: StudyResults, analysis: Analysis, directory: Path, *, wall_s: float | None = None, extra: dict | None = None, test_paths=None,
    reuse: Path | None = None, started: StartedFigures | None = None, environment: dict | None = None,
) -> Path:
    """Draw the figures into ``directory/plots`` and write ``directory/report.html``.

    ``environment``: the one the run recorded (``environment.json``), for a report redrawn
    later; None: this process's.

    ``test_paths``: the selected configuration's forecasts of the test period
    (:mod:`lstmtune.forecast.testpaths`), drawn against the actual values; None leaves the figure out.
    ``reuse``: an earlier ``plots/`` folder whose unchanged figures are copied (see :func:`start_figures`).
    ``started``: the figures :func:`start_figures` is already drawing into ``directory/plots``.
    """
    from lstmtune.study import results_io

    directory = Path(directory)
    plots = directory / "plots"
    figs = (started or start_figures(results, analysis, plots, reuse)).finish(test_paths)
    env = pages.environment()
    template = env.get_template("report.html")
    table = combined_table(analysis)
    study_name, best_label, best_mean = analysis.best_overall()
    subs = []
    for sub in analysis.substudies:
        f = figs["substudies"][sub.name]
        subs.append(
            {
                "name": sub.name,
                "varied": sub.varied,
                "paired": sub.paired,
                "sentence": sub.comparison.sentence(),
                "groups": sub.comparison.groups(),
                "n_labels": len(sub.table),
                "best_label": sub.comparison.best,
                "best_mean": sub.comparison.best_mean,
                "rows": _table_rows(sub),
                "test_rows": _test_rows(analysis, sub),
                "box": _inline(plots, f["box"]),
                "median": _inline(plots, f["median"]),
                "diagnostics": [
                    {"label": d["label"], "lines": _inline(plots, d["lines"]), "band": _inline(plots, d["band"])} for d in f["diagnostics"]
                ],
            }
        )
    html = template.render(
        spec=results.spec,
        spec_toml=_spec_toml(results),
        series=results.series,
        n=len(results.series),
        start="position 0" if results.series.positional else str(np.datetime_as_string(results.series.dates[0], unit="D")),
        end=f"position {len(results.series) - 1}" if results.series.positional else str(np.datetime_as_string(results.series.dates[-1], unit="D")),
        counts=results.counts,
        baselines=results.baselines,
        series_png=_inline(plots, figs["series"]),
        test_paths=test_paths,
        test_paths_png=_inline(plots, figs["test_paths"]),
        substudies=subs,
        best={"study": study_name, "label": best_label, "mean": best_mean},
        persistence=analysis.persistence_rmse,
        honest=analysis.honest,
        selection_name=selection_name(results.spec),
        metric_name=metric_name(analysis),
        tests=analysis.tests,
        test_tables=analysis.test_tables,
        test_persistence=analysis.test_persistence_rmse,
        best_baseline=analysis.best_baseline,
        best_baseline_on=analysis.best_baseline_on,
        runs_said=runs_counted(results)[1],  # every phase's, as the command says them ("16 runs of 5 configurations" said the selection's alone, a shared one twice: a probe)
        n_diverged=int(results.runs["diverged"].sum()),
        timings=results.timings,
        wall_s=wall_s,
        environment=environment or results_io.environment(),
        extra=extra or {},
        n_configs=int(results.runs["config"].nunique()) if "config" in results.runs else len(table),
        scale=analysis.persistence_rmse,
    )
    path = directory / "report.html"
    path.write_text(html)
    return path


_ALL_DIVERGED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lstmtune report: {{ spec.name }}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto">
<h1>lstmtune report: {{ spec.name }}</h1>
<p><b>Every run diverged</b>: all {{ n }} runs ended with NaN or infinite losses or weights (first
divergence at epoch {{ first }}), so there is nothing to compare. Lower the learning rate, or check the
data's scale and the loss settings. Per-run results (with the epoch each diverged) are in results.csv.</p>
<h2>Study specification</h2><pre>{{ spec_toml }}</pre></body></html>
"""


def render_all_diverged(results: StudyResults, directory: Path) -> Path:
    """The report of a study whose every run diverged: what happened, nothing to compare."""
    epochs = results.runs["diverged_epoch"].dropna()
    html = jinja2.Environment(autoescape=True).from_string(_ALL_DIVERGED).render(
        spec=results.spec, n=len(results.runs), first=int(epochs.min()) if len(epochs) else "?", spec_toml=_spec_toml(results)
    )
    path = Path(directory) / "report.html"
    path.write_text(html)
    return path


def _spec_toml(results: StudyResults) -> str:
    from lstmtune.study.spec import dumps

    return dumps(results.spec)


def _table_rows(sub) -> list[dict]:
    rows = []
    comps = {c.config: c for c in sub.comparison.comparisons}
    for label, r in sub.table.iterrows():
        c = comps.get(label)
        rows.append(
            {
                "label": label,
                "best": label == sub.best_label,
                "same": label in sub.comparison.indistinguishable,
                "count": int(r["count"]),
                "mean": r["mean"],
                "std": r["std"],
                "min": r["min"],
                "q25": r["25%"],
                "median": r["50%"],
                "q75": r["75%"],
                "max": r["max"],
                "mean_ci": (r["mean_ci_low"], r["mean_ci_high"]),
                "median_ci": (r["median_ci_low"], r["median_ci_high"]),
                "skill": r["skill_%"],
                "p": None if c is None else c.p_adjusted,
                "missing": int(r["n_missing"]),
            }
        )
    return rows
