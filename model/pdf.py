"""PDF scans: every page rendered with PDFium (pypdfium2) and read like a picture.

Scanners and phone scanning apps send PDFs. Each page is rendered in grey at
RENDER_DPI (handwriting at 150 dpi is 60-100 pixels tall, plenty for the reader),
less when a page is so large that it would pass the picture size limit, and read
by `model.reader` as any scan is. At most MAX_PAGES pages are read. A damaged,
password-protected or empty PDF is one sentence (`ReadError`), never a traceback.
pypdfium2 is imported only when a PDF arrives.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.imaging import MAX_FILE_BYTES, MAX_PIXELS, NoDigitError, ReadError, decode_image
from model.reader import ProbabilityModel, Reading, read_digits

MAX_PAGES = 20
RENDER_DPI = 150
PDF_POINTS_PER_INCH = 72
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the header may follow some junk bytes; readers look this far
NO_PAGES = "The PDF has no pages."
ENCRYPTED = re.compile(rb"/Encrypt\s*(<<|\d+\s+\d+\s+R)")
EMPTY_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*/Count\s*0\b|/Count\s*0\b[^>]*/Type\s*/Pages\b")


@dataclass(frozen=True)
class PageReading:
    """One page of a PDF: its number (from 1) and its reading, or why it has none."""

    page: int
    reading: Reading | None
    error: str | None = None


def is_pdf(data: bytes) -> bool:
    """Whether bytes are a PDF (its header near the start), whatever the file is called."""
    return PDF_MAGIC in bytes(data[:MAGIC_WINDOW])


def pdf_bytes(source: bytes | str | os.PathLike) -> bytes | None:
    """The bytes of `source` if it is a PDF (bytes or a path), else None."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return data if is_pdf(data) else None
    path = Path(source)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None  # the image reader says why in its own words
        with path.open("rb") as handle:
            if not is_pdf(handle.read(MAGIC_WINDOW)):
                return None
        return path.read_bytes()
    except OSError:
        return None


def page_count(data: bytes) -> int:
    """The number of pages (ReadError for a PDF that cannot be opened)."""
    with _opened(data) as document:
        return len(document)


def render_pages(data: bytes, *, dpi: int = RENDER_DPI,
                 max_pages: int = MAX_PAGES) -> Iterator[np.ndarray]:
    """Grey pages (float32, 1 = white, as `decode_image` returns) of the first `max_pages`."""
    with _opened(data) as document:
        for index in range(min(len(document), max_pages)):
            page = document[index]
            try:
                width, height = page.get_size()  # in points
                scale = dpi / PDF_POINTS_PER_INCH
                # A poster-sized page is rendered smaller, within the picture size limit.
                scale = min(scale, math.sqrt(MAX_PIXELS / max(width * height, 1.0)) * 0.99)
                bitmap = page.render(scale=scale, grayscale=True)
                yield decode_image(bitmap.to_pil())
            finally:
                page.close()


def page_pngs(data: bytes, *, dpi: int = RENDER_DPI, max_pages: int = MAX_PAGES) -> list[bytes]:
    """Each page as PNG bytes, for pages that show and read files (the upload page)."""
    from PIL import Image

    pngs = []
    for gray in render_pages(data, dpi=dpi, max_pages=max_pages):
        buffer = io.BytesIO()
        Image.fromarray(np.clip(gray * 255 + 0.5, 0, 255).astype(np.uint8)).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    return pngs


def read_pdf(data: bytes, predictor: ProbabilityModel, *, single: bool = False,
             max_pages: int = MAX_PAGES) -> list[PageReading]:
    """Every page's reading; a page without digits has its sentence instead.

    ReadError when the PDF itself cannot be read (damaged, encrypted, no pages).
    """
    results = []
    for number, gray in enumerate(render_pages(data, max_pages=max_pages), start=1):
        try:
            results.append(PageReading(number, read_digits(gray, predictor, single=single)))
        except ReadError as exc:
            message = "No digit found on this page." if isinstance(exc, NoDigitError) else str(exc)
            results.append(PageReading(number, None, message))
    return results


class _opened:
    """A PDF document opened for a `with` block; ReadError when it cannot be opened."""

    def __init__(self, data: bytes) -> None:
        import pypdfium2 as pdfium

        try:
            data = bytes(data)
            self.document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            # PDFium's error code is process-wide and may be a previous call's, so the
            # file itself says why: its trailer names an encryption dictionary, or its
            # page tree is empty (PDFium loads no document then).
            if ENCRYPTED.search(data):
                raise ReadError("The PDF is password-protected, so its pages cannot be "
                                "read.") from None
            if EMPTY_TREE.search(data):
                raise ReadError(NO_PAGES) from None
            raise ReadError("The PDF is damaged or incomplete and cannot be read.") from None
        if len(self.document) == 0:
            self.document.close()
            raise ReadError(NO_PAGES)

    def __enter__(self) -> Any:  # a pypdfium2 PdfDocument (imported lazily)
        return self.document

    def __exit__(self, *_: object) -> None:
        self.document.close()
