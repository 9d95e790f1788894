"""A study on every series of a panel (``lstmtune run --data PANEL.csv``).

Each series runs the study in its own run directory, ``OUT/series/<folder>/`` (its store,
report and resume as any study's: an interrupted panel resumes series by series, and a
finished series is not recomputed), and selects its own configuration. The panel's tables,
written together at ``OUT``:

- ``panel_summary.csv``: per series, the configuration selected, its selection score and
  skill against persistence, its test score (scored once), or why the series failed;
- ``panel_configs.csv``: per configuration, the series that selected it (*wins*) and its
  *pooled* score, the mean over series of its selection score divided by that series'
  persistence on the same points (a scale-free error: 1 is persistence), with how many
  series it was scored on. The configuration of lowest pooled score is the one to fit to
  every series; the one that wins most often is named beside it;
- ``results.csv`` (every series' ``summary.csv`` with a ``unique_id`` column) and
  ``index.html`` (the tables, linking each series' report).

One series that cannot run (too short for the study, say) is named and the others still run.
Series run one after another: the tutorial's stateful networks carry state across
minibatches, which cannot be padded, so series are not stacked in one population here
(``lstmtune auto`` stacks its stateless candidates).
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data.messages import day
from lstmtune.errors import LstmtuneError

OUTPUTS = ("panel_summary.csv", "panel_configs.csv", "results.csv", "index.html")


@dataclasses.dataclass(frozen=True)
class PanelOutcome:
    directory: Path
    summary: pd.DataFrame  # one row per series
    configs: pd.DataFrame  # one row per configuration
    failures: dict  # unique_id -> why
    notices: dict = dataclasses.field(default_factory=dict)  # unique_id -> what its study said (gaps in its dates, data changed since a rerun's runs)
    removed: list = dataclasses.field(default_factory=list)  # folders of an earlier run's series not run now (no longer in the panel, or failing now)

    @property
    def pooled(self) -> str | None:
        return None if self.configs.empty else str(self.configs.iloc[0]["config"])

    @property
    def most_wins(self) -> str | None:
        if self.configs.empty:
            return None
        return str(self.configs.sort_values(["wins", "pooled_scaled_error"], ascending=[False, True]).iloc[0]["config"])

    @property
    def wins_said(self) -> str:
        """The configuration selected most often, in words: a tie for the most is said (it named
        one of two configurations selected once each as "selected most often": a probe)."""
        if self.configs.empty:
            return ""
        top = self.configs["wins"].max()
        tied = int((self.configs["wins"] == top).sum())
        return self.most_wins if tied == 1 else f"{self.most_wins} (tied with {tied - 1} other{'s' if tied > 2 else ''} at {int(top)} series; the lower pooled error)"


PANEL_FOLDERS = ("plots", "series", "data")
"""The folders a panel's run directory writes into (its series' run directories, a search's copies of their data)."""


def _read_table(path: Path, columns, **read) -> pd.DataFrame:
    """One of the panel's tables as written, or one line saying it is not (damaged since)."""
    try:
        table = pd.read_csv(path, **read)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise LstmtuneError(f"{path}: not the table `lstmtune run --data` writes ({type(err).__name__}); run the panel study again") from None
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        raise LstmtuneError(f"{path}: not the table `lstmtune run --data` writes (no column {lacking[0]!r}); run the panel study again")
    return table


def folder_name(uid: str) -> str:
    """A file-system-safe folder for a series (its name, cleaned, and a digest: unique)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", str(uid)).strip("._")[:40] or "series"
    return f"{clean}-{hashlib.sha256(str(uid).encode()).hexdigest()[:8]}"


def _series_key(panel_key: str, where: Path, series) -> str:
    """A panel series' stamp key (:mod:`lstmtune.workflow.finished`): the panel's (its study,
    lstmtune's files, the libraries' versions), the series' folder's name (not where the panel's
    run directory lies: moved, it still replays) and its data as trained on.
    A finished panel's rerun rewrote every series' outputs (a probe: 4-6 s for 4 series)."""
    import hashlib

    from lstmtune.study import identity

    return hashlib.sha256(f"{panel_key}|{Path(where).name}|{identity.data_hash(series)}".encode()).hexdigest()


def _series(uid: str, frame: pd.DataFrame):
    from lstmtune.data.sources import load_series

    s = pd.Series(frame["y"].to_numpy(dtype=float), index=pd.DatetimeIndex(frame["ds"]), name=str(uid))
    return load_series(s)


def _each_series(panel: pd.DataFrame, out: Path, work, on_series=None, missing: str = "error", test_size: int = 0, filled: dict | None = None) -> tuple[list[dict], dict]:
    """Call ``work(uid, frame, where)`` for every series of ``panel`` (``where``: its run
    directory); ``work`` returns the series' row of ``panel_summary.csv``. A series that
    cannot run (``LstmtuneError``) is named in its row and in the failures; the others still run.
    ``filled``: given, ``unique_id -> note`` of the missing values interpolated or dropped, as a
    single file's notes say them (said by no one before: a probe).

    Returns:
      ``(rows, failures)``: one row per series, and ``unique_id -> why`` for those that failed.
    """
    from lstmtune.data import panel as panel_mod
    from lstmtune.engine import aot

    unreadable = panel_mod.unreadable(panel)  # series with a cell that does not parse (panel_mod.read): named, not run
    first_missing = panel_mod.first_missing_lines(panel)
    frames = list(panel_mod.series_frames(panel))
    if not frames:
        raise LstmtuneError("the panel has no series")
    rows, failures = [], {}
    for k, (uid, frame) in enumerate(frames):
        if on_series is not None:
            on_series(uid, k, len(frames))
        where = out / "series" / folder_name(uid)
        aot.release_if_crowded()  # many series of many shapes: free the compiled programs first
        try:
            if uid in unreadable:
                raise LstmtuneError(unreadable[uid])
            absent = np.isnan(frame["y"].to_numpy(dtype=np.float64))
            if absent.any():  # the study's [data] missing, as a single series' file has it applied
                n = int(absent.sum())
                first = first_missing.get(uid) or day(frame["ds"].to_numpy()[np.flatnonzero(absent)[0]])  # a file's line, else the date
                if missing not in ("interpolate", "drop"):
                    raise LstmtuneError(f"{n} missing value{'s, the first' if n > 1 else ''} at {first} "
                                        "(fill or drop them first, or set the study's [data] missing to interpolate or drop)")
                # the test split filled apart: no selection reads a test observation
                frame = panel_mod.interpolate(frame, apart=test_size) if missing == "interpolate" else frame[~absent]
                if filled is not None:
                    filled[uid] = (f"{n} missing value{'s' if n > 1 else ''} {'interpolated linearly in time' if missing == 'interpolate' else 'dropped'} "
                                   f"({'the first ' if n > 1 else ''}at {first})")
            y = frame["y"].to_numpy(dtype=np.float64)
            wrong = panel_mod.out_of_range(y)  # a frame given from Python (a file's are named at their line when read)
            if wrong:
                r = min(wrong)
                raise LstmtuneError(f"the value {y[r]:.3g} at {day(frame['ds'].to_numpy()[r])} {wrong[r]}")
            row = {"unique_id": uid, "status": "ok", "reason": "", **work(uid, frame, where)}
        except LstmtuneError as err:  # a study's message may name the series already ("CONST: the series is constant"): said once
            why = str(err)
            row = {"unique_id": uid, "status": "failed", "reason": why.removeprefix(f"{uid}: "), "report": ""}
        if row["status"] != "ok":
            failures[uid] = row["reason"]
        rows.append(row)
    return rows, failures


def run(spec, panel: pd.DataFrame, out, *, inputs=(), max_runs=None, on_series=None, **study_kwargs) -> PanelOutcome:
    """Run ``spec`` on every series of ``panel`` (``unique_id, ds, y``) into ``out``.

    ``on_series(uid, done, total)`` reports progress; ``study_kwargs`` go to
    :func:`lstmtune.workflow.study.run` (progress callbacks, the trainer).

    Raises:
      LstmtuneError: ``out`` may not be written, or no series could run.
    """
    from lstmtune.store.fileio import atomic_outputs, claim_run_dir
    from lstmtune.workflow import finished, study

    _refuse_covariates(spec)
    created = not Path(out).exists()
    out = claim_run_dir(Path(out), name=spec.name, kind="panel", inputs=inputs, folders=PANEL_FOLDERS)
    tables, notices = [], {}
    panel_key = finished.key(spec.model_dump(mode="json"), {"command": "run --data", "max_runs": max_runs})  # lstmtune's files and versions too

    def work(uid, frame, where):
        # its study.toml names its own data (the run writes series.csv beside it): rerunnable alone
        own = spec.model_copy(update={"data": spec.data.model_copy(update={"source": str((where / "series.csv").resolve()), "date_column": None, "value_column": None,
                                                                           "date_format": None, "missing": "error"})})  # series.csv's own format: read back as written
        series = _series(uid, frame)
        key = _series_key(panel_key, where, series)
        report = str(where.relative_to(out) / "report.html")
        stored = finished.replay(where, key) if where.is_dir() else None
        if stored is not None:  # finished, nothing changed since (data, settings, lstmtune, its files): read, not run again
            said = list(stored["summary"].get("notices") or [])
        else:
            if where.is_dir():
                finished.forget(where)
            outcome = study.run(own, where, series=series, max_runs=max_runs, **study_kwargs)
            said = list(outcome.results.notices)
            if outcome.analysis is not None:
                finished.stamp(where, key, "", {"notices": said})
        if said:
            notices[uid] = said
        if stored is None and outcome.analysis is None:
            return {"status": "failed", "reason": DIVERGED, "report": report}
        table = pd.read_csv(where / "summary.csv")
        tables.append(table.assign(unique_id=uid))
        return {**_selected(table), "report": report}

    filled: dict = {}
    rows, failures = _each_series(panel, out, work, on_series, spec.data.missing, spec.data.test_size, filled)
    for uid, note in filled.items():  # said first, as a single file's notes are
        notices[uid] = [note, *notices.get(uid, [])]
    if not tables and DIVERGED not in failures.values():  # nothing trained: nothing worth keeping
        _undo(out, created)
        raise LstmtuneError("no series of the panel could run: " + _reasons(failures))
    summary = _tidy(rows)
    # every series diverged: their runs and reports are results, kept as a single study keeps
    # them (the panel's folder was deleted: a probe)
    results = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({"unique_id": []})
    configs = pooled_configs(results) if tables else pd.DataFrame()
    outcome = PanelOutcome(out, summary, configs, failures, notices, _remove_stale(out, rows))
    with atomic_outputs(out, writer="lstmtune run --data") as tmp:
        summary.to_csv(tmp / "panel_summary.csv", index=False)
        configs.to_csv(tmp / "panel_configs.csv", index=False)
        results[["unique_id", *[c for c in results.columns if c != "unique_id"]]].to_csv(tmp / "results.csv", index=False)
        (tmp / "index.html").write_text(_page(spec.name, outcome))
    return outcome


def search(spec, panel: pd.DataFrame, out, *, inputs=(), max_runs=None, on_series=None, on_round=None, on_epochs=None) -> PanelOutcome:
    """Run ``spec``'s search on every series of ``panel`` into ``out``: each series its own
    search run directory (``OUT/series/<folder>/``, resumable: stored trials are not
    retrained) and its data (``OUT/data/<folder>.csv``, which its ``study.toml`` names);
    ``panel_summary.csv`` gives each series' best trial (``config``), the value it was
    ranked on and its test RMSE (scored once). ``lstmtune fit OUT`` fits every series' best trial.

    Raises:
      LstmtuneError: ``out`` may not be written, or no series could be searched.
    """
    from lstmtune.store.fileio import atomic_outputs, atomic_path, claim_run_dir
    from lstmtune.workflow import search as search_mod

    _refuse_covariates(spec)
    created = not Path(out).exists()
    out = claim_run_dir(Path(out), name=spec.name, kind="panel-search", inputs=inputs, folders=PANEL_FOLDERS)

    def work(uid, frame, where):
        data = out / "data" / f"{where.name}.csv"
        data.parent.mkdir(exist_ok=True)
        with atomic_path(data) as tmp:
            pd.DataFrame({"date": pd.DatetimeIndex(frame["ds"]), "value": frame["y"].to_numpy()}).to_csv(tmp, index=False)  # times of day kept
        own = spec.model_copy(update={"data": spec.data.model_copy(update={"source": str(data.resolve()), "date_column": "date", "value_column": "value", "date_format": None})})
        try:
            outcome, page = search_mod.run(own, where, max_runs=max_runs, on_round=on_round, on_epochs=on_epochs)
        except LstmtuneError as err:  # about the series, not the copy of it this search reads
            data.unlink(missing_ok=True)  # this run's own copy, not an earlier run's results to report removed
            raise LstmtuneError(str(err).replace(f"{data.resolve()}: ", "").replace(f"{data}: ", "")) from None
        report = str(page.relative_to(out))
        note = outcome.failure
        if note is not None:
            return {"status": "failed", "reason": note, "report": report}
        best = search_mod.completed(outcome.trials).sort_values("value", kind="stable").iloc[0]
        row = {"config": f"trial {int(best['trial'])}", "metric": outcome.metric, "score": float(best["value"])}
        if outcome.test is not None:
            row["test_rmse"] = float(np.nanmean(outcome.test["test_rmse"]))
        return {**row, "report": report}

    rows, failures = _each_series(panel, out, work, on_series, spec.data.missing, spec.data.test_size)
    if len(failures) == len(rows):
        _undo(out, created)
        raise LstmtuneError("no series of the panel could be searched: " + _reasons(failures))
    outcome = PanelOutcome(out, _tidy(rows), pd.DataFrame(columns=["config", "wins", "pooled_scaled_error", "series"]), failures, removed=_remove_stale(out, rows))
    with atomic_outputs(out, writer="lstmtune search --data") as tmp:
        outcome.summary.to_csv(tmp / "panel_summary.csv", index=False)
        (tmp / "index.html").write_text(_page(spec.name, outcome))
    return outcome


def _refuse_covariates(spec) -> None:
    """A panel's series are read as ``unique_id, ds, y``: covariate columns are not read from it.
    Refused before anything is written (every series failed with "no covariate 'x' (loaded:
    none); list it in [data] covariates", although the study listed it: a probe)."""
    if spec.data.covariates:
        raise LstmtuneError(f"[data] covariates = {list(spec.data.covariates)}: not read from a long panel (--data): its series are "
                            "unique_id, ds, y; run the study on each series' own file (calendar inputs need no column and work on a panel)")


def _remove_stale(out: Path, rows: list[dict]) -> list[str]:
    """Remove the series' folders (and a search's data copies) that this run did not write: an
    earlier run's series no longer in the panel, or failing now. They stood beside the panel's
    outputs as finished runs of data the panel no longer has (a probe); a fresh run has none.

    Returns:
      The folder names removed, sorted.
    """
    import shutil

    kept = {folder_name(r["unique_id"]) for r in rows if r.get("report")}  # the folders this run wrote
    removed = set()
    for folder in (out / "series").iterdir() if (out / "series").is_dir() else ():
        if folder.name not in kept and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            removed.add(folder.name)
    for copy in (out / "data").glob("*.csv") if (out / "data").is_dir() else ():
        if copy.stem not in kept:
            copy.unlink()
            removed.add(copy.stem)
    return sorted(removed)


def _cell(value) -> str:
    """A table cell of the index page: empty for a missing value (it said "nan": a probe)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _tidy(rows: list[dict]) -> pd.DataFrame:
    """``panel_summary.csv``'s rows in one column order whichever series came first (a failed
    first series put ``report`` fourth: a probe): the series, its status and reason, what it
    selected, then its report."""
    table = pd.DataFrame(rows)
    head = [c for c in ("unique_id", "status", "reason") if c in table.columns]
    return table[head + [c for c in table.columns if c not in head and c != "report"] + (["report"] if "report" in table.columns else [])]


DIVERGED = "every run diverged"
"""A series' reason when it trained and every run diverged: a result, kept."""


def _reasons(failures: dict) -> str:
    """The first three failures, each once prefixed by its series (a reason may name it already),
    and how many more; one reason every series shares (a setting, not the data) said once (it
    was repeated for each series, and a fourth series left unnamed: a probe)."""
    said = [str(w).removeprefix(f"{u}: ") for u, w in failures.items()]
    if len(failures) > 1 and len(set(said)) == 1:
        return f"every series ({len(failures)}): {said[0]}"
    first = "; ".join(w if str(w).startswith(f"{u}: ") else f"{u}: {w}" for u, w in list(failures.items())[:3])
    return first + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")


def _undo(out: Path, created: bool) -> None:
    """Remove a run directory this call created when no series could run in it (nothing worth keeping)."""
    import shutil

    if created:
        shutil.rmtree(out, ignore_errors=True)


def _chosen(table: pd.DataFrame) -> pd.Series | None:
    """A series' choice among its summary's rows (None: none selected): with several sub-studies,
    each selects one, and the series' is the one of lowest mean selection score, as its own
    report names it (:meth:`lstmtune.study.analysis.Analysis.best_overall`); a panel counted
    every sub-study's as a win, and named the first sub-study's."""
    chosen = table[table["selected"] == True]  # noqa: E712 - a CSV's booleans
    if chosen.empty:
        return None
    if len(chosen) == 1:
        return chosen.iloc[0]
    scores = np.array([float(r.get(f"{r['metric']}_mean", np.nan)) for _, r in chosen.iterrows()])
    return chosen.iloc[int(np.nanargmin(scores))] if np.isfinite(scores).any() else chosen.iloc[0]


def _selected(table: pd.DataFrame) -> dict:
    row = _chosen(table)
    if row is None:
        return {"config": "", "metric": ""}
    metric = str(row["metric"])
    out = {"config": str(row["config"]), "metric": metric, "score": float(row[f"{metric}_mean"]), "skill_%": float(row[f"{metric}_skill_%"])}
    if "test_rmse_mean" in table.columns and metric != "test_rmse":
        out["test_rmse"] = float(row["test_rmse_mean"])
        out["test_skill_%"] = float(row["test_rmse_skill_%"])
    return out


def pooled_configs(results: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: ``wins`` (series that chose it, one choice per series: :func:`_chosen`), ``pooled_scaled_error`` (the mean
    over series of its selection score / that series' persistence, from its skill), and
    ``series`` (how many it was scored on; a configuration not scored on every series, every
    run diverged somewhere, gets no pooled error); lowest pooled error first."""

    rows = []
    everywhere = results["unique_id"].nunique()
    picks = [row["config"] for _, table in results.groupby("unique_id", sort=False) if (row := _chosen(table)) is not None]
    for config, part in results.groupby("config", sort=False):
        scaled = np.array([1.0 - float(r[f"{r['metric']}_skill_%"]) / 100.0 for _, r in part.iterrows()])
        finite = np.isfinite(scaled)
        rows.append({"config": config, "wins": picks.count(config),
                     # scored on every series, or no pooled score (a configuration that diverged somewhere is not pooled)
                     "pooled_scaled_error": float(scaled.mean()) if finite.all() and part["unique_id"].nunique() == everywhere else float("nan"),
                     "series": int(part.loc[finite, "unique_id"].nunique())})
    table = pd.DataFrame(rows)
    return table.sort_values(["pooled_scaled_error", "config"], kind="stable").reset_index(drop=True)


def is_panel_run(directory) -> bool:
    """Whether ``directory`` is a panel study's run directory (``lstmtune run --data PANEL.csv``)."""
    return (Path(directory) / "panel_summary.csv").is_file() and (Path(directory) / "series").is_dir()


POOLED, MOST_WINS = "pooled", "most-wins"


def fit_all(run_dir, out, *, label: str | None = None, repeats: int | None = None, horizon: int | None = None, on_series=None) -> tuple[pd.DataFrame, dict]:
    """Fit every series of a panel study as a seed ensemble: ``out/<folder>/`` per series and
    ``out/index.csv`` (``unique_id, folder, model``), which ``lstmtune forecast OUT`` reads.

    Args:
      run_dir: the panel study's run directory.
      out: the folder to write (replaced only once every series is done).
      label: None: each series' selected configuration; ``"pooled"``: the panel's pooled
        choice (``panel_configs.csv``'s lowest pooled error) for every series; ``"most-wins"``:
        the configuration selected most often; any other label: that configuration for every series.
      repeats, horizon: as :func:`lstmtune.workflow.studyfit.fit_source`.
      on_series: ``(uid, done, total)`` progress.

    Returns:
      ``(index, failures)``: the series fitted, and ``unique_id -> why`` for those that
      were not (a series whose study failed, or whose fit failed: the others are still fitted).

    Raises:
      LstmtuneError: not a panel run directory, or no series could be fitted.
    """
    from lstmtune.engine import aot
    from lstmtune.forecast import panelmodels
    from lstmtune.store.fileio import atomic_dir
    from lstmtune.workflow import studyfit

    run_dir, out = Path(run_dir), Path(out)
    if not is_panel_run(run_dir):
        raise LstmtuneError(f"{run_dir}: not a panel study's run directory (no panel_summary.csv and series/)")
    if out.resolve() == run_dir.resolve() or run_dir.resolve() in out.resolve().parents:
        raise LstmtuneError(f"--out {out}: inside the panel's run directory {run_dir}; give a folder of its own")
    panelmodels.check_replaceable(out)
    summary = _read_table(run_dir / "panel_summary.csv", ("unique_id", "status", "reason"), dtype={"unique_id": str}, keep_default_na=False)
    repeated = summary["unique_id"].duplicated()
    if repeated.any():
        uid = summary["unique_id"].iloc[int(repeated.to_numpy().argmax())]
        raise LstmtuneError(f"{run_dir / 'panel_summary.csv'}: not the table `lstmtune run --data` writes (series {uid!r} twice); run the panel study again")
    if label in (POOLED, MOST_WINS):
        if not (run_dir / "panel_configs.csv").is_file():
            raise LstmtuneError(f"--config {label}: {run_dir} is a search on every series (each its own trials), with no configuration shared by all; fit each series' best trial (no --config) or name a trial")
        configs = _read_table(run_dir / "panel_configs.csv", ("config", "wins", "pooled_scaled_error"))
        outcome = PanelOutcome(run_dir, summary, configs, {})
        label = outcome.pooled if label == POOLED else outcome.most_wins
        if not label:
            raise LstmtuneError(f"{run_dir / 'panel_configs.csv'}: no configuration was scored on every series, so there is no pooled choice; name one with --config")
    rows, failures = [], {}
    with atomic_dir(out) as tmp:
        for k, r in enumerate(summary.itertuples(index=False)):
            uid = str(r.unique_id)
            if on_series is not None:
                on_series(uid, k, len(summary))
            if r.status != "ok":
                failures[uid] = f"its study did not finish ({r.reason})"
                continue
            folder = folder_name(uid)
            aot.release_if_crowded()  # as in _each_series
            try:
                model = studyfit.fit_source(run_dir / "series" / folder, label=label, repeats=repeats, horizon=horizon)
                model.save(tmp / folder)
            except LstmtuneError as err:
                failures[uid] = str(err)
                continue
            rows.append({"unique_id": uid, "folder": folder, "model": f"LSTM {model.info.get('label', '')}".strip()})
        if not rows:
            raise LstmtuneError(f"{run_dir}: no series could be fitted: " + "; ".join(f"{u}: {w}" for u, w in list(failures.items())[:3]))
        index = pd.DataFrame(rows)
        index.to_csv(tmp / "index.csv", index=False)
    return index, failures


def _page(name: str, outcome: PanelOutcome) -> str:
    e = html.escape
    if outcome.configs.empty:  # a search per series: each its own trials, nothing pooled
        head = f"<h1>{e(name)}: a search on every series of the panel</h1>"
        words, configs = "<p>Each series' best trial is fitted by <code>lstmtune fit</code> on this directory.</p>", ""
    else:
        head = f"<h1>{e(name)}: a study on every series of the panel</h1>"
        words = (f"<p>Pooled choice (lowest mean error relative to persistence across series): <b>{e(outcome.pooled or '')}</b>; "
                 f"selected most often: <b>{e(outcome.wins_said)}</b>.</p>")
        configs = "<h2>Configurations</h2>" + outcome.configs.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0)
    rows = []
    # each series' scores beside its choice (the page named the choice only: a probe)
    scores = [c for c in SCORE_COLUMNS if c in outcome.summary.columns]

    def number(value) -> str:
        return "" if value is None or value == "" or (isinstance(value, float) and value != value) else f"{float(value):.4g}"

    for _, r in outcome.summary.iterrows():
        link = f'<a href="{e(r["report"])}">report</a>' if r.get("report") else ""
        rows.append(f"<tr><td>{e(str(r['unique_id']))}</td><td>{e(str(r['status']))}</td><td>{e(_cell(r.get('config')))}</td>"
                    + "".join(f"<td>{e(number(r.get(c)))}</td>" for c in scores) + f"<td>{e(_cell(r.get('reason')))}</td><td>{link}</td></tr>")
    ran = int((outcome.summary["status"] == "ok").sum()) if len(outcome.summary) else 0
    series = (f"<p>{ran} of {len(outcome.summary)} series ran{'; the pooled choice is over those' if ran < len(outcome.summary) and not outcome.configs.empty else ''}.</p>"
              "<table><tr><th>series</th><th>status</th><th>selected</th>" + "".join(f"<th>{e(SCORE_COLUMNS[c])}</th>" for c in scores)
              + "<th>reason</th><th></th></tr>" + "".join(rows) + "</table>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{e(name)}</title></head><body>{head}{words}{configs}<h2>Series</h2>{series}</body></html>"


SCORE_COLUMNS = {"score": "selection score", "skill_%": "skill vs persistence (%)", "test_rmse": "test RMSE", "test_skill_%": "test skill (%)"}
"""``panel_summary.csv``'s score columns the index page shows, with their headings."""


__all__ = ["OUTPUTS", "PanelOutcome", "fit_all", "folder_name", "is_panel_run", "pooled_configs", "run", "search"]
