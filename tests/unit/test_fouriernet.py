"""Fourier-Net 1/2/3 and kernel fusion against tf.nn.conv2d and the Keras model."""

import numpy as np
import pytest

from xai_core.fouriernet import FourierNet, contributions, edge_errors, fuse_kernels, interior_mask, spatial_stack


@pytest.fixture(scope="module")
def mnist_split(registry):
    from xai_core.graph import flatten
    from xai_core.linear_stack import split_linear_stack

    entry = registry.get("mnist17")
    return entry, split_linear_stack(flatten(entry.logits_model))


def test_mnist17_fuses_to_128_kernels_of_7x7(mnist_split):
    _, split = mnist_split
    fused = fuse_kernels(split.kernels)
    assert fused.kernel.shape == (7, 7, 1, 128)
    assert fused.n_layer_kernels == 32 + 32 * 64 + 64 * 128 == 10272
    assert fused.n_fused == 128 and fused.anchor == (3, 3) and fused.radius == 3


def test_variants_against_the_keras_stack(mnist_split):
    entry, split = mnist_split
    x = entry.x[:3].astype(np.float64)
    keras_g = split.g(x.astype(np.float32)).numpy()
    fnet = FourierNet(split.kernels, (28, 28))
    scale = np.abs(keras_g).max()
    # FN1 pads like the spatial model: equal everywhere
    assert np.abs(fnet.fn1(x) - keras_g).max() / scale <= 1e-5
    r = fnet.fused.radius
    inner = interior_mask((28, 28), r)
    for variant in ("fn2", "fn3"):
        out = fnet.run(variant, x)
        err = np.abs(out - keras_g)
        assert err[:, inner].max() / scale <= 1e-5, variant
        assert err[:, ~inner].max() / scale > 1e-3, variant  # the accumulative edge error
        stats = edge_errors(out, spatial_stack(x, split.kernels), r)
        assert stats["interior_rel"] <= 1e-10 and stats["border_rel"] > 1e-3
    np.testing.assert_allclose(fnet.fn2(x), fnet.fn3(x), atol=1e-10 * scale)


def fused_reference(x, fused):
    """The fused map spatially: pad once by the anchor, VALID correlation with K123 (tf.nn.conv2d)."""
    import tensorflow as tf

    kh, kw = fused.size
    pr, pc = fused.anchor
    xp = np.pad(x, ((0, 0), (pr, kh - 1 - pr), (pc, kw - 1 - pc), (0, 0)))
    return tf.nn.conv2d(xp, fused.kernel, strides=1, padding="VALID").numpy()


@pytest.mark.parametrize("sizes,channels", [
    ((3,), (2, 4)),
    ((1, 3), (1, 3, 2)),
    ((3, 5, 1), (2, 3, 4, 5)),
    ((5, 3, 3, 1), (1, 2, 2, 3, 2)),
    ((5, 5), (3, 1, 6)),
    ((2, 3), (2, 3, 2)),  # even kernels anchor off-centre, as TensorFlow's SAME does
    ((4, 2, 1), (1, 2, 2, 1)),
])
def test_random_stacks_fuse_exactly(sizes, channels):
    rng = np.random.default_rng(len(sizes) * 10 + sum(channels))
    kernels = [rng.normal(size=(k, k, channels[i], channels[i + 1])) for i, k in enumerate(sizes)]
    x = rng.normal(size=(2, 17, 19, channels[0]))
    fused = fuse_kernels(kernels)
    assert fused.size == (1 + sum(k - 1 for k in sizes),) * 2
    # the fused kernel reproduces the stack wherever no layer's padding intervened ...
    ref = spatial_stack(x, kernels)
    fnet = FourierNet(kernels, (17, 19))
    inner = interior_mask((17, 19), fused.radius)
    scale = np.abs(ref).max()
    for out in (fnet.fn2(x), fnet.fn3(x), fused_reference(x, fused)):
        assert np.abs(out - ref)[:, inner].max() <= 1e-10 * scale
    # ... and the fused map equals its own spatial definition everywhere
    assert np.abs(fnet.fn3(x) - fused_reference(x, fused)).max() <= 1e-10 * scale
    assert np.abs(fnet.fn1(x) - ref).max() <= 1e-10 * scale


def test_kernel_of_a_single_pixel_image_is_the_fused_kernel():
    rng = np.random.default_rng(3)
    kernels = [rng.normal(size=(3, 3, 1, 2)), rng.normal(size=(3, 3, 2, 1))]
    x = np.zeros((1, 15, 15, 1))
    x[0, 7, 7, 0] = 1.0
    out = spatial_stack(x, kernels)[0, :, :, 0]
    fused = fuse_kernels(kernels).kernel[:, :, 0, 0]
    # correlation with an impulse gives the kernel flipped around the centre
    np.testing.assert_allclose(out[5:10, 5:10], fused[::-1, ::-1], atol=1e-12)


def test_contributions_sum_to_the_fused_kernel(mnist_split):
    _, split = mnist_split
    terms = contributions(split.kernels, 0, 17, top=None)
    assert len(terms) == 64
    np.testing.assert_allclose(sum(t["part"] for t in terms), fuse_kernels(split.kernels).kernel[:, :, 0, 17],
                               atol=1e-12)
    norms = [t["norm"] for t in contributions(split.kernels, 0, 17, top=5)]
    assert norms == sorted(norms, reverse=True) and len(norms) == 5


def test_wrong_image_size_is_refused():
    fnet = FourierNet([np.ones((3, 3, 1, 1))], (8, 8))
    with pytest.raises(ValueError, match="built for"):
        fnet.fn3(np.zeros((1, 9, 8, 1)))


@pytest.mark.parametrize("variant", ["fn1", "fn2", "fn3"])
def test_tensorflow_versions_equal_numpy(mnist_split, variant):
    entry, split = mnist_split
    fnet = FourierNet(split.kernels, (28, 28))
    x = entry.x[:2]
    ref = fnet.run(variant, x)
    out = fnet.run_tf(variant, x)
    assert out.dtype == np.float32 and out.shape == ref.shape
    assert np.abs(out - ref).max() / np.abs(ref).max() <= 1e-5
    np.testing.assert_allclose(fnet.run_tf(variant, x[0]), out[0], atol=1e-6 * np.abs(ref).max())


def test_edge_errors_split_interior_and_border():
    ref = np.zeros((10, 12))
    out = ref.copy()
    out[0, 5] = 0.5  # border (radius 2)
    out[4, 6] = 1e-3  # interior
    ref[5, 5] = 2.0
    out[5, 5] = 2.0
    e = edge_errors(out, ref, 2)
    assert e["border"] == 0.5 and e["interior"] == pytest.approx(1e-3)
    assert e["border_rel"] == 0.25 and e["radius"] == 2
    e3 = edge_errors(out[None, :, :, None], ref[None, :, :, None], 2)
    assert e3["border"] == 0.5 and e3["interior"] == pytest.approx(1e-3)
    assert interior_mask((10, 12), 2).sum() == 6 * 8
