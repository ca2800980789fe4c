"""PDF scans: every page rendered in grey with PDFium (pypdfium2).

Scanners and phone scanning apps send PDFs. Each page is rendered at RENDER_DPI
(handwriting at 150 dpi is 60-100 pixels tall, plenty for the reader), less when a
page is so large that it would pass the picture size limit; `model.documents` reads
the pages as it reads any scan. A damaged, password-protected or empty PDF is one
sentence (`ReadError`), never a traceback. pypdfium2 is imported only when a PDF
arrives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from model.reader.imaging import MAX_PIXELS, ReadError, decode_image

RENDER_DPI = 150
PDF_POINTS_PER_INCH = 72
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the header may follow some junk bytes; readers look this far
NO_PAGES = "The PDF has no pages."
ENCRYPTED = re.compile(rb"/Encrypt\s*(<<|\d+\s+\d+\s+R)")
EMPTY_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*/Count\s*0\b|/Count\s*0\b[^>]*/Type\s*/Pages\b")


def is_pdf(data: bytes) -> bool:
    """Whether bytes are a PDF (its header near the start), whatever the file is called."""
    return PDF_MAGIC in bytes(data[:MAGIC_WINDOW])


def pdf_page_count(data: bytes) -> int:
    """The number of pages (ReadError for a PDF that cannot be opened)."""
    with _opened(data) as document:
        return len(document)


def render_pdf_pages(data: bytes, max_pages: int, *,
                     dpi: int = RENDER_DPI) -> Iterator[np.ndarray]:
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
