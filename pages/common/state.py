"""What the pages share: process-wide resources (the predictor, cached readings of
files, the sample scans) and the sidebar that names the model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import streamlit as st

from model import Predictor, load_predictor
from model.champion import SHIPPED_LABEL, current_model
from model.files import ModelFileError
from model.reader import (
    ReadError,
    Reading,
    decode_image,
    read_digits,
    use_one_core_per_reading,
)
from pages.common import charts
from training.samples import SAMPLES_DIR, read_labels

# Readings of uploaded files kept per process: a clerk's batch of a few dozen
# photos survives every rerun without being read again.
MAX_CACHED_READINGS = 256
# Pictures shrunk for display are up to ~1 MB each (grey, 1000 px on the long side).
MAX_CACHED_PICTURES = 48

logger = logging.getLogger(__name__)

# app.py marks every run of the frame. A page that finds no mark was started without
# app.py: a fresh server meets its first visitor at /<page> in Streamlit's legacy
# mode for a folder named pages/ beside the main script, which runs the page file
# alone (no menu, no model sidebar) until st.navigation has run once in the process.
FRAME_KEY = "app_frame_ran"
RETURN_KEY = "app_return_to"


@st.cache_resource(show_spinner="Loading the model…")
def _load(model_dir: str | None, label: str | None) -> Predictor:
    """None: the shipped model (`model.files` resolves where it is)."""
    # One core per call, for ONNX Runtime and OpenCV alike: sessions' reruns already run
    # side by side, and a pool of threads per small call fights them for the cores.
    use_one_core_per_reading()
    predictor = load_predictor(Path(model_dir) if model_dir else None, threads=1)
    predictor.label = label
    return predictor


def get_predictor(model_dir: str | None = None) -> Predictor:
    """One predictor per model folder per process, shared by all sessions (it is thread-safe).

    Without a folder: the registry's champion (`model.champion.current_model`, refreshed
    in the background, so a promotion reaches open pages within seconds), else shipped.
    """
    if model_dir:
        return _load(model_dir, None)
    choice = current_model()
    if choice.version is None:
        return _load(None, SHIPPED_LABEL)
    try:
        return _load(str(choice.path), choice.label)
    except ModelFileError:
        logger.exception("The champion %s cannot be loaded; shipped answers", choice.label)
        return _load(None, SHIPPED_LABEL)


# Tests and tools drop every loaded model with `get_predictor.clear()`, as before.
get_predictor.clear = _load.clear  # type: ignore[attr-defined]


def model_sidebar(predictor: Predictor) -> None:
    """Which model is answering (a short name, never a path), and how good it is on MNIST."""
    choice = current_model()
    answering = predictor.label or predictor.name
    if choice.version and predictor.label == choice.label:
        answering = choice.sidebar  # "digit-cnn v3 (champion)"
    with st.sidebar:
        st.caption("Model")
        st.markdown(f"**{answering}**")
        accuracy = predictor.test_accuracy
        if accuracy is not None:
            st.metric("MNIST test accuracy", f"{accuracy:.2%}")
        st.caption(f"{predictor.backend.upper()} backend")
        if choice.note and predictor.label == SHIPPED_LABEL:
            st.caption(choice.note)


def ensure_app_frame(url_path: str) -> None:
    """Call first on a page: if Streamlit ran it without app.py, go through app.py.

    app.py then returns the visitor to `url_path`, now inside the frame.
    """
    if not st.session_state.get(FRAME_KEY):
        st.session_state[RETURN_KEY] = url_path
        st.switch_page("app.py")


def read_file(data: bytes, single: bool) -> tuple[Reading | None, str | None]:
    """The answering model's reading of one image file, or the sentence saying why it has none.

    Cached by content and model, so a rerun (any click on the page) does not read the
    batch again, and a promotion reads it afresh.
    """
    predictor = get_predictor()
    folder = None if predictor.label == SHIPPED_LABEL else str(predictor.model_dir)
    return _read_file(data, single, folder, predictor.label)


@st.cache_data(max_entries=MAX_CACHED_READINGS, show_spinner=False)
def _read_file(data: bytes, single: bool, model_dir: str | None,
               label: str | None) -> tuple[Reading | None, str | None]:
    try:
        return read_digits(data, _load(model_dir, label), single=single), None
    except ReadError as exc:
        return None, str(exc)
    except Exception:  # a reader bug on one odd file must not stop the rest of the batch
        logger.exception("Reading an uploaded file failed")
        return None, "This file could not be read because of an internal error (logged)."


@st.cache_data(max_entries=MAX_CACHED_PICTURES, show_spinner=False)
def display_picture(data: bytes) -> np.ndarray:
    """An image file as shown beside its reading (decoded once, shrunk for the screen)."""
    return charts.fit_for_display(decode_image(data))


def sample_scans() -> dict[str, Path]:
    """The sample scans shipped in assets/samples, by file name."""
    return {path.name: path for path in sorted(SAMPLES_DIR.glob("*.png"))}


@st.cache_data(show_spinner=False)
def sample_truth() -> dict[str, str]:
    """The text actually written on each sample scan."""
    return read_labels(SAMPLES_DIR)


CROP_VIEW_PX = 72  # 28 model pixels shown at about 2.5x


def digit_crops(reading: Reading, per_row: int) -> None:
    """Every digit as the model saw it, with its confidence; doubtful ones flagged."""
    for start in range(0, len(reading.digits), per_row):
        row = reading.digits[start : start + per_row]
        for column, found in zip(st.columns(per_row), row, strict=False):
            flag = "" if found.sure else " · ⚠ not sure"
            column.image(charts.pixelated(found.image, CROP_VIEW_PX), width=CROP_VIEW_PX,
                         caption=f"{found.digit} · {found.confidence:.0%}{flag}")
