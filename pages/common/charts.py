"""Plotly figure builders: arrays in, figures out, no Streamlit, so tests can call them.

Every chart colours digit d with DIGIT_COLORS[d], so a 7 looks the same everywhere.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

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
