"""Forecasting: the forecaster (a seed ensemble fitted on all the data),
direct multi-step ensembles, many ensembles fitted as one stacked population, calibrated intervals, the model directory (safetensors + JSON, no pickle), forecast tables,
and the selected configuration's forecasts of a study's test period.

May import: :mod:`lstmtune.study` (configurations, seeds), :mod:`lstmtune.store` (safe file
writing) and everything below them.
"""
