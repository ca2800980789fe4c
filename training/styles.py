"""Stroke-level digit styles MNIST lacks, drawn with random pens: `python -m training.styles`.

Each digit is a skeleton of pen strokes in a unit box (`training.skeletons`: the
European 1, the crossed 7, the open 4, the open or curled 9 and the other variants
real writers use and MNIST rarely shows).

A drawing (`sample_strokes`) then varies the skeleton the way hands and devices do:
- a smooth wobble of the whole digit and jitter of its control points;
- an affine: width 0.5-2x the height's usual share (wide and narrow writing), slant
  +-25 degrees, a small turn;
- the device: a *pen tablet* (each stroke simplified to a few straight segments and,
  mostly, the strokes joined by the pen's travel, as tablets record it; or, as pen-digit
  sets store a digit, the whole trajectory resampled to 8-12 evenly spaced points;
  optionally, `own_order` of them in a writer's own stroke order: the strokes shuffled,
  each drawn either way, which moves the travel's ink), a
  *mouse* (smooth, slightly trembling strokes), a *pen* on paper (smooth strokes,
  scanned), or a pen scan *boxed* as some published digit sets keep their digits (cut
  to the ink, stretched to fill a 16x16 square, one bit deep: `training.usps_pictures.boxed`).

`render` draws the strokes anti-aliased with OpenCV, at 40-200 px tall with a pen
3-25 % of that height, on the draw page's transparent canvas or on noisy paper, and
`to_network_input` passes the picture through the reader itself (`read_canvas` or
`read_digits` in single-digit mode), so training sees exactly what inference sees.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from training.skeletons import STYLE_WEIGHTS, STYLES, Rng, Skeleton, Stroke
from training.usps_pictures import boxed_picture

CANVAS = 280  # the draw page's canvas side
HEIGHTS = (40, 200)  # digit height in pixels
PEN_SHARE = (0.03, 0.25)  # pen width as a share of the digit height (log-uniform)
ASPECT = (0.5, 2.0)  # width multiplier (log-uniform): narrow to wide writing
SLANT_DEG = 25.0
TURN_DEG = 6.0
WOBBLE = 0.03  # amplitude of the smooth whole-digit wobble, in digit heights
JITTER = 0.015  # control-point jitter, in digit heights
TABLET_TOLERANCE = (0.03, 0.08)  # Douglas-Peucker tolerance, in digit heights
TABLET_JOINED = 0.5  # share of simplified tablet drawings joined by the pen's travel
TABLET_RESAMPLED = 0.5  # share of tablet drawings kept as a pen-digit set keeps them
TABLET_POINTS = (8, 12)  # evenly spaced points per resampled trajectory (pen-digit sets: 8)
BOX_LEVELS = (0.35, 0.65)  # the boxed set's threshold, in ink levels (thick to thin strokes)
DEVICE_WEIGHTS = {"tablet": 0.3, "mouse": 0.25, "pen": 0.25, "box": 0.2}
DEVICES = tuple(DEVICE_WEIGHTS)
SHIFT = 4  # OpenCV drawing with 4 fractional bits: sub-pixel stroke positions


@dataclass(frozen=True)
class Drawing:
    """One drawn digit: its strokes in digit heights, and how it is to be rendered."""

    label: int
    style: str
    strokes: list[Stroke]
    device: str  # tablet, mouse, pen or box


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


def resample(path: np.ndarray, points: int) -> np.ndarray:
    """`points` points evenly spaced along the polyline `path` (both ends kept)."""
    if len(path) < 2:
        return np.repeat(path[:1], points, axis=0)
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(path, axis=0).T))]
    at = np.linspace(0, lengths[-1], points)
    return np.stack([np.interp(at, lengths, path[:, 0]), np.interp(at, lengths, path[:, 1])], 1)


def pen_digit_trajectory(strokes: Skeleton, points: int) -> Stroke:
    """The digit as pen-digit sets keep it: its strokes joined by the pen's travel into
    one trajectory, resampled to `points` points evenly spaced along it."""
    return resample(np.vstack(strokes), points)


def own_order(strokes: Skeleton, rng: Rng) -> Skeleton:
    """The strokes in a random order, each drawn either way."""
    return [strokes[k][::-1] if rng.random() < 0.5 else strokes[k]
            for k in rng.permutation(len(strokes))]


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
                   device: str | None = None, own_orders: float = 0.0) -> Drawing:
    """A random drawing of `label` (a random style of it unless `style` is given); on a
    tablet, a share `own_orders` of the digits in several strokes come in the writer's
    own order (`own_order`), the rest as the skeleton draws them."""
    if style is None:
        names = [n for n, (d, _) in STYLES.items() if d == label]
        weights = np.array([STYLE_WEIGHTS.get(n, 1.0) for n in names])
        style = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    if device is None:
        weights = np.array(list(DEVICE_WEIGHTS.values()))
        device = DEVICES[int(rng.choice(len(DEVICES), p=weights / weights.sum()))]
    strokes = _wobble(STYLES[style][1](rng), rng)
    strokes = transform(strokes, float(np.exp(rng.uniform(*np.log(ASPECT)))),
                        rng.uniform(-SLANT_DEG, SLANT_DEG), rng.uniform(-TURN_DEG, TURN_DEG))
    # Without own orders no random number is drawn: the shipped recipe's digits stay as
    # they were.
    if device == "tablet" and own_orders and len(strokes) > 1 and rng.random() < own_orders:
        strokes = own_order(strokes, rng)
    if device == "tablet" and rng.random() < TABLET_RESAMPLED:
        points = int(rng.integers(TABLET_POINTS[0], TABLET_POINTS[1] + 1))
        strokes = [pen_digit_trajectory(strokes, points)]
    elif device == "tablet":
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
    """Draw anti-aliased: a pen or boxed drawing on paper (uint8 grey), others on the canvas
    (RGBA)."""
    height = height or float(rng.uniform(*HEIGHTS))
    pen = pen or float(np.exp(rng.uniform(*np.log(PEN_SHARE))) * height)
    points = [s * height for s in drawing.strokes]
    low = np.min([p.min(axis=0) for p in points], axis=0)
    high = np.max([p.max(axis=0) for p in points], axis=0)
    extent = high - low
    on_paper = drawing.device in ("pen", "box")
    if on_paper:
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
    if not on_paper:
        rgba = np.zeros((*mask.shape, 4), np.uint8)
        rgba[..., 3] = mask
        return rgba
    ink = mask.astype(np.float32) / 255
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.3, 1.0))
    paper = rng.uniform(0.85, 0.97) + rng.normal(0, 0.02, ink.shape)
    page = np.clip(paper * (1 - ink) + rng.uniform(0.05, 0.3) * ink, 0, 1)
    if drawing.device == "box":
        return boxed_picture(1 - page, rng.uniform(*BOX_LEVELS))
    return (page * 255).astype(np.uint8)


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


def synthesize(count: int, seed: int, own_orders: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """`count` digits (labels in turn 0-9), as the network sees them: uint8 (N, 28, 28), labels
    (`own_orders`: see `sample_strokes`)."""
    from model.reader.imaging import ReadError

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(count):
        label = k % 10
        for _ in range(5):  # a rare drawing that leaves no ink is drawn again
            try:
                image = to_network_input(render(sample_strokes(label, rng, own_orders=own_orders),
                                                rng))
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
