"""Draw page: write a digit (or a number) with mouse, pen or finger; see what the model reads.

Every stroke is read at once: the "Prediction" metric, the confidence, the ten
probabilities and the 28×28 picture the model actually sees. Only the fragment
holding the canvas and the results reruns on a stroke, and the predictor is the
process-wide cached one, so a stroke costs a few milliseconds on the server.

Testing hook: the page reads the canvas's RGBA image, unless
``st.session_state["draw_image"]`` holds an RGBA (H, W, 4) uint8 array; then it
reads that instead. AppTest cannot draw on the canvas, so tests inject the
drawing there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from model.reader import ReadError, Reading
from pages.common import charts
from pages.common.feedback import feedback_widget
from pages.common.inside import remember_drawing
from pages.common.monitoring import read_canvas_logged
from pages.common.quick_send import send_strokes_at_once
from pages.common.state import digit_crops, ensure_app_frame, get_predictor

INJECTED_IMAGE_KEY = "draw_image"
CLEARS_KEY = "draw_clears"
JUST_CLEARED_KEY = "draw_just_cleared"
# The canvas redraws its `initial_drawing` whenever that changes; counting the clears
# in it empties the canvas in place. (Remounting the canvas under a new key instead
# loses a stroke begun in the first moments after the click, before it is ready.)
CLEAR_COUNT_FIELD = "digitStudioClears"
EMPTY = "–"
MODEL_VIEW_PX = 280  # 28 model pixels, 10 screen pixels each: readable on a projector


class Mode(NamedTuple):
    """A way to write: the canvas size, the default brush, and how the ink is read."""

    width: int
    height: int
    brush: int  # default brush width, about MNIST's stroke width at this size
    single: bool  # read all the ink as one digit
    hint: str


MODES = {
    "One digit": Mode(280, 280, 18, True, "Draw one digit, as large as the box."),
    "A number": Mode(640, 240, 16, False,
                     "Write a number, digits side by side with a little space between."),
}
# One digit: canvas and results side by side; a number: results under the canvas,
# in the left part of the page.
SIDE_BY_SIDE = (2, 3)
UNDER = (3, 2)
CROPS_PER_ROW = 6
DEFAULT_MODE = "One digit"


def _controls() -> tuple[Mode, int]:
    """The mode and brush width the learner picked."""
    what, size, _ = st.columns([2, 2, 3], vertical_alignment="bottom")
    # Clicking the selected option again deselects it: fall back to the default.
    name = what.segmented_control("What to write", list(MODES), default=DEFAULT_MODE,
                                  key="draw_mode") or DEFAULT_MODE
    mode = MODES[name]
    brush = size.slider("Brush size", 6, 40, mode.brush, key=f"draw_brush_{name}")
    return mode, brush


def _clear() -> None:
    """Empty the canvas (the toolbar's own reset button does the same)."""
    st.session_state[CLEARS_KEY] = st.session_state.get(CLEARS_KEY, 0) + 1
    # In the rerun this click causes the canvas still reports the old drawing; the
    # empty one follows in the next.
    st.session_state[JUST_CLEARED_KEY] = True
    st.session_state.pop(INJECTED_IMAGE_KEY, None)


def _canvas(mode: Mode, brush: int) -> tuple[np.ndarray | None, dict | None]:
    """Draw the canvas; its RGBA image (or the injected one; None before any ink) and its
    paths (`json_data`, which tells the strokes of one digit from the next)."""
    from streamlit_drawable_canvas import st_canvas  # only importable inside a running app

    clears = st.session_state.get(CLEARS_KEY, 0)
    st.space("small")  # room for the toolbar the canvas floats above its top edge
    result = st_canvas(
        stroke_width=brush, stroke_color="#000000", background_color="",
        width=mode.width, height=mode.height, drawing_mode="freedraw",
        initial_drawing={"objects": [], CLEAR_COUNT_FIELD: clears},
        update_streamlit=True, return_image_data=True,
        key=f"draw_canvas_{mode.width}x{mode.height}",
    )
    st.button("Clear", icon=":material/ink_eraser:", on_click=_clear, key="draw_clear")
    if st.session_state.pop(JUST_CLEARED_KEY, False):
        return None, None
    injected = st.session_state.get(INJECTED_IMAGE_KEY)
    if injected is not None:
        return injected, None
    return result.image_data, result.json_data


def _not_sure_sentence(reading: Reading) -> str:
    """Why the model hesitates, in words a learner understands."""
    if len(reading.digits) == 1:
        found = reading.digits[0]
        if found.unusual:
            return (f"Not sure: the model reads a {found.digit}, but this shape is unlike "
                    f"the {found.digit}s it learned from.")
        runner_up = int(np.argsort(found.probabilities)[-2])
        return (f"Not sure: it looks most like a {found.digit}, but it could be a "
                f"{runner_up} ({found.probabilities[runner_up]:.0%}).")
    places = ", ".join(str(place) for place, d in enumerate(reading.digits, 1) if not d.sure)
    return f"Not sure about digit {places} (counting from the left): check the ? marks."


def _show_digit(reading: Reading) -> None:
    found = reading.digits[0]
    bars, seen = st.columns([1, 1])
    with bars:
        st.caption("Probability of each digit")
        st.plotly_chart(charts.probability_bars(found.probabilities, height=220),
                        config={"displayModeBar": False}, key="draw_bars")
    with seen:
        st.caption("What the model sees")
        st.image(charts.pixelated(found.image, MODEL_VIEW_PX), width=MODEL_VIEW_PX)
    remember_drawing(found.image)  # the Look inside page follows this digit
    st.page_link("pages/inside.py", label="Look inside the network", icon=":material/neurology:")


def _show_number(reading: Reading) -> None:
    st.caption("Each digit as the model sees it")
    digit_crops(reading, CROPS_PER_ROW)
    least = min(reading.digits, key=lambda d: d.confidence)
    st.caption(f"Probabilities for the digit it is least sure of (the {least.digit})")
    st.plotly_chart(charts.probability_bars(least.probabilities, height=200),
                    config={"displayModeBar": False}, key="draw_bars")


def _show_reading(reading: Reading | None, hint: str) -> None:
    """The prediction, its confidence, and how the model got there."""
    prediction, confidence = st.columns(2)
    if reading is None or not reading.digits:
        prediction.metric("Prediction", EMPTY)
        confidence.metric("Confidence", EMPTY)
        st.info(hint, icon=":material/draw:")
        return
    prediction.metric("Prediction", reading.text)
    confidence.metric("Confidence", f"{min(d.confidence for d in reading.digits):.0%}",
                      help="The model's probability for its answer (for a number: for the "
                           "digit it is least sure of).")
    if not reading.sure:
        st.warning(_not_sure_sentence(reading), icon=":material/help:")
    if len(reading.digits) == 1:
        _show_digit(reading)
    else:
        _show_number(reading)


@st.fragment
def draw_and_read(mode: Mode, brush: int) -> None:
    """Canvas and results: a stroke reruns only this fragment."""
    if mode.single:
        board, results = st.columns(SIDE_BY_SIDE, gap="large")
    else:
        board, results = st.container(), st.columns(UNDER)[0]
    with board:
        rgba, strokes = _canvas(mode, brush)
    with results:
        try:
            reading = None if rgba is None else read_canvas_logged(
                rgba, get_predictor(), single=mode.single, strokes=strokes,
                canvas_size=(mode.width, mode.height))
        except ReadError as exc:  # e.g. a scribble across the whole canvas
            reading = None
            st.warning(str(exc), icon=":material/warning:")
        _show_reading(reading, mode.hint)
        feedback_widget(reading, source="draw", key="draw_feedback", picture=rgba)


ensure_app_frame("draw")
st.title("Draw a digit")
mode, brush = _controls()
draw_and_read(mode, brush)
send_strokes_at_once()
with st.expander("How does the model see my drawing?"):
    st.markdown(
        "The model was trained on MNIST: 28×28 grey pictures with white ink on black, each "
        "digit scaled to fit a 20×20 box and centred by its centre of mass. Your drawing is "
        "turned into exactly that before the model reads it: the ink is cut out, scaled, "
        "centred and shrunk to 28×28 pixels — the picture under *What the model sees*. "
        "Several digits are cut apart first and read one by one."
    )
