"""Decoding user images and fitting them to a model's input."""

import io

import numpy as np
import pytest
from PIL import Image

from xai_core.images import ImageError, decode_image, fit_to_model


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_grayscale_png_round_trip():
    a = (np.arange(64 * 48) % 256).reshape(48, 64).astype(np.uint8)
    out = decode_image(encode(Image.fromarray(a)))
    assert out.shape == (48, 64, 1)
    np.testing.assert_allclose(out[..., 0], a / 255.0, atol=1e-7)


def test_sixteen_bit_png_keeps_precision():
    a = np.linspace(0, 65535, 40 * 30).reshape(30, 40).astype(np.uint16)
    out = decode_image(encode(Image.fromarray(a)))
    np.testing.assert_allclose(out[..., 0], a / 65535.0, atol=1e-6)


def test_rgba_is_composited_on_black_and_palette_becomes_rgb():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 128
    out = decode_image(encode(Image.fromarray(rgba, "RGBA")))
    assert out.shape == (8, 8, 3)
    assert out[0, 0, 0] == pytest.approx(200 / 255 * 128 / 255, abs=1e-6)
    pal = Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).convert("P")
    assert decode_image(encode(pal)).shape == (8, 8, 3)


def test_cmyk_jpeg_and_bmp_and_tiff_decode():
    rgb = Image.fromarray(np.full((10, 12, 3), 120, np.uint8))
    assert decode_image(encode(rgb.convert("CMYK"), "JPEG")).shape == (10, 12, 3)
    assert decode_image(encode(rgb, "BMP")).shape == (10, 12, 3)
    assert decode_image(encode(rgb, "TIFF")).shape == (10, 12, 3)


@pytest.mark.parametrize("data,pattern", [
    (b"", "empty"),
    (b"not an image at all" * 10, "could not read"),
    (b"<html><body>hello</body></html>", "could not read"),
])
def test_unreadable_bytes_get_a_message(data, pattern):
    with pytest.raises(ImageError, match=pattern):
        decode_image(data, "x.png")


def test_truncated_png_and_gif_and_tiny_images_are_refused():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)))
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2], "cut.png")
    gif = encode(Image.fromarray(np.zeros((8, 8), np.uint8)), "GIF")
    with pytest.raises(ImageError, match="GIF"):
        decode_image(gif)
    with pytest.raises(ImageError, match="at least"):
        decode_image(encode(Image.fromarray(np.zeros((1, 1), np.uint8))))


def test_huge_dimensions_are_refused_before_decoding():
    with pytest.raises(ImageError, match="megapixels"):
        decode_image(encode(Image.fromarray(np.zeros((100, 100), np.uint8))), max_pixels=5000)


def test_fit_converts_channels_resizes_and_pads():
    rgb = np.random.default_rng(0).random((64, 48, 3)).astype(np.float32)
    fitted = fit_to_model(rgb, (42, 42, 1), padding=5)
    assert fitted.x.shape == (42, 42, 1)
    assert np.all(fitted.x[:5] == 0) and np.all(fitted.x[:, -5:] == 0)
    assert any("grayscale" in n for n in fitted.notes) and any("32×32" in n for n in fitted.notes)
    gray = np.random.default_rng(1).random((32, 32, 1)).astype(np.float32)
    same = fit_to_model(gray, (32, 32, 3))
    assert same.x.shape == (32, 32, 3) and np.allclose(same.x[..., 0], same.x[..., 2])
    assert fit_to_model(gray, (32, 32, 1), value_range=(0, 255)).x.max() > 1.0
