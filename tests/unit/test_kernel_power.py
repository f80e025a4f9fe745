"""Layer power spectra from the mean autocorrelation equal the mean of per-kernel FFTs; real kernels of a layer."""

import numpy as np
import pytest

from xai_core import fourier
from xai_core.kernels import draw_pairs, layer_slices, mean_power_profile, mean_power_spectrum


@pytest.mark.parametrize("kh,kw,size", [(3, 3, 32), (3, 3, 3), (5, 3, 7), (1, 1, 16), (7, 7, 8), (2, 4, 5)])
def test_mean_power_equals_mean_of_per_kernel_ffts(kh, kw, size):
    k = np.random.default_rng(kh * 10 + kw).normal(size=(kh, kw, 37))
    padded = np.zeros((size, size, 37))
    padded[:kh, :kw] = k
    expected = (np.abs(np.fft.fft2(padded, axes=(0, 1))) ** 2).mean(-1)
    np.testing.assert_allclose(mean_power_spectrum(k, size), expected, rtol=1e-10, atol=1e-12)
    f1, p1 = fourier.layer_power_profile(k[:, :, None, :], size)
    f2, p2 = mean_power_profile(k, size)
    np.testing.assert_allclose(f1, f2)
    np.testing.assert_allclose(p2, p1, rtol=1e-10, atol=1e-12)


def test_layer_slices_of_depthwise_and_separable_layers():
    import keras

    keras.utils.set_random_seed(0)
    dw = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    dw.build((None, 8, 8, 3))
    slices, pairs = layer_slices(dw)
    assert slices.shape == (3, 3, 6) and pairs == [(0, 0), (0, 1), (1, 2), (1, 3), (2, 4), (2, 5)]
    np.testing.assert_allclose(slices[:, :, 3], dw.kernel.numpy()[:, :, 1, 1])
    sep = keras.layers.SeparableConv2D(4, 3)
    sep.build((None, 8, 8, 2))
    slices, pairs = layer_slices(sep)
    d, p = sep.depthwise_kernel.numpy(), sep.pointwise_kernel.numpy()[0, 0]
    assert slices.shape == (3, 3, 8) and pairs[5] == (1, 1)
    np.testing.assert_allclose(slices[:, :, 5], d[:, :, 1, 0] * p[1, 1], rtol=1e-6)
    picked = draw_pairs(pairs, 3, np.random.default_rng(0))
    assert len(set(picked)) == 3 and set(picked) <= set(pairs)
