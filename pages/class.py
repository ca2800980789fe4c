"""Class: a teacher starts a session and projects its code; students join and draw.

    /class                      join with a code, or start a session
    /class?code=ABCDE           a student's page of that session
    /class?board=ABCDE&key=...  the teacher's board (the key is in the teacher's link only)
"""

from __future__ import annotations

import streamlit as st

from model.classroom import ClassError, normalize_code
from pages.common.classroom import store, student_view, teacher_view
from pages.common.state import ensure_app_frame

STUDENT_CODE_KEY = "class_code"
QUERY_KEY = "class_query"


def _start() -> None:
    session = store().start()
    st.query_params.update({"board": session.code, "key": session.teacher_key})


def _join() -> None:
    code = normalize_code(st.session_state.get("class_code_input", ""))
    try:
        store().get(code)
    except ClassError as exc:
        st.session_state["class_join_error"] = str(exc)
        return
    st.session_state[STUDENT_CODE_KEY] = code
    st.query_params["code"] = code


def welcome() -> None:
    join, teach = st.columns(2, gap="large")
    with join:
        st.subheader("I'm a student")
        error = st.session_state.pop("class_join_error", None)
        if error:
            st.error(error)
        st.text_input("Class code", key="class_code_input", max_chars=8,
                      placeholder="e.g. K7MRX")
        st.button("Join", key="class_join", type="primary", on_click=_join,
                  icon=":material/login:")
    with teach:
        st.subheader("I'm the teacher")
        st.markdown("Start a session: you get a short code, a link and a QR code to "
                    "project. Your board shows what the class draws, live.")
        st.button("Start a class session", key="class_start", on_click=_start,
                  icon=":material/co_present:")


def main() -> None:
    params = st.query_params
    if "board" in params:
        try:
            session = store().teacher(params["board"], params.get("key", ""))
        except ClassError as exc:
            st.title("Class")
            st.error(str(exc))
            return
        st.title(f"Class session {session.code}")
        teacher_view(session)
        return
    code = params.get("code") or st.session_state.get(STUDENT_CODE_KEY)
    if code:
        try:
            session = store().get(code)
        except ClassError as exc:
            st.title("Class")
            st.error(str(exc))
            st.query_params.clear()
            st.session_state.pop(STUDENT_CODE_KEY, None)
            welcome()
            return
        st.session_state[STUDENT_CODE_KEY] = session.code
        st.title(f"Class {session.code}")
        if not session.open:
            st.warning("Your teacher has closed this session.")
            return
        st.caption("Draw a digit, check what the model reads, tap the digit you meant and "
                   "send it. Your teacher sees every digit the class sends.")
        student_view(session.code)
        return
    st.title("Class")
    welcome()


# A first visit to a fresh server goes through app.py (see ensure_app_frame), which drops
# the query (?code=, ?board=&key=): keep it across that detour.
if st.query_params:
    st.session_state.setdefault(QUERY_KEY, st.query_params.to_dict())
ensure_app_frame("class")
saved = st.session_state.pop(QUERY_KEY, None)
if saved and not st.query_params:
    st.query_params.update(saved)
main()
