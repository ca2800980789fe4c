"""Documents of pages, PDF scans and multi-page TIFFs: every page read, in
model.documents, `python -m model.predict` and on the Upload page.

The files are real ones, written by Pillow (pages of MNIST test digits; TIFFs
uncompressed and as fax machines write them, CCITT group 4) and by PDFium.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from model.documents import (
    DAMAGED_PAGE,
    MAX_PAGES,
    document_bytes,
    is_document,
    page_count,
    pages,
    read_pages,
)
from model.pdf import RENDER_DPI, is_pdf
from model.reader.imaging import ReadError
from training.synthetic_scans import compose_page

PROJECT_DIR = Path(__file__).resolve().parent.parent
NUMBERS = ((0, 1, 2, 3), (4, 5, 6))  # MNIST test indices written on pages 1 and 2
RESOLUTION = 150  # dpi the pages are stored at


def _pdf(sheets: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    sheets[0].save(buffer, "PDF", save_all=True, append_images=sheets[1:], resolution=RESOLUTION)
    return buffer.getvalue()


def _tiff(sheets: list[Image.Image], compression: str | None = None) -> bytes:
    buffer = io.BytesIO()
    # Copies: saving leaves the encoder's settings on each image, which a later save
    # with another compression would trip on.
    frames = [sheet.copy() for sheet in sheets]
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:],
                   compression=compression)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sheets(mnist) -> tuple[list[Image.Image], list[str]]:
    """Two pages with a number each and a blank third page; the numbers written on them."""
    written = [Image.fromarray(compose_page([[mnist.x_test[i] for i in row]])[0])
               for row in NUMBERS]
    written.append(Image.fromarray(np.full((300, 400), 245, np.uint8)))
    return written, ["".join(str(mnist.y_test[i]) for i in row) for row in NUMBERS]


@pytest.fixture(scope="module")
def scan_pdf(sheets) -> tuple[bytes, list[str]]:
    return _pdf(sheets[0]), sheets[1]


def _encrypted(data: bytes) -> bytes:
    """The PDF with a standard security handler whose password nobody gave."""
    handler = (b"/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <" + b"11" * 32
               + b"> /U <" + b"22" * 32 + b"> >>\n/ID [<" + b"33" * 16 + b"> <" + b"33" * 16
               + b">]\n")
    return data.replace(b"trailer\n<<\n", b"trailer\n<<\n" + handler)


def _no_pages() -> bytes:
    import pypdfium2 as pdfium

    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    return buffer.getvalue()


def test_every_page_is_read(scan_pdf, predictor) -> None:
    data, numbers = scan_pdf
    assert is_pdf(data) and page_count(data) == 3
    pages = read_pages(data, predictor)
    assert [p.page for p in pages] == [1, 2, 3]
    assert [p.reading.text for p in pages[:2]] == numbers
    assert pages[2].reading is None and pages[2].error == "No digit found on this page."


def test_pages_render_at_the_scan_resolution_and_are_limited() -> None:
    page = _pdf([Image.fromarray(np.full((300, 400), 250, np.uint8))])
    (first,) = [p.picture for p in pages(page)]
    # Stored at RESOLUTION dpi, rendered at RENDER_DPI.
    expected = np.array([300, 400]) * RENDER_DPI / RESOLUTION
    assert np.abs(np.array(first.shape) - expected).max() <= 2
    many = _pdf([Image.fromarray(np.full((60, 80), 250, np.uint8))] * (MAX_PAGES + 3))
    assert page_count(many) == MAX_PAGES + 3
    assert sum(1 for _ in pages(many)) == MAX_PAGES


@pytest.mark.parametrize(("make", "sentence"), [
    (lambda data: data[: len(data) // 2], "The PDF is damaged or incomplete and cannot be read."),
    (_encrypted, "The PDF is password-protected, so its pages cannot be read."),
    (lambda _: _no_pages(), "The PDF has no pages."),
    (lambda _: b"%PDF-1.7\nnot really", "The PDF is damaged or incomplete and cannot be read."),
])
def test_a_pdf_that_cannot_be_read_is_one_sentence(make, sentence: str, scan_pdf,
                                                   predictor) -> None:
    with pytest.raises(ReadError) as raised:
        read_pages(make(scan_pdf[0]), predictor)
    assert str(raised.value) == sentence


def test_predict_cli_gives_one_record_per_page(scan_pdf, sheets, tmp_path: Path,
                                               shipped_dir) -> None:
    data, numbers = scan_pdf
    (tmp_path / "scan.pdf").write_bytes(data)
    (tmp_path / "locked.pdf").write_bytes(_encrypted(data))
    (tmp_path / "fax.tif").write_bytes(_tiff(sheets[0][:2], "tiff_lzw"))
    (tmp_path / "one.tif").write_bytes(_tiff(sheets[0][:1]))
    done = subprocess.run([sys.executable, "-m", "model.predict", "--json", "--model",
                           str(shipped_dir), "scan.pdf", "locked.pdf", "fax.tif", "one.tif"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in records] == ["scan.pdf#p1", "scan.pdf#p2", "scan.pdf#p3",
                                            "locked.pdf", "fax.tif#p1", "fax.tif#p2", "one.tif"]
    assert [r.get("page") for r in records] == [1, 2, 3, None, 1, 2, None]
    assert [r.get("text") for r in records] == [*numbers, None, None, *numbers, numbers[0]]
    assert records[2]["error"] == "No digit found on this page."
    assert records[3]["error"] == "The PDF is password-protected, so its pages cannot be read."
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_upload_page_reads_each_page(scan_pdf, sheets, shipped_dir) -> None:
    data, numbers = scan_pdf
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("pages/upload.py")
    app.run()
    app.file_uploader(key="upload_files").set_value([
        ("scan.pdf", data, "application/pdf"), ("locked.pdf", _encrypted(data), "application/pdf"),
        ("fax.tiff", _tiff(sheets[0][:2], "tiff_lzw"), "image/tiff")])
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert [c.value for c in app.code] == [*numbers, *numbers]
    table = app.dataframe[0].value
    assert list(table["file"]) == ["scan.pdf · page 1", "scan.pdf · page 2",
                                   "scan.pdf · page 3", "locked.pdf", "fax.tiff · page 1",
                                   "fax.tiff · page 2"]
    assert list(table["error"])[2:4] == ["No digit found in the image.",
                                         "The PDF is password-protected, so its pages cannot "
                                         "be read."]


@pytest.mark.parametrize("fax", [False, True], ids=["grey", "fax-group4"])
def test_every_page_of_a_tiff_is_read(sheets, fax: bool, predictor) -> None:
    written, numbers = sheets
    if fax:  # one bit deep, thresholded (not dithered) and CCITT group 4, as faxes are
        written = [s.convert("1", dither=Image.Dither.NONE) for s in written]
    data = _tiff(written, "group4" if fax else None)
    assert is_document(data) and not is_pdf(data) and page_count(data) == 3
    read = read_pages(data, predictor)
    assert [p.page for p in read] == [1, 2, 3]
    assert [p.reading.text for p in read[:2]] == numbers
    assert read[2].reading is None and read[2].error == "No digit found on this page."


def test_a_tiff_of_one_page_is_a_picture(sheets, tmp_path: Path) -> None:
    data = _tiff(sheets[0][:1])
    assert not is_document(data) and page_count(data) == 1
    (tmp_path / "one.tif").write_bytes(data)
    assert document_bytes(tmp_path / "one.tif") is None  # read as any picture is


def test_a_damaged_tiff_page_is_one_sentence_and_the_others_are_read(sheets,
                                                                   predictor) -> None:
    data = _tiff(sheets[0])
    with Image.open(io.BytesIO(data)) as image:
        image.seek(1)
        offset = image.tag_v2[273][0]  # where page 2's pixels start (StripOffsets)
    entry = struct.pack("<HHII", 273, 4, 1, offset)
    assert data.count(entry) == 1
    damaged = data.replace(entry, struct.pack("<HHII", 273, 4, 1, len(data) + 10**6))
    read = read_pages(damaged, predictor)
    assert [p.error for p in read] == [None, DAMAGED_PAGE, "No digit found on this page."]
    assert read[0].reading.text == sheets[1][0]
