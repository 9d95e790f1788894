"""Studies: the spec (every parameter declared once), grids and configurations, the plan of
populations, the budget, evaluation phases, executors (local, Ray), claims and progress, and
a study's results (tables and files) with their analysis.

May import: :mod:`lstmtune.store`, :mod:`lstmtune.selection`, :mod:`lstmtune.engine`,
:mod:`lstmtune.data`, :mod:`lstmtune.errors`. Never forecasting, reports or workflows.
"""
