"""Process-wide resources shared by every session, and the sidebar that shows them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from model import Predictor, load_predictor


@st.cache_resource(show_spinner="Loading the model…")
def get_predictor(model_dir: str | None = None) -> Predictor:
    """One predictor per model folder per process, shared by all sessions (it is thread-safe)."""
    return load_predictor(Path(model_dir) if model_dir else None)


def model_sidebar(predictor: Predictor) -> None:
    """Which model is answering, and how good it is on MNIST."""
    with st.sidebar:
        st.caption("Model")
        st.markdown(f"**{predictor.name}**")
        accuracy = predictor.test_accuracy
        if accuracy is not None:
            st.metric("MNIST test accuracy", f"{accuracy:.2%}")
        st.caption(f"{predictor.backend.upper()} backend · {predictor.model_dir}")
