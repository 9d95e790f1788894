"""Commands about forecasting: ``fit``, ``forecast``, ``describe``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lstmtune.cli.common import (
    app, console, err_console, _n, _u, _handles_errors, DateCol, ValueCol, DateFormat, Missing,
)
from lstmtune.errors import LstmtuneError


@app.command()
@_handles_errors
def fit(
    source: Annotated[Path, typer.Argument(help="A run directory (`lstmtune run`, or `lstmtune search`: its best trial; `lstmtune run --data PANEL.csv`: every series) or a study file with one configuration.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    config: Annotated[Optional[str], typer.Option("--config", help="Label of the configuration to fit (default: the selected one). A panel study: pooled (its pooled choice) or most-wins, for every series.")] = None,
    repeats: Annotated[Optional[int], typer.Option("--repeats", min=1, help="Seeds in the ensemble (default: the study's repeats).")] = None,
    horizon: Annotated[Optional[int], typer.Option("--horizon", min=1, help="Steps calibrated and backtested (default: the study's test_size).")] = None,
) -> None:
    """Train a configuration as a seed ensemble on all observations and save it as a model directory
    (a panel study's run directory: one per series, and an index that `lstmtune forecast` reads)."""
    from lstmtune.workflow import panelstudy, studyfit

    if panelstudy.is_panel_run(source):
        def on_series(uid, done, total):
            err_console.print(f"series {done + 1}/{total}: {_n(str(uid))}", highlight=False)

        index, failures = panelstudy.fit_all(source, out, label=config, repeats=repeats, horizon=horizon, on_series=on_series)
        for uid, why in failures.items():
            err_console.print(f"[yellow]not fitted[/]: series {_u(repr(uid))}: {_u(why)}", highlight=False)
        console.print(f"fitted {len(index)} series -> {_u(out)} (forecast them all: lstmtune forecast {_u(out)} --horizon H)"
                      + (f"; {len(failures)} not fitted (named above)" if failures else ""), highlight=False)
        if failures:
            raise typer.Exit(code=3)
        return
    from lstmtune.forecast import modelio
    from lstmtune.store.fileio import MARKER

    inside = next((d for d in Path(out).resolve().parents if (d / MARKER).is_file()), None)
    if inside is not None:  # the run's outputs would stop matching what it wrote: every rerun redrew its report (a probe)
        raise LstmtuneError(f"--out {out}: inside the run directory {inside}; give the model a folder of its own")
    modelio.check_replaceable(out)  # before training: a folder in the way is refused at once
    model = studyfit.fit_source(source, label=config, repeats=repeats, horizon=horizon)
    model.save(out)
    console.print(f"fitted {_u(model.info.get('label', ''))} ({len(model.seeds)} seeds, {model.config.epochs} epochs) -> {_u(out)}", highlight=False)


def _note_other_units(values, trained, data) -> None:
    """A note when the history's typical size is 20 times the training data's or more (or a
    twentieth or less): in other units, say thousands where the model saw units."""
    import numpy as np

    new, old = np.nanmedian(np.abs(values[-len(trained):])), np.nanmedian(np.abs(trained))
    if new > 0 and old > 0 and max(new / old, old / new) >= 20:
        err_console.print(f"[bold yellow]note:[/] the values of {_u(data)} are about {new / old:.2g} times those the model was trained on "
                          "(the same units?): its forecast extrapolates far outside what it learnt", highlight=False, soft_wrap=True)


MODEL_FILES = frozenset({"manifest.json", "weights.safetensors", "backtest.csv", "data.json", "index.csv"})
"""Names a model directory's own files have (a forecast may not take them even before they exist)."""


def _refuse_writing_inputs(out: Path, model_dir: Path, data, future, paths: bool) -> None:
    """Refuse an ``--out`` whose CSV, PNG or paths file would replace an input: a file of the
    model directory (one that exists, or a name its files have), the ``--data`` history or the
    ``--future`` covariates."""
    import os

    from lstmtune.forecast import panelmodels

    png = [] if panelmodels.is_panel(model_dir) else [out.with_suffix(".png")]  # a folder of models: a CSV alone
    written = [out, *png] + ([out.with_name(out.stem + "_paths.csv")] if paths else [])
    model = Path(os.path.realpath(model_dir))
    inputs = {Path(os.path.realpath(p)): flag for flag, p in (("--data", data), ("--future", future)) if p is not None}
    for path in written:
        real = Path(os.path.realpath(path))
        if real.is_relative_to(model) and (real.exists() or real.name in MODEL_FILES):  # a new file beside the model's own is harmless
            raise LstmtuneError(f"--out {out}: would write over {path.name} in the model directory {model_dir}; give another path")
        if real in inputs:
            raise LstmtuneError(f"--out {out}: would replace the {inputs[real]} file {path}; give another path")
    for path in written:  # an earlier forecast is replaced; any other file is the user's
        if path.is_file() and not _forecast_file(out if path.suffix.lower() == ".png" else path):
            raise LstmtuneError(f"--out {out}: {path} exists and is not a forecast lstmtune wrote; give another path, or remove it")


PATHS_HEADER = ["date", "step", "seed", "value"]


def _csv_header(path: Path) -> list[str]:
    """A CSV file's first row ([] where it cannot be read as one)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _paths_file(path: Path) -> bool:
    """Whether ``path`` is a regular file of ``--paths`` (its header ``date, step, seed, value``)."""
    return path.is_file() and not path.is_symlink() and _csv_header(path) == PATHS_HEADER


def _forecast_file(path: Path) -> bool:
    """Whether ``path`` is a CSV that ``lstmtune forecast`` wrote (its header names the columns
    of a forecast or of its paths). A PNG counts as written with the CSV beside it."""
    header = _csv_header(path)
    if header == PATHS_HEADER:  # --paths
        return True
    bands = [c for c in header if c.startswith(("lower_", "upper_"))]
    return {"mean", "median"} <= set(header) and len(bands) >= 2 and header[-len(bands):] == bands  # the bands last, as written


@app.command()
@_handles_errors
def forecast(
    model_dir: Annotated[Path, typer.Argument(help="A model directory written by `lstmtune fit` or `lstmtune auto`, or auto's models/ folder (every series).")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=100_000, help="Steps ahead (at most 100,000).")],
    out: Annotated[Path, typer.Option("--out", help="Forecast CSV to write (a PNG beside it for a single model directory).")],
    data: Annotated[Optional[str], typer.Option("--data", help="A newer history of the series (CSV): condition on it without retraining.")] = None,
    future: Annotated[
        Optional[Path],
        typer.Option("--future", help="CSV of the covariates at the forecast dates (date column, one column per covariate): needed when the model reads covariates and HORIZON > 1."),
    ] = None,
    paths: Annotated[bool, typer.Option("--paths", help="Also write each seed's path (OUT_paths.csv: date, step, seed, value).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the forecast table.")] = False,
    date_column: DateCol = None,
    value_column: ValueCol = None,
    date_format: DateFormat = None,
    missing: Missing = "error",
) -> None:
    """Forecast the next HORIZON steps with the calibrated intervals the model was fitted with (80% and 95% unless auto --level chose others)."""
    from lstmtune.forecast import output as forecast_output
    from lstmtune.data import known_inputs
    from lstmtune.forecast import forecaster
    from lstmtune.data.series import load

    if out.suffix.lower() == ".png":
        raise LstmtuneError(f"--out {out}: give the CSV's path; the PNG is written beside it")
    if out.is_dir():
        raise LstmtuneError(f"--out {out}: is a folder; give the CSV's path (e.g. {out / 'forecast.csv'})")
    from lstmtune.store.fileio import atomic_path, atomic_paths, file_in_the_way

    blocked = file_in_the_way(out)
    if blocked is not None:
        raise LstmtuneError(f"--out {out}: {blocked} is a file, not a folder")
    _refuse_writing_inputs(out, model_dir, data, future, paths)
    from lstmtune.forecast import composite, statmodel
    from lstmtune.forecast import panelmodels as panel_models

    whole = composite.composite_of(model_dir)
    if whole is not None:
        raise LstmtuneError(f"{model_dir}: a member of the model directory {whole} (written by `lstmtune auto`), whose forecasts it transforms back, clips or combines: forecast {whole}")
    if panel_models.is_panel(model_dir):  # `lstmtune auto`'s models/: every series
        for flag, given in (("--data", data), ("--future", future), ("--paths", paths or None)):
            if given is not None:
                why = "it writes each series' forecast and bands, not seeds' paths" if flag == "--paths" else "each forecasts from the data it holds"
                raise LstmtuneError(f"{flag}: not for a folder of model directories ({model_dir}); {why}")
        table, failures = panel_models.forecast_all(model_dir, horizon)
        for line in failures:
            err_console.print(f"[yellow]not forecast[/]: {_u(line)}", highlight=False, soft_wrap=True)
        if table.empty:
            raise LstmtuneError(f"{model_dir}: no series could be forecast" + (f" ({failures[0]})" if failures else ""))
        index = panel_models.read_index(model_dir)
        utc = set(index.loc[panel_models.utc_rows(index), "unique_id"])
        with atomic_path(out) as tmp:  # dates written as auto writes forecasts.csv's, the same table (UTC times marked)
            forecast_output.panel_csv(table, tmp, utc=utc)
        console.print(f"wrote {_u(out)}: {table['unique_id'].nunique()} series x {horizon} steps" + (f"; {len(failures)} not forecast (named above)" if failures else ""), highlight=False)
        if failures:
            raise typer.Exit(code=3)
        return
    utc = panel_models.utc_times(model_dir)  # one series' folder of auto's models/ whose times were made UTC (its index.csv)
    if composite.is_auto_model(model_dir):  # from `lstmtune auto`
        for flag, given in (("--data", data), ("--future", future), ("--paths", paths or None)):
            if given is not None:
                why = "it writes the forecast and its bands, not seeds' paths" if flag == "--paths" else "it forecasts from the data it holds"
                raise LstmtuneError(f"{flag}: not for this model directory ({model_dir}, written by `lstmtune auto`); {why}")
        smodel = composite.load_any(model_dir)
        utc = utc or smodel.info.get("times") == "UTC"  # a directory moved out of auto's models/ says so itself
        table = smodel.forecast(horizon)
        dates, values = (smodel.dates, smodel.values) if isinstance(smodel, statmodel.StatModel) else smodel.history
        zone = " (times UTC)" if utc else ""
        png = out.with_suffix(".png")
        with atomic_paths([out, png]) as (csv_tmp, png_tmp):  # both written, then both moved into place
            forecast_output.plot(dates, values, table, png_tmp, title=f"{smodel.series_name}: {horizon}-step forecast{zone}")
            forecast_output.write_csv(table, csv_tmp, utc=utc)
        if not quiet:
            _print_forecast(table, title=f"{smodel.series_name}: {horizon}-step forecast ({smodel.info.get('label') or getattr(smodel, 'model', '')}){zone}")
        if utc:
            _note_utc(smodel.series_name, out)
        console.print(f"wrote {_u(out)}, {_u(png)}", highlight=False)
        return
    model = forecaster.load(model_dir)
    covariates = list(model.framing.covariates)
    if data is not None and _panel_not_named(data, date_column, value_column):
        raise LstmtuneError(f"--data {data}: a panel (it has a unique_id column), and {model_dir} forecasts one series: give that series' rows alone")
    if future is not None and not covariates:
        raise LstmtuneError(f"--future {future}: this model reads no covariates")
    if date_format is None:  # the dates as the study that fitted the model read its own (recorded by fit)
        date_format = model.info.get("date_format") or None
    if data is not None and value_column is None:  # the model's own target where the file has it (an extra numeric column asked for --value-column: a probe)
        from lstmtune.data.series import header

        if model.value_name in header(data) and model.value_name not in covariates:
            value_column = model.value_name
    history = None if data is None else load(data, date_column=date_column, value_column=value_column, date_format=date_format, missing=missing, covariates=covariates)
    for note in [] if history is None else history.notes:  # rows sorted, values filled: said as `run` says them (a probe)
        err_console.print(f"[yellow]note:[/] {_u(note)}", highlight=False)
    known = None if future is None else known_inputs.read_future(future, covariates, model.positional, date_format)
    table, each = model.forecast_with_paths(horizon, history, future=known)
    utc = utc or model.info.get("times") == "UTC"  # fitted by `lstmtune fit` on times made UTC
    if history is not None:  # a newer history's own dates decide
        utc = bool(getattr(history, "utc", False))
    zone = " (times UTC)" if utc else ""
    if history is not None:
        _note_other_units(history.values, model.tail_values, data)
    hx = model.tail_dates if history is None else history.dates
    hy = model.tail_values if history is None else history.values
    if model.positional:
        import numpy as np

        hx = np.arange(table["date"].iloc[0] - len(hy), table["date"].iloc[0])
    png, stale = out.with_suffix(".png"), out.with_name(out.stem + "_paths.csv")
    written = [out, png, *([stale] if paths else [])]
    with atomic_paths(written) as tmps:  # all written, then all moved into place: never a new figure beside an old table
        forecast_output.plot(hx, hy, table, tmps[1], title=f"{model.series_name}: {horizon}-step forecast{zone}")
        forecast_output.write_csv(table, tmps[0], utc=utc)
        if paths:
            forecast_output.write_table(forecast_output.paths_table(each, table["date"], model.seeds), tmps[2])
    if not paths and _paths_file(stale) and all(stale.resolve() != Path(x).resolve() for x in (data, future) if x is not None):  # an earlier forecast's: no longer OUT's
        stale.unlink()
        console.print(f"removed {_u(stale)}: the paths of the forecast {_u(out)} replaced (--paths writes them again)", highlight=False)
    if not quiet:
        _print_forecast(table, title=f"{model.series_name}: {horizon}-step forecast ({len(model.seeds)} seeds){zone}")
    if utc:
        _note_utc(model.series_name, out)
    console.print(f"wrote {', '.join(_u(w) for w in written)}", highlight=False)


def _note_utc(series_name: str, out: Path) -> None:
    """The note of a forecast whose times are UTC (its dates carried UTC offsets when they were read)."""
    err_console.print(f"[bold yellow]note:[/] times of {_u(series_name)} are UTC: its dates carried UTC offsets when they were read; "
                      f"{_u(out)} marks them +00:00", highlight=False, soft_wrap=True)


def _panel_not_named(path, date_column: str | None, value_column: str | None) -> bool:
    """Whether ``path`` is a panel (:func:`lstmtune.data.panel.is_panel_file`) whose series column
    is not the one named as the dates or the values."""
    from lstmtune.data import panel

    return panel.ID not in (date_column, value_column) and panel.is_panel_file(path)


@app.command()
@_handles_errors
def describe(model_dir: Annotated[Path, typer.Argument(help="A model directory written by `lstmtune fit` or `lstmtune auto`, or a folder of them (auto's models/).")]) -> None:
    """Say what a model directory holds: its source, configuration, data, calibration and backtest."""
    from lstmtune.forecast import composite, forecaster
    from lstmtune.forecast import panelmodels

    if panelmodels.is_panel(model_dir):  # auto's models/ (or fit's of a panel): what forecast reads whole
        index = panelmodels.read_index(model_dir)
        if index.empty:  # as forecast refuses it
            raise LstmtuneError(f"{model_dir / 'index.csv'}: lists no model directory")
        console.print(f"Models {_u(model_dir)}: {len(index)} series, one model directory each (lstmtune forecast {_u(model_dir)} forecasts them all)",
                      highlight=False, soft_wrap=True)
        for label, n in index["model"].value_counts().items():
            console.print(f"  {n:>6}  {_u(label)}", highlight=False)
        first = index["folder"].iloc[0] if len(index) else "FOLDER"
        console.print(f"  one of them: lstmtune describe {_u(model_dir / first)}", highlight=False, soft_wrap=True)
        return
    if composite.is_auto_model(model_dir):
        smodel = composite.load_any(model_dir)  # checked before anything is printed
        console.print(f"Model {_u(model_dir)}", highlight=False)
        for line in smodel.describe():  # loading checked the checksums
            console.print("  " + _u(line), highlight=False)
        return
    model = forecaster.load(model_dir)  # checks the checksums too
    console.print(f"Model {_u(model_dir)}", highlight=False)
    for line in model.describe():
        console.print("  " + _u(line), highlight=False)
    back = model.backtest
    held = int(model.info.get("calibration_held_back", 0) or 0)
    if back is None and held >= 2:  # fit writes backtest.csv whenever it held origins back: deleted since
        err_console.print(f"[bold yellow]note:[/] {_u(model_dir / 'backtest.csv')} is missing: fit wrote it from {held} held-back origins; "
                          "the calibration in the manifest is intact, the backtest's figures are lost (fit again to have them)", highlight=False, soft_wrap=True)
    if back is None or back.empty:
        return
    from lstmtune.report.pages import number

    cols = [c for c in ("rmse", "mase", "coverage_80", "coverage_95", "width_95", "msis_95") if c in back.columns]
    scale = float(back.loc[back["model"] == "persistence", "rmse"].median()) if (back["model"] == "persistence").any() else 1.0
    table = Table(title="Backtest (backtest.csv): the calibration origins, each calibrated on the others")
    for name in ("model", "horizon", *cols):
        table.add_column(name, justify="left" if name == "model" else "right")
    for _, row in back.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append("—" if v != v else f"{v:.2f}" if c.startswith(("coverage", "mase", "msis")) else number(float(v), scale))
        table.add_row(str(row["model"]), str(int(row["horizon"])), *cells)
    console.print(table)


def _print_forecast(table, *, title: str) -> None:
    """The forecast table in the terminal, with about 4 significant digits at the values' scale."""
    from rich.table import Table

    from lstmtune.forecast.output import date_text
    from lstmtune.report.pages import number

    import numpy as np

    from lstmtune.forecast.output import band_levels

    levels = band_levels(table)
    narrow = levels[0] if levels else None
    width = float(np.nanmedian(table[f"upper_{narrow}"] - table[f"lower_{narrow}"])) if narrow else 0.0  # digits past the uncertainty are noise
    scale = width if width > 0 else float(np.nanmedian(np.abs(table["mean"]))) / 10
    out = Table(title=_u(title))
    for name in ("date", "mean", *[f"{lv}% interval" for lv in levels]):
        out.add_column(name, justify="left" if name == "date" else "right")
    for date, (_, row) in zip(date_text(table["date"]), table.iterrows()):
        n = lambda x: number(float(x), scale)  # noqa: E731
        out.add_row(str(date), n(row["mean"]), *[f"{n(row[f'lower_{lv}'])} – {n(row[f'upper_{lv}'])}" for lv in levels])
    console.print(out)
