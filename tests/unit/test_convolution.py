"""The Fourier path equals what TensorFlow computes (this catches the convolution/cross-correlation flip)."""

import numpy as np
import pytest
import tensorflow as tf

from xai_core.convolution import embed_kernel, fft_conv2d, fft_cross_correlate, same_padding, theorem_steps

SHAPES = [  # (H, W, kh, kw): odd, even, non-square, 1x1, kernel as large as the image
    (28, 28, 3, 3), (13, 17, 4, 2), (8, 9, 5, 6), (6, 6, 1, 1), (7, 5, 7, 5), (16, 16, 2, 2), (11, 10, 5, 1),
]


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


@pytest.mark.parametrize("h,w,kh,kw", SHAPES)
def test_single_channel_equals_tf_conv2d(h, w, kh, kw):
    rng = np.random.default_rng(h * 100 + kh)
    x = rng.normal(size=(h, w)).astype(np.float32)
    k = rng.normal(size=(kh, kw)).astype(np.float32)
    ref = tf.nn.conv2d(x[None, :, :, None], k[:, :, None, None], 1, "SAME").numpy()[0, :, :, 0]
    assert rel_err(fft_cross_correlate(x, k, "linear"), ref) <= 1e-5


@pytest.mark.parametrize("h,w,kh,kw", SHAPES)
def test_multi_channel_layer_equals_tf_conv2d(h, w, kh, kw):
    rng = np.random.default_rng(7 + h + kw)
    x = rng.normal(size=(3, h, w, 4)).astype(np.float32)
    k = rng.normal(size=(kh, kw, 4, 5)).astype(np.float32)
    ref = tf.nn.conv2d(x, k, 1, "SAME").numpy()
    assert rel_err(fft_conv2d(x, k), ref) <= 1e-5


def test_true_convolution_would_fail():
    """Without the flip the FFT result is a convolution, which differs from Keras for asymmetric kernels."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 12))
    k = rng.normal(size=(3, 3))
    ref = tf.nn.conv2d(x[None, :, :, None], k[:, :, None, None], 1, "SAME").numpy()[0, :, :, 0]
    flipped = fft_cross_correlate(x, k[::-1, ::-1])
    assert rel_err(flipped, ref) > 0.1


def test_circular_mode_differs_only_at_edges():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 20))
    k = rng.normal(size=(5, 5))
    steps = theorem_steps(x, k, "circular")
    diff = np.abs(steps.difference)
    assert diff[2:-2, 2:-2].max() < 1e-5  # interior agrees
    assert diff.max() > 1e-2  # edges wrap around
    assert steps.grid == (20, 20)


def test_linear_mode_agrees_and_uses_padded_grid():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(9, 14))
    k = rng.normal(size=(3, 4))
    steps = theorem_steps(x, k, "linear")
    assert steps.grid == (11, 17)
    assert steps.relative_error < 1e-6
    # the product really is the product of the two centred spectra
    np.testing.assert_allclose(steps.product, steps.image_spectrum * steps.kernel_spectrum)
    np.testing.assert_allclose(np.fft.fftshift(np.fft.fft2(steps.kernel_embedded)), steps.kernel_spectrum)


def test_embed_kernel_places_flipped_kernel_at_origin():
    k = np.arange(9.0).reshape(3, 3)
    h = embed_kernel(k, (6, 6))
    # h[(1 - u) mod 6, (1 - v) mod 6] = k[u, v]
    assert h[1, 1] == k[0, 0] and h[0, 0] == k[1, 1] and h[5, 5] == k[2, 2] and h[0, 5] == k[1, 2]
    assert h.sum() == k.sum()


def test_same_padding_matches_tensorflow_convention():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)
    assert same_padding(1) == (0, 0)


def test_bad_mode_and_oversized_kernel_raise():
    with pytest.raises(ValueError, match="mode"):
        fft_cross_correlate(np.zeros((4, 4)), np.ones((3, 3)), "wrap")
    with pytest.raises(ValueError, match="larger"):
        embed_kernel(np.ones((5, 5)), (4, 4))
