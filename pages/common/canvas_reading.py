"""A canvas's reading, remembered for the session until the drawing changes.

Every click on a page with a canvas reruns its fragment, and the canvas reports the same
drawing again: tapping the digit meant on /class, Right or Wrong on /draw. Reading it
again costs the reader and the network each time, for every student of a class on one
server process; the reading of the drawing already read is kept instead (one per page
slot), keyed by the pixels, the strokes, how it is read and the model answering.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import streamlit as st

from model.reader import ReadError, Reading, read_canvas

STATE_KEY = "canvas_readings"  # slot -> (fingerprint, reading or the ReadError raised)


def _fingerprint(rgba: np.ndarray, predictor: Any, single: bool,
                 strokes: dict[str, Any] | None, canvas_size: tuple[int, int] | None) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(rgba).tobytes())
    digest.update(repr((rgba.shape, str(rgba.dtype), single, canvas_size, id(predictor),
                        getattr(predictor, "label", None))).encode())
    if strokes:
        digest.update(json.dumps(strokes, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_canvas_remembered(slot: str, rgba: np.ndarray, predictor: Any, *, single: bool,
                           strokes: dict[str, Any] | None = None,
                           canvas_size: tuple[int, int] | None = None) -> Reading | None:
    """`model.reader.read_canvas`, or this session's last reading of the same drawing in
    `slot`; a ReadError is remembered and raised again alike."""
    key = _fingerprint(rgba, predictor, single, strokes, canvas_size)
    remembered = st.session_state.setdefault(STATE_KEY, {})
    found = remembered.get(slot)
    if found is not None and found[0] == key:
        if isinstance(found[1], ReadError):  # a fresh one of the same kind and sentence
            raise type(found[1])(*found[1].args)
        return found[1]
    try:
        reading = read_canvas(rgba, predictor, single=single, strokes=strokes,
                              canvas_size=canvas_size)
    except ReadError as exc:
        remembered[slot] = (key, type(exc)(*exc.args))  # a copy: no traceback kept
        raise
    remembered[slot] = (key, reading)
    return reading
