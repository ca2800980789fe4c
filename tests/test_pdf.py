"""PDF scans: every page read, in model.pdf, `python -m model.predict` and on the Upload page.

The PDFs are real ones, written by Pillow (pages of MNIST test digits) and by PDFium.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from model.imaging import ReadError
from model.pdf import MAX_PAGES, RENDER_DPI, is_pdf, page_count, read_pdf, render_pages
from training.synthetic_scans import compose_page

PROJECT_DIR = Path(__file__).resolve().parent.parent
NUMBERS = ((0, 1, 2, 3), (4, 5, 6))  # MNIST test indices written on pages 1 and 2
RESOLUTION = 150  # dpi the pages are stored at


def _pdf(pages: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=RESOLUTION)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scan_pdf(mnist) -> tuple[bytes, list[str]]:
    """Two pages with a number each and a blank third page; the numbers written on them."""
    pages = [Image.fromarray(compose_page([[mnist.x_test[i] for i in row]])[0])
             for row in NUMBERS]
    pages.append(Image.fromarray(np.full((300, 400), 245, np.uint8)))
    return _pdf(pages), ["".join(str(mnist.y_test[i]) for i in row) for row in NUMBERS]


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
    pages = read_pdf(data, predictor)
    assert [p.page for p in pages] == [1, 2, 3]
    assert [p.reading.text for p in pages[:2]] == numbers
    assert pages[2].reading is None and pages[2].error == "No digit found on this page."


def test_pages_render_at_the_scan_resolution_and_are_limited() -> None:
    page = _pdf([Image.fromarray(np.full((300, 400), 250, np.uint8))])
    (first,) = list(render_pages(page))
    # Stored at RESOLUTION dpi, rendered at RENDER_DPI.
    expected = np.array([300, 400]) * RENDER_DPI / RESOLUTION
    assert np.abs(np.array(first.shape) - expected).max() <= 2
    many = _pdf([Image.fromarray(np.full((60, 80), 250, np.uint8))] * (MAX_PAGES + 3))
    assert page_count(many) == MAX_PAGES + 3
    assert sum(1 for _ in render_pages(many)) == MAX_PAGES


@pytest.mark.parametrize(("make", "sentence"), [
    (lambda data: data[: len(data) // 2], "The PDF is damaged or incomplete and cannot be read."),
    (_encrypted, "The PDF is password-protected, so its pages cannot be read."),
    (lambda _: _no_pages(), "The PDF has no pages."),
    (lambda _: b"%PDF-1.7\nnot really", "The PDF is damaged or incomplete and cannot be read."),
])
def test_a_pdf_that_cannot_be_read_is_one_sentence(make, sentence: str, scan_pdf,
                                                   predictor) -> None:
    with pytest.raises(ReadError) as raised:
        read_pdf(make(scan_pdf[0]), predictor)
    assert str(raised.value) == sentence


def test_predict_cli_gives_one_record_per_page(scan_pdf, tmp_path: Path, shipped_dir) -> None:
    data, numbers = scan_pdf
    (tmp_path / "scan.pdf").write_bytes(data)
    (tmp_path / "locked.pdf").write_bytes(_encrypted(data))
    done = subprocess.run([sys.executable, "-m", "model.predict", "--json", "--model",
                           str(shipped_dir), "scan.pdf", "locked.pdf"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in records] == ["scan.pdf#p1", "scan.pdf#p2", "scan.pdf#p3",
                                            "locked.pdf"]
    assert [r.get("page") for r in records] == [1, 2, 3, None]
    assert [r.get("text") for r in records[:2]] == numbers
    assert records[2]["error"] == "No digit found on this page."
    assert records[3]["error"] == "The PDF is password-protected, so its pages cannot be read."
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_upload_page_reads_each_page(scan_pdf, shipped_dir) -> None:
    data, numbers = scan_pdf
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("pages/upload.py")
    app.run()
    app.file_uploader(key="upload_files").set_value([
        ("scan.pdf", data, "application/pdf"), ("locked.pdf", _encrypted(data), "application/pdf")])
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert [c.value for c in app.code] == numbers
    table = app.dataframe[0].value
    assert list(table["file"]) == ["scan.pdf · page 1", "scan.pdf · page 2",
                                   "scan.pdf · page 3", "locked.pdf"]
    assert list(table["error"])[2:] == ["No digit found in the image.",
                                        "The PDF is password-protected, so its pages cannot "
                                        "be read."]
