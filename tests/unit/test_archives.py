"""Sample uploads: .npz, .zip and single images, and the bad-input corpus (each with its own message)."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.uploads import images, png_bytes, sample_npz, sample_zip
from xai_core.archives import Limits, SampleError, read_class_names, read_samples, safe_filename


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_npz_with_labels_is_read_as_model_input():
    x = np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float32)
    y = np.array([0, 1, 1, 0, 1])
    s = read_samples(sample_npz(x, y), "data.npz")
    np.testing.assert_array_equal(s.x, x)
    np.testing.assert_array_equal(s.y, y)
    assert s.images is None and len(s) == 5


def test_integer_npz_is_read_as_images_and_one_hot_labels_as_argmax():
    x = images(3, 8, 3)
    y = np.eye(4)[[2, 0, 3]]
    s = read_samples(sample_npz(x, y), "d.npz")
    np.testing.assert_allclose(s.images[1], x[1] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(s.y, [2, 0, 3])


def test_zip_with_class_folders_gives_labels_and_names():
    s = read_samples(sample_zip(["cat", "dog", "emu"], per_class=2, size=12), "data.zip")
    assert s.class_names == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(s.y, [0, 0, 1, 1, 2, 2])
    assert s.images[0].shape == (12, 12, 3)


def test_flat_zip_has_no_labels():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, im in enumerate(images(3, 10, 1)):
            zf.writestr(f"img{i}.png", png_bytes(im))
        zf.writestr("readme.txt", "hello")
    s = read_samples(buf.getvalue(), "flat.zip")
    assert s.y is None and s.class_names is None and len(s) == 3
    assert any("not images" in n for n in s.notes)


@pytest.mark.parametrize("ext,needle", [
    (".npz", "not a readable zip archive"),
    (".zip", "not a readable zip archive"),
    (".png", "could not read"),
    (".jpg", "could not read"),
    (".tif", "could not read"),
    (".bmp", "could not read"),
])
def test_random_bytes_with_each_accepted_extension(ext, needle):
    data = np.random.default_rng(1).integers(0, 256, 4096).astype(np.uint8).tobytes()
    with pytest.raises(SampleError, match=needle):
        read_samples(data, f"junk{ext}")


@pytest.mark.parametrize("ext", [".txt", ".json"])
def test_random_bytes_as_class_names(ext):
    data = np.random.default_rng(2).integers(128, 256, 512).astype(np.uint8).tobytes()
    with pytest.raises(SampleError, match="not UTF-8 text"):
        read_class_names(data, f"names{ext}")


def test_zip_bomb_is_refused_before_extraction():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/b.png", b"\0" * (64 * 2**20))  # 64 MiB of zeros compress ~1000-fold
    data = buf.getvalue()
    assert len(data) < 2**20
    with pytest.raises(SampleError, match="zip bomb.*before extracting"):
        read_samples(data, "bomb.zip")
    with pytest.raises(SampleError, match="would decompress to 64 MiB"):
        read_samples(data, "bomb.zip", Limits(max_uncompressed=32 * 2**20))


def test_zip_with_parent_paths_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok/img.png", png_bytes(images(1, 8)[0]))
        zf.writestr("../../evil.png", png_bytes(images(1, 8)[0]))
    with pytest.raises(SampleError, match="unsafe path '../../evil.png'"):
        read_samples(buf.getvalue(), "../../x/escape.zip")
    assert not (tmp_path.parent / "evil.png").exists()


def test_too_many_files_in_archive():
    with pytest.raises(SampleError, match="holds 6 files; the limit is 5"):
        read_samples(sample_zip(["a", "b", "c"], per_class=2, size=8), "d.zip", Limits(max_files=5))


def test_one_pixel_image():
    with pytest.raises(SampleError, match="only 1×1 pixels"):
        read_samples(encode(Image.new("L", (1, 1)), "PNG"), "dot.png")


def test_huge_png_header_is_refused_before_decoding():
    # a valid 20000 x 20000 PNG header with (truncated) data: refused on its size, never decoded
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    with pytest.raises(SampleError, match="too large|megapixels"):
        read_samples(data, "huge.png")


def test_cmyk_jpeg_is_converted_to_rgb():
    img = Image.new("CMYK", (16, 12), (0, 255, 255, 0))  # pure red in CMYK
    s = read_samples(encode(img, "JPEG", quality=95), "cmyk.jpg")
    a = s.images[0]
    assert a.shape == (12, 16, 3)
    assert a[..., 0].mean() > 0.9 and a[..., 1].mean() < 0.1


def test_sixteen_bit_png_keeps_precision():
    a = np.linspace(0, 65535, 20 * 10).reshape(10, 20).astype(np.uint16)
    s = read_samples(encode(Image.fromarray(a), "PNG"), "deep.png")
    np.testing.assert_allclose(s.images[0][..., 0], a / 65535.0, atol=1e-6)


def test_animated_gif_is_refused():
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(SampleError, match="GIF image; upload a PNG"):
        read_samples(buf.getvalue(), "anim.png")
    with pytest.raises(SampleError, match="not a sample file"):
        read_samples(buf.getvalue(), "anim.gif")


def test_npz_with_object_array_is_refused_without_unpickling():
    buf = io.BytesIO()
    np.savez(buf, x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(SampleError, match="object array; KernelScope never unpickles"):
        read_samples(buf.getvalue(), "obj.npz")


def test_npz_without_x_and_bad_labels():
    buf = io.BytesIO()
    np.savez(buf, images=np.zeros((2, 4, 4)))
    with pytest.raises(SampleError, match="no array named 'x'"):
        read_samples(buf.getvalue(), "n.npz")
    with pytest.raises(SampleError, match="'y' in 'n.npz' must be 2 class indices"):
        read_samples(sample_npz(np.zeros((2, 4, 4), np.float32), np.array([0, 1, 2])), "n.npz")


def test_class_names_txt_json_and_wrong_count():
    assert read_class_names(b"cat\n\ndog\n", "c.txt", 2) == ["cat", "dog"]
    assert read_class_names(json.dumps({"1": "dog", "0": "cat"}).encode(), "c.json", 2) == ["cat", "dog"]
    with pytest.raises(SampleError, match="has 3 class names but the model has 5 classes"):
        read_class_names(b"a\nb\nc\n", "names.txt", 5)
    with pytest.raises(SampleError, match="not a class-names file"):
        read_class_names(b"a", "names.csv")


def test_client_file_names_lose_their_path():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\model.keras") == "model.keras"
    assert safe_filename("") == "upload"
