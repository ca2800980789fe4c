"""Decoding: every real image format and mode reads the same, every bad input gets one sentence."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from model.reader import read_digits
from model.reader.imaging import MAX_PIXELS, NoDigitError, ReadError, decode_image
from training.synthetic_scans import PageStyle, compose_page

NOT_AN_IMAGE = "The file is not a supported image"


@pytest.fixture(scope="module")
def page(mnist) -> tuple[np.ndarray, str]:
    """Three real MNIST test digits written dark on light paper, and their labels."""
    picked = [0, 1, 2]  # 7, 2, 1
    image, _ = compose_page([[mnist.x_test[i] for i in picked]], PageStyle(digit_height=60))
    return image, "".join(str(mnist.y_test[i]) for i in picked)


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    if fmt == "HEIF":  # as an iPhone saves a photo; the app registers no HEIF writer
        pillow_heif.from_pillow(image).save(out, **params)
    else:
        image.save(out, format=fmt, **params)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_convention_is_grey_with_white_one() -> None:
    gray = decode_image(np.tile(np.array([0, 128, 255], np.uint8).repeat(3), (8, 1)))
    assert gray.dtype == np.float32 and gray.shape == (8, 9)
    assert gray[0, 0] == 0.0 and gray[0, -1] == 1.0 and 0.49 < gray[0, 4] < 0.51


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "HEIF", "AVIF"])
def test_every_real_format_reads_the_digits(fmt, page, predictor) -> None:
    image, labels = page
    lossy = {"quality": 90} if fmt in ("JPEG", "HEIF", "AVIF") else {}
    data = _encode(Image.fromarray(image).convert("RGB"), fmt, **lossy)
    assert read_digits(data, predictor).text == labels
    assert Image.open(io.BytesIO(data)).format == fmt  # (HEIF: once the reader has opened one)


@pytest.mark.parametrize("mode", ["1", "P", "RGB", "CMYK", "LA", "RGBA", "I;16", "I", "F"])
def test_every_colour_mode_decodes_to_the_same_grey(mode, page) -> None:
    image, _ = page
    base = Image.fromarray(image)
    if mode == "I;16":
        converted = Image.fromarray(image.astype(np.uint16) * 257)
    elif mode == "F":
        converted = Image.fromarray(image.astype(np.float32) / 255.0)
    else:
        converted = base.convert(mode)
    gray = decode_image(converted)
    reference = image.astype(np.float32) / 255.0
    tolerance = 0.5 if mode == "1" else 0.02  # "1" is dithered bilevel
    assert gray.shape == image.shape
    assert np.abs(gray - reference).mean() < tolerance / 4
    assert np.abs(gray - reference).max() <= (1.0 if mode == "1" else tolerance)


def test_sixteen_bit_png_file(tmp_path, page, predictor) -> None:
    image, labels = page
    path = tmp_path / "deep.png"
    Image.fromarray(image.astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode.startswith("I")
    assert read_digits(path, predictor).text == labels


def test_bits_written_as_levels_0_and_1_read_as_black_and_white(tmp_path, page,
                                                                 predictor) -> None:
    # An array of bits saved as an image without scaling (levels 0 and 1 of 255) is black
    # to the eye; the reader took it for one solid stroke and read every such file "1"
    # (USPS test digits boxed so: 264 of 2,007 right, the 1s; now 1,955).
    image, labels = page
    for bits, name in ((image > 127, "ink-0.png"), (image <= 127, "ink-1.png")):
        for depth in (np.uint8, np.uint16):
            path = tmp_path / f"{depth.__name__}-{name}"
            Image.fromarray(bits.astype(depth)).save(path)
            assert set(np.unique(decode_image(path))) == {0.0, 1.0}
            assert read_digits(path, predictor).text == labels
    # Levels 0, 1 and 2 are a dark picture, not bits: kept as dark as it is.
    assert decode_image(_png(image // 100)).max() <= 2 / 255 + 1e-6


def test_eight_bit_levels_in_a_sixteen_bit_file(tmp_path, page, predictor) -> None:
    # Written unscaled, levels up to 255 of 65,535: black to the eye, and read as one
    # solid stroke, "1" (USPS test digits as scans so: 264 of 2,007 right; now 1,966,
    # as in 8 bits). They are the 8-bit levels they were.
    image, labels = page
    path = tmp_path / "unscaled.png"
    Image.fromarray(image.astype(np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    assert np.allclose(decode_image(path), image / 255.0, atol=1e-6)
    assert read_digits(path, predictor).text == labels
    assert np.allclose(decode_image(image.astype(np.uint16)), image / 255.0, atol=1e-6)


def test_netpbm_scans_read_as_png_does(page, predictor) -> None:
    # PBM, PGM and PPM: what Linux scanning (SANE's scanimage) writes unless told
    # otherwise, and how many digit sets keep one-bit and grey scans. They were refused
    # as "not a supported image". PBM's 1 is black; PGM levels run to the file's own
    # maximum (15, 255, 65,535), written in text or in bytes.
    image, labels = page
    height, width = image.shape
    bits = image < 128
    levels = image.astype(np.uint32)

    def header(magic: str, top: int | None = None) -> bytes:
        return f"{magic}\n# a comment\n{width} {height}\n".encode() + (
            f"{top}\n".encode() if top else b"")

    files = {
        "P1 text": header("P1") + "\n".join(" ".join("1" if b else "0" for b in row)
                                            for row in bits).encode(),
        "P4 bytes": header("P4") + np.packbits(bits, axis=1).tobytes(),
        "P2 text, 15": header("P2", 15) + "\n".join(
            " ".join(str(v) for v in row) for row in levels * 15 // 255).encode(),
        "P5 bytes, 255": header("P5", 255) + image.tobytes(),
        "P5 bytes, 65535": header("P5", 65535) + (levels * 257).astype(">u2").tobytes(),
        "P6 colour": header("P6", 255) + np.dstack([image] * 3).tobytes(),
    }
    for name, data in files.items():
        gray = decode_image(data)
        tolerance = 0.5 if name.startswith(("P1", "P4")) else 1 / 15
        assert np.abs(gray - image / 255.0).max() <= tolerance, name
        assert read_digits(data, predictor).text == labels, name
    with pytest.raises(ReadError, match="damaged or incomplete"):
        decode_image(files["P5 bytes, 255"][: len(files["P5 bytes, 255"]) // 2])
    with pytest.raises(ReadError, match="too large"):
        decode_image(b"P5\n8000 6000\n255\n" + bytes(64))


def test_transparency_is_composited_onto_white(page, predictor) -> None:
    image, labels = page
    ink = 1.0 - image.astype(np.float32) / image.max()
    rgba = np.zeros((*image.shape, 4), np.uint8)  # black strokes, transparent paper
    rgba[..., 3] = np.round(ink * 255)
    assert decode_image(rgba)[0, 0] == 1.0  # convert("L") would make it black
    assert read_digits(_encode(Image.fromarray(rgba), "PNG"), predictor).text == labels
    la = Image.fromarray(rgba).convert("LA")
    assert read_digits(la, predictor).text == labels
    palette = Image.fromarray(rgba).convert("PA")
    assert decode_image(palette)[0, 0] == 1.0


def test_white_strokes_on_transparency_stay_visible(page, predictor) -> None:
    image, labels = page
    rgba = np.full((*image.shape, 4), 255, np.uint8)
    rgba[..., 3] = np.round((1.0 - image / image.max()) * 255)
    assert read_digits(rgba, predictor).text == labels


def test_animated_gif_reads_its_first_frame(page, predictor) -> None:
    image, labels = page
    frames = [Image.fromarray(image), Image.fromarray(255 - image)]
    data = io.BytesIO()
    frames[0].save(data, format="GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data.getvalue())).n_frames == 2
    assert read_digits(data.getvalue(), predictor).text == labels


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF", "AVIF"])
def test_a_phone_photo_is_turned_upright(fmt, page, predictor) -> None:
    image, labels = page
    sideways = Image.fromarray(np.ascontiguousarray(np.rot90(image)))  # as the sensor stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = _encode(sideways.convert("RGB"), fmt, quality=92, exif=exif.tobytes())
    gray = decode_image(data)
    assert gray.shape == image.shape  # upright, not sideways, and not turned twice
    assert np.abs(gray - image / 255.0).mean() < 0.02
    assert read_digits(data, predictor).text == labels


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_phone_photo_cut_short_is_damaged(fmt, page) -> None:
    image, _ = page
    data = _encode(Image.fromarray(image).convert("RGB"), fmt, quality=90)
    for cut in (len(data) // 3, len(data) - 50):
        with pytest.raises(ReadError, match=r"^The image file is damaged or incomplete\.$"):
            decode_image(data[:cut])


def test_a_video_is_not_an_image() -> None:
    """MP4 and MOV files are ISO media as HEIC is, but not pictures."""
    mp4_header = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isomiso2"
    with pytest.raises(ReadError, match=NOT_AN_IMAGE):
        decode_image(mp4_header + bytes(2000))


def test_arrays_of_all_kinds(page) -> None:
    image, _ = page
    reference = image.astype(np.float32) / 255.0
    rgb = np.repeat(image[..., None], 3, axis=2)
    for array in (image, reference, rgb, rgb.astype(np.float32) / 255.0, image[..., None]):
        assert np.allclose(decode_image(array), reference, atol=0.01)
    assert decode_image(image > 127).max() == 1.0
    with pytest.raises(ReadError, match="not an image"):
        decode_image(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ReadError, match="invalid"):
        decode_image(np.full((10, 10), np.nan, np.float32))


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(ReadError, match=r"^The file does not exist\.$"):
        decode_image(tmp_path / "nope.png")
    with pytest.raises(ReadError, match="folder"):
        decode_image(tmp_path)


@pytest.mark.parametrize("content", [
    b"this is a text file, renamed",
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
    b"",
], ids=["text", "pdf", "svg", "empty"])
def test_not_an_image(tmp_path, content) -> None:
    path = tmp_path / "digits.png"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=NOT_AN_IMAGE):
        decode_image(path)


def test_unsupported_real_format_is_refused(page) -> None:
    image, _ = page
    icon = _encode(Image.fromarray(image).resize((32, 32)), "ICO")
    with pytest.raises(ReadError, match=NOT_AN_IMAGE):
        decode_image(icon)


def test_truncated_and_corrupt_files(page) -> None:
    image, _ = page
    png = _encode(Image.fromarray(image), "PNG")
    jpeg = _encode(Image.fromarray(image), "JPEG")
    corrupt = png[:60] + bytes(b ^ 0x5A for b in png[60:])
    for data in (png[: len(png) // 2], jpeg[: len(jpeg) // 3], corrupt):
        with pytest.raises(ReadError, match="damaged or incomplete"):
            decode_image(data)


@pytest.mark.parametrize(("width", "height", "message"), [
    (3, 3, "too small"),
    (10000, 10, "too long and narrow"),
    (8000, 6000, "too large"),  # 48 MP: under Pillow's own limit, over ours
    (100_000, 100_000, "too many pixels"),  # Pillow's bomb check fires first
])
def test_refused_sizes(width, height, message) -> None:
    assert width * height > MAX_PIXELS or min(width, height) < 8 or width / height > 50
    with pytest.raises(ReadError, match=message):
        decode_image(png_header_only(width, height))


def test_refused_sizes_of_arrays() -> None:
    with pytest.raises(ReadError, match="too small"):
        decode_image(np.zeros((3, 3), np.uint8))
    with pytest.raises(ReadError, match="too long"):
        decode_image(np.zeros((10, 1000), np.uint8))


def test_unreadable_source_type() -> None:
    with pytest.raises(ReadError, match="Cannot read an image from a int"):
        decode_image(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["white", "grey", "black", "noise", "paper grain", "shading"])
def test_no_digit_pages(name, predictor) -> None:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:400]
    pages = {
        "white": np.full((300, 400), 255, np.uint8),
        "grey": np.full((300, 400), 128, np.uint8),
        "black": np.zeros((300, 400), np.uint8),
        "noise": rng.integers(0, 256, (300, 400), dtype=np.uint8),
        "paper grain": np.clip(rng.normal(225, 8, (300, 400)), 0, 255).astype(np.uint8),
        "shading": (250 - 120 * xx / 400 - 40 * ((yy - 150) / 150) ** 2).astype(np.uint8),
    }
    with pytest.raises(NoDigitError, match=r"^No digit found in the image\.$"):
        read_digits(pages[name], predictor)


def test_errors_are_value_errors(tmp_path: Path) -> None:
    """Callers may catch ValueError; ReadError is one."""
    with pytest.raises(ValueError):
        decode_image(tmp_path / "missing.jpg")


def _png(levels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(levels.astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()
