import os
import sys
from pathlib import Path

# Keras is the fidelity reference. Its TensorFlow backend is the one whose stateful
# RNNs carry state through fit() and predict(): in Keras 3.15 the JAX backend silently
# resets it every batch and the torch backend raises (see tests/keras_reference.py).
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).parent))
