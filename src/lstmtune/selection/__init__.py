"""Selection statistics: forecast metrics, comparisons of repeated runs (confidence
intervals, the model confidence set), and the statistical baselines every result is shown
beside.

Pure NumPy/SciPy/statsmodels on arrays of scores: never trains a network.

May import: :mod:`lstmtune.data`, :mod:`lstmtune.errors`.
"""
