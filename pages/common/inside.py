"""The look-inside widget, and the feature banks behind it and the /data map.

The computing is `model.inside` (ONNX Runtime, no TensorFlow); this module caches it per
model fingerprint and draws it, with one plain sentence beside each picture.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from model import Predictor
from model.inside import Inspector, Look, load_inspector, nearest
from model.layout import Projection, fit_pca
from pages.common import charts
from pages.common import evaluation as ev
from training.data import to_model_input

LAST_DRAWING_KEY = "last_drawing"  # the draw page leaves its last single digit here
BANK_TRAIN = 10_000  # training digits searched for the nearest neighbours
BANK_SEED = 1
GRID_WIDTH_PX = 640  # a block's feature maps as one picture about this wide
INPUT_PX = 224
FILTER_PX = 48
NEIGHBOUR_PX = 96
MAP_HEIGHT = 460


@dataclass(frozen=True)
class Bank:
    """The test-set map through one model: penultimate features, computed once per version."""

    map_index: np.ndarray  # the test digits on the map
    map_features: np.ndarray  # (n, D) penultimate activations
    map_coords: np.ndarray  # (n, 2) PCA
    map_pred: np.ndarray
    projection: Projection


@dataclass(frozen=True)
class Neighbours:
    """The training digits look-inside searches for the nearest ones, with their features."""

    train_index: np.ndarray
    train_features: np.ndarray


@st.cache_resource(show_spinner="Opening the network's layers…", max_entries=4)
def get_inspector(model_dir: str, fingerprint: str) -> Inspector:
    """The model's ONNX graph with its inner layers as outputs, one per model version."""
    return load_inspector(model_dir)


@st.cache_resource(show_spinner="Placing the test digits on the map…", max_entries=4)
def feature_bank(model_dir: str, fingerprint: str, key: str) -> Bank:
    """Features and PCA of the map's test digits (once per model version and data).

    A resource, not data: the arrays are read-only and are not copied on every rerun.
    """
    mnist = ev._mnist_for(key)
    inspector = get_inspector(model_dir, fingerprint)
    everything = np.ones(len(mnist.y_test), bool)
    map_index = ev.random_indices(everything, ev.MAP_SAMPLE, ev.MAP_SEED)
    features, proba = inspector.features(to_model_input(mnist.x_test[map_index]))
    projection = fit_pca(features)
    return Bank(map_index=map_index, map_features=features, map_coords=projection(features),
                map_pred=proba.argmax(1), projection=projection)


@st.cache_resource(show_spinner="Passing training digits through the network…", max_entries=4)
def neighbour_bank(model_dir: str, fingerprint: str, key: str) -> Neighbours:
    """Features of a fixed training subset; only look-inside needs them, so only it waits."""
    mnist = ev._mnist_for(key)
    index = ev.random_indices(np.ones(len(mnist.y_train), bool), BANK_TRAIN, BANK_SEED)
    features, _ = get_inspector(model_dir, fingerprint).features(
        to_model_input(mnist.x_train[index]))
    return Neighbours(train_index=index, train_features=features)


# One t-SNE at a time per server process, off the script thread.
_LAYOUTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digit-studio-tsne")


@st.cache_resource(show_spinner=False, max_entries=4)
def tsne_job(model_dir: str, fingerprint: str, key: str) -> Future:
    """The t-SNE layout of the map's digits, started once per model version on first request."""
    from model.layout import tsne_2d

    return _LAYOUTS.submit(tsne_2d, feature_bank(model_dir, fingerprint, key).map_features)


def model_bank(predictor: Predictor,
               neighbours: bool = False) -> tuple[Inspector, Bank | None, Neighbours | None]:
    """The answering model's inspector, map and (if asked) neighbours; no map without MNIST."""
    folder, fingerprint = str(predictor.model_dir), predictor.fingerprint()
    inspector = get_inspector(folder, fingerprint)
    mnist, _ = ev.available_mnist()
    if mnist is None:
        return inspector, None, None
    key = ev.data_key(mnist)
    return (inspector, feature_bank(folder, fingerprint, key),
            neighbour_bank(folder, fingerprint, key) if neighbours else None)


# --- Pictures ------------------------------------------------------------------------------

def feature_grid(maps: np.ndarray, width_px: int = GRID_WIDTH_PX) -> np.ndarray:
    """(C, H, W) activations as one picture, 8 maps a row, each map scaled to its own peak."""
    channels, h, w = maps.shape
    cols = min(8, channels)
    rows = -(-channels // cols)
    peak = maps.reshape(channels, -1).max(axis=1)
    scaled = maps / np.maximum(peak, 1e-9)[:, None, None]
    cells = np.zeros((rows * cols, h, w), np.uint8)
    cells[:channels] = np.round(np.clip(scaled, 0, 1) * 255)
    scale = max(1, width_px // (cols * (w + 2)))
    return ev.tile(cells.reshape(rows, cols, h, w), scale=scale)


def _diverging(values: np.ndarray) -> np.ndarray:
    """Signed values as RGB: red positive, blue negative, white zero."""
    v = np.clip(values / max(float(np.abs(values).max()), 1e-9), -1, 1)
    red = np.where(v < 0, 1 + v, 1.0)
    blue = np.where(v > 0, 1 - v, 1.0)
    green = 1 - np.abs(v)
    return np.round(np.stack([red, green, blue], axis=-1) * 255).astype(np.uint8)


def saliency_overlay(image: np.ndarray, saliency: np.ndarray, size: int = INPUT_PX) -> np.ndarray:
    """The drawing in grey with the saliency over it: red helps the answer, blue hurts it."""
    heat = _diverging(saliency).astype(np.float32)
    ink = np.asarray(image, np.float32)[..., None]
    picture = (0.55 * heat + 0.45 * (255 - 255 * ink)).astype(np.uint8)
    return np.asarray(Image.fromarray(picture).resize((size, size), Image.Resampling.NEAREST))


def filters_picture(filters: np.ndarray, cell_px: int = FILTER_PX, per_row: int = 8,
                    gap_px: int = 8) -> np.ndarray:
    """The first layer's filters (input channel 0), red/blue, in rows on white with gaps."""
    count = len(filters)
    rows = -(-count // per_row)
    cols = min(per_row, count)
    sheet = np.full((rows * (cell_px + gap_px) - gap_px, cols * (cell_px + gap_px) - gap_px, 3),
                    255, np.uint8)
    for i, f in enumerate(filters):
        cell = Image.fromarray(_diverging(f[0])).resize((cell_px, cell_px),
                                                        Image.Resampling.NEAREST)
        y, x = divmod(i, per_row)
        sheet[y * (cell_px + gap_px):y * (cell_px + gap_px) + cell_px,
              x * (cell_px + gap_px):x * (cell_px + gap_px) + cell_px] = np.asarray(cell)
    return sheet


def activation_bars(values: np.ndarray, height: int = 220) -> go.Figure:
    fig = go.Figure(go.Bar(y=values, marker_color="#4c78a8",
                           hovertemplate="unit %{x}: %{y:.2f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title="unit"), yaxis=dict(title="activation"))
    return fig


def map_with_drawing(bank: Bank, labels: np.ndarray, point: np.ndarray | None) -> go.Figure:
    """The test-set map, with the drawing as a black star when there is one."""
    fig = charts.embedding_figure(bank.map_coords, labels, bank.map_pred, bank.map_index,
                                  height=MAP_HEIGHT)
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your digit",
                                 marker=dict(symbol="star", size=22, color="black",
                                             line=dict(color="white", width=2))))
    return fig


# --- The widget ----------------------------------------------------------------------------

def remember_drawing(image: np.ndarray) -> None:
    """Called by the draw page with the 28x28 input of its last single digit."""
    st.session_state[LAST_DRAWING_KEY] = np.asarray(image, np.float32)


def _pictured(column, picture: np.ndarray, sentence: str, width: int) -> None:
    column.image(picture, width=width)
    column.markdown(sentence)


def look_inside(image: np.ndarray, predictor: Predictor) -> Look:
    """Every step of the network for one 28x28 input, each with its sentence."""
    inspector, bank, near = model_bank(predictor, neighbours=True)
    look = inspector.look(image)
    digit = look.digit
    st.subheader(f"The network reads a {digit} ({look.proba[digit]:.0%} sure)")
    seen, saliency, softmax = st.columns([2, 2, 3], gap="medium")
    _pictured(seen, charts.pixelated(look.image, INPUT_PX),
              "**The input.** Your drawing shrunk to 28×28 pixels, white ink on black: "
              "that is all the network gets.", INPUT_PX)
    _pictured(saliency, saliency_overlay(look.image, look.saliency),
              f"**Where it looks (occlusion).** We hide small squares of the picture one at "
              f"a time: red parts make it less sure of the {digit} when hidden, blue parts "
              "make it more sure.", INPUT_PX)
    with softmax:
        st.plotly_chart(charts.probability_bars(look.proba, height=240),
                        config={"displayModeBar": False}, key="inside_softmax")
        st.markdown("**The answer (softmax).** The last layer turns its scores into ten "
                    "chances that add up to 100 %; the tallest bar wins. When it hesitates, "
                    "the Draw page also asks it about the picture moved and turned a little, "
                    "and averages the answers.")
    filters_block(inspector)
    for layer, maps in look.maps:
        with st.container(key=f"inside_block_{layer.name}"):
            c, h, w = layer.shape
            st.markdown(f"#### Block {layer.block + 1} · `{layer.name}` · {c} maps of {h}×{w}")
            st.image(feature_grid(maps))
            st.markdown("Each little square is one filter's answer to *where in the picture "
                        "is my pattern?* — bright means *found it here*. "
                        + ("Early layers find edges and strokes." if layer.block == 0 else
                           "Deeper layers combine strokes into loops, corners and bends, on a "
                           "smaller grid."))
    st.markdown(f"#### Dense layer · `{inspector.anatomy.embedding_name}` · "
                f"{look.embedding.size} numbers")
    st.plotly_chart(activation_bars(look.embedding), config={"displayModeBar": False},
                    key="inside_dense")
    st.markdown("All the maps are boiled down to these numbers: a summary of the digit. "
                "Digits that look alike get similar numbers.")
    if bank is None or near is None:
        st.info(ev.NO_DATA)
        return look
    neighbours_block(look, bank, near)
    return look


def filters_block(inspector: Inspector) -> None:
    filters = inspector.filters
    st.markdown(f"#### The first layer's {len(filters)} filters "
                f"({filters.shape[2]}×{filters.shape[3]} weights each)")
    st.image(filters_picture(filters))
    st.markdown("Each filter is a tiny stencil slid over the picture: red weights want ink, "
                "blue weights want no ink. Training chose these numbers on its own.")


def neighbours_block(look: Look, bank: Bank, near: Neighbours) -> None:
    mnist, _ = ev.available_mnist()
    closest = near.train_index[nearest(look.embedding, near.train_features)]
    near, where = st.columns([2, 3], gap="medium")
    with near, st.container(key="inside_neighbours"):
        st.markdown("#### The 5 most similar training digits")
        st.image([charts.pixelated(mnist.x_train[i], NEIGHBOUR_PX) for i in closest],
                 caption=[f"label {mnist.y_train[i]}" for i in closest], width=NEIGHBOUR_PX)
        st.markdown("These are the training digits whose summary numbers are closest to "
                    "yours: the network thinks your digit looks like them.")
    with where:
        st.markdown("#### Your digit on the map of the test set")
        labels = mnist.y_test[bank.map_index]
        st.plotly_chart(map_with_drawing(bank, labels, bank.projection(look.embedding)[0]),
                        key="inside_map")
        st.markdown(f"Each dot is a test digit, placed by its summary numbers; dots of the same "
                    f"digit crowd together. The star is yours — is it among the "
                    f"{look.digit}s?")
