"""Fidelity of the engine to real Keras 3 (TensorFlow backend; see keras_reference.py):
same initial weights, the tutorial's loop (fit one epoch, reset states) for 20 epochs,
then the tutorial's walk-forward test forecast.

Tolerance: 1e-5, as max-norm relative difference per weight array (floor 1e-3, so
near-zero biases are compared absolutely), on the test forecasts and on test RMSE.
Measured (``pytest -s`` prints them): weights within 5e-7, forecasts within 4e-7,
test RMSE within 4e-8 for every case below and the extensions (test_engine_keras_extensions.py): float32 rounding
differences between TensorFlow's and XLA's kernels, nothing more.
"""


import pytest
from keras_reference import _check, compare

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data import problem

pytestmark = pytest.mark.slow  # the fast subset (pytest -m 'not slow') leaves this module out; the full run keeps it



@pytest.fixture(scope="module")
def shampoo():
    return data.load("shampoo")


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_tutorial_loop_matches_keras(shampoo, units, batch_size):
    d = compare(shampoo, engine.Architecture(units, batch_size), problem.Framing(trim=2), seed=1000 * units + batch_size)
    _check(d, 1e-5)


@pytest.mark.parametrize("arch, framing", [(engine.Architecture(2, 4), problem.Framing(trim=2)),
                                           (engine.Architecture(2, 8, stateful=False), problem.Framing(timesteps=3))],
                         ids=["stateful", "stateless, partial last batch"])
def test_stepping_the_minibatches_is_the_tutorials_fit_loop_bit_for_bit(shampoo, arch, framing):
    # The comparisons step Keras through the minibatches with train_on_batch (keras_reference.
    # fit_by_batches); the tutorial calls fit(epochs=1, shuffle=False). Same bits, so they test it.
    import numpy as np
    from keras_reference import _first, build_model, fit_by_batches, fit_tutorial, flat, set_weights, weights

    prob = problem.prepare(shampoo, framing, arch.batch_size)
    init = _first(engine.init_population([5], prob.train_x.shape[2], arch))
    trained = []
    for loop in (fit_tutorial, fit_by_batches):
        model = build_model(arch.units, arch.batch_size, prob.train_x.shape[1], prob.train_x.shape[2], stateful=arch.stateful)
        set_weights(model, init)
        # 5 epochs: every minibatch and state reset of the loop, repeated; the comparisons above run 20
        loop(model, prob.train_x.astype(np.float32), prob.train_y.astype(np.float32), arch.batch_size, 5)
        trained.append(weights(model))
    assert all(np.array_equal(a, b) for a, b in zip(*trained))
    assert not any(np.array_equal(a, np.asarray(b)) for a, b in zip(trained[0], flat(init)))  # every array moved


def test_hard_sigmoid_and_padded_test_match_keras(shampoo):
    # test_size 10 is not a multiple of batch 4: the test part is padded.
    d = compare(shampoo, engine.Architecture(2, 4, "hard_sigmoid"), problem.Framing(test_size=10), seed=7)
    _check(d, 1e-5)


def test_direct_head_matches_keras(shampoo):
    """A direct multi-step head (Dense(4), loss averaged over the 4 outputs, stateless, batch 8
    with a partial last batch) trained as Keras trains LSTM(2) -> Dense(4) on the same windows."""
    import numpy as np
    from keras_reference import _first, _rel, build_model, flat, set_weights, weights

    from lstmtune.forecast import direct

    prob = direct.problem_for(shampoo.values, direct.Spec(interval=1, lags=3, horizon=4))
    arch = engine.Architecture(2, 8, stateful=False, outputs=4)
    ours = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([20]), seeds=[11])
    init = _first(engine.init_population([11], 3, arch))
    model = build_model(2, 8, 1, 3, stateful=False, outputs=4)
    set_weights(model, init)
    model.fit(prob.train_x.astype(np.float32), prob.train_y.astype(np.float32), epochs=20, batch_size=8, verbose=0, shuffle=False)
    ours_w = flat(_first(ours.params))
    assert max(_rel(a, b) for a, b in zip(ours_w, weights(model))) < 1e-5
    assert max(_rel(a, b) for a, b in zip(ours_w, flat(init))) > 1e-2  # the weights moved: not vacuous
    keras_pred = model.predict(prob.train_x.astype(np.float32), batch_size=8, verbose=0)
    assert ours.train_pred.shape == (1, 1, len(prob.train_y), 4)
    assert _rel(ours.train_pred[0, -1], keras_pred) < 1e-5
