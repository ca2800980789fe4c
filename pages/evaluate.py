"""Evaluate: how a model does on the 10,000 MNIST test digits, and where it goes wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from model import Predictor
from model.files import ModelFileError, list_model_dirs
from pages.common import charts
from pages.common import evaluation as ev
from pages.common.state import ensure_app_frame, get_predictor
from training.metrics import classification_report, most_confused_with

THUMB_PX = 96
SAMPLE_SIZE = 20
COMPARE_SIZE = 15
CELL_KEYS = ("cell_true", "cell_pred")


def pick_model(dirs: list[Path], label: str, key: str, optional: bool = False) -> Predictor | None:
    """A model chooser; returns the loaded predictor, or None (nothing chosen, or it failed)."""
    path = st.selectbox(label, dirs, format_func=lambda p: p.name, key=key,
                        index=None if optional else 0, placeholder="Choose a model")
    if path is None:
        return None
    try:
        return get_predictor(str(path))
    except ModelFileError as exc:
        st.error(str(exc))
        return None


def gallery(scored: ev.Scored, indices: np.ndarray, key: str, limit: int = ev.GALLERY_MAX) -> None:
    """Test images with their number, true digit and top-3 probabilities."""
    shown = np.asarray(indices)[:limit]
    if len(shown) == 0:
        st.caption("No images here.")
        return
    with st.container(key=key):
        st.image([charts.pixelated(scored.images[i], THUMB_PX) for i in shown],
                 caption=[scored.caption(i) for i in shown], width=THUMB_PX)
    if len(indices) > limit:
        st.caption(f"Showing {limit} of {len(indices):,}.")


def headline(report: dict[str, Any], card: dict[str, Any]) -> None:
    """The headline figures and the per-digit table, with how the model was trained beside."""
    cols = st.columns(5)
    cols[0].metric("Accuracy", f"{report['accuracy']:.2%}")
    cols[1].metric("Precision (macro)", f"{report['macro_precision']:.4f}")
    cols[2].metric("Recall (macro)", f"{report['macro_recall']:.4f}")
    cols[3].metric("F1 (macro)", f"{report['macro_f1']:.4f}")
    cols[4].metric("Errors", f"{report['errors']:,} of {report['n']:,}")
    table, details = st.columns([3, 2])
    rows = ev.per_class_rows(report, most_confused_with(np.asarray(report["confusion_matrix"])))
    table.dataframe(rows, hide_index=True, column_config={
        **{name: st.column_config.NumberColumn(format="%.4f")
           for name in ("precision", "recall", "f1")},
        "most confused with": st.column_config.NumberColumn(width="medium"),
    })
    with details.container(border=True):
        st.markdown("**How it was trained**")
        facts = ev.training_details(card)
        st.markdown("\n".join(f"- **{label}**: {text}" for label, text in facts.items())
                    or "The model card says nothing about its training.")


def _take_clicked_cell() -> None:
    # Runs before the script on a click, so the selectboxes below are drawn already moved.
    cell = ev.clicked_cell(st.session_state.get("cm_chart"))
    if cell is not None:
        st.session_state[CELL_KEYS[0]], st.session_state[CELL_KEYS[1]] = cell


def confusion_section(cm: np.ndarray, scored: ev.Scored | None) -> None:
    """The confusion matrix; a click on a cell (or the two selectboxes) opens its images."""
    st.subheader("Confusion matrix")
    share = st.toggle("Row-normalised (share of each true digit)", key="cm_share")
    if scored is None:
        st.plotly_chart(charts.confusion_figure(cm, normalise=share), key="cm_static")
        return
    if CELL_KEYS[0] not in st.session_state:  # start on the most common mistake
        off = cm.copy()
        np.fill_diagonal(off, -1)
        st.session_state[CELL_KEYS[0]], st.session_state[CELL_KEYS[1]] = divmod(
            int(off.argmax()), len(cm))
    selected = (st.session_state[CELL_KEYS[0]], st.session_state[CELL_KEYS[1]])
    chart, cell = st.columns([1, 1])
    with chart:
        st.plotly_chart(charts.confusion_figure(cm, normalise=share, selected=selected),
                        key="cm_chart", on_select=_take_clicked_cell, selection_mode=("points",))
    with cell:
        left, right = st.columns(2)
        true = left.selectbox("True digit", range(len(cm)), key=CELL_KEYS[0])
        pred = right.selectbox("Predicted digit", range(len(cm)), key=CELL_KEYS[1])
        indices = ev.by_confidence(ev.cell_indices(scored.labels, scored.pred, true, pred),
                                   scored.proba)
        st.markdown(f"**{len(indices):,}** test images of a **{true}** predicted as **{pred}**"
                    " — click a cell to change, surest first")
        gallery(scored, indices, key="cell_gallery")


def samples_section(scored: ev.Scored) -> None:
    """Seeded random right and wrong predictions, and the two extremes of confidence."""
    st.subheader("Samples")
    st.session_state.setdefault("sample_seed", 0)
    kind_col, button_col = st.columns([5, 1])
    kind = kind_col.segmented_control("Show", ev.SAMPLE_KINDS, default=ev.SAMPLE_KINDS[0],
                                      key="sample_kind", label_visibility="collapsed")
    if button_col.button("Reshuffle", icon=":material/shuffle:", key="sample_reshuffle"):
        st.session_state.sample_seed += 1
    indices = ev.sample(scored, kind or ev.SAMPLE_KINDS[0], SAMPLE_SIZE,
                        st.session_state.sample_seed)
    gallery(scored, indices, key="sample_gallery")


def confidence_section(report: dict[str, Any], scored: ev.Scored | None) -> None:
    st.subheader("Confidence")
    hist, calib = st.columns(2)
    if scored is not None:
        hist.caption("Top probability of right and of wrong predictions")
        hist.plotly_chart(charts.confidence_histogram(scored.proba.max(axis=1),
                                                      scored.pred == scored.labels))
    if "reliability" in report:  # cards written before calibration was recorded lack it
        calib.caption("Reliability: accuracy against confidence; the gap is the calibration "
                      "error")
        calib.plotly_chart(charts.reliability_figure(report["reliability"]))


def compare_section(dirs: list[Path], first: Predictor, report: dict[str, Any],
                    scored: ev.Scored | None, key: str | None) -> None:
    """Two models side by side: accuracies, confusion difference, disagreements."""
    st.subheader("Compare two models")
    others = [d for d in dirs if d != first.model_dir]
    if not others:
        st.caption("Only one model is known; train another (`python -m training.train "
                   "--output runs/NAME`) to compare them here.")
        return
    second = pick_model(others, "Compare with", key="compare_model", optional=True)
    if second is None:
        return
    if scored is not None and key is not None:
        proba_b = ev.test_set_proba(second, second.fingerprint(), key)
        report_b = classification_report(scored.labels, proba_b)
    else:
        report_b = second.card.get("test")
        if not report_b:
            st.warning(f"{second.name} has no test results on its card.")
            return
    a, b, diff = st.columns([1, 1, 3])
    a.metric(f"A: {first.model_dir.name}", f"{report['accuracy']:.2%}")
    b.metric(f"B: {second.model_dir.name}", f"{report_b['accuracy']:.2%}",
             delta=f"{(report_b['accuracy'] - report['accuracy']) * 100:+.2f} points")
    diff.caption("Confusion matrix of B minus A: red cells are mistakes B makes more often")
    diff.plotly_chart(charts.confusion_diff_figure(np.asarray(report["confusion_matrix"]),
                                                   np.asarray(report_b["confusion_matrix"])))
    if scored is None:
        return
    a_only, b_only = ev.disagreements(scored.labels, scored.pred, proba_b.argmax(axis=1))
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{len(a_only):,}** images A gets right and B wrong (B's probabilities)")
        gallery(ev.Scored(scored.images, scored.labels, proba_b), a_only, "a_only", COMPARE_SIZE)
    with right:
        st.markdown(f"**{len(b_only):,}** images B gets right and A wrong (A's probabilities)")
        gallery(scored, b_only, "b_only", COMPARE_SIZE)


def main() -> None:
    st.title("Evaluate")
    dirs = list_model_dirs()
    if not dirs:
        st.info("No model yet: train one with `python -m training.train`.")
        return
    predictor = pick_model(dirs, "Model", key="eval_model")
    if predictor is None:
        return
    mnist, why = ev.available_mnist()
    scored, key = None, None
    if mnist is None:
        st.info(ev.NO_DATA)
        st.caption(why)
        report = predictor.card.get("test")
        if not report:
            st.warning(f"The card of {predictor.name} holds no test results either.")
            return
    else:
        key = ev.data_key(mnist)
        proba = ev.test_set_proba(predictor, predictor.fingerprint(), key)
        scored = ev.Scored(mnist.x_test, mnist.y_test.astype(np.int64), proba)
        report = classification_report(scored.labels, proba)
    headline(report, predictor.card)
    confusion_section(np.asarray(report["confusion_matrix"]), scored)
    if scored is not None:
        samples_section(scored)
    confidence_section(report, scored)
    compare_section(dirs, predictor, report, scored, key)


ensure_app_frame("evaluate")
main()
