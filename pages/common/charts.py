"""Plotly figure builders: arrays in, figures out, no Streamlit, so tests can call them.

Every chart colours digit d with DIGIT_COLORS[d], so a 7 looks the same everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from PIL import Image

if TYPE_CHECKING:
    from model.reader import Reading

# Plotly's "D3" qualitative palette: ten distinct hues, one per digit.
DIGIT_COLORS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
DIGITS = [str(d) for d in range(10)]


def probability_bars(proba: np.ndarray, height: int = 260) -> go.Figure:
    """The ten class probabilities of one image as a bar chart, the winner opaque."""
    proba = np.asarray(proba, float).reshape(-1)
    best = int(proba.argmax()) if proba.size else -1
    fig = go.Figure(go.Bar(
        x=DIGITS, y=proba,
        marker_color=list(DIGIT_COLORS),
        marker_opacity=[1.0 if d == best else 0.45 for d in range(10)],
        hovertemplate="digit %{x}: %{y:.1%}<extra></extra>",
    ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(range=[0, 1], tickformat=".0%", title=None),
                      xaxis=dict(type="category", title=None))
    return fig


# --- Draw and upload pages -------------------------------------------------------------

# Digits the model is not sure about are outlined dashed in this colour, which no
# digit has (a digit's colour would claim a certainty the model lacks).
UNSURE_COLOR = "#111111"
# Photos are shown at most this many pixels on their longer side; the browser
# would only scale a 12-megapixel phone photo down anyway.
MAX_DISPLAY_SIDE = 1000
# The figure's height follows the picture's shape for a plot about this wide,
# within these bounds (pixels).
FIGURE_WIDTH_PX = 560
FIGURE_HEIGHT_PX = (160, 520)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    """Grey levels 0-255: uint8 images pass through, float images in [0, 1] are scaled."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def pixelated(image: np.ndarray, size: int = 140) -> np.ndarray:
    """A 28x28 model input (floats in [0, 1]) blown up with nearest-neighbour resampling.

    Browsers smooth small images when they enlarge them; blowing the image up
    here keeps every model pixel a crisp square, so learners see what the model sees.
    """
    picture = Image.fromarray(_as_uint8(image))
    return np.asarray(picture.resize((size, size), Image.Resampling.NEAREST))


def fit_for_display(image: np.ndarray) -> np.ndarray:
    """The picture as uint8, shrunk to at most MAX_DISPLAY_SIDE pixels on its longer side."""
    picture = Image.fromarray(_as_uint8(image))
    scale = MAX_DISPLAY_SIDE / max(picture.size)
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(picture)


def reading_figure(picture: np.ndarray, reading: Reading) -> go.Figure:
    """The picture with a box round each digit read and the digit written above it.

    `picture` is the image that was read, at any size (e.g. `fit_for_display`'s):
    the boxes are scaled from the reading's pixels to it.
    """
    z = _as_uint8(picture)
    scale = z.shape[1] / reading.width
    if z.ndim == 2:
        z = np.repeat(z[..., None], 3, axis=2)  # go.Image wants colour channels
    fig = go.Figure(go.Image(z=z, hoverinfo="skip"))
    for found in reading.digits:
        x, y, w, h = (v * scale for v in found.box)
        color = DIGIT_COLORS[found.digit] if found.sure else UNSURE_COLOR
        fig.add_shape(type="rect", x0=x, y0=y, x1=x + w, y1=y + h,
                      line=dict(color=color, width=3, dash="solid" if found.sure else "dash"))
        fig.add_annotation(x=x + w / 2, y=y, yshift=4, yanchor="bottom", showarrow=False,
                           text=f"<b>{found.digit}{'' if found.sure else '?'}</b>",
                           font=dict(color="white", size=16), bgcolor=color, opacity=0.9)
    low, high = FIGURE_HEIGHT_PX
    height = min(high, max(low, round(FIGURE_WIDTH_PX * z.shape[0] / z.shape[1])))
    fig.update_layout(height=height + 28, margin=dict(l=0, r=0, t=28, b=0))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# --- Evaluation dashboard and data explorer -------------------------------------------------

# Off-diagonal cells (the errors) use a sequential scale; the diagonal (the correct
# predictions) would dwarf them, so it is painted one neutral grey and only annotated.
ERROR_SCALE = "OrRd"
DIFF_SCALE = "RdBu_r"  # red: the second model makes more of this error, blue: fewer
DIAGONAL_GREY = "#d9d9d9"
RIGHT_COLOR, WRONG_COLOR = "#4c78a8", "#e45756"
CELL_MARKER_PX = 30  # the invisible click target over each confusion-matrix cell


def _digit_axes(fig: go.Figure, x_title: str, y_title: str) -> None:
    """Digits 0-9 on both axes, the true digit read top to bottom as in a table."""
    tick = dict(tickmode="array", tickvals=list(range(10)), ticktext=DIGITS, showgrid=False,
                zeroline=False)
    fig.update_xaxes(title=x_title, range=[-0.5, 9.5], **tick)
    fig.update_yaxes(title=y_title, range=[9.5, -0.5], **tick)


def _diagonal_mask(k: int) -> np.ndarray:
    """1 on the diagonal, NaN elsewhere: the grey layer under the correct predictions."""
    mask = np.full((k, k), np.nan)
    np.fill_diagonal(mask, 1.0)
    return mask


def _cell_labels(text: list[str], shade: np.ndarray) -> go.Scatter:
    """Numbers written in the cells; white on the darkest cells so they stay readable."""
    k = len(shade)
    dark = np.nan_to_num(shade) > 0.6 * max(float(np.nanmax(np.abs(shade), initial=0)), 1e-9)
    return go.Scatter(x=np.tile(np.arange(k), k), y=np.repeat(np.arange(k), k), mode="text",
                      text=text, hoverinfo="skip", showlegend=False,
                      textfont=dict(size=11, color=np.where(dark.ravel(), "white", "black")))


def _cell_click_layer(k: int, hover: np.ndarray) -> go.Scatter:
    """Invisible points on the cell centres.

    Plotly heatmaps cannot be selected, so Streamlit never hears of a click on one;
    a scatter point can, and its (x, y) is the (predicted, true) cell.
    """
    true, pred = np.divmod(np.arange(k * k), k)
    hidden = dict(marker=dict(opacity=0))
    return go.Scatter(
        x=pred, y=true, mode="markers", name="cells", showlegend=False,
        customdata=hover.reshape(-1), hovertemplate="%{customdata}<extra></extra>",
        marker=dict(symbol="square", size=CELL_MARKER_PX, opacity=0),
        selected=hidden, unselected=hidden,
    )


def confusion_figure(cm: np.ndarray, normalise: bool = False,
                     selected: tuple[int, int] | None = None, height: int = 480) -> go.Figure:
    """The confusion matrix (rows true, columns predicted), errors coloured, counts written in.

    With `normalise` the colour is each row's share (the error rate of that true digit);
    `selected` (true, predicted) gets a frame.
    """
    cm = np.asarray(cm, float)
    k = len(cm)
    rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    errors = cm / rows if normalise else cm.copy()
    np.fill_diagonal(errors, np.nan)
    hover = np.array([[f"true {t}, predicted {p}: {int(cm[t, p])} ({cm[t, p] / rows[t, 0]:.1%})"
                       for p in range(k)] for t in range(k)], dtype=object)
    fig = go.Figure([
        go.Heatmap(z=_diagonal_mask(k), colorscale=[[0, DIAGONAL_GREY], [1, DIAGONAL_GREY]],
                   showscale=False, hoverinfo="skip", name="correct"),
        # With no error at all, plotly would colour the zeros mid-scale; pin its top instead.
        go.Heatmap(z=errors, colorscale=ERROR_SCALE, zmin=0, hoverinfo="skip", name="errors",
                   zmax=None if np.nanmax(errors, initial=0) > 0 else 1,
                   colorbar=dict(title="share" if normalise else "count", thickness=12,
                                 tickformat=".0%" if normalise else None)),
        _cell_labels([f"{int(c)}" for c in cm.ravel()], errors),
        _cell_click_layer(k, hover),
    ])
    if selected is not None:
        t, p = selected
        fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                      line=dict(color="black", width=3))
    _digit_axes(fig, "predicted digit", "true digit")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", hovermode="closest")
    return fig


def confusion_diff_figure(cm_a: np.ndarray, cm_b: np.ndarray, height: int = 440) -> go.Figure:
    """cm_b − cm_a in diverging colours: red cells are errors the second model makes more."""
    diff = np.asarray(cm_b, float) - np.asarray(cm_a, float)
    k = len(diff)
    off = diff.copy()
    np.fill_diagonal(off, np.nan)
    bound = max(float(np.nanmax(np.abs(off))) if k > 1 else 0.0, 1.0)
    fig = go.Figure([
        go.Heatmap(z=_diagonal_mask(k), colorscale=[[0, DIAGONAL_GREY], [1, DIAGONAL_GREY]],
                   showscale=False, hoverinfo="skip"),
        go.Heatmap(z=off, colorscale=DIFF_SCALE, zmid=0, zmin=-bound, zmax=bound,
                   colorbar=dict(title="B − A", thickness=12),
                   hovertemplate="true %{y}, predicted %{x}: %{z:+.0f}<extra></extra>"),
        _cell_labels([f"{int(v):+d}" if v else "" for v in diff.ravel()], off),
    ])
    _digit_axes(fig, "predicted digit", "true digit")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    return fig


def confidence_histogram(confidence: np.ndarray, correct: np.ndarray,
                         height: int = 320) -> go.Figure:
    """Top probability of right and of wrong predictions, each as a share of its own group."""
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, bool)
    fig = go.Figure()
    for name, mask, color in (("right", correct, RIGHT_COLOR), ("wrong", ~correct, WRONG_COLOR)):
        fig.add_trace(go.Histogram(
            x=confidence[mask], name=f"{name} ({int(mask.sum())})", marker_color=color,
            opacity=0.7, histnorm="percent", xbins=dict(start=0, end=1.0001, size=0.05),
            hovertemplate="top probability %{x}: %{y:.1f}%<extra></extra>"))
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title="top probability", range=[0, 1]),
                      yaxis=dict(title="% of group"), legend=dict(x=0.02, y=0.98))
    return fig


def reliability_figure(reliability: dict, height: int = 320) -> go.Figure:
    """Accuracy against mean confidence per confidence bin; the dashed line is perfect."""
    edges = np.asarray(reliability["edges"], float)
    count = np.asarray(reliability["count"])
    used = count > 0
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure([
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"),
                   name="perfectly calibrated", hoverinfo="skip"),
        go.Bar(x=centres[used], y=np.asarray(reliability["accuracy"])[used],
               width=np.diff(edges)[used] * 0.9, marker_color=RIGHT_COLOR, name="accuracy",
               customdata=np.stack([np.asarray(reliability["confidence"])[used], count[used]],
                                   axis=1),
               hovertemplate="mean confidence %{customdata[0]:.3f}<br>accuracy %{y:.3f}"
                             "<br>%{customdata[1]} images<extra></extra>"),
    ])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title=dict(text=f"ECE {reliability['ece']:.4f}", x=0.02, font_size=13),
                      xaxis=dict(title="confidence", range=[0, 1]),
                      yaxis=dict(title="accuracy", range=[0, 1]))
    return fig


def class_distribution_figure(train_counts: np.ndarray, test_counts: np.ndarray,
                              height: int = 300) -> go.Figure:
    """Images per digit in the training and the test set, side by side."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        f"train ({int(np.sum(train_counts)):,})", f"test ({int(np.sum(test_counts)):,})"))
    for col, counts in ((1, train_counts), (2, test_counts)):
        fig.add_trace(go.Bar(x=DIGITS, y=np.asarray(counts), marker_color=list(DIGIT_COLORS),
                             showlegend=False, hovertemplate="digit %{x}: %{y:,}<extra></extra>"),
                      row=1, col=col)
    fig.update_xaxes(type="category")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def pixel_histogram_figure(counts: np.ndarray, height: int = 300) -> go.Figure:
    """How often each grey level 0-255 occurs; log scale, because most pixels are background."""
    fig = go.Figure(go.Bar(x=np.arange(len(counts)), y=np.asarray(counts), marker_color="#555",
                           hovertemplate="intensity %{x}: %{y:,} pixels<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), bargap=0,
                      xaxis=dict(title="pixel intensity"),
                      yaxis=dict(title="pixels", type="log"))
    return fig


def embedding_figure(coords: np.ndarray, labels: np.ndarray, preds: np.ndarray,
                     index: np.ndarray, height: int = 520) -> go.Figure:
    """The 2-D map of test images, one trace per true digit; mistakes drawn as crosses."""
    coords = np.asarray(coords)
    fig = go.Figure()
    for d in range(10):
        mask = np.asarray(labels) == d
        wrong = np.asarray(preds)[mask] != d
        fig.add_trace(go.Scattergl(
            x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=DIGITS[d],
            marker=dict(color=DIGIT_COLORS[d], size=5, opacity=0.75,
                        symbol=np.where(wrong, "x", "circle")),
            customdata=np.stack([np.asarray(index)[mask], np.asarray(preds)[mask]], axis=1),
            hovertemplate=f"test #%{{customdata[0]}}<br>true {d}, predicted %{{customdata[1]}}"
                          "<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title="component 1"), yaxis=dict(title="component 2"),
                      legend=dict(title="true digit", itemsizing="constant"))
    return fig
