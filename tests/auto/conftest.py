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
