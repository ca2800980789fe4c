"""The pages' side of the prediction log: read, time, and log each reading once per session.

A Streamlit page reruns on every click, and each rerun reads the canvas (or the
cached file) again; only a reading this session has not logged yet is logged, so
the log counts what people asked for, not reruns. Logging itself is
`model.predlog.log_reading`: a queue put, off the hot path.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import numpy as np
import streamlit as st

from model.predlog import log_reading
from model.reader import Reading
from pages.common.canvas_reading import read_canvas_remembered
from pages.common.state import read_file

SESSION_KEY = "monitor_session_id"
LOGGED_KEY = "monitor_logged"  # source -> digest of the last reading logged


def session_id() -> str:
    """An anonymous id for this browser session (random; nothing about the person)."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = uuid.uuid4().hex[:12]
    return st.session_state[SESSION_KEY]


def model_label(predictor: Any) -> str:
    """The short name of the model answering: "digit-cnn v3" for a registered one, or its name."""
    label = getattr(predictor, "label", None)
    return str(label or getattr(predictor, "name", None) or "unknown")


def reading_digest(reading: Reading) -> str:
    """A cheap fingerprint of a reading: its text and what the network saw."""
    digest = hashlib.blake2b(reading.text.encode(), digest_size=12)
    for found in reading.digits:
        digest.update(np.ascontiguousarray(found.image).tobytes())
    return digest.hexdigest()


def _log_once(source: str, key: str, reading: Reading | None, started: float,
              predictor: Any, image: Any = None) -> None:
    logged = st.session_state.setdefault(LOGGED_KEY, {})
    if reading is None or logged.get(source) == key:
        return
    logged[source] = key
    log_reading(source, reading, latency_ms=(time.perf_counter() - started) * 1000.0,
                model=model_label(predictor), session=session_id(), image=image)


def read_canvas_logged(rgba: np.ndarray, predictor: Any, *, single: bool,
                       strokes: dict[str, Any] | None = None,
                       canvas_size: tuple[int, int] | None = None) -> Reading | None:
    """`model.reader.read_canvas`, logged under "draw" when the drawing is new."""
    started = time.perf_counter()
    # A rerun with the same drawing (a click beside it) reuses its reading.
    reading = read_canvas_remembered("draw", rgba, predictor, single=single, strokes=strokes,
                                     canvas_size=canvas_size)
    if reading is not None:
        _log_once("draw", reading_digest(reading), reading, started, predictor)
    return reading


def read_file_logged(data: bytes, single: bool) -> tuple[Reading | None, str | None]:
    """The pages' cached `read_file`, logged under "upload" once per file per session."""
    from pages.common.state import get_predictor

    started = time.perf_counter()
    reading, error = read_file(data, single)
    key = f"{hashlib.blake2b(data, digest_size=12).hexdigest()}:{single}"
    logged = st.session_state.setdefault(LOGGED_KEY, {}).setdefault("upload_files", set())
    if reading is not None and key not in logged:
        logged.add(key)
        log_reading("upload", reading, latency_ms=(time.perf_counter() - started) * 1000.0,
                    model=model_label(get_predictor()), session=session_id(), image=data)
    return reading, error
