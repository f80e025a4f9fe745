"""Reading user images and fitting them to a model's input.

:func:`decode_image` turns the bytes of a PNG, JPEG, TIFF or BMP file into a
float array in [0, 1] with 1 or 3 channels, refusing anything it cannot read
with an :class:`ImageError` whose message says what was wrong.
:func:`fit_to_model` converts channels, resizes and scales the result to a
model's input, and lists every change it made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "TIFF": "TIFF", "BMP": "BMP", "DIB": "BMP"}
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them
MIN_SIDE = 2


class ImageError(ValueError):
    """An uploaded file cannot be used as an image; the message says why."""


@dataclass
class FittedImage:
    """An image converted to a model's input, with notes on what was changed."""

    x: np.ndarray  # (H, W, C) float32 in the model's value range
    notes: list[str] = field(default_factory=list)
    original_size: tuple[int, int] = (0, 0)  # (width, height)


def _describe(name: str | None) -> str:
    return f"'{name}'" if name else "the file"


def decode_image(data: bytes, filename: str | None = None, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image bytes to ``(H, W, C)`` float32 in [0, 1], ``C`` in {1, 3}.

    8- and 16-bit grayscale, RGB, RGBA (alpha composited onto black), palette
    and CMYK images are accepted.

    Raises:
        ImageError: empty, unreadable, truncated, unsupported (GIF, animated,
            ...) or too large images, with a message that says which.
    """
    from PIL import Image, UnidentifiedImageError

    what = _describe(filename)
    if not data:
        raise ImageError(f"{what} is empty")
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"could not read {what} as an image; upload a PNG, JPEG, TIFF or BMP file") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{what} is too large to open safely ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types on corrupt headers
        raise ImageError(f"could not read {what}: {exc}") from None
    fmt = (img.format or "").upper()
    if fmt not in ACCEPTED_FORMATS:
        raise ImageError(f"{what} is a {fmt or 'unknown'} image; upload a PNG, JPEG, TIFF or BMP file")
    if getattr(img, "n_frames", 1) > 1 and fmt != "MPO":
        raise ImageError(f"{what} has {img.n_frames} frames; upload a single still image")
    w, h = img.size
    if w * h > max_pixels:
        raise ImageError(
            f"{what} is {w}×{h} pixels ({w * h / 1e6:.0f} megapixels); the limit is "
            f"{max_pixels / 1e6:.0f} megapixels"
        )
    if min(w, h) < MIN_SIDE:
        raise ImageError(f"{what} is only {w}×{h} pixels; an image needs at least {MIN_SIDE}×{MIN_SIDE}")
    try:
        img.load()
    except Exception as exc:  # noqa: BLE001 - truncated or corrupt pixel data
        raise ImageError(f"{what} is truncated or corrupt ({exc})") from None

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        a = np.asarray(img, dtype=np.uint16).astype(np.float32) / 65535.0
        return a[..., None]
    if mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if a.max(initial=0) > 255 else 255.0
        return np.clip(a / hi, 0, 1).astype(np.float32)[..., None]
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.float32)[..., None] / 255.0
    if mode == "LA" or mode == "PA" or mode == "RGBA" or (mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        rgb = rgba[..., :3] * rgba[..., 3:4]
        if mode == "LA":
            return rgb[..., :1]
        return rgb
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def fit_to_model(image: np.ndarray, input_shape: tuple[int, int, int],
                 value_range: tuple[float, float] = (0.0, 1.0), padding: int = 0) -> FittedImage:
    """Convert a decoded image to a model's input.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` in [0, 1].
        input_shape: The model's ``(H, W, C)``.
        value_range: The model's input range; [0, 1] is mapped linearly onto it.
        padding: Zero border the model's inputs carry (e.g. 5 for ``cifar10pad``):
            the image is resized to the inner area and then zero-padded.

    Returns:
        :class:`FittedImage` with notes such as "resized from 640×480 to 28×28".
    """
    from skimage.color import rgb2gray
    from skimage.transform import resize

    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise ImageError(f"expected an image of shape (H, W[, 1|3|4]), got {a.shape}")
    if a.shape[-1] == 4:
        a = a[..., :3]
    notes: list[str] = []
    h, w, c = (int(v) for v in input_shape)
    src_h, src_w = a.shape[:2]
    if c == 1 and a.shape[-1] == 3:
        a = rgb2gray(a).astype(np.float32)[..., None]
        notes.append("converted RGB to grayscale")
    elif c == 3 and a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
        notes.append("copied the grayscale channel to R, G and B")
    elif c not in (1, 3):
        raise ImageError(f"the model takes {c} channels; only 1- and 3-channel models accept images")
    inner_h, inner_w = h - 2 * padding, w - 2 * padding
    if (src_h, src_w) != (inner_h, inner_w):
        a = resize(a, (inner_h, inner_w, a.shape[-1]), anti_aliasing=(src_h > inner_h or src_w > inner_w),
                   preserve_range=True).astype(np.float32)
        notes.append(f"resized from {src_w}×{src_h} to {inner_w}×{inner_h}")
    if padding:
        a = np.pad(a, ((padding, padding), (padding, padding), (0, 0)))
        notes.append(f"zero-padded by {padding} px like the model's training data")
    lo, hi = value_range
    if (lo, hi) != (0.0, 1.0):
        a = lo + a * (hi - lo)
        notes.append(f"scaled to [{lo:g}, {hi:g}]")
    return FittedImage(np.clip(a, min(lo, hi), max(lo, hi)).astype(np.float32), notes, (src_w, src_h))
