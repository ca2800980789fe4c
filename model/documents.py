"""Scans of several pages, read page by page: a PDF (`model.pdf`) or a multi-page TIFF.

Scanners, fax software and phone scanning apps send documents, not pictures. Every
page (at most MAX_PAGES) becomes a grey picture that `model.reader` reads as it reads
any scan; a page without digits, or one that cannot be decoded, has its sentence while
the other pages are read. A TIFF of one page is a picture like any other
(`model.reader.imaging`); before multi-page TIFFs were read here, their later pages were
silently dropped.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from model.pdf import MAGIC_WINDOW, is_pdf, pdf_page_count, render_pdf_pages
from model.reader import ProbabilityModel, Reading, read_digits
from model.reader.imaging import MAX_FILE_BYTES, NoDigitError, ReadError, decode_image

MAX_PAGES = 20
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
NO_DIGIT_ON_PAGE = "No digit found on this page."
DAMAGED_PAGE = "The page is damaged or incomplete and cannot be read."
# What Pillow raises for a truncated or corrupt TIFF page.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError,
                  Image.DecompressionBombError)


@dataclass(frozen=True)
class Page:
    """One page of a document: its number (from 1) and its grey picture, or why not."""

    number: int
    picture: np.ndarray | None  # float32, 1 = white, as `decode_image` returns
    error: str | None = None


@dataclass(frozen=True)
class PageReading:
    """One page's reading, or why it has none."""

    page: int
    reading: Reading | None
    error: str | None = None


def is_document(data: bytes) -> bool:
    """Whether bytes are a document of pages: a PDF, or a TIFF of two pages or more."""
    return is_pdf(data) or _tiff_frames(data) > 1


def document_bytes(source: bytes | str | os.PathLike) -> bytes | None:
    """The bytes of `source` (bytes or a path) if it is a document of pages, else None."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return data if is_document(data) else None
    path = Path(source)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None  # the image reader says why in its own words
        with path.open("rb") as handle:
            head = handle.read(MAGIC_WINDOW)
        if not (is_pdf(head) or head[:4] in TIFF_MAGIC):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if is_document(data) else None


def page_count(data: bytes) -> int:
    """The number of pages (ReadError for a PDF that cannot be opened)."""
    return pdf_page_count(data) if is_pdf(data) else _tiff_frames(data)


def pages(data: bytes, max_pages: int = MAX_PAGES) -> Iterator[Page]:
    """The first `max_pages` pages as grey pictures (ReadError for a PDF that cannot be
    opened at all)."""
    if is_pdf(data):
        for number, picture in enumerate(render_pdf_pages(data, max_pages), start=1):
            yield Page(number, picture)
        return
    with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
        for index in range(min(getattr(image, "n_frames", 1), max_pages)):
            try:
                image.seek(index)
                yield Page(index + 1, decode_image(image))  # size checked before decoding
            except ReadError as exc:
                yield Page(index + 1, None, str(exc))
            except _DECODE_ERRORS:
                yield Page(index + 1, None, DAMAGED_PAGE)


def page_pngs(data: bytes, max_pages: int = MAX_PAGES) -> list[tuple[bytes, str | None]]:
    """Each page as PNG bytes (or b"" and why not), for pages that show and read files."""
    out = []
    for page in pages(data, max_pages):
        if page.picture is None:
            out.append((b"", page.error))
            continue
        buffer = io.BytesIO()
        grey = np.clip(page.picture * 255 + 0.5, 0, 255).astype(np.uint8)
        Image.fromarray(grey).save(buffer, "PNG")
        out.append((buffer.getvalue(), None))
    return out


def read_pages(data: bytes, predictor: ProbabilityModel, *, single: bool = False,
               max_pages: int = MAX_PAGES) -> list[PageReading]:
    """Every page's reading; a page without digits, or undecodable, has its sentence.

    ReadError when the document itself cannot be read (a damaged, encrypted or empty PDF).
    """
    results = []
    for page in pages(data, max_pages):
        if page.picture is None:
            results.append(PageReading(page.number, None, page.error))
            continue
        try:
            results.append(PageReading(page.number,
                                       read_digits(page.picture, predictor, single=single)))
        except ReadError as exc:
            message = NO_DIGIT_ON_PAGE if isinstance(exc, NoDigitError) else str(exc)
            results.append(PageReading(page.number, None, message))
    return results


def _tiff_frames(data: bytes) -> int:
    """How many pages a TIFF holds (0 for anything else, or a TIFF too damaged to count)."""
    if bytes(data[:4]) not in TIFF_MAGIC:
        return 0
    try:
        with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
            return int(getattr(image, "n_frames", 1))
    except (*_DECODE_ERRORS, UnidentifiedImageError):
        return 0
