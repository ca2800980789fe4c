"""Digits drawn in several strokes, as the drawing canvas returns them (pixels and paths).

The canvas gives the app both an RGBA image and, in `json_data["objects"]`, every
path in drawing order with its points (Fabric.js "M"/"L" commands in canvas pixels).
:func:`draw_number` makes both from stroke shapes, so the stroke grouping of
`model.reader.strokes` is tested on exactly the format the page passes to the reader.

The shapes are the styles that come in several strokes: the European 1 (an up-stroke
flag nearly as long as the stem, a foot added after), the crossed 7 (its bar a second
stroke), a 5 whose top bar is added last and may not touch, a 4 in two strokes; plus
one-stroke digits to write numbers with.

    python -m training.stroke_canvas [--count 200]

prints how often numbers written with them read exactly, by the pixels alone
(`read_canvas`) and with the strokes (`read_strokes`).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

Point = tuple[float, float]
Shape = list[list[Point]]  # strokes of polylines, in a unit box (0-1 across, 0-1 down)

SHAPES: dict[str, Shape] = {
    # The flag is 0.6 of the stem's length; the foot is a stroke of its own.
    "1-european": [[(0.05, 0.55), (0.62, 0.04), (0.62, 0.96)], [(0.25, 0.96), (0.95, 0.96)]],
    "1-flag": [[(0.05, 0.55), (0.62, 0.04), (0.62, 0.96)]],
    "7-crossed": [[(0.08, 0.1), (0.92, 0.1), (0.42, 0.96)], [(0.3, 0.52), (0.86, 0.52)]],
    "5-two-strokes": [[(0.3, 0.08), (0.24, 0.46), (0.5, 0.38), (0.76, 0.48), (0.84, 0.7),
                       (0.7, 0.92), (0.42, 0.97), (0.16, 0.86)],
                      [(0.4, 0.0), (0.92, 0.02)]],
    "4-two-strokes": [[(0.52, 0.04), (0.08, 0.64), (0.92, 0.64)], [(0.68, 0.28), (0.68, 0.98)]],
    "0": [[(0.5 + 0.42 * np.sin(t), 0.5 - 0.46 * np.cos(t))
           for t in np.linspace(0, 2 * np.pi, 25)]],
    "2": [[(0.12, 0.25), (0.3, 0.06), (0.62, 0.04), (0.82, 0.2), (0.78, 0.42), (0.12, 0.94),
           (0.9, 0.94)]],
    "3": [[(0.14, 0.14), (0.46, 0.03), (0.78, 0.14), (0.76, 0.36), (0.44, 0.48), (0.8, 0.6),
           (0.84, 0.82), (0.5, 0.97), (0.12, 0.86)]],
    "6": [[(0.7, 0.06), (0.36, 0.3), (0.18, 0.64), (0.3, 0.92), (0.58, 0.96), (0.8, 0.78),
           (0.7, 0.56), (0.4, 0.52), (0.2, 0.64)]],
    "8": [[(0.5, 0.5), (0.8, 0.3), (0.7, 0.06), (0.5, 0.03), (0.3, 0.06), (0.2, 0.3),
           (0.5, 0.5), (0.84, 0.72), (0.72, 0.95), (0.5, 0.98), (0.28, 0.95), (0.16, 0.72),
           (0.5, 0.5)]],
}
MULTI_STROKE = ("1-european", "7-crossed", "5-two-strokes", "4-two-strokes")
WIDTH_OF = {"1-european": 0.6, "1-flag": 0.6}  # width / height; others DIGIT_ASPECT
DIGIT_ASPECT = 0.7
STROKE_OFFSET = 0.05  # a later stroke's offset from where it belongs, in digit heights


def label_of(name: str) -> str:
    return name[0]


def draw_number(names: Sequence[str], *, height: float = 150.0, gap: float = 0.3,
                brush: float = 16.0, canvas: tuple[int, int] = (640, 240),
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Shapes written left to right on a transparent canvas: (RGBA uint8, json_data).

    `gap` is the space between digits in digit heights. With `rng`, each digit's size,
    slant, position and the points of its strokes wobble as a hand's do.
    """
    width, size = canvas
    paths: list[np.ndarray] = []
    total = sum(WIDTH_OF.get(n, DIGIT_ASPECT) * height for n in names) + gap * height * (
        len(names) - 1)
    x = (width - total) / 2
    for name in names:
        h = height * (1 + (rng.uniform(-0.1, 0.1) if rng is not None else 0.0))
        w = WIDTH_OF.get(name, DIGIT_ASPECT) * h
        slant = rng.uniform(-0.15, 0.15) if rng is not None else 0.0
        top = (size - h) / 2 + (rng.uniform(-0.05, 0.05) * h if rng is not None else 0.0)
        for stroke in SHAPES[name]:
            points = np.array([(x + px * w + slant * (0.5 - py) * h, top + py * h)
                               for px, py in stroke], np.float32)
            if rng is not None:  # each point wobbles, and a later stroke lands a bit off
                points += rng.normal(0.0, 0.012 * h, points.shape).astype(np.float32)
                if stroke is not SHAPES[name][0]:
                    points += rng.normal(0.0, STROKE_OFFSET * h, 2).astype(np.float32)
            paths.append(points)
        x += w + gap * height
    return canvas_of(paths, brush, canvas)


def canvas_of(paths: Sequence[np.ndarray], brush: float,
              canvas: tuple[int, int] = (640, 240)) -> tuple[np.ndarray, dict[str, Any]]:
    """Paths (each (n, 2) x, y in canvas pixels) dragged with the mouse in a `brush` px
    pen on a transparent `canvas` (width, height): the canvas's RGBA and json_data."""
    width, size = canvas
    alpha = np.zeros((size, width), np.uint8)
    objects: list[dict[str, Any]] = []
    for path in paths:
        points = _densify(np.asarray(path, np.float32), brush / 2)
        cv2.polylines(alpha, [np.rint(points).astype(np.int32).reshape(-1, 1, 2)],
                      False, 255, max(1, round(brush)), cv2.LINE_AA)
        objects.append(_fabric_path(points, brush))
    rgba = np.zeros((size, width, 4), np.uint8)
    rgba[..., 3] = alpha
    return rgba, {"version": "5.3.0", "objects": objects}


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` pixels along a polyline, as a mouse drag reports them."""
    out = [points[0]]
    for a, b in itertools.pairwise(points):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / max(step, 1.0))))
        out.extend(a + (b - a) * k / n for k in range(1, n + 1))
    return np.asarray(out, np.float32)


def _fabric_path(points: np.ndarray, brush: float) -> dict[str, Any]:
    """A freehand path object as Fabric.js serialises it (absolute canvas pixels)."""
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    commands = [["M", float(points[0, 0]), float(points[0, 1])]]
    commands += [["L", float(x), float(y)] for x, y in points[1:]]
    return {"type": "path", "left": float(x0 - brush / 2), "top": float(y0 - brush / 2),
            "width": float(x1 - x0), "height": float(y1 - y0), "stroke": "#000000",
            "strokeWidth": brush, "fill": None, "path": commands}


def number_set(count: int, seed: int = 0) -> list[tuple[list[str], dict[str, Any]]]:
    """Numbers of 2-5 digits, at least one written in several strokes, with how to draw them."""
    rng = np.random.default_rng(seed)
    names = list(SHAPES)
    numbers = []
    for _ in range(count):
        n = int(rng.integers(2, 6))
        picked = [str(v) for v in rng.choice(names, n)]
        if not any(p in MULTI_STROKE for p in picked):
            picked[int(rng.integers(n))] = str(rng.choice(MULTI_STROKE))
        height = float(rng.uniform(90, 170))
        style = {"height": height, "gap": float(rng.uniform(0.05, 0.4)),
                 "brush": float(rng.uniform(8, 24)),
                 "canvas": (max(640, int(len(picked) * height * 1.3)), 240)}
        numbers.append((picked, style))
    return numbers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.stroke_canvas")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    from model.predictor import load_predictor
    from model.reader import read_canvas, read_strokes

    predictor = load_predictor(args.model)
    rng = np.random.default_rng(1)
    pixels = strokes = 0
    for picked, style in number_set(args.count):
        rgba, json_data = draw_number(picked, rng=rng, **style)
        truth = "".join(label_of(p) for p in picked)
        by_pixels = read_canvas(rgba, predictor)
        by_strokes = read_strokes(rgba, json_data, predictor)
        pixels += by_pixels is not None and by_pixels.text == truth
        strokes += by_strokes is not None and by_strokes.text == truth
    print(f"{args.count} numbers with multi-stroke digits, read exactly: pixels "
          f"{pixels / args.count:.1%}, strokes {strokes / args.count:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
