"""Plotly figures of training and experiments: curves, sweeps, channels. No Streamlit.

Series come in as plain lists (x, y), so the live page, the experiments page and the
tests build the same figures from whatever they read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
BEST_COLOR = "#2ca02c"
# Runs compared on one chart take these colours in turn (Plotly's "D3" palette).
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
              "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
Series = tuple[Sequence[float], Sequence[float]]


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int, percent: bool) -> None:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.12, x=0),
                      xaxis=dict(title=x_title), hovermode="x unified",
                      yaxis=dict(title=y_title, tickformat=".1%" if percent else None))


def learning_curve(train: Series, validation: Series, metric: str, epochs: int | None = None,
                   height: int = 320) -> go.Figure:
    """One metric, training (points every second or so) against validation (each epoch).

    x is in epochs: 0.5 is halfway through the first; a validation point at 1 is the end
    of it. `epochs` fixes the x range to the whole run, so the curve grows into it.
    """
    percent = metric == "accuracy"
    fig = go.Figure([
        go.Scatter(x=list(train[0]), y=list(train[1]), name=f"training {metric}",
                   mode="lines+markers", marker=dict(size=4), line=dict(color=TRAIN_COLOR)),
        go.Scatter(x=list(validation[0]), y=list(validation[1]), name=f"validation {metric}",
                   mode="lines+markers", marker=dict(size=9, symbol="diamond"),
                   line=dict(color=VAL_COLOR, dash="dot")),
    ])
    _layout(fig, "epoch", metric, height, percent)
    if epochs:
        fig.update_xaxes(range=[0, epochs * 1.02])
    return fig


def overlaid_curves(curves: Mapping[str, Series], metric: str, height: int = 340) -> go.Figure:
    """The same metric of several runs, one colour each, against epoch."""
    fig = go.Figure([
        go.Scatter(x=list(x), y=list(y), name=label, mode="lines+markers",
                   line=dict(color=RUN_COLORS[i % len(RUN_COLORS)]))
        for i, (label, (x, y)) in enumerate(curves.items())])
    _layout(fig, "epoch", metric, height, metric.endswith("accuracy"))
    return fig


def parallel_coordinates(columns: Mapping[str, Sequence[float]], objective: str,
                         labels: Mapping[str, Sequence[str]] | None = None,
                         height: int = 420) -> go.Figure:
    """One line per trial across its parameters, coloured by `objective` (the last axis).

    `labels` gives tick texts for parameters that are categories (e.g. filters "16,32")."""
    dims = []
    for name, values in columns.items():
        ticks = (labels or {}).get(name)
        dim = dict(label=name, values=list(values))
        if ticks is not None:
            dim.update(tickvals=list(range(len(ticks))), ticktext=list(ticks))
        dims.append(dim)
    fig = go.Figure(go.Parcoords(
        line=dict(color=list(columns[objective]), colorscale="Viridis", showscale=True),
        dimensions=dims))
    fig.update_layout(height=height, margin=dict(l=60, r=60, t=50, b=20))
    return fig


def optimisation_history(values: Sequence[float], objective: str, maximise: bool = True,
                         height: int = 340) -> go.Figure:
    """Each trial's objective in the order they ran, and the best so far."""
    values = np.asarray(values, float)
    best = np.fmax.accumulate(values) if maximise else np.fmin.accumulate(values)
    trials = list(range(1, len(values) + 1))
    fig = go.Figure([
        go.Scatter(x=trials, y=values, mode="markers", name=objective,
                   marker=dict(size=9, color=TRAIN_COLOR)),
        go.Scatter(x=trials, y=best, mode="lines", name="best so far",
                   line=dict(color=BEST_COLOR, shape="hv")),
    ])
    _layout(fig, "trial", objective, height, objective.endswith("accuracy"))
    return fig


def accuracy_vs_size(parameters: Sequence[float], accuracy: Sequence[float],
                     names: Sequence[str], metric: str = "test_accuracy",
                     height: int = 340) -> go.Figure:
    """Accuracy against the network's parameter count (log scale): what size buys."""
    fig = go.Figure(go.Scatter(x=list(parameters), y=list(accuracy), mode="markers",
                               text=list(names), marker=dict(size=10, color=TRAIN_COLOR),
                               hovertemplate="%{text}<br>%{x:,} parameters: "
                                             "%{y:.2%}<extra></extra>"))
    _layout(fig, "parameters", metric, height, True)
    fig.update_xaxes(type="log")
    fig.update_layout(hovermode="closest")
    return fig


def accuracy_vs_channels(channels: Sequence[float], accuracy: Sequence[float],
                         metric: str = "test_accuracy", height: int = 340) -> go.Figure:
    """The hidden-channel experiment: accuracy against channels in the convolution."""
    order = np.argsort(np.asarray(channels, float))
    x = [channels[i] for i in order]
    y = [accuracy[i] for i in order]
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", marker=dict(size=10),
                               line=dict(color=TRAIN_COLOR), name=metric,
                               hovertemplate="%{x} channels: %{y:.2%}<extra></extra>"))
    _layout(fig, "hidden channels (filters)", metric, height, True)
    fig.update_xaxes(type="log", tickvals=x, ticktext=[str(v) for v in x])
    fig.update_layout(hovermode="closest")
    return fig
