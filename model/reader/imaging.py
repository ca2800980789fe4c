"""Decoding: any image the app, the CLI or a service receives becomes one grey picture.

Convention: :func:`decode_image` returns float32 (H, W) luminance in [0, 1] where
1 is white and 0 is black, exactly as the picture looks, in its upright
orientation (EXIF applied). Deciding which side is ink is left to `model.reader.ink`.
Everything that cannot be read raises :class:`ReadError` with one sentence fit
for a user; nothing else escapes for bad input.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Real image formats only: a PDF, an SVG or an icon file is refused. HEIF is what
# iPhones save photos as (.heic); Pillow reads it through the pillow-heif plugin. PPM is
# Pillow's name for Netpbm's PBM, PGM and PPM (.pnm), what Linux scanning (SANE's
# `scanimage`) writes unless told otherwise, and what many published digit sets and
# image tools keep one-bit and grey scans in.
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "HEIF", "AVIF", "PPM")
FORMAT_NAMES = "PNG, JPEG, BMP, GIF, TIFF, WebP, HEIC, AVIF or PBM/PGM/PPM"
NOT_SUPPORTED = f"The file is not a supported image ({FORMAT_NAMES})."
DAMAGED = "The image file is damaged or incomplete."
# HEIF and AVIF files are ISO media files ("ftyp" at byte 4, then a brand), as MP4
# videos are; these brands are pictures.
_ISO_MEDIA = b"ftyp"
_AVIF_BRANDS = (b"avif", b"avis")  # Pillow reads these itself
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                b"mif1", b"msf1")
# Far below Pillow's bomb limit (~89 MP): a 12 MP phone photo passes, a bomb does not.
MAX_PIXELS = 40_000_000
# Read at most this many bytes from one file; larger files are refused unread.
MAX_FILE_BYTES = 64 * 1024 * 1024
MIN_SIDE = 8
MAX_ASPECT = 50.0
# ITU-R 601 luma weights, the ones Pillow's convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")

ImageSource = bytes | str | os.PathLike | Image.Image | np.ndarray


class ReadError(ValueError):
    """An input that cannot be read as digits; the message is one sentence for a user."""


class NoDigitError(ReadError):
    """The image was read but holds no ink that could be a digit."""

    def __init__(self, message: str = "No digit found in the image.") -> None:
        super().__init__(message)


def decode_image(source: ImageSource) -> np.ndarray:
    """Decode a file path, encoded bytes, a PIL image or an array to grey (1 = white)."""
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:  # refuse a huge array before converting it
            _check_size(source.shape[1], source.shape[0])
        return _check_shape(array_to_gray(source))
    if isinstance(source, Image.Image):
        _check_size(*source.size)
        return _check_shape(_pil_to_gray(_exif_upright(source)))
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode_file(io.BytesIO(bytes(source)))
    if isinstance(source, str | os.PathLike):
        return _decode_file(_read_path(Path(source)))
    raise ReadError(f"Cannot read an image from a {type(source).__name__}.")


def _read_path(path: Path) -> io.BytesIO:
    """The file's bytes; a missing, unreadable or oversized file is refused before decoding."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ReadError("The path is a folder, not an image file.")
        if size > MAX_FILE_BYTES:
            raise ReadError(f"The file is too large ({size / 2**20:.0f} MB; the limit is "
                            f"{MAX_FILE_BYTES // 2**20} MB).")
        return io.BytesIO(path.read_bytes())
    except FileNotFoundError:
        raise ReadError("The file does not exist.") from None
    except PermissionError:
        raise ReadError("The file cannot be opened (permission denied).") from None
    except OSError as exc:
        raise ReadError(f"The file cannot be read ({exc.strerror or 'I/O error'}).") from None


@functools.cache
def _heif_opener() -> bool:
    """Register pillow-heif's HEIF opener with Pillow once; False where it is missing
    (then a .heic file is refused as unsupported, and every other format still reads)."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()  # also applies the file's rotation and drops EXIF's
    return True


def _registered(formats: tuple[str, ...]) -> list[str]:
    """Those of `formats` Pillow has a decoder for now (HEIF only once it is registered)."""
    Image.init()  # loads Pillow's own plugins once; a no-op after that
    return [f for f in formats if f in Image.OPEN]


def _decodable_iso_picture(stream: io.BytesIO) -> bool:
    """Whether the file says it is a HEIF or AVIF picture that can be decoded here."""
    head = stream.read(12)
    stream.seek(0)
    if head[4:8] != _ISO_MEDIA:
        return False
    # pillow-heif is imported only for such files: most uploads never pay for it.
    return head[8:12] in _AVIF_BRANDS or (head[8:12] in _HEIF_BRANDS and _heif_opener())


def _decode_file(stream: io.BytesIO) -> np.ndarray:
    iso_picture = _decodable_iso_picture(stream)
    try:
        # `formats` makes Pillow try only these decoders; open() reads just the header.
        with Image.open(stream, formats=_registered(ALLOWED_FORMATS)) as image:
            if image.format not in ALLOWED_FORMATS:
                raise ReadError(NOT_SUPPORTED)
            _check_size(*image.size)  # before any pixel is decoded
            image.seek(0)  # animated GIF/WebP/TIFF, a HEIF burst: the first frame
            image.load()
            upright = _exif_upright(image)
            return _check_shape(_pil_to_gray(upright))
    except ReadError:
        raise
    except UnidentifiedImageError:
        if iso_picture:  # a HEIC or AVIF header whose picture cannot be found
            raise ReadError(DAMAGED) from None
        raise ReadError(NOT_SUPPORTED) from None
    except Image.DecompressionBombError:
        raise ReadError("The image declares too many pixels to read safely.") from None
    except MemoryError:
        raise ReadError("The image is too large to read.") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError):
        # Pillow reports truncated or corrupt data with any of these.
        raise ReadError(DAMAGED) from None


def _exif_upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation a phone camera records; broken EXIF is ignored."""
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # malformed EXIF must not make a readable picture unreadable
        return image


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ReadError(f"The image is too large ({width}×{height} pixels; the limit is "
                        f"{MAX_PIXELS // 1_000_000} megapixels).")
    if min(width, height) < MIN_SIDE:
        raise ReadError(f"The image is too small ({width}×{height} pixels); it needs at least "
                        f"{MIN_SIDE} pixels on each side.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ReadError(f"The image is too long and narrow ({width}×{height} pixels) to hold "
                        "digits.")


def _check_shape(gray: np.ndarray) -> np.ndarray:
    _check_size(gray.shape[1], gray.shape[0])
    return gray


def _pil_to_gray(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        values = np.asarray(image, dtype=np.float32)
        return _scale_levels(values, sixteen_bit=mode.startswith("I;16"))
    if mode in _ALPHA_MODES or "transparency" in image.info:
        return array_to_gray(np.asarray(image.convert("RGBA")))
    try:
        gray = image.convert("L")
    except ValueError:  # modes such as LAB have no direct conversion
        try:
            gray = image.convert("RGB").convert("L")
        except ValueError:
            raise ReadError(f"The image's colour mode ({mode}) cannot be read.") from None
    levels = np.asarray(gray, dtype=np.float32)
    # Extremes 0 and 1 of 8 bits: bits written unscaled (`_unscaled_bits`).
    return levels if gray.getextrema() == (0, 1) else levels / 255.0


def _scale_levels(values: np.ndarray, *, sixteen_bit: bool = False) -> np.ndarray:
    """Map integer or float levels to [0, 1] by the range their type implies, or the
    range they were written in: bits at 0 and 1, 8-bit levels in a 16-bit file (written
    unscaled, a common slip: at most 255 of 65,535 is black to the eye)."""
    if not np.isfinite(values).all():
        raise ReadError("The image holds invalid (NaN or infinite) pixel values.")
    top = float(values.max(initial=0.0))
    if top == 1.0 and _unscaled_bits(values):
        full = 1.0
    elif top > 255.0:
        full = max(65535.0, top)
    elif top > 1.0 or sixteen_bit or values.dtype.kind in "iu":
        full = 255.0
    else:
        full = 1.0
    return np.clip(values.astype(np.float32) / full, 0.0, 1.0)


def _unscaled_bits(levels: np.ndarray) -> bool:
    """Levels 0 and 1 and no other: an array of bits written as pixel levels unscaled (a
    common slip), black to the eye and to the reader. Read as black and white."""
    return bool(np.isin(levels, (0.0, 1.0)).all()) and float(levels.min(initial=1.0)) == 0.0


def array_to_gray(array: np.ndarray) -> np.ndarray:
    """Grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4) array -> float32 grey, 1 = white.

    Transparent pixels are composited onto white, so black strokes on a transparent
    canvas stay black on white. When the only visible pixels are a light minority
    (white strokes on transparency), they are composited onto black instead, so the
    strokes never vanish into the background.
    """
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ReadError("The array is not an image (expected H×W, H×W×3 or H×W×4).")
    if a.dtype == bool:
        a = a.astype(np.float32)
    if a.dtype.kind not in "uif":
        raise ReadError(f"The array has an unsupported pixel type ({a.dtype}).")
    if a.dtype == np.uint8 and a.ndim == 3:
        # The canvas's case, kept fast: OpenCV's luma on 8-bit channels.
        code = cv2.COLOR_RGB2GRAY if a.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        luminance = cv2.cvtColor(a, code).astype(np.float32) / 255.0
        if a.shape[2] == 3:
            return luminance
        alpha = a[..., 3].astype(np.float32) / 255.0
    else:
        levels = _scale_levels(a.astype(np.float32, copy=False),
                               sixteen_bit=a.dtype == np.uint16)
        if levels.ndim == 2:
            return levels
        luminance = (levels[..., :3] @ LUMA).astype(np.float32)
        if levels.shape[2] == 3:
            return luminance
        alpha = levels[..., 3]
    visible = alpha > 0.5
    light_strokes = visible.mean() < 0.5 and visible.any() and np.median(luminance[visible]) > 0.5
    backdrop = 0.0 if light_strokes else 1.0
    return (luminance * alpha + backdrop * (1.0 - alpha)).astype(np.float32)
