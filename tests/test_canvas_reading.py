"""A canvas's reading is kept for the session until the drawing changes (a rerun with the
same drawing — tapping the digit meant, Right or Wrong — does not read it again)."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from model import load_predictor
from model.reader import ReadError
from pages.common import canvas_reading
from training.synthetic_scans import canvas_rgba


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the reader's real runs."""
    calls: list[int] = []
    real = canvas_reading.read_canvas

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(canvas_reading, "read_canvas", counted)
    st.session_state.pop(canvas_reading.STATE_KEY, None)
    return calls


def test_the_same_drawing_is_read_once(reads: list[int], mnist):
    predictor = load_predictor(threads=1)
    first, second = canvas_rgba(mnist.x_test[0]), canvas_rgba(mnist.x_test[1])
    read = canvas_reading.read_canvas_remembered
    a = read("class", first, predictor, single=True)
    again = read("class", first.copy(), predictor, single=True)
    assert again is a and len(reads) == 1
    assert a.text == str(mnist.y_test[0])
    b = read("class", second, predictor, single=True)  # a new drawing is read
    assert b.text == str(mnist.y_test[1]) and len(reads) == 2
    read("class", second, predictor, single=False)  # read another way: read again
    assert len(reads) == 3


def test_a_read_error_is_remembered_and_raised_again(reads: list[int]):
    predictor = load_predictor(threads=1)
    tiny = np.zeros((2, 2, 4), np.uint8)  # too small to read: one sentence, each time
    for _ in range(2):
        with pytest.raises(ReadError, match="too small"):
            canvas_reading.read_canvas_remembered("draw", tiny, predictor, single=True)
    assert len(reads) == 1
