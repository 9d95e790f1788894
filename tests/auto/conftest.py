"""Fixtures shared by the auto tests."""

import pytest


@pytest.fixture()
def no_arima(monkeypatch):
    """Every statistical model but AutoARIMA, for a test about something else (reading data,
    skipping series, checkpoints, budgets, the report): AutoARIMA is about two thirds of the
    statistical models' time. The tests of the candidates themselves, of bit-identity and of the
    saved models keep it (test_auto.py's ``stats_result``, the kill -9 test, test_statistical.py)."""
    from lstmtune.selection import statistical

    monkeypatch.setattr(statistical, "MODELS", ("AutoETS", "AutoTheta", "SeasonalNaive"))


_FITTED: dict = {}
"""statsforecast's answers in this test process, by the exact question (see below)."""


def _asked(name: str, frame, args, kwargs) -> tuple:
    import pandas as pd

    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    kwargs = {k: v for k, v in kwargs.items() if k != "n_jobs"}  # how many processes fit it: not what is fitted
    return name, rows, tuple(frame.columns), tuple(map(str, frame.dtypes)), repr(args), repr(sorted(kwargs.items()))


@pytest.fixture(autouse=True)
def _each_statistical_fit_computed_once(request, monkeypatch):
    """The auto tests ask statsforecast the same questions again and again (the same small
    panels, windows and models in test after test): 106 of 285 calls, 18 of 60 s (2026-12-07).
    Within a test process each distinct call of :func:`lstmtune.selection.statistical.backtest`
    or ``forecast`` (the frame's every value, index, column and dtype, and every argument but
    ``n_jobs``) is computed once and its answer copied to every later asker. statsforecast is
    deterministic; tests/selection/test_statistical.py checks these two functions against it
    uncached. A test marked ``fresh_statistics`` (bit-identity across runs) computes every call."""
    if request.node.get_closest_marker("fresh_statistics"):
        yield
        return
    from lstmtune.selection import statistical

    def once(name, compute):
        def cached(frame, *args, **kwargs):
            key = _asked(name, frame, args, kwargs)
            if key not in _FITTED:
                _FITTED[key] = compute(frame, *args, **kwargs)
            table, failed = _FITTED[key]
            return table.copy(deep=True), list(failed)

        return cached

    for name in ("backtest", "forecast"):
        monkeypatch.setattr(statistical, name, once(name, getattr(statistical, name)))
    yield
