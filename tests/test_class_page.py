"""The class page in AppTest: a teacher starts a session, a student joins, draws and sends.

AppTest cannot draw: the drawing goes in through ``st.session_state["class_image"]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from model.classroom import ClassStore
from training.synthetic_scans import canvas_rgba

APP = str(Path(__file__).resolve().parent.parent / "app.py")
RUN_TIMEOUT_S = 60


def _open(query: dict[str, str] | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.run()
    for name, value in (query or {}).items():
        app.query_params[name] = value
    app.switch_page("pages/class.py")
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def _metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_a_teacher_starts_a_session_with_a_code_link_and_qr(monitor_db: Path):
    app = _open()
    app.button(key="class_start").click().run()
    assert not app.exception, [e.message for e in app.exception]
    code = app.query_params["board"]
    if isinstance(code, list):
        code = code[0]
    assert app.title[0].value == f"Class session {code}"
    assert any(f"/class?code={code}" in c.value for c in app.code)
    assert any("Scan to join" in cap for img in app.image for cap in img.captions)
    assert _metric(app, "Digits drawn") == "0"
    assert ClassStore(monitor_db).get(code).open


def test_a_student_joins_draws_and_the_board_counts_it(monitor_db: Path, mnist):
    store = ClassStore(monitor_db)
    session = store.start()
    student = _open()
    student.text_input(key="class_code_input").input(session.code.lower())
    student.button(key="class_join").click().run()
    assert student.title[0].value == f"Class {session.code}"
    four = mnist.x_test[np.flatnonzero(mnist.y_test == 4)[0]]
    student.session_state["class_image"] = canvas_rgba(four)
    student.run()
    assert not student.exception, [e.message for e in student.exception]
    assert _metric(student, "The model reads") == "4"
    student.button_group(key="class_label_0").set_value(9).run()  # the student says 9
    student.button(key="class_send").click().run()
    assert not student.exception, [e.message for e in student.exception]
    assert any("you drew a 9" in s.value for s in student.success)
    (digit,) = store.digits(session.code)
    assert (digit.label, digit.predicted) == (9, 4)
    teacher = _open({"board": session.code, "key": session.teacher_key})
    assert _metric(teacher, "Digits drawn") == "1" and _metric(teacher, "Students") == "1"
    assert _metric(teacher, "Model accuracy") == "0%"
    assert len(teacher.get("plotly_chart")) == 2  # accuracy by digit, confusion matrix


def test_a_wrong_code_or_key_is_one_sentence(monitor_db: Path):
    student = _open({"code": "XXXXX"})
    assert [e.value for e in student.error] == [
        "No class session has the code XXXXX: check it with your teacher."]
    session = ClassStore(monitor_db).start()
    teacher = _open({"board": session.code, "key": "guess"})
    assert len(teacher.error) == 1 and "not the teacher's link" in teacher.error[0].value


def test_a_closed_session_takes_no_more_digits(monitor_db: Path):
    store = ClassStore(monitor_db)
    session = store.start()
    teacher = _open({"board": session.code, "key": session.teacher_key})
    teacher.button(key="class_close").click().run()
    assert not store.get(session.code).open
    student = _open({"code": session.code})
    assert any("closed" in w.value for w in student.warning)
