"""The upload page's PDFs: each page becomes a picture of its own, read like any upload.

Rendering is `model.pdf`'s; this only caches it per file (a rerun renders nothing
again) and names the pages "scan.pdf · page 2". A PDF that cannot be read is one
part with its sentence instead of a picture.
"""

from __future__ import annotations

import streamlit as st

from model.imaging import ReadError
from model.pdf import MAX_PAGES, is_pdf, page_count, page_pngs

# (name, picture bytes, true text, the sentence saying why it cannot be read)
Part = tuple[str, bytes, None, str | None]
MAX_CACHED_PDFS = 16


@st.cache_data(max_entries=MAX_CACHED_PDFS, show_spinner="Rendering the PDF…")
def _rendered(data: bytes) -> tuple[list[bytes], int, str | None]:
    """(page pictures, page count, error) of a PDF."""
    try:
        return page_pngs(data), page_count(data), None
    except ReadError as exc:
        return [], 0, str(exc)


def upload_parts(name: str, data: bytes) -> list[Part]:
    """What one uploaded file is read as: itself, or each page of a PDF."""
    if not is_pdf(data):
        return [(name, data, None, None)]
    pages, count, error = _rendered(data)
    if error is not None:
        return [(name, b"", None, error)]
    if count > MAX_PAGES:
        st.caption(f"{name} has {count} pages; the first {MAX_PAGES} are read.")
    return [(f"{name} · page {k}", png, None, None) for k, png in enumerate(pages, start=1)]
