"""Look inside: what every layer of the network does with the digit last drawn."""

from __future__ import annotations

import numpy as np
import streamlit as st

from model.files import ModelFileError
from pages.common import evaluation as ev
from pages.common.inside import LAST_DRAWING_KEY, look_inside
from pages.common.state import ensure_app_frame, get_predictor
from training.data import to_model_input

ensure_app_frame("inside")
st.title("Look inside the network")
drawing = st.session_state.get(LAST_DRAWING_KEY)
if drawing is None:
    st.info("Draw a digit on the Draw page and come back: this page follows the network "
            "step by step on your last drawing. Meanwhile, here is a digit from the test set.",
            icon=":material/draw:")
    mnist, _ = ev.available_mnist()
    if mnist is None:
        drawing = np.zeros((28, 28), np.float32)
    else:
        index = st.number_input("Test digit number", 0, len(mnist.y_test) - 1, 0,
                                key="inside_test_index")
        drawing = to_model_input(mnist.x_test[int(index)])[..., 0]
try:
    look_inside(drawing, get_predictor())
except ModelFileError as exc:  # e.g. a model folder with no ONNX export
    st.error(str(exc))
