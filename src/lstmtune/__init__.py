"""lstmtune: seed-aware tuning of LSTM forecasters, whole populations as one compiled JAX program."""

from lstmtune import _xla

_xla.set_flags()

__version__ = "0.1.0"
