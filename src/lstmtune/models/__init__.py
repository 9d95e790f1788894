"""Recurrent forecasters with Keras semantics, as pure functions over parameter pytrees."""

from lstmtune.models.lstm import DenseParams, LSTMParams, Params, forward, init_params, lstm_cell

__all__ = ["DenseParams", "LSTMParams", "Params", "forward", "init_params", "lstm_cell"]
