"""The upload page's documents: each page of a PDF or a multi-page TIFF becomes a
picture of its own, read like any upload.

Rendering is `model.documents`'; this only caches it per file (a rerun renders nothing
again) and names the pages "scan.pdf · page 2". A document that cannot be read, or a
page that cannot, is one part with its sentence instead of a picture.
"""

from __future__ import annotations

import streamlit as st

from model.documents import MAX_PAGES, is_document, page_count, page_pngs
from model.reader import ReadError

# (name, picture bytes, true text, the sentence saying why it cannot be read)
Part = tuple[str, bytes, None, str | None]
MAX_CACHED_DOCUMENTS = 16


@st.cache_data(max_entries=MAX_CACHED_DOCUMENTS, show_spinner="Rendering the pages…")
def _rendered(data: bytes) -> tuple[list[tuple[bytes, str | None]], int, str | None]:
    """(each page's picture or why not, page count, error) of a document."""
    try:
        return page_pngs(data), page_count(data), None
    except ReadError as exc:
        return [], 0, str(exc)


def upload_parts(name: str, data: bytes) -> list[Part]:
    """What one uploaded file is read as: itself, or each page of a document."""
    if not is_document(data):
        return [(name, data, None, None)]
    pages, count, error = _rendered(data)
    if error is not None:
        return [(name, b"", None, error)]
    if count > MAX_PAGES:
        st.caption(f"{name} has {count} pages; the first {MAX_PAGES} are read.")
    return [(f"{name} · page {k}", png, None, why)
            for k, (png, why) in enumerate(pages, start=1)]
