"""Recurrent cells (Keras semantics) and the stacked network built from them."""

from lstmtune.engine.models.lstm import DenseParams, LSTMParams, lstm_cell

__all__ = ["DenseParams", "LSTMParams", "lstm_cell"]
