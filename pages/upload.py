"""Upload page: read the handwritten numbers in photos and scans, one file or a whole batch.

Each file shows the picture with a box round every digit read, the text read,
each digit's confidence and the 28×28 crop the model saw; doubtful digits are
flagged. A file that cannot be read gets its one-sentence reason in place and
the rest of the batch is still read. Several files also get a results table
with a CSV download. "Try a sample" reads one of the scans in assets/samples.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

from model.reader import Reading
from pages.common import charts
from pages.common.document_pages import upload_parts
from pages.common.feedback import feedback_widget
from pages.common.monitoring import read_file_logged
from pages.common.state import (
    digit_crops,
    display_picture,
    ensure_app_frame,
    sample_scans,
    sample_truth,
)

FILE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp", "heic", "heif", "avif",
              "pbm", "pgm", "ppm", "pnm", "pdf"]
CROPS_PER_ROW = 8
CSV_NAME = "digit-readings.csv"
# Up to this many files each get an open panel; a bigger batch folds each file away
# under a one-line summary, below the results table.
OPEN_PANELS_UP_TO = 3


class Item(NamedTuple):
    """One file (or page of a document) to read: its name, its bytes, the true text when
    it is a sample, and why it cannot be read when that is known before reading (a bad
    PDF, a damaged page)."""

    name: str
    data: bytes
    truth: str | None = None
    error: str | None = None


class Result(NamedTuple):
    """A file and what came of reading it: a reading, or the sentence saying why not."""

    item: Item
    reading: Reading | None
    error: str | None


def _inputs() -> tuple[list[Item], bool]:
    """The files to read (uploads, then the chosen sample) and the single-digit switch."""
    uploads = st.file_uploader("Photos or scans of handwritten numbers", type=FILE_TYPES,
                               accept_multiple_files=True, key="upload_files")
    samples = sample_scans()
    pick, single_column = st.columns([3, 2], vertical_alignment="bottom")
    sample = pick.selectbox("Or try a sample", list(samples), index=None, key="upload_sample",
                            placeholder="Choose a sample scan…")
    single = single_column.toggle("One digit per image", key="upload_single",
                                  help="Read each image as exactly one digit (a cropped box).")
    items = [Item(*part) for f in uploads or [] for part in upload_parts(f.name, f.getvalue())]
    if sample:
        items.append(Item(sample, samples[sample].read_bytes(), sample_truth().get(sample)))
    return items, single


def _summary(result: Result) -> str:
    """One line for a file: its name and the text read, or why there is none."""
    if result.reading is None:
        return f"{result.item.name} · {result.error}"
    flag = "" if result.reading.sure else " · ⚠ check"
    return f"{result.item.name} · {result.reading.text}{flag}"


def _show(result: Result, index: int) -> None:
    """One file's reading, or its error in place."""
    item, reading = result.item, result.reading
    if reading is None:
        st.error(result.error, icon=":material/error:")
        return
    picture, details = st.columns([3, 2], gap="large")
    picture.plotly_chart(charts.reading_figure(display_picture(item.data), reading),
                         config={"displayModeBar": False}, key=f"upload_figure_{index}")
    with details:
        st.caption("Text read")
        st.code(reading.text or "(nothing)", language=None)
        if item.truth is not None:
            verdict = "matches" if item.truth == reading.text else "differs from"
            st.caption(f"Written on the sample: {item.truth!r}; the reading {verdict} it.")
        if not reading.sure:
            doubtful = sum(not d.sure for d in reading.digits)
            count = (" Some may be two digits written together, or part of one: count them too."
                     if any(d.bounds_doubted for d in reading.digits) else "")
            st.warning(f"{doubtful} digit(s) are uncertain (marked ?): check them by eye.{count}",
                       icon=":material/help:")
    digit_crops(reading, CROPS_PER_ROW)
    feedback_widget(reading, source="upload", key=f"upload_feedback_{index}", picture=item.data)


def _table(results: list[Result]) -> pd.DataFrame:
    """One row per file: what was read, the least confidence, or the error."""
    rows = []
    for result in results:
        reading = result.reading
        confidences = [d.confidence for d in reading.digits] if reading else []
        rows.append({
            "file": result.item.name,
            "text": reading.text if reading else "",
            "min confidence": round(min(confidences), 4) if confidences else None,
            "error": result.error or "",
        })
    return pd.DataFrame(rows, columns=["file", "text", "min confidence", "error"])


ensure_app_frame("upload")
st.title("Read numbers from photos")
items, single = _inputs()
if not items:
    st.info("Upload photos or scans of handwritten digits (PNG, JPEG, BMP, GIF, TIFF, WebP, "
            "HEIC or AVIF phone photos, PBM/PGM/PPM scans, PDF or multi-page TIFF: every page "
            "is read), or pick a sample.",
            icon=":material/upload_file:")
    st.stop()

with st.spinner("Reading…"):
    results = [Result(item, None, item.error) if item.error
               else Result(item, *read_file_logged(item.data, single)) for item in items]

if len(results) > 1:
    table = _table(results)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"min confidence": st.column_config.ProgressColumn(
                     "min confidence", format="percent", min_value=0.0, max_value=1.0)})
    st.download_button("Download the results (CSV)", table.to_csv(index=False).encode(),
                       file_name=CSV_NAME, mime="text/csv", icon=":material/download:")
for index, result in enumerate(results):
    if len(results) <= OPEN_PANELS_UP_TO:
        panel = st.container(border=True)
        panel.markdown(f"#### {result.item.name}")
    else:
        panel = st.expander(_summary(result))
    with panel:
        _show(result, index)
