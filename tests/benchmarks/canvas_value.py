"""A digit drawn with the mouse, as streamlit-drawable-canvas sends it to the app.

After a stroke ends, the canvas's frontend (Fabric.js 7.4 with its PencilBrush) calls
``setStateValue("drawing", {"raw": canvas.toObject(), "data": canvas.toDataURL()})``:
the component's widget state is that JSON, with every stroke as a Fabric "Path"
object ("M" at the first point, one "Q" per mouse point ending half-way to the next,
"L" at the last, each end pulled in by width / 1000) and the drawing as a 280×280
transparent PNG with black anti-aliased ink. :func:`canvas_state` builds exactly that
from strokes in canvas fractions, so a protocol client sends what a browser sends
(the format was read off a real Chromium session's websocket frames).

The digits are pen paths (`DIGIT_SHAPES`: the browser tests' 0, 1 and 7 and
`training.stroke_canvas`'s shapes, a 9 added), each drawn with a hand's wobble.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
from typing import Any

import cv2
import numpy as np
from PIL import Image

from tests.browser import DIGIT_STROKES, Stroke
from training.stroke_canvas import SHAPES

FABRIC_VERSION = "7.4.0"
CANVAS_PX = 280
BRUSH = 18
MOUSE_STEP_PX = 6.0  # a drag reports a point every few pixels
CURVE_STEPS = 6  # points per quadratic segment when the ink is rendered
# A digit's box on the canvas, as a learner draws "as large as the box".
BOX_LEFT, BOX_WIDTH, BOX_TOP, BOX_HEIGHT = 0.27, 0.46, 0.15, 0.7
WOBBLE = 0.012  # a point's wobble, in canvas fractions
# Fabric serialises every object with these fields; only the geometry varies.
_PATH_FIELDS: dict[str, Any] = {
    "lockMovementX": False, "lockMovementY": False, "lockRotation": False,
    "lockScalingX": False, "lockScalingY": False, "lockSkewingX": False,
    "lockSkewingY": False, "lockScalingFlip": False, "type": "Path",
    "version": FABRIC_VERSION, "originX": "center", "originY": "center",
    "fill": None, "stroke": "#000000", "strokeDashArray": None, "strokeLineCap": "round",
    "strokeDashOffset": 0, "strokeLineJoin": "round", "strokeUniform": False,
    "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": False,
    "flipY": False, "opacity": 1, "shadow": None, "visible": True, "backgroundColor": "",
    "fillRule": "nonzero", "paintFirst": "fill", "globalCompositeOperation": "source-over",
    "skewX": 0, "skewY": 0,
}


def _in_box(shape: list[list[tuple[float, float]]]) -> list[Stroke]:
    """A unit-box shape (training.stroke_canvas) placed in the digit box of the canvas."""
    return [[(BOX_LEFT + px * BOX_WIDTH, BOX_TOP + py * BOX_HEIGHT) for px, py in stroke]
            for stroke in shape]


_NINE = [[(0.8, 0.26), (0.62, 0.05), (0.36, 0.05), (0.18, 0.22), (0.24, 0.42), (0.5, 0.48),
          (0.78, 0.34), (0.8, 0.26), (0.74, 0.62), (0.62, 0.97)]]
# Digit -> its pen strokes in canvas fractions (0-1 across, 0-1 down), in drawing order.
DIGIT_SHAPES: dict[int, list[Stroke]] = {
    0: DIGIT_STROKES[0], 1: DIGIT_STROKES[1], 2: _in_box(SHAPES["2"]),
    3: _in_box(SHAPES["3"]), 4: _in_box(SHAPES["4-two-strokes"]),
    5: _in_box(SHAPES["5-two-strokes"]), 6: _in_box(SHAPES["6"]), 7: DIGIT_STROKES[7],
    8: _in_box(SHAPES["8"]), 9: _in_box(_NINE),
}


def _mouse_points(stroke: Stroke, rng: np.random.Generator | None, size: int) -> np.ndarray:
    """The pixels a mouse drag along `stroke` reports (rounded, as pointer events are)."""
    vertices = np.asarray(stroke, np.float64) * size
    if rng is not None:
        vertices += rng.normal(0.0, WOBBLE * size, vertices.shape)
    points = [vertices[0]]
    for a, b in itertools.pairwise(vertices):
        n = max(1, math.ceil(float(np.linalg.norm(b - a)) / MOUSE_STEP_PX))
        points.extend(a + (b - a) * k / n for k in range(1, n + 1))
    return np.clip(np.rint(points), 0, size - 1)


def _fabric_path(points: np.ndarray, brush: int) -> list[list[Any]]:
    """PencilBrush's `convertPointsToSVGPath`: M, a Q per point to the next midpoint, L."""
    correction = brush / 1000
    if len(points) == 1:
        points = np.vstack([points, points])
    sx = 1 if points[-1][0] >= points[0][0] else -1
    sy = 1 if points[-1][1] >= points[0][1] else -1
    path: list[list[Any]] = [["M", float(points[0][0] - sx * correction),
                              float(points[0][1] - sy * correction)]]
    for p, q in itertools.pairwise(points):
        if not np.array_equal(p, q):
            mid = (p + q) / 2
            path.append(["Q", float(p[0]), float(p[1]), float(mid[0]), float(mid[1])])
    last = points[-1]
    path.append(["L", float(last[0] + sx * correction), float(last[1] + sy * correction)])
    return path


def _flatten(path: list[list[Any]]) -> np.ndarray:
    """The path's outline as points (its quadratic curves sampled)."""
    here = np.asarray(path[0][1:3], np.float64)
    out = [here]
    for command in path[1:]:
        if command[0] == "Q":
            control, end = np.asarray(command[1:3]), np.asarray(command[3:5])
            for t in np.linspace(0, 1, CURVE_STEPS + 1)[1:]:
                out.append((1 - t) ** 2 * here + 2 * (1 - t) * t * control + t ** 2 * end)
            here = end
        else:
            here = np.asarray(command[1:3], np.float64)
            out.append(here)
    return np.asarray(out)


def _path_object(path: list[list[Any]], brush: int) -> dict[str, Any]:
    """One stroke as Fabric's `toObject` gives it: its box's centre, size and the path."""
    outline = _flatten(path)
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    return {**_PATH_FIELDS, "left": round(float(x0 + x1) / 2, 4),
            "top": round(float(y0 + y1) / 2, 4), "width": round(float(x1 - x0), 4),
            "height": round(float(y1 - y0), 4), "strokeWidth": brush, "path": path}


def png_data_url(rgba: np.ndarray) -> str:
    """`canvas.toDataURL({format: "png"})` of an RGBA array."""
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def sketch(strokes: list[Stroke], *, size: int = CANVAS_PX, brush: int = BRUSH,
           rng: np.random.Generator | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Strokes drawn with the mouse: (the canvas's RGBA pixels, its `toObject()` JSON)."""
    alpha = np.zeros((size, size), np.uint8)
    objects = []
    for stroke in strokes:
        path = _fabric_path(_mouse_points(stroke, rng, size), brush)
        outline = np.rint(_flatten(path)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(alpha, [outline], False, 255, brush, cv2.LINE_AA)
        objects.append(_path_object(path, brush))
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., 3] = alpha  # black ink (RGB 0) on a transparent canvas
    return rgba, {"version": FABRIC_VERSION, "objects": objects}


def canvas_state(strokes: list[Stroke], *, size: int = CANVAS_PX, brush: int = BRUSH,
                 rng: np.random.Generator | None = None) -> str:
    """The canvas component's widget value (JSON) after the last stroke's mouse-up."""
    rgba, raw = sketch(strokes, size=size, brush=brush, rng=rng)
    return json.dumps({"drawing": {"raw": raw, "data": png_data_url(rgba)}},
                      separators=(",", ":"))


def empty_canvas_state(size: int = CANVAS_PX) -> str:
    """The value an emptied canvas sends (after the app redraws it with no objects)."""
    blank = np.zeros((size, size, 4), np.uint8)
    return json.dumps({"drawing": {"raw": {"version": FABRIC_VERSION, "objects": []},
                                   "data": png_data_url(blank)}}, separators=(",", ":"))
