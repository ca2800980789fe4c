"""Stroke-level digit styles MNIST lacks, drawn with random pens: `python -m training.styles`.

Each digit is a skeleton of pen strokes in a unit box (x right, y down, height 1),
with the variants real writers use and MNIST rarely shows: the European 1 (an
up-stroke flag nearly as long as the stem, sometimes a foot), the crossed 7 and the
7 with a hook, the open-topped 4, the 9 with an open or curled loop or a bent tail,
the flat-topped 3, the 5 with a loose bar, the 2 with a loop, and the ordinary forms.

A drawing (`sample_strokes`) then varies the skeleton the way hands and devices do:
- a smooth wobble of the whole digit and jitter of its control points;
- an affine: width 0.5-2x the height's usual share (wide and narrow writing), slant
  +-25 degrees, a small turn;
- the device: a *pen tablet* (each stroke simplified to a few straight segments and,
  mostly, the strokes joined by the pen's travel, as tablets record it), a *mouse*
  (smooth, slightly trembling strokes) or a *pen* on paper (smooth strokes, scanned).

`render` draws the strokes anti-aliased with OpenCV, at 40-200 px tall with a pen
3-25 % of that height, on the draw page's transparent canvas or on noisy paper, and
`to_network_input` passes the picture through the reader itself (`read_canvas` or
`read_digits` in single-digit mode), so training sees exactly what inference sees.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

Stroke = np.ndarray  # (k, 2) float points, x right and y down, in the unit box
Skeleton = list[Stroke]
Rng = np.random.Generator

CANVAS = 280  # the draw page's canvas side
HEIGHTS = (40, 200)  # digit height in pixels
PEN_SHARE = (0.03, 0.25)  # pen width as a share of the digit height (log-uniform)
ASPECT = (0.5, 2.0)  # width multiplier (log-uniform): narrow to wide writing
SLANT_DEG = 25.0
TURN_DEG = 6.0
WOBBLE = 0.03  # amplitude of the smooth whole-digit wobble, in digit heights
JITTER = 0.015  # control-point jitter, in digit heights
TABLET_TOLERANCE = (0.03, 0.08)  # Douglas-Peucker tolerance, in digit heights
TABLET_JOINED = 0.5  # share of tablet drawings whose strokes are joined by pen travel
DEVICES = ("tablet", "mouse", "pen")
SHIFT = 4  # OpenCV drawing with 4 fractional bits: sub-pixel stroke positions


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


@dataclass(frozen=True)
class Drawing:
    """One drawn digit: its strokes in digit heights, and how it is to be rendered."""

    label: int
    style: str
    strokes: list[Stroke]
    device: str  # tablet, mouse or pen


def transform(strokes: Skeleton, aspect: float, slant_deg: float,
              turn_deg: float = 0.0) -> Skeleton:
    """Widen by `aspect`, slant forwards by `slant_deg` (top to the right), turn."""
    shear = math.tan(math.radians(slant_deg))
    c, s = math.cos(math.radians(turn_deg)), math.sin(math.radians(turn_deg))
    out = []
    for stroke in strokes:
        x = (stroke[:, 0] - 0.3) * aspect + shear * (1.0 - stroke[:, 1])
        y = stroke[:, 1] - 0.5
        out.append(np.stack([c * x - s * y, s * x + c * y], axis=1))
    return out


def simplify(stroke: Stroke, tolerance: float) -> Stroke:
    """A pen tablet's stroke: the few straight segments Douglas-Peucker keeps."""
    scale = 1000.0
    kept = cv2.approxPolyDP((stroke * scale).astype(np.float32)[:, None], tolerance * scale,
                            closed=False)
    return kept[:, 0].astype(np.float64) / scale


def _wobble(strokes: Skeleton, rng: Rng) -> Skeleton:
    """A smooth displacement of the whole digit (two random sinusoids per axis)."""
    freq, phase = rng.uniform(0.5, 1.5, (2, 2)), rng.uniform(0, 2 * np.pi, (2, 2))
    amp = rng.uniform(0, WOBBLE, 2)
    out = []
    for stroke in strokes:
        x, y = stroke[:, 0], stroke[:, 1]
        dx = amp[0] * np.sin(2 * np.pi * freq[0, 0] * y + phase[0, 0])
        dy = amp[1] * np.sin(2 * np.pi * freq[1, 1] * x + phase[1, 1])
        out.append(stroke + np.stack([dx, dy], 1) + rng.normal(0, JITTER, 2))
    return out


def sample_strokes(label: int, rng: Rng, style: str | None = None,
                   device: str | None = None) -> Drawing:
    """A random drawing of `label` (a random style of it unless `style` is given)."""
    if style is None:
        names = [n for n, (d, _) in STYLES.items() if d == label]
        weights = np.array([STYLE_WEIGHTS.get(n, 1.0) for n in names])
        style = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    device = device or DEVICES[int(rng.integers(len(DEVICES)))]
    strokes = _wobble(STYLES[style][1](rng), rng)
    strokes = transform(strokes, float(np.exp(rng.uniform(*np.log(ASPECT)))),
                        rng.uniform(-SLANT_DEG, SLANT_DEG), rng.uniform(-TURN_DEG, TURN_DEG))
    if device == "tablet":
        tolerance = rng.uniform(*TABLET_TOLERANCE)
        strokes = [simplify(s, tolerance) for s in strokes]
        if len(strokes) > 1 and rng.random() < TABLET_JOINED:
            strokes = [np.vstack(strokes)]  # the pen's travel between strokes is ink too
    elif device == "mouse":
        strokes = [s + _tremor(len(s), rng) for s in strokes]
    return Drawing(label, style, strokes, device)


def _tremor(n: int, rng: Rng) -> np.ndarray:
    """Small, smooth hand tremor along a mouse stroke."""
    noise = rng.normal(0, 0.006, (n + 4, 2))
    return np.stack([np.convolve(noise[:, i], np.ones(5) / 5, "valid") for i in (0, 1)], 1)


def render(drawing: Drawing, rng: Rng, height: float | None = None,
           pen: float | None = None) -> np.ndarray:
    """Draw anti-aliased: a pen drawing on noisy paper (uint8 grey), others on the canvas (RGBA)."""
    height = height or float(rng.uniform(*HEIGHTS))
    pen = pen or float(np.exp(rng.uniform(*np.log(PEN_SHARE))) * height)
    points = [s * height for s in drawing.strokes]
    low = np.min([p.min(axis=0) for p in points], axis=0)
    high = np.max([p.max(axis=0) for p in points], axis=0)
    extent = high - low
    if drawing.device == "pen":
        margin = pen + rng.uniform(5, 30)
        size = np.ceil(extent + 2 * margin).astype(int)
        offset = margin - low
    else:  # on the canvas: shrink a digit that would not fit, place it near the middle
        fit = min(1.0, (CANVAS - 2 * pen - 10) / max(extent.max(), 1.0))
        points, pen, extent, low = [p * fit for p in points], pen * fit, extent * fit, low * fit
        size = np.array([CANVAS, CANVAS])
        room = np.maximum(size - extent - 2 * pen, 0)
        offset = pen + room * rng.uniform(0.3, 0.7, 2) - low
    mask = np.zeros((int(size[1]), int(size[0])), np.uint8)
    scaled = [np.round((p + offset) * 2**SHIFT).astype(np.int32) for p in points]
    cv2.polylines(mask, scaled, False, 255, max(1, round(pen)), cv2.LINE_AA, SHIFT)
    if drawing.device != "pen":
        rgba = np.zeros((*mask.shape, 4), np.uint8)
        rgba[..., 3] = mask
        return rgba
    ink = mask.astype(np.float32) / 255
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.3, 1.0))
    paper = rng.uniform(0.85, 0.97) + rng.normal(0, 0.02, ink.shape)
    page = paper * (1 - ink) + rng.uniform(0.05, 0.3) * ink
    return (np.clip(page, 0, 1) * 255).astype(np.uint8)


class _NoModel:
    """Uniform probabilities: the reader's pipeline without a network (for its inputs)."""

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return np.full((len(images), 10), 0.1, np.float32)


def to_network_input(picture: np.ndarray) -> np.ndarray:
    """The 28x28 image the reader gives the network for this picture (single-digit mode)."""
    from model.reader import read_canvas, read_digits

    if picture.ndim == 3 and picture.shape[2] == 4:
        reading = read_canvas(picture, _NoModel(), single=True)
        if reading is None:
            raise ValueError("blank canvas")
    else:
        reading = read_digits(picture, _NoModel(), single=True)
    return reading.digits[0].image


def synthesize(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` digits (labels in turn 0-9), as the network sees them: uint8 (N, 28, 28), labels."""
    from model.imaging import ReadError

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(count):
        label = k % 10
        for _ in range(5):  # a rare drawing that leaves no ink is drawn again
            try:
                image = to_network_input(render(sample_strokes(label, rng), rng))
            except (ReadError, ValueError):
                continue
            images.append(np.round(image * 255).astype(np.uint8))
            labels.append(label)
            break
    return np.stack(images), np.asarray(labels, np.uint8)


def style_grid(seed: int = 0, per_style: int = 6) -> np.ndarray:
    """Every style (a column each, in STYLES' order) drawn `per_style` times, as the network
    sees them: a uint8 picture, each 28x28 image shown 3x."""
    rng = np.random.default_rng(seed)
    columns = []
    for name in STYLES:
        label = STYLES[name][0]
        cells = [to_network_input(render(sample_strokes(label, rng, name), rng))
                 for _ in range(per_style)]
        columns.append(np.vstack([np.pad(c, 1, constant_values=0.35) for c in cells]))
    grid = np.hstack(columns)
    return cv2.resize((grid * 255).astype(np.uint8), None, fx=3, fy=3,
                      interpolation=cv2.INTER_NEAREST)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=Path, default=Path("assets/styles.png"),
                        help="where to write the grid of styles (PNG)")
    args = parser.parse_args(argv)
    cv2.imwrite(str(args.grid), style_grid())
    print(f"Wrote {args.grid}: columns {', '.join(STYLES)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
