"""Engine: the population trainer, its compiled steps, Keras-faithful optimizers and cells,
and trained weights run forward (:mod:`.rollout`: one-step and recursive multi-step forecasts).

Trains and scores whole populations (every repeat of every configuration of one shape) as
one compiled JAX program (:mod:`.trainer`), from plain values: an architecture, per-replica
numeric parameters (:mod:`.params`) and a framed problem. It knows nothing of studies,
storage, selection or reports.

May import: :mod:`lstmtune.data`, :mod:`lstmtune.errors`.
"""
