"""Feedback widgets: "Right" / "Wrong — it's a …" beside a reading, and the review gallery.

Each answer is stored by `model.feedback` as labelled examples (one per digit read);
the gallery lists them by label, newest first, deletes bad ones and exports the
folder-per-digit zip that `python -m training.retrain --feedback` reads.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import streamlit as st

from model import feedback
from model.monitor_store import StoreError
from model.reader import Reading, decode_image
from pages.common import charts
from pages.common.monitoring import model_label, reading_digest, session_id

ANSWERED_KEY = "feedback_answered"  # widget key -> digest of the reading answered
DIGITS = [str(d) for d in range(10)]
WRONG_LABEL = "Wrong — it's a …"
GALLERY_PAGE = 48  # examples shown at once
GALLERY_PER_ROW = 8
GALLERY_PX = 72
ZIP_NAME = "digit-feedback.zip"


ERROR_KEY = "feedback_error"  # widget key -> why the last answer was not saved


def _save(reading: Reading, labels: list[int] | None, source: str, key: str, digest: str,
          predictor: Any, picture: np.ndarray | bytes | None) -> None:
    """Button callback (runs before the rerun): store the answer, or remember why not."""
    if labels is None:  # "Wrong": the pickers' choices, the digit read where none is picked
        labels = []
        for place, found in enumerate(reading.digits):
            picked = st.session_state.get(f"{key}_{digest}_{place}")
            labels.append(int(picked) if picked is not None else found.digit)
    try:
        if isinstance(picture, bytes):
            picture = decode_image(picture)
        feedback.save_answers(reading, labels, source=source, model=model_label(predictor),
                              session=session_id(), picture=picture)
    except (StoreError, ValueError) as exc:
        st.session_state.setdefault(ERROR_KEY, {})[key] = str(exc)
        return
    st.session_state.setdefault(ERROR_KEY, {}).pop(key, None)
    st.session_state.setdefault(ANSWERED_KEY, {})[key] = digest


def feedback_widget(reading: Reading | None, *, source: str, key: str,
                    picture: np.ndarray | bytes | None = None, predictor: Any = None) -> None:
    """"Right" and "Wrong — it's a …" (a digit picker per digit read) for one reading.

    `picture` is what was read (an RGBA canvas, or the file's bytes): the original
    ink of each digit is kept with the example.
    """
    if reading is None or not reading.digits:
        return
    if predictor is None:
        from pages.common.state import get_predictor

        predictor = get_predictor()
    digest = reading_digest(reading)
    if st.session_state.get(ANSWERED_KEY, {}).get(key) == digest:
        st.success("Thanks! Your answer is kept as a labelled example.",
                   icon=":material/task_alt:")
        return
    error = st.session_state.get(ERROR_KEY, {}).get(key)
    if error:
        st.error(f"Sorry, the answer was not saved: {error}.", icon=":material/error:")
    args = (reading, None, source, key, digest, predictor, picture)
    right, wrong, _ = st.columns([1, 2, 2], vertical_alignment="center")
    right.button("Right", key=f"{key}_right", icon=":material/check:", on_click=_save,
                 args=(reading, [d.digit for d in reading.digits], *args[2:]))
    with wrong.popover(WRONG_LABEL, icon=":material/edit:"):
        for place, found in enumerate(reading.digits):
            name = "It is a" if len(reading.digits) == 1 else f"Digit {place + 1} is a"
            st.segmented_control(f"{name} (read {found.digit})", DIGITS,
                                 default=str(found.digit), key=f"{key}_{digest}_{place}")
        st.button("Save", key=f"{key}_save", type="primary", icon=":material/save:",
                  on_click=_save, args=args)


def review_gallery() -> None:
    """The stored examples by label, newest first: delete bad ones, export the zip."""
    try:
        counts = feedback.label_counts()
    except (StoreError, sqlite3.Error) as exc:
        st.error(f"The feedback cannot be read: {exc}.", icon=":material/database:")
        return
    total = sum(counts.values())
    if not total:
        st.info("No feedback yet: mark readings right or wrong on Draw and Upload.",
                icon=":material/rate_review:")
        return
    options = ["All", *DIGITS]
    chosen = st.segmented_control(
        "Label", options, default="All", key="gallery_label",
        format_func=lambda o: f"{o} ({total if o == 'All' else counts.get(int(o), 0)})")
    label = None if chosen in (None, "All") else int(chosen)
    items = feedback.list_feedback(label=label, limit=GALLERY_PAGE)
    st.caption(f"Newest first; {len(items)} of {total if label is None else counts.get(label, 0)}"
               " shown. Tick bad examples and delete them.")
    doomed = []
    for start in range(0, len(items), GALLERY_PER_ROW):
        row = items[start:start + GALLERY_PER_ROW]
        for column, item in zip(st.columns(GALLERY_PER_ROW), row, strict=False):
            verdict = "right" if item.correct else f"read {item.predicted}"
            column.image(charts.pixelated(item.crop, GALLERY_PX), width=GALLERY_PX,
                         caption=f"{item.label} · {verdict}")
            if column.checkbox("bad", key=f"gallery_bad_{item.id}"):
                doomed.append(item.id)
    delete, download, _ = st.columns([1, 1, 2])
    if delete.button(f"Delete {len(doomed)} ticked", key="gallery_delete", disabled=not doomed,
                     icon=":material/delete:"):
        feedback.delete_feedback(doomed)
        st.rerun()
    download.download_button("Export as zip", feedback.export_zip(), file_name=ZIP_NAME,
                             mime="application/zip", icon=":material/download:",
                             key="gallery_zip")
