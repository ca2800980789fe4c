"""Digit Studio, the app: `streamlit run app.py`.

This file is the frame every page shares: page config, navigation, and the
sidebar naming the model. The model is loaded once per process (cached) and
shared by every session. Nothing here imports TensorFlow: the predictor runs on
ONNX Runtime, so the app is up in about a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# Whole before any page draws: Streamlit imports pandas lazily in a session's thread (the
# canvas's first render), and plotly in another session reads it half-imported
# ("partially initialized module 'pandas'"), which broke the class board on a fresh server.
import pandas  # noqa: F401
import streamlit as st

from model.files import ModelFileError
from pages.common.state import FRAME_KEY, RETURN_KEY, get_predictor, model_sidebar

PAGES_DIR = Path(__file__).resolve().parent / "pages"


class PageSpec(NamedTuple):
    file: str
    title: str
    icon: str
    url_path: str


# In menu order; the first is the landing page. A page whose file is absent
# (evaluate and data are optional) is left out of the menu.
PAGES = (
    PageSpec("draw.py", "Draw", ":material/draw:", "draw"),
    PageSpec("upload.py", "Upload", ":material/upload_file:", "upload"),
    PageSpec("evaluate.py", "Evaluate", ":material/analytics:", "evaluate"),
    PageSpec("data.py", "Data", ":material/dataset:", "data"),
    PageSpec("train.py", "Train", ":material/model_training:", "train"),
    PageSpec("experiments.py", "Experiments", ":material/science:", "experiments"),
    PageSpec("inside.py", "Look inside", ":material/neurology:", "inside"),
    PageSpec("class.py", "Class", ":material/groups:", "class"),
    PageSpec("monitor.py", "Monitor", ":material/monitoring:", "monitor"),
)
LANDING_URL_PATH = "home"  # internal only: the landing page is served at "/"


def navigation() -> tuple[st.Page, dict[str, st.Page]]:
    """The app's menu over the page files that exist: the page to run, and every page
    by its url_path."""
    present = [spec for spec in PAGES if (PAGES_DIR / spec.file).is_file()]
    landing, *others = present
    # Streamlit serves the default page at "/" only; a hidden page at its own path
    # ("/draw") sends visitors there, so every page has a working /<url_path>.
    home = st.Page(PAGES_DIR / landing.file, title=landing.title, icon=landing.icon,
                   url_path=LANDING_URL_PATH, default=True)
    alias = st.Page(lambda: st.switch_page(home), title=landing.title,
                    url_path=landing.url_path, visibility="hidden")
    pages = {spec.url_path: st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon,
                                    url_path=spec.url_path) for spec in others}
    current = st.navigation([home, *pages.values(), alias])
    return current, {landing.url_path: home, **pages}


st.set_page_config(page_title="Digit Studio", page_icon="✍️", layout="wide")
page, pages = navigation()
st.session_state[FRAME_KEY] = True
return_to = st.session_state.pop(RETURN_KEY, None)
if return_to in pages:  # a page Streamlit first ran without this frame (see state.py)
    st.switch_page(pages[return_to])
try:
    model_sidebar(get_predictor())
except ModelFileError as exc:
    st.error(f"Digit Studio cannot read digits until its model is in place: {exc}")
    st.stop()
page.run()
