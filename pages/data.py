"""Data: what MNIST looks like — classes, samples, averages, pixels, and a map of the test set."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from model.files import ModelFileError, file_sha256, list_model_dirs, read_card
from model.settings import SETTINGS
from pages.common import charts
from pages.common import evaluation as ev
from pages.common.state import ensure_app_frame
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


def map_section(mnist: Mnist, key: str) -> None:
    """PCA of the shipped network's embedding layer, computed on request (it needs TensorFlow)."""
    st.subheader("Map of the test set")
    folders = [d for d in list_model_dirs() if (d / SETTINGS.keras_file).is_file()]
    if not folders:
        st.caption("The map needs a model's Keras file (model.keras), and none is present.")
        return
    folder = folders[0]
    st.caption(f"{ev.MAP_SAMPLE:,} test images placed by the two main directions of "
               f"{folder.name}'s penultimate layer (PCA); crosses are mistakes. "
               "Click a point to see its image.")
    if not st.session_state.get("map_on"):
        # A callback, so the run it triggers already draws the map instead of the button.
        st.button("Compute the map", icon=":material/scatter_plot:", key="map_button",
                  help="Loads TensorFlow once per server process (10-30 s).",
                  on_click=st.session_state.update, kwargs={"map_on": True})
        return
    result = ev.embedding_map(str(folder), file_sha256(folder / SETTINGS.keras_file), key)
    index = result["index"]
    labels = mnist.y_test[index]
    chart, preview = st.columns([3, 1])
    with chart:
        event = st.plotly_chart(
            charts.embedding_figure(result["coords"], labels, result["pred"], index),
            key="map_chart", on_select="rerun", selection_mode=("points",))
    explained = result["explained"]
    chart.caption(f"The two axes explain {explained[0]:.1%} and {explained[1]:.1%} "
                  "of the embedding's variance.")
    picked = ev.picked_map_point(event, labels)
    with preview:
        if picked is None:
            st.caption("Selected image appears here.")
            return
        test_index = int(index[picked])
        st.image(charts.pixelated(mnist.x_test[test_index], PREVIEW_PX),
                 caption=f"test #{test_index}: true {labels[picked]}, "
                         f"predicted {result['pred'][picked]}")


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
    map_section(mnist, key)


ensure_app_frame("data")
main()
