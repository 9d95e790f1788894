"""Data: series and their checks, transforms, supervised framing, known inputs, built-in datasets.

Owns everything about the observations before a network sees them: loading and validating a
series (:mod:`.series`), the invertible transforms (:mod:`.transforms`), framing as lagged
inputs and scaling on the training part (:mod:`.problem`), and what a step reads besides the
target (:mod:`.known_inputs`).

May import: :mod:`lstmtune.errors` only (the bottom layer).
"""
