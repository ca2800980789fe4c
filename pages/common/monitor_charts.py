"""Plotly figures of the Monitor page: tables in, figures out, no Streamlit (tests call them)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pages.common.charts import DIGIT_COLORS, DIGITS

# One colour per source, the same in every chart.
SOURCE_COLORS = {"draw": "#4c78a8", "upload": "#f58518", "service": "#54a24b",
                 "batch": "#b279a2", "cli": "#9d755d", "class": "#e45756"}
OTHER_COLOR = "#888888"
MNIST_COLOR = "#bbbbbb"
HEIGHT = 280
XRange = tuple[pd.Timestamp, pd.Timestamp] | None  # the window shown, None: fit the data
MARGIN = dict(l=10, r=10, t=30, b=10)


def _empty(title: str, height: int = HEIGHT) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="no readings in this window", showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font=dict(color="grey"))
    fig.update_layout(height=height, margin=MARGIN, title=dict(text=title, font_size=13),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def _time_axis(fig: go.Figure, x_range: XRange) -> None:
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))


def requests_figure(timeline: pd.DataFrame, bucket_minutes: float, x_range: XRange = None,
                    height: int = HEIGHT) -> go.Figure:
    """Requests per minute in each time bucket (bars starting at the bucket), by source."""
    title = "Requests per minute"
    if timeline.empty:
        return _empty(title, height)
    fig = go.Figure()
    width_ms = bucket_minutes * 60_000 * 0.9
    for source, part in timeline.groupby("source"):
        fig.add_trace(go.Bar(x=part["when"], y=part["requests"] / bucket_minutes, name=source,
                             width=width_ms, offset=0,
                             marker_color=SOURCE_COLORS.get(source, OTHER_COLOR),
                             hovertemplate="%{x}: %{y:.1f}/min<extra>" + source + "</extra>"))
    fig.update_layout(barmode="stack", height=height, margin=MARGIN,
                      title=dict(text=title, font_size=13), yaxis=dict(title="per minute"),
                      xaxis=dict(type="date"), legend=dict(orientation="h", y=-0.2))
    _time_axis(fig, x_range)
    return fig


def latency_figure(timeline: pd.DataFrame, x_range: XRange = None,
                   height: int = HEIGHT) -> go.Figure:
    """Latency p50 (solid) and p95 (dotted) per source over time."""
    title = "Latency (ms): p50 solid, p95 dotted"
    if timeline.empty:
        return _empty(title, height)
    fig = go.Figure()
    for source, part in timeline.groupby("source"):
        color = SOURCE_COLORS.get(source, OTHER_COLOR)
        for column, dash in (("p50", "solid"), ("p95", "dot")):
            fig.add_trace(go.Scatter(x=part["when"], y=part[column], mode="lines+markers",
                                     name=f"{source} {column}", line=dict(color=color, dash=dash),
                                     hovertemplate="%{x}: %{y:.1f} ms<extra>"
                                                   f"{source} {column}</extra>"))
    fig.update_layout(height=height, margin=MARGIN, title=dict(text=title, font_size=13),
                      yaxis=dict(title="ms", rangemode="tozero"),
                      legend=dict(orientation="h", y=-0.2))
    _time_axis(fig, x_range)
    return fig


def not_sure_figure(share: pd.DataFrame, limit: float, x_range: XRange = None,
                    height: int = HEIGHT) -> go.Figure:
    """The share of readings flagged "not sure" per time bucket, with the alert line."""
    title = "Share of readings 'not sure'"
    if share.empty:
        return _empty(title, height)
    fig = go.Figure(go.Scatter(x=share["when"], y=share["not_sure"], mode="lines+markers",
                               line=dict(color="#333"), name="not sure",
                               hovertemplate="%{x}: %{y:.0%}<extra></extra>"))
    fig.add_hline(y=limit, line=dict(color="#e45756", dash="dash"),
                  annotation_text="alert", annotation_position="top left")
    fig.update_layout(height=height, margin=MARGIN, title=dict(text=title, font_size=13),
                      yaxis=dict(range=[0, 1], tickformat=".0%"), showlegend=False)
    _time_axis(fig, x_range)
    return fig


def class_mix_figure(mix: Sequence[float], reference: Sequence[float], value: float | None,
                     height: int = HEIGHT) -> go.Figure:
    """The share of each digit read beside MNIST's share, with the PSI in the title."""
    title = "Digits read vs MNIST" + (f" · PSI {value:.3f}" if value is not None else "")
    fig = go.Figure([
        go.Bar(x=DIGITS, y=list(reference), name="MNIST", marker_color=MNIST_COLOR,
               hovertemplate="MNIST %{x}: %{y:.1%}<extra></extra>"),
        go.Bar(x=DIGITS, y=list(mix), name="read here", marker_color=list(DIGIT_COLORS),
               hovertemplate="read %{x}: %{y:.1%}<extra></extra>"),
    ])
    fig.update_layout(barmode="group", height=height, margin=MARGIN,
                      title=dict(text=title, font_size=13), xaxis=dict(type="category"),
                      yaxis=dict(tickformat=".0%"), legend=dict(orientation="h", y=-0.2))
    return fig


def confidence_figure(edges: np.ndarray, counts: np.ndarray, reference: np.ndarray | None,
                      value: float | None, height: int = HEIGHT) -> go.Figure:
    """The readings' confidence histogram beside the model's on MNIST test digits."""
    labels = [f"{lo:.3g}–{min(hi, 1):.3g}" for lo, hi in itertools.pairwise(edges)]
    title = "Confidence of the digits read" + (f" · PSI {value:.3f}" if value is not None else "")
    traces = []
    if reference is not None:
        traces.append(go.Bar(x=labels, y=np.asarray(reference) / max(np.sum(reference), 1),
                             name="MNIST test", marker_color=MNIST_COLOR,
                             hovertemplate="%{x}: %{y:.1%}<extra>MNIST test</extra>"))
    traces.append(go.Bar(x=labels, y=np.asarray(counts) / max(np.sum(counts), 1),
                         name="read here", marker_color="#4c78a8",
                         hovertemplate="%{x}: %{y:.1%}<extra>read here</extra>"))
    fig = go.Figure(traces)
    fig.update_layout(barmode="group", height=height, margin=MARGIN,
                      title=dict(text=title, font_size=13), xaxis=dict(type="category"),
                      yaxis=dict(tickformat=".0%"), legend=dict(orientation="h", y=-0.3))
    return fig


def feedback_accuracy_figure(by_model: Sequence[dict], height: int = HEIGHT) -> go.Figure:
    """Accuracy from feedback per model version (answers written on the bars)."""
    title = "Accuracy from feedback, per model"
    if not by_model:
        return _empty(title, height)
    names = [row["model"] for row in by_model]
    fig = go.Figure(go.Bar(x=names, y=[row["accuracy"] for row in by_model],
                           text=[f"{row['accuracy']:.0%} of {row['count']}" for row in by_model],
                           marker_color="#54a24b", textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(height=height, margin=MARGIN, title=dict(text=title, font_size=13),
                      xaxis=dict(type="category"), yaxis=dict(range=[0, 1], tickformat=".0%"))
    return fig
