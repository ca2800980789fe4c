"""Stroke skeletons of the digits, with the variants real writers use and MNIST rarely shows.

Each digit is a list of pen strokes in a unit box (x right, y down, height 1): the
European 1 (an up-stroke flag nearly as long as the stem, sometimes a foot), the
crossed 7 and the 7 with a hook, the open-topped 4, the 9 with an open or curled loop
or a bent tail, the flat-topped 3, the 5 with a loose bar, the 2 with a loop, and the
ordinary forms. `STYLES` names each builder and its digit; `training.styles` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Stroke = np.ndarray  # (k, 2) float points, x right and y down, in the unit box
Skeleton = list[Stroke]
Rng = np.random.Generator


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
        n: int = 32) -> Stroke:
    """Points on an ellipse from `start` to `end` degrees (0 = right, 90 = down)."""
    t = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def line(*points: tuple[float, float]) -> Stroke:
    return np.asarray(points, dtype=np.float64)


def spline(*points: tuple[float, float], per_segment: int = 10) -> Stroke:
    """A Catmull-Rom curve through the points (a smooth hand-drawn curve)."""
    p = np.asarray(points, dtype=np.float64)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    out.append(p[-2][None])
    return np.vstack(out)


# Skeleton builders: each takes the generator (for the variant's own proportions).
def _zero(rng: Rng) -> Skeleton:
    overlap = rng.uniform(0, 40)
    return [arc(0.3, 0.5, 0.28, 0.48, -100, 260 + overlap)]


def _one_plain(rng: Rng) -> Skeleton:
    lead = rng.uniform(0.0, 0.12)
    return [line((0.3 - lead, lead * 1.2), (0.3, 0.0), (0.3, 1.0))]


def _one_european(rng: Rng) -> Skeleton:
    """The up-stroke flag nearly as long as the stem; a foot one time in three."""
    length, angle = rng.uniform(0.35, 0.8), math.radians(rng.uniform(25, 60))
    flag = (0.3 - length * math.cos(angle) * 0.8, length * math.sin(angle))
    strokes = [line(flag, (0.3, 0.0), (0.3, 1.0))]
    if rng.random() < 1 / 3:
        half = rng.uniform(0.15, 0.3)
        strokes.append(line((0.3 - half, 1.0), (0.3 + half, 1.0)))
    return strokes


def _two(rng: Rng) -> Skeleton:
    top = arc(0.3, 0.27, 0.27, 0.25, 200, 380)
    return [np.vstack([top, line((0.02, 1.0), (0.62, 1.0))])]


def _two_looped(rng: Rng) -> Skeleton:
    top = arc(0.3, 0.27, 0.27, 0.25, 200, 380)
    loop = arc(0.12, 0.88, 0.1, 0.1, -60, 250)
    return [np.vstack([top, loop, line((0.2, 1.0), (0.62, 0.98))])]


def _three(rng: Rng) -> Skeleton:
    return [np.vstack([arc(0.3, 0.26, 0.25, 0.24, 200, 450),
                       arc(0.3, 0.74, 0.3, 0.26, 270, 520)])]


def _three_flat(rng: Rng) -> Skeleton:
    """The flat-topped 3: a bar, a diagonal, a round belly."""
    return [np.vstack([line((0.05, 0.0), (0.55, 0.0), (0.25, 0.42)),
                       arc(0.3, 0.7, 0.3, 0.28, 250, 520)])]


def _four_closed(rng: Rng) -> Skeleton:
    return [line((0.45, 0.0), (0.0, 0.65), (0.62, 0.65)), line((0.45, 0.0), (0.45, 1.0))]


def _four_open(rng: Rng) -> Skeleton:
    """The open-topped 4: the left stroke and the stem never meet at the top."""
    top = rng.uniform(0.0, 0.3)
    return [line((0.08, 0.0), (0.03, 0.6), (0.62, 0.6)), line((0.47, top), (0.47, 1.0))]


def _five(rng: Rng) -> Skeleton:
    """Body and belly, and the top bar as a second stroke, loose one time in two."""
    body = np.vstack([line((0.1, 0.02), (0.06, 0.45)), arc(0.3, 0.7, 0.28, 0.28, 225, 500)])
    gap = rng.uniform(0.04, 0.12) if rng.random() < 0.5 else 0.0
    bar = line((0.1 + gap, 0.02 - gap), (0.58 + gap, -gap))
    return [body, bar]


def _six(rng: Rng) -> Skeleton:
    return [spline((0.52, 0.03), (0.25, 0.14), (0.07, 0.45), (0.06, 0.75), (0.2, 0.98),
                   (0.45, 0.95), (0.57, 0.72), (0.42, 0.5), (0.2, 0.52), (0.07, 0.7))]


def _seven(rng: Rng) -> Skeleton:
    return [line((0.02, 0.02), (0.6, 0.02), (0.22, 1.0))]


def _seven_crossed(rng: Rng) -> Skeleton:
    """A bar across the middle of the stem; the top with a hook one time in two."""
    start = [(0.02, rng.uniform(0.12, 0.25))] if rng.random() < 0.5 else []
    stem = line(*start, (0.02, 0.02), (0.6, 0.02), (0.22, 1.0))
    y = rng.uniform(0.45, 0.6)
    x = 0.6 - 0.38 * y / 0.98  # where the stem is at height y
    return [stem, line((x - 0.2, y), (x + 0.2, y))]


def _eight(rng: Rng) -> Skeleton:
    t = np.linspace(0, 2 * np.pi, 80)
    return [np.stack([0.3 + 0.27 * np.sin(2 * t) * (1 + 0.15 * np.cos(t)),
                      0.5 - 0.48 * np.cos(t)], axis=1)]


def _eight_stacked(rng: Rng) -> Skeleton:
    return [arc(0.3, 0.24, 0.22, 0.23, 90, 450), arc(0.3, 0.73, 0.28, 0.26, -90, 270)]


def _nine(rng: Rng) -> Skeleton:
    loop = arc(0.3, 0.28, 0.27, 0.26, 0, -360)
    return [np.vstack([loop, line((0.57, 0.3), (0.52, 1.0))])]


def _nine_open(rng: Rng) -> Skeleton:
    """The loop left open where it would meet the stem, or curled in at its end."""
    end = rng.uniform(-300, -250) if rng.random() < 0.5 else rng.uniform(-420, -380)
    loop = arc(0.3, 0.28, 0.27, 0.26, end, 0)[::-1]
    return [loop, line((0.57, 0.3), (0.55, 1.0))]


def _nine_curled(rng: Rng) -> Skeleton:
    """A tail that bends back to the left at the bottom."""
    loop = arc(0.3, 0.28, 0.27, 0.26, 0, -360)
    tail = spline((0.57, 0.28), (0.56, 0.7), (0.45, 0.97), (0.22, 0.95), (0.12, 0.85))
    return [np.vstack([loop, tail])]


STYLES: dict[str, tuple[int, Callable[[Rng], Skeleton]]] = {
    "0": (0, _zero), "1": (1, _one_plain), "1-european": (1, _one_european),
    "2": (2, _two), "2-looped": (2, _two_looped), "3": (3, _three), "3-flat": (3, _three_flat),
    "4": (4, _four_closed), "4-open": (4, _four_open), "5": (5, _five), "6": (6, _six),
    "7": (7, _seven), "7-crossed": (7, _seven_crossed), "8": (8, _eight),
    "8-stacked": (8, _eight_stacked), "9": (9, _nine), "9-open": (9, _nine_open),
    "9-curled": (9, _nine_curled),
}
# How often each style is drawn for its digit: the styles MNIST lacks get the most.
STYLE_WEIGHTS = {"1": 1.0, "1-european": 2.0, "3": 1.0, "3-flat": 1.0, "4": 1.0, "4-open": 1.5,
                 "7": 1.0, "7-crossed": 1.5, "9": 1.0, "9-open": 1.0, "9-curled": 1.0,
                 "2": 1.0, "2-looped": 0.5, "8": 1.0, "8-stacked": 1.0}
