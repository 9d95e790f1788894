"""Workflows: what a user runs end to end, each a list of phases executed top to bottom.
A study (select, refit, test once, diagnostics, report), a search, fitting from a run
directory, reproducing the tutorial.

May import every layer below it (report, forecast, study, store, selection, engine, data).
Only the CLI and the public API (``import lstmtune``) import it.
"""
