"""The warm-up through a history (engine.rollout.warm) runs a power-of-two number of
minibatches so that histories of every length share a few compiled programs: the padding
comes after the history and must change no bit of what the history gives."""

import jax
import numpy as np
import pytest

from lstmtune.engine import rollout
from lstmtune.engine import trainer as engine


def test_warm_minibatches_are_the_next_power_of_two():
    assert [rollout.warm_minibatches(k) for k in range(0, 10)] == [1, 1, 2, 4, 4, 8, 8, 8, 8, 16]
    assert all(rollout.warm_minibatches(k) >= k and rollout.warm_minibatches(k) < 2 * max(k, 1) for k in range(1, 300))


@pytest.mark.parametrize("stateful", [True, False])
def test_padding_the_warm_up_changes_no_bit(stateful):
    arch = engine.Architecture(units=(3,), batch_size=4, stateful=stateful, shuffle=not stateful)
    params = engine.init_population([1, 2, 3], 2, arch)
    net = rollout.Network("lstm", "sigmoid", (3,), 4, stateful, params)
    warm_fn, _ = rollout._kernels_for(net)
    rng = np.random.default_rng(0)
    for k in (3, 6):  # padded to 4 and 8 minibatches
        x = rng.normal(size=(k, 4, 1, 2)).astype(np.float32)
        exact_y, exact_states = warm_fn(params, x)  # the unpadded program
        padded = np.concatenate([x, np.zeros((rollout.warm_minibatches(k) - k, 4, 1, 2), np.float32)])
        y, states = warm_fn(params, padded)
        np.testing.assert_array_equal(np.asarray(y)[:, :k], np.asarray(exact_y))
        for a, b in zip(jax.tree_util.tree_leaves(states), jax.tree_util.tree_leaves(exact_states)):
            np.testing.assert_array_equal(np.asarray(a)[:, :k], np.asarray(b))
