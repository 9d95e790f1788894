"""Distribution sanity: 300 replicas of 1000 epochs, batch 4, 1 unit on shampoo.

Prints describe() of test RMSE for the Keras 3 default recurrent activation
(sigmoid) and for Keras 2.0's default (hard_sigmoid), the one the tutorial ran with.
"""

import json
import sys

import numpy as np
import pandas as pd

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.selection import metrics
from lstmtune.data import problem

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
prob = problem.prepare(data.load("shampoo"), problem.Framing(trim=2), 4)
out = {}
for act in ("sigmoid", "hard_sigmoid"):
    res = engine.train_population(prob, engine.Architecture(1, 4, act), engine.Schedule.for_checkpoints([1000]), seeds=range(N))
    rmse = metrics.rmse(prob.test_actual, prob.invert(res.test_pred[:, 0], "test"))
    out[act] = pd.Series(rmse).describe().round(3).to_dict()
    out[act]["diverged"] = int((res.diverged_epoch > 0).sum())
    out[act]["beats_persistence_%"] = float(np.mean(rmse < 136.761) * 100)
print(json.dumps(out, indent=1))
