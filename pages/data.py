"""Data: what MNIST looks like — classes, samples, averages, pixels, and a map of the test set."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from model.files import ModelFileError, list_model_dirs, read_card
from model.layout import neighbour_separation
from pages.common import charts
from pages.common import evaluation as ev
from pages.common.inside import model_bank, tsne_job
from pages.common.state import ensure_app_frame, get_predictor
from training.data import Mnist

SAMPLES_PER_DIGIT = 16
PREVIEW_PX = 168
DEFAULT_SPLIT = {"validation_split": 0.1, "seed": 0, "limit": None}  # training.data.prepare's


def reference_card() -> dict[str, Any]:
    """The card of the model the app answers with (the shipped one, else the newest run)."""
    for folder in list_model_dirs():
        try:
            return read_card(folder)
        except ModelFileError:
            continue
    return {}


def samples_section(mnist: Mnist) -> None:
    st.subheader("Samples of each digit")
    st.session_state.setdefault("data_seed", 0)
    if st.button("Reshuffle", icon=":material/shuffle:", key="data_reshuffle"):
        st.session_state.data_seed += 1
    grid = ev.samples_per_digit(mnist.x_train, mnist.y_train, SAMPLES_PER_DIGIT,
                                seed=1000 * st.session_state.data_seed)
    st.image(ev.tile(grid, scale=2), caption="Training images, one row per digit 0-9")


def split_section(mnist: Mnist, key: str, card: dict[str, Any]) -> None:
    """Train and validation counts per digit, split exactly as training.data.prepare does."""
    hp = card.get("hyperparameters", {})
    split = {name: hp.get(name, default) for name, default in DEFAULT_SPLIT.items()}
    st.subheader("Validation split")
    st.caption(f"As training splits it: validation_split={split['validation_split']}, "
               f"seed={split['seed']}, limit={split['limit']}"
               + (" (from the model card)" if hp else " (training's defaults)"))
    counts = ev.split_counts(key, float(split["validation_split"]), int(split["seed"]),
                             split["limit"])
    rows = [{"part": part, **{str(d): int(n) for d, n in enumerate(c)}, "all": int(c.sum())}
            for part, c in counts.items()]
    st.dataframe(rows, hide_index=True)


LAYOUTS = {"PCA": "the two main directions (PCA)",
           "t-SNE": "t-SNE, which keeps neighbours together"}


@st.fragment(run_every=3)
def _wait_for(job) -> None:
    if job.done():
        st.rerun(scope="app")
    st.info("t-SNE is being computed, once for this model (a minute or so on 2 cores); "
            "the map appears here when it is ready.", icon=":material/hourglass_top:")


def tsne_coords(predictor, bank) -> np.ndarray | None:
    """The t-SNE layout, or None (with a note) while it is being computed."""
    mnist, _ = ev.available_mnist()
    job = tsne_job(str(predictor.model_dir), predictor.fingerprint(), ev.data_key(mnist))
    if not job.done():
        _wait_for(job)
        return None
    try:
        return job.result()
    except Exception as exc:  # e.g. scikit-learn missing from a slim install
        st.warning(f"The t-SNE layout is not available here ({exc}); PCA still is.")
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def separation(layout: str, coords: np.ndarray, labels: np.ndarray) -> float:
    return neighbour_separation(coords, labels)


def map_section(mnist: Mnist) -> None:
    """PCA of the answering model's penultimate layer, through its ONNX export (no TensorFlow).

    Computed once per model version and cached for every session (pages.common.inside).
    """
    st.subheader("Map of the test set")
    predictor = get_predictor()
    try:
        _, bank, _ = model_bank(predictor)
    except ModelFileError as exc:
        st.caption(f"No map for this model: {exc}")
        return
    if bank is None:
        return
    labels = mnist.y_test[bank.map_index]
    layout = st.segmented_control("Layout", list(LAYOUTS), default="PCA",
                                  key="map_layout") or "PCA"
    coords = bank.map_coords if layout == "PCA" else tsne_coords(predictor, bank)
    if coords is None:
        return
    st.caption(f"{len(labels):,} test images placed by {LAYOUTS[layout]} of {predictor.name}'s "
               "penultimate layer; crosses are mistakes. Click a point to see its image.")
    chart, preview = st.columns([3, 1])
    with chart:
        event = st.plotly_chart(
            charts.embedding_figure(coords, labels, bank.map_pred, bank.map_index),
            key="map_chart", on_select="rerun", selection_mode=("points",))
    explained = bank.projection.explained
    chart.caption(f"The two PCA axes explain {explained[0]:.1%} and {explained[1]:.1%} "
                  "of the penultimate layer's variance; on 2-D, the 5 nearest points share a "
                  f"digit's label for {separation(layout, coords, labels):.1%} of them.")
    picked = ev.picked_map_point(event, labels)
    with preview:
        if picked is None:
            st.caption("Selected image appears here.")
            return
        test_index = int(bank.map_index[picked])
        st.image(charts.pixelated(mnist.x_test[test_index], PREVIEW_PX),
                 caption=f"test #{test_index}: true {labels[picked]}, "
                         f"predicted {bank.map_pred[picked]}")


def main() -> None:
    st.title("Data")
    mnist, why = ev.available_mnist()
    card = reference_card()
    if mnist is None:
        st.info(ev.NO_DATA)
        st.caption(why)
        data = card.get("data", {})
        if {"train", "validation", "test"} <= data.keys():
            st.caption(f"The model card says training used {data['train']:,} images, held "
                       f"{data['validation']:,} out for validation, and tested on "
                       f"{data['test']:,}.")
        return
    key = ev.data_key(mnist)
    stats = ev.data_statistics(key)
    st.subheader("Images per digit")
    st.plotly_chart(charts.class_distribution_figure(stats["train_counts"],
                                                     stats["test_counts"]))
    samples_section(mnist)
    means, pixels = st.columns(2)
    with means:
        st.subheader("The average digit")
        st.image(ev.tile(np.round(stats["means"]).astype(np.uint8)[None]),
                 caption="Mean training image of each digit 0-9")
    with pixels:
        st.subheader("Pixel intensities")
        st.plotly_chart(charts.pixel_histogram_figure(stats["pixels"]))
    split_section(mnist, key, card)
    map_section(mnist)


ensure_app_frame("data")
main()
