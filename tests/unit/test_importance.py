"""Kernel-importance analysis on a hand-built model and on mnist17."""

import numpy as np
import pytest

from xai_core.importance import ImportanceResult, affine_head, analyse


def hand_built(only: int = 3, channels: int = 6):
    """Conv (6 channels, linear) -> Flatten -> Dense(4, relu) -> Dense(2): only channel ``only`` reaches the head."""
    import keras

    rng = np.random.default_rng(0)
    inp = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False, name="conv")
    x = conv(inp)
    flat = keras.layers.Flatten()(x)
    d1 = keras.layers.Dense(4, activation="relu", name="d1")
    d2 = keras.layers.Dense(2, name="d2")
    model = keras.Model(inp, d2(d1(flat)))
    conv.set_weights([rng.normal(size=(3, 3, 1, channels))])
    w = np.zeros((8, 8, channels, 4))
    w[:, :, only, :] = rng.normal(size=(8, 8, 4))
    d1.set_weights([w.reshape(-1, 4), np.full(4, 0.1)])
    d2.set_weights([rng.normal(size=(4, 2)), np.array([0.2, -0.1])])
    return model


@pytest.fixture(scope="module")
def hand_split():
    from xai_core.graph import flatten
    from xai_core.linear_stack import split_linear_stack

    return split_linear_stack(flatten(hand_built()))


@pytest.mark.parametrize("path", ["affine", "generic"])
def test_only_channel_3_matters(hand_split, path):
    x = np.random.default_rng(1).uniform(size=(5, 8, 8, 1)).astype(np.float32)
    g = hand_split.g(x).numpy()
    head = affine_head(hand_split.h) if path == "affine" else (lambda t: hand_split.h(t).numpy())
    if path == "affine":
        assert head is not None
    res = analyse(g, head, threshold=0.3)
    assert np.all(res.order[:, 0] == 3)
    assert np.all(res.needed == 1)
    np.testing.assert_array_equal(res.channel_counts(), [0, 0, 0, 5, 0, 0])
    assert np.all(res.mae < 1e-5)
    others = np.delete(res.harm, 3, axis=1)
    assert np.all(others == 0) and np.all(res.harm[:, 3] > 0)
    np.testing.assert_allclose(res.full, hand_split.h(g).numpy(), rtol=1e-5, atol=1e-6)


def test_affine_and_generic_paths_agree_on_mnist17(registry):
    from xai_core.graph import flatten
    from xai_core.linear_stack import split_linear_stack

    entry = registry.get("mnist17")
    split = split_linear_stack(flatten(entry.logits_model))
    g = split.g(entry.x[[0, 33]]).numpy()
    fast = analyse(g, affine_head(split.h), threshold=0.3)
    slow = analyse(g, lambda t: split.h(t).numpy(), threshold=0.3)
    np.testing.assert_allclose(fast.harm, slow.harm, atol=1e-4 * np.abs(slow.full).max())
    np.testing.assert_array_equal(fast.needed, slow.needed)
    # a direct check of one ablation: zero channel order[0] and run h
    gi = g[0].copy()
    gi[:, :, fast.order[0, 0]] = 0
    out = split.h(gi[None]).numpy()[0]
    assert np.mean(np.abs(out - fast.full[0])) == pytest.approx(fast.harm[0, fast.order[0, 0]], rel=1e-3)
    # the approximate model with the needed channels meets the threshold, one channel fewer does not
    keep = np.zeros(128, np.float32)
    k = fast.needed[0]
    keep[fast.order[0, :k]] = 1
    err = np.mean(np.abs(split.h((g[0] * keep)[None]).numpy()[0] - fast.full[0]))
    assert err < 0.3 * np.mean(np.abs(fast.full[0])) + 1e-5
    keep[fast.order[0, k - 1]] = 0
    err_less = np.mean(np.abs(split.h((g[0] * keep)[None]).numpy()[0] - fast.full[0]))
    assert k == 1 or err_less >= 0.3 * np.mean(np.abs(fast.full[0])) - 1e-5


def test_stochastic_variant_and_round_trip(hand_split):
    x = np.random.default_rng(2).uniform(size=(4, 8, 8, 1)).astype(np.float32)
    g = hand_split.g(x).numpy()
    res = analyse(g, affine_head(hand_split.h), n_sampled=2, seed=5)
    assert np.all(np.sum(~np.isnan(res.harm), axis=1) == 2)
    assert res.method.startswith("stochastic")
    assert sorted(res.order[0]) == list(range(6))
    back = ImportanceResult.from_dict(res.to_dict())
    np.testing.assert_array_equal(back.order, res.order)
    np.testing.assert_array_equal(np.isnan(back.harm), np.isnan(res.harm))
    with pytest.raises(ValueError, match="n_sampled"):
        analyse(g, affine_head(hand_split.h), n_sampled=0)


def test_progress_is_reported_and_can_cancel(hand_split):
    g = hand_split.g(np.ones((5, 8, 8, 1), np.float32)).numpy()
    seen = []
    analyse(g, affine_head(hand_split.h), batch_images=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]

    class Stop(Exception):
        pass

    def cancel(done, total):
        raise Stop

    with pytest.raises(Stop):
        analyse(g, affine_head(hand_split.h), batch_images=2, progress=cancel)
