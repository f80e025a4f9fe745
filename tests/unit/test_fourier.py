"""Spectra match numpy.fft; radial profiles of known kernels are right."""

import numpy as np
import pytest

from xai_core import fourier
from xai_core.kernels import draw, kernel_spectrum, resolve_fft_size


def test_spectrum_matches_numpy_fft_with_padding():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(3, 3))
    padded = np.zeros((32, 32))
    padded[:3, :3] = k
    np.testing.assert_allclose(fourier.spectrum(k, 32, centered=False), np.fft.fft2(padded), atol=1e-12)
    np.testing.assert_allclose(fourier.spectrum(k, 32), np.fft.fftshift(np.fft.fft2(padded)), atol=1e-12)


def test_delta_kernel_has_flat_magnitude_and_linear_phase():
    k = np.zeros((3, 3))
    k[0, 0] = 1.0
    f = fourier.spectrum(k, 16)
    np.testing.assert_allclose(np.abs(f), 1.0)
    freq, profile = fourier.radial_profile(np.abs(f) ** 2)
    np.testing.assert_allclose(profile, 1.0)
    assert fourier.band_character(freq, profile) == "flat (all-pass)"


def test_box_filter_dc_is_its_sum_and_it_is_low_pass():
    k = np.full((3, 3), 1 / 9)
    f = fourier.spectrum(k, 32)
    assert abs(f[16, 16] - 1.0) < 1e-12  # zero frequency sits at the centre
    freq, profile = fourier.layer_power_profile(k[:, :, None, None], 32)
    assert profile[0] == pytest.approx(1.0)
    assert np.all(np.diff(profile[:8]) < 0)
    assert fourier.band_character(freq, profile) == "low-pass"


def test_laplacian_is_high_pass_with_analytic_profile():
    k = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], float)
    # |F|^2 along the horizontal axis: (2 - 2 cos(2 pi f))^2
    f = fourier.spectrum(k, 64)
    row = np.abs(f[32, :]) ** 2
    freqs = fourier.frequencies(64)
    np.testing.assert_allclose(row, (2 - 2 * np.cos(2 * np.pi * freqs)) ** 2, atol=1e-9)
    freq, profile = fourier.radial_profile(np.abs(f) ** 2)
    assert profile[0] == pytest.approx(0.0, abs=1e-12)
    assert fourier.band_character(freq, profile).startswith(("high-pass", "band-pass"))
    assert freq[-1] == pytest.approx(0.5)


def test_radial_profile_of_radial_function():
    n = 33
    y, x = np.mgrid[:n, :n] - n // 2
    power = np.hypot(x, y)  # value equals radius in bins
    freq, profile = fourier.radial_profile(power)
    # each ring averages radii that round to r, so the mean is within half a bin of r
    assert np.all(np.abs(profile[1:] - np.arange(1, len(profile))) < 0.5)


def test_phase_is_zero_where_magnitude_vanishes():
    f = np.array([1e-20 + 1e-20j, 1 + 1j])
    np.testing.assert_allclose(fourier.phase(f), [0.0, np.pi / 4])


def test_draw_is_seeded_distinct_and_bounded():
    k = np.random.default_rng(0).normal(size=(3, 3, 4, 5))
    a = draw(k, 6, np.random.default_rng(3))
    b = draw(k, 6, np.random.default_rng(3))
    assert [(d.c_in, d.c_out) for d in a] == [(d.c_in, d.c_out) for d in b]
    assert len({(d.c_in, d.c_out) for d in a}) == 6
    for d in a:
        np.testing.assert_array_equal(d.kernel, k[:, :, d.c_in, d.c_out])
    assert len(draw(k, 100, np.random.default_rng(0))) == 20


def test_fft_size_choices_and_kernel_spectrum():
    assert resolve_fft_size("kernel", (3, 3), (28, 28)) == 3
    assert resolve_fft_size("32", (3, 3), (28, 28)) == 32
    assert resolve_fft_size("input", (3, 3), (42, 42)) == 42
    assert resolve_fft_size("2", (5, 5), (28, 28)) == 5  # never smaller than the kernel
    with pytest.raises(ValueError):
        resolve_fft_size("huge", (3, 3), (28, 28))
    ks = kernel_spectrum(np.ones((2, 2)), 8)
    assert ks.magnitude.shape == (8, 8) and ks.magnitude[4, 4] == pytest.approx(4.0)
