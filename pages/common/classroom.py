"""The class page's widgets: the student's canvas and the teacher's live board.

The state of a class is in `model.classroom.ClassStore` (SQLite shared by every server
session and process); this module only draws it. Testing hook, as on the draw page:
``st.session_state["class_image"]`` (an RGBA canvas array) replaces the canvas.
"""

from __future__ import annotations

import io
import time
from urllib.parse import urlsplit

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from model.classroom import (
    FOOLED_CONFIDENCE,
    Board,
    ClassDigit,
    ClassError,
    ClassSession,
    ClassStore,
)
from model.predlog import log_reading
from model.reader import ReadError
from pages.common import charts
from pages.common.canvas_reading import read_canvas_remembered
from pages.common.monitoring import model_label, session_id
from pages.common.quick_send import send_strokes_at_once
from pages.common.state import get_predictor

INJECTED_IMAGE_KEY = "class_image"
SENT_KEY = "class_sent"  # how many digits this student has sent: new canvas and picker each
MESSAGE_KEY = "class_message"
# In the rerun the Send click causes, the canvas still reports the drawing just sent;
# the cleared canvas follows in the next (as on the draw page).
JUST_SENT_KEY = "class_just_sent"
CANVAS_PX = 280
BRUSH = 18
VIEW_PX = 140
BOARD_EVERY_S = 2.0  # the board's refresh period
GALLERY_PX = 84
GALLERY_MAX = 24
QR_PX = 260
PAGE_PATH = "class"


def store() -> ClassStore:
    return ClassStore()


def join_link(code: str) -> str:
    """The link students open: this server's /class page with the code filled in."""
    url = st.context.url or "http://localhost:8501"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{PAGE_PATH}?code={code}"


def qr_png(text: str) -> bytes:
    import qrcode

    picture = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    picture.save(buffer)
    return buffer.getvalue()


# --- Student ------------------------------------------------------------------------------

def _send(code: str, image: np.ndarray, predicted: int, confidence: float, label_key: str,
          reading) -> None:
    """Send button callback: store the digit with what the student says it is."""
    label = st.session_state.get(label_key)
    if label is None:
        st.session_state[MESSAGE_KEY] = ("warning", "First tap the digit you drew.")
        return
    started = time.perf_counter()
    try:
        store().add_digit(code, session_id(), image, predicted, confidence, int(label))
    except ClassError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    predictor = get_predictor()
    log_reading("class", reading, latency_ms=(time.perf_counter() - started) * 1000.0,
                model=model_label(predictor), session=session_id())
    st.session_state[SENT_KEY] = st.session_state.get(SENT_KEY, 0) + 1
    st.session_state.pop(INJECTED_IMAGE_KEY, None)
    st.session_state[JUST_SENT_KEY] = True
    verdict = "the model got it right" if predicted == int(label) else "the model got it wrong"
    st.session_state[MESSAGE_KEY] = ("success", f"Sent: you drew a {label} and {verdict}. "
                                                "Draw another!")


def _canvas(sent: int) -> np.ndarray | None:
    from streamlit_drawable_canvas import st_canvas  # only importable inside a running app

    st.space("small")
    result = st_canvas(stroke_width=BRUSH, stroke_color="#000000", background_color="",
                       width=CANVAS_PX, height=CANVAS_PX, drawing_mode="freedraw",
                       initial_drawing={"objects": [], "digitStudioClears": sent},
                       update_streamlit=True, return_image_data=True, key="class_canvas")
    if st.session_state.pop(JUST_SENT_KEY, False):
        return None
    injected = st.session_state.get(INJECTED_IMAGE_KEY)
    return injected if injected is not None else result.image_data


@st.fragment
def student_view(code: str) -> None:
    """Draw, see the model's answer, say what it is, send it to the class."""
    sent = st.session_state.get(SENT_KEY, 0)
    kind, message = st.session_state.pop(MESSAGE_KEY, (None, None))
    if message:
        getattr(st, kind)(message)
    board, answer = st.columns([1, 1], gap="large")
    with board:
        rgba = _canvas(sent)
    with answer:
        try:
            # Tapping the digit meant reruns this with the same drawing: not read again.
            reading = None if rgba is None else read_canvas_remembered(
                "class", rgba, get_predictor(), single=True)
        except ReadError as exc:
            reading = None
            st.warning(str(exc))
        if reading is None or not reading.digits:
            st.info("Draw one digit in the box, as large as the box.", icon=":material/draw:")
            return
        found = reading.digits[0]
        st.metric("The model reads", str(found.digit))
        st.caption(f"{found.confidence:.0%} sure")
        st.image(charts.pixelated(found.image, VIEW_PX), width=VIEW_PX,
                 caption="What the model sees")
        label_key = f"class_label_{sent}"
        st.segmented_control("What did you draw?", list(range(10)), key=label_key)
        st.button("Send to the class", key="class_send", type="primary",
                  icon=":material/send:", on_click=_send,
                  args=(code, found.image, found.digit, found.confidence, label_key, reading))
    send_strokes_at_once()


# --- Teacher ------------------------------------------------------------------------------

def accuracy_figure(board: Board, height: int = 260) -> go.Figure:
    """Share read right for each digit the class meant, with how many were drawn."""
    drawn = board.confusion.sum(axis=1)
    share = board.accuracy_by_digit()
    fig = go.Figure(go.Bar(
        x=charts.DIGITS, y=np.nan_to_num(share), marker_color=list(charts.DIGIT_COLORS),
        text=[f"{s:.0%} of {n}" if n else "" for s, n in zip(share, drawn, strict=True)],
        hovertemplate="digit %{x}: %{y:.0%}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(range=[0, 1.05], tickformat=".0%", title=None),
                      xaxis=dict(type="category", title="digit the students drew"))
    return fig


def _gallery(digits: list[ClassDigit], key: str, empty: str) -> None:
    with st.container(key=key):
        if not digits:
            st.caption(empty)
            return
        shown = digits[:GALLERY_MAX]
        st.image([charts.pixelated(d.image, GALLERY_PX) for d in shown], width=GALLERY_PX,
                 caption=[f"drew {d.label} · read {d.predicted} ({d.confidence:.0%})"
                          for d in shown])


@st.fragment(run_every=BOARD_EVERY_S)
def live_board(code: str) -> None:
    """Everything the class has drawn, redrawn every BOARD_EVERY_S seconds."""
    board = store().board(code)
    count, students, accuracy = st.columns(3)
    count.metric("Digits drawn", f"{board.digits:,}")
    students.metric("Students", f"{board.students:,}")
    accuracy.metric("Model accuracy", "–" if board.accuracy is None else f"{board.accuracy:.0%}")
    by_digit, confusion = st.columns(2, gap="large")
    with by_digit:
        st.markdown("#### Accuracy by digit")
        st.plotly_chart(accuracy_figure(board), config={"displayModeBar": False},
                        key="class_accuracy")
        st.markdown("How often the model read each digit right, as the students meant it.")
    with confusion:
        st.markdown("#### The class's confusion matrix")
        st.plotly_chart(charts.confusion_figure(board.confusion, height=360),
                        config={"displayModeBar": False}, key="class_confusion")
        st.markdown("Rows: what students drew. Columns: what the model read. Off the grey "
                    "diagonal are the mistakes.")
    st.markdown("#### Digits the model got wrong")
    _gallery(board.misread, "class_misread", "No mistakes yet.")
    st.markdown(f"#### Digits that fooled the model (wrong, yet at least "
                f"{FOOLED_CONFIDENCE:.0%} sure)")
    _gallery(board.fooled, "class_fooled", "Nobody has fooled it yet. Who can?")


def teacher_view(session: ClassSession) -> None:
    """The code, link and QR code to project, the controls, and the live board."""
    link = join_link(session.code)
    code_column, qr_column = st.columns([3, 2], gap="large")
    with code_column:
        st.markdown(f"Join at **{link.split('?')[0]}** with the code")
        st.markdown(f"<div class='class-code' style='font-size:5rem;font-weight:700;"
                    f"letter-spacing:0.4rem'>{session.code}</div>", unsafe_allow_html=True)
        st.code(link, language=None)
        if not session.open:
            st.warning("This session is closed: students cannot send digits.")
        close, reset, export = st.columns(3)
        if session.open:
            close.button("Close session", key="class_close", icon=":material/lock:",
                         on_click=store().close, args=(session.code,))
        else:
            close.button("Reopen", key="class_reopen", icon=":material/lock_open:",
                         on_click=store().reopen, args=(session.code,))
        with reset.popover("Reset", icon=":material/restart_alt:"):
            st.markdown("Forget every digit of this session? The code stays.")
            st.button("Yes, reset", key="class_reset", type="primary",
                      on_click=store().reset, args=(session.code,))
        export.download_button("Export digits (zip)", data=lambda: store().export_zip(
            session.code), file_name=f"class-{session.code}.zip", mime="application/zip",
            key="class_export", icon=":material/download:", on_click="ignore")
    with qr_column:
        st.image(qr_png(link), width=QR_PX, caption="Scan to join")
    live_board(session.code)
