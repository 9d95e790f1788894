"""The engine against NumPy references and against itself (population vs singles,
checkpoints vs separate runs, recompilation, reproducibility, divergence)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lstmtune.data import series as data
from lstmtune.engine import trainer as engine
from lstmtune.data import problem
from lstmtune.engine.models import lstm
from lstmtune.engine.optim import keras_adam


@pytest.fixture(scope="module")
def prob():
    return problem.prepare(data.load("shampoo"), problem.Framing(trim=2), 4)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_lstm_cell_matches_numpy_reference():
    rng = np.random.default_rng(0)
    p = lstm.init_layer(rng, features=3, units=5)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    h = rng.normal(size=(4, 5)).astype(np.float32)
    c = rng.normal(size=(4, 5)).astype(np.float32)
    h1, c1 = lstm.lstm_cell(p, x, h, c)
    # Independent float64 reference, gates in Keras order i, f, c, o.
    z = x.astype(np.float64) @ p.kernel + h @ p.recurrent_kernel + p.bias
    u = 5
    i, f, g, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u : 2 * u]), np.tanh(z[:, 2 * u : 3 * u]), _sigmoid(z[:, 3 * u :])
    c_ref = f * c + i * g
    h_ref = o * np.tanh(c_ref)
    np.testing.assert_allclose(c1, c_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1, h_ref, rtol=1e-5, atol=1e-6)


def test_hard_sigmoid_is_keras2_definition():
    x = jnp.array([-5.0, -2.5, -1.0, 0.0, 1.0, 2.5, 5.0])
    np.testing.assert_allclose(lstm.hard_sigmoid(x), np.clip(0.2 * np.asarray(x) + 0.5, 0, 1))


def test_init_follows_keras_initializers():
    from lstmtune.engine.models import network

    p = network.init(np.random.default_rng(1), 2, (3,))
    (layer,) = p.layers
    rk = layer.recurrent_kernel.astype(np.float64)  # (3, 12): orthonormal rows
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-6)
    np.testing.assert_array_equal(layer.bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert np.abs(layer.kernel).max() <= np.sqrt(6 / (2 + 12))
    assert np.abs(p.dense.kernel).max() <= np.sqrt(6 / (3 + 1))
    np.testing.assert_array_equal(p.dense.bias, [0.0])


def test_keras_adam_matches_numpy_reference_and_differs_from_optax_adam():
    rng = np.random.default_rng(2)
    w = rng.normal(size=6).astype(np.float32)
    grads = [rng.normal(size=6).astype(np.float32) * 1e-3 for _ in range(3)]
    opt = keras_adam(1e-3)
    state = opt.init(jnp.asarray(w))
    params = jnp.asarray(w)
    ref = w.astype(np.float64)
    m = np.zeros(6)
    v = np.zeros(6)
    for t, g in enumerate(grads, start=1):
        upd, state = opt.update(jnp.asarray(g), state)
        params = optax.apply_updates(params, upd)
        alpha = 1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        m += (g - m) * 0.1
        v += (g**2 - v) * 0.001
        ref -= m * alpha / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(params, ref, rtol=1e-6)
    # optax.adam puts epsilon elsewhere: with gradients this small it visibly differs.
    o2 = optax.adam(1e-3, eps=1e-7)
    s2 = o2.init(jnp.asarray(w))
    p2 = jnp.asarray(w)
    for g in grads:
        u2, s2 = o2.update(jnp.asarray(g), s2)
        p2 = optax.apply_updates(p2, u2)
    assert np.max(np.abs(np.asarray(p2) - ref)) > 1e-7


def test_population_equals_single_runs(prob):
    arch = engine.Architecture(units=2, batch_size=4)
    sched = engine.Schedule.for_checkpoints([60])
    seeds = [11, 12, 13, 14, 15]
    lrs = [1e-3, 2e-3, 5e-4, 1e-3, 3e-3]
    pop = engine.train_population(prob, arch, sched, seeds=seeds, learning_rate=lrs)
    for k, (seed, lr) in enumerate(zip(seeds, lrs)):
        one = engine.train_population(prob, arch, sched, seeds=[seed], learning_rate=lr)
        # Vectorisation may change float32 rounding in the last bits only.
        np.testing.assert_allclose(pop.test_pred[k], one.test_pred[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(pop.params.layers[0].kernel[k], one.params.layers[0].kernel[0], rtol=1e-5, atol=1e-6)
    # Different learning rates really were used.
    assert not np.allclose(pop.test_pred[0], pop.test_pred[1])


def test_checkpoints_equal_separate_runs(prob):
    arch = engine.Architecture(units=1, batch_size=4)
    seeds = [3, 4, 5]
    long = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([20, 50, 100]), seeds=seeds)
    for k, epochs in enumerate([20, 50, 100]):
        short = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([epochs]), seeds=seeds)
        np.testing.assert_array_equal(long.test_pred[:, k], short.test_pred[:, 0])
        np.testing.assert_array_equal(long.train_pred[:, k], short.train_pred[:, 0])
    assert not np.array_equal(long.test_pred[:, 0], long.test_pred[:, 2])


def test_diagnostic_curves_end_at_checkpoint_scores(prob):
    arch = engine.Architecture(units=1, batch_size=4)
    res = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([30], diagnostic=True), seeds=[1, 2])
    assert res.curves.shape == (2, 30, 2)
    np.testing.assert_array_equal(res.eval_epochs, np.arange(1, 31))
    for k in range(2):
        test_rmse = np.sqrt(np.mean((prob.invert(res.test_pred[k, -1], "test") - prob.test_actual) ** 2))
        train_rmse = np.sqrt(np.mean((prob.invert(res.train_pred[k, -1], "train") - prob.train_actual) ** 2))
        # In-program float32 scoring vs float64 NumPy scoring of the same forecasts.
        np.testing.assert_allclose(res.curves[k, -1], [train_rmse, test_rmse], rtol=1e-5)


def test_same_seed_is_bit_identical_and_seeds_matter(prob):
    arch = engine.Architecture(units=1, batch_size=2)
    prob2 = problem.prepare(data.load("shampoo"), problem.Framing(trim=2), 2)
    sched = engine.Schedule.for_checkpoints([40])
    a = engine.train_population(prob2, arch, sched, seeds=[42, 43])
    b = engine.train_population(prob2, arch, sched, seeds=[42, 43])
    np.testing.assert_array_equal(a.test_pred, b.test_pred)
    assert not np.array_equal(a.test_pred[0], a.test_pred[1])


@pytest.mark.parametrize("stored", [False, True])
def test_no_recompilation_when_only_numbers_change(prob, monkeypatch, tmp_path, stored):
    """Counted in jax.jit's cache, and (``stored``) in the programs engine/aot.py keeps."""
    from lstmtune.engine import aot

    monkeypatch.setattr(aot, "_folder", (lambda: tmp_path) if stored else (lambda: None))
    monkeypatch.setattr(aot, "_memory", {})
    arch = engine.Architecture(units=1, batch_size=4)
    sched = engine.Schedule.for_checkpoints([7])
    engine.train_population(prob, arch, sched, seeds=[1, 2, 3], learning_rate=1e-3)
    _, jitted = engine.program(*engine.program_key(arch, sched))

    class _Count:
        def _cache_size(self):
            return len(aot._memory) if stored else jitted._cache_size()

    fn = _Count()
    before = fn._cache_size()
    # New seeds, new learning rates, new data values of the same shape: no compile.
    other = dataclasses.replace(prob, train_y=prob.train_y * 0.5, test_actual=prob.test_actual + 1)
    engine.train_population(other, arch, sched, seeds=[7, 8, 9], learning_rate=[1e-2, 1e-4, 3e-3])
    assert fn._cache_size() == before
    # Sizes are padded to multiples of engine.PAD: 2 replicas run the 3-replica program,
    # and a size in the next bucket compiles exactly one more.
    engine.train_population(prob, arch, sched, seeds=[1, 2])
    assert fn._cache_size() == before
    engine.train_population(prob, arch, sched, seeds=list(range(engine.PAD + 1)))
    assert fn._cache_size() == before + (2 if stored else 1)  # stored: start and advance, each its own program


def test_epoch_counts_and_checkpoints_share_one_program(prob, monkeypatch, tmp_path):
    """Epochs between scorings and the checkpoints' epochs are arguments of the compiled
    program: other epoch counts of a shape compile nothing, and train what they trained
    when they were constants (a checkpoint equals a run of that many epochs)."""
    from lstmtune.engine import aot

    monkeypatch.setattr(aot, "_folder", lambda: tmp_path)
    monkeypatch.setattr(aot, "_memory", {})
    arch = engine.Architecture(units=1, batch_size=4)
    seven = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([7]), seeds=[1, 2])
    programs = len(aot._memory)
    assert programs == 2  # start and advance
    nine = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([9]), seeds=[1, 2])
    three = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([3]), seeds=[1, 2])
    assert len(aot._memory) == programs
    # two checkpoints keep two forecasts each: another carry, so another advance (the start
    # does not depend on them)
    both = engine.train_population(prob, arch, engine.Schedule((3, 9), eval_every=3), seeds=[1, 2])
    assert len(aot._memory) == programs + 1
    np.testing.assert_array_equal(both.test_pred[:, 0], three.test_pred[:, 0])
    np.testing.assert_array_equal(both.test_pred[:, 1], nine.test_pred[:, 0])
    assert not np.array_equal(seven.test_pred, nine.test_pred)


def test_data_shapes_and_checkpoints_share_one_start(monkeypatch, tmp_path):
    """The start (weights and optimizer state before the first epoch) depends on the
    architecture and the population only: other series lengths, test sizes and checkpoint
    counts compile a new ``advance`` but no new start, and train the same bits as ever (a
    checkpoint of a longer run equals a run of that many epochs; the lengths' results differ)."""
    from lstmtune.engine import aot

    monkeypatch.setattr(aot, "_folder", lambda: tmp_path)
    monkeypatch.setattr(aot, "_memory", {})
    names = []
    real = aot.call
    monkeypatch.setattr(aot, "call", lambda name, *a, **k: names.append(name) or real(name, *a, **k))
    arch = engine.Architecture(units=1, batch_size=4)
    series = data.load("shampoo")
    long, short = (problem.prepare(series.head(n), problem.Framing(test_size=t), 4) for n, t in ((36, 12), (30, 8)))
    a = engine.train_population(long, arch, engine.Schedule.for_checkpoints([5]), seeds=[1, 2])
    b = engine.train_population(short, arch, engine.Schedule.for_checkpoints([5]), seeds=[1, 2])
    c = engine.train_population(long, arch, engine.Schedule((2, 5), eval_every=1), seeds=[1, 2])
    assert names.count("start") == 3
    assert len(aot._memory) == 1 + 3  # one start; an advance for each data shape and carry
    np.testing.assert_array_equal(c.test_pred[:, 1], a.test_pred[:, 0])
    assert a.test_pred.shape[2] == 12 and b.test_pred.shape[2] == 8


def test_diagnostic_runs_of_any_length_share_one_program(prob, monkeypatch, tmp_path):
    """A diagnostic run's calls hold engine.CALL_SEGMENTS segments and run as many as the
    call needs (a number, not a shape): 40, 60 and 997 epochs scored after each epoch compile
    one program, and the last call of 997 (99 + 1 segments) runs a partial call."""
    from lstmtune.engine import aot

    monkeypatch.setattr(aot, "_folder", lambda: tmp_path)
    monkeypatch.setattr(aot, "_memory", {})
    arch = engine.Architecture(units=1, batch_size=4)
    runs = {e: engine.train_population(prob, arch, engine.Schedule.for_checkpoints([e], diagnostic=True), seeds=[1, 2]) for e in (40, 60, 997)}
    assert len(aot._memory) == 2  # start and advance
    assert engine.Schedule.for_checkpoints([997], diagnostic=True).chunk == 99
    assert runs[997].curves.shape == (2, 997, 2) and np.isfinite(runs[997].curves).all()
    whole = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([997]), seeds=[1, 2])
    np.testing.assert_array_equal(runs[997].test_pred, whole.test_pred)
    np.testing.assert_array_equal(runs[997].curves[:, -1], whole.curves[:, -1])


def test_divergence_is_reported_per_replica(prob):
    arch = engine.Architecture(units=1, batch_size=4)
    sched = engine.Schedule.for_checkpoints([10])
    res = engine.train_population(prob, arch, sched, seeds=[1, 2, 3], learning_rate=[1e-3, np.inf, 1e-3])
    assert res.diverged_epoch[1] == 1
    assert res.diverged_epoch[0] == 0 and res.diverged_epoch[2] == 0
    assert np.isfinite(res.test_pred[[0, 2]]).all()
    # The healthy replicas are exactly what they are without the diverging one.
    alone = engine.train_population(prob, arch, sched, seeds=[1, 2, 3], learning_rate=1e-3)
    np.testing.assert_allclose(res.test_pred[[0, 2]], alone.test_pred[[0, 2]], rtol=1e-6)


def test_schedule_validation():
    with pytest.raises(ValueError, match="multiples"):
        engine.Schedule((10, 25), eval_every=10)
    s = engine.Schedule.for_checkpoints([500, 1000, 2000, 4000, 6000])
    assert (s.eval_every, s.segments, s.epochs) == (500, 12, 6000)


def test_chunked_diagnostic_run_equals_one_call(prob):
    # Diagnostic scoring after every epoch, run as 10 calls of the compiled program,
    # trains exactly the same networks as one uninterrupted call without scoring.
    arch = engine.Architecture(units=1, batch_size=4)
    diag = engine.Schedule.for_checkpoints([40], diagnostic=True)
    assert (diag.segments, diag.chunk) == (40, 4)
    seen = []
    a = engine.train_population(prob, arch, diag, seeds=[5, 6], on_epochs=lambda done, total: seen.append((done, total)))
    b = engine.train_population(prob, arch, engine.Schedule.for_checkpoints([40]), seeds=[5, 6])
    np.testing.assert_array_equal(a.test_pred, b.test_pred)
    np.testing.assert_array_equal(a.params.layers[0].kernel, b.params.layers[0].kernel)
    assert seen == [(4 * k, 40) for k in range(1, 11)]


def test_dropout_masks_statistics_and_inverted_scaling():
    from lstmtune.engine.models import network

    key = jax.random.key(0)
    rate = 0.2
    m = network._masks(key, jnp.float32(rate), (4000, 5), 4, jnp.bool_(True))
    values = np.unique(np.asarray(m))
    np.testing.assert_allclose(values, [0.0, 1.0 / (1.0 - rate)], rtol=1e-6)  # inverted dropout
    kept = np.mean(np.asarray(m) > 0)
    assert abs(kept - (1 - rate)) < 0.01  # 80 000 draws: 3 sigma is about 0.004
    np.testing.assert_allclose(np.mean(np.asarray(m)), 1.0, atol=0.02)  # expectation preserved
    # Independent per gate when asked (Keras implementation 1), shared otherwise.
    assert not np.array_equal(m[0], m[1])
    shared = network._masks(key, jnp.float32(rate), (10, 5), 4, jnp.bool_(False))
    for g in range(1, 4):
        np.testing.assert_array_equal(shared[0], shared[g])
    ones = network._masks(key, jnp.float32(0.0), (10, 5), 4, jnp.bool_(True))
    np.testing.assert_array_equal(ones, 1.0)


def test_dropout_is_training_only_reproducible_and_per_replica(prob):
    arch = engine.Architecture(units=3, batch_size=4, dropout=True)
    sched = engine.Schedule.for_checkpoints([30])
    a = engine.train_population(prob, arch, sched, seeds=[1, 2], dropout=[0.3, 0.0], recurrent_dropout=[0.3, 0.0])
    b = engine.train_population(prob, arch, sched, seeds=[1, 2], dropout=[0.3, 0.0], recurrent_dropout=[0.3, 0.0])
    np.testing.assert_array_equal(a.test_pred, b.test_pred)  # same seed, same masks
    plain = engine.train_population(prob, engine.Architecture(units=3, batch_size=4), sched, seeds=[1, 2])
    # The replica at rate 0 trains like a network without dropout; the other does not.
    np.testing.assert_allclose(a.test_pred[1], plain.test_pred[1], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(a.test_pred[0] - plain.test_pred[0])) > 1e-3


def test_stateless_shuffle_is_reproducible_and_changes_training(prob):
    stateless = problem.prepare(data.load("shampoo"), problem.Framing(timesteps=3), 8)
    sched = engine.Schedule.for_checkpoints([20])
    shuffled = engine.Architecture(units=2, batch_size=8, stateful=False, shuffle=True)
    a = engine.train_population(stateless, shuffled, sched, seeds=[4, 5])
    b = engine.train_population(stateless, shuffled, sched, seeds=[4, 5])
    np.testing.assert_array_equal(a.test_pred, b.test_pred)
    ordered = engine.train_population(stateless, engine.Architecture(units=2, batch_size=8, stateful=False), sched, seeds=[4, 5])
    assert np.max(np.abs(a.test_pred - ordered.test_pred)) > 1e-4
    with pytest.raises(ValueError, match="shuffle requires stateful=False"):
        engine.Architecture(units=2, batch_size=8, shuffle=True)
