"""Synthetic scans, phone photos and canvas drawings built from real MNIST digits.

One place for the pictures that tests, benchmarks and the sample files in assets/
are made of, so they all mean the same thing by "a phone photo of 4071":

- :func:`render_digit`: one MNIST digit at any size, with its own stroke width or
  redrawn with a pen of a given width (from its morphological skeleton);
- :func:`compose_page`: rows of digits as dark ink on light paper, with their boxes;
- :func:`touching_pair`: two digits slid together until their strokes touch;
- :func:`photograph`: tilt, uneven lighting, paper grain, blur and JPEG, as a phone
  or a cheap scanner would add them;
- :func:`canvas_rgba`: a digit as the drawing canvas returns it (black strokes on a
  transparent background).

Pure numpy/OpenCV and deterministic for a given `numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

MNIST_BOX = 20  # MNIST digits fill a 20x20 box inside 28x28
SUPERSAMPLE = 4  # pens are drawn this much larger, then area-averaged (anti-aliasing)


@dataclass(frozen=True)
class PageStyle:
    """How a page is written: sizes are in pixels of the output picture."""

    digit_height: int = 100  # height of MNIST's 20 px box
    pen: float | None = None  # stroke width; None keeps the MNIST digit's own strokes
    gap: float = 0.35  # between digits, in digit heights (negative: they overlap)
    line_gap: float = 0.6  # between rows, in digit heights
    margin: float = 0.6  # around the writing, in digit heights
    ink: float = 0.12  # grey level of the ink (0 black, 1 white)
    paper: float = 0.94


@dataclass(frozen=True)
class PhotoStyle:
    """What the camera or scanner adds."""

    tilt_deg: float = 0.0
    shading: float = 0.0  # depth of a smooth lighting gradient, in grey levels
    noise: float = 0.0  # standard deviation of paper grain, in grey levels
    blur: float = 0.0  # Gaussian sigma in pixels
    jpeg_quality: int | None = None


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a one-pixel, connected centre line of a binary shape."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = [np.roll(np.roll(img, -dy, 0), -dx, 1) for dy, dx in _RING]
            count = sum(p)  # neighbours that are set
            # 0 -> 1 transitions going once round the 8 neighbours
            transitions = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                ends = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                ends = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = (img == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & ends
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


# Neighbours P2..P9 of Zhang and Suen: north, then clockwise.
_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
SKELETON_SCALE = 4  # the centre line is found on MNIST upscaled this much
_FORWARD = ((0, 1), (1, 0), (1, 1), (1, -1))


def _pen_drawing(digit: np.ndarray, scale: float, pen: float) -> np.ndarray:
    """Redraw a digit's centre line with a round pen; returns a supersampled binary mask."""
    big = cv2.resize(digit.astype(np.float32) / 255.0, (28 * SKELETON_SCALE,) * 2,
                     interpolation=cv2.INTER_CUBIC) >= 0.5
    line = thin(big)
    factor = scale * SUPERSAMPLE / SKELETON_SCALE  # skeleton pixel -> supersampled pixel
    side = round(28 * scale * SUPERSAMPLE)
    canvas = np.zeros((side, side), np.uint8)
    width = max(1, round(pen * SUPERSAMPLE))
    shift = 4  # cv2 drawing with 4 fractional bits
    def at(y: int, x: int) -> tuple[int, int]:
        return round((x + 0.5) * factor * 2**shift), round((y + 0.5) * factor * 2**shift)
    ys, xs = np.nonzero(line)
    on = set(zip(ys.tolist(), xs.tolist(), strict=True))
    for y, x in on:
        cv2.circle(canvas, at(y, x), round(width / 2 * 2**shift), 1, -1, cv2.LINE_8, shift)
        for dy, dx in _FORWARD:
            if (y + dy, x + dx) in on:
                cv2.line(canvas, at(y, x), at(y + dy, x + dx), 1, width, cv2.LINE_8, shift)
    return canvas.astype(bool)


def render_digit(digit: np.ndarray, height: int, pen: float | None = None) -> np.ndarray:
    """An MNIST digit (28x28 uint8, white on black) as ink strength in [0, 1].

    The 20 px MNIST box becomes `height` pixels. With `pen`, every stroke is redrawn
    `pen` pixels wide along the digit's centre line. The result is cropped to the
    ink and anti-aliased.
    """
    scale = height / MNIST_BOX
    if pen is None:
        side = round(28 * scale * SUPERSAMPLE)
        big = cv2.resize(digit.astype(np.float32) / 255.0, (side, side),
                         interpolation=cv2.INTER_CUBIC) >= 0.5
    else:
        big = _pen_drawing(digit, scale, pen)
    rows, cols = np.flatnonzero(big.any(axis=1)), np.flatnonzero(big.any(axis=0))
    # Crop on the supersampling grid so the area average stays aligned.
    top, left = rows[0] // SUPERSAMPLE * SUPERSAMPLE, cols[0] // SUPERSAMPLE * SUPERSAMPLE
    bottom = -(-(rows[-1] + 1) // SUPERSAMPLE) * SUPERSAMPLE
    right = -(-(cols[-1] + 1) // SUPERSAMPLE) * SUPERSAMPLE
    crop = np.zeros((bottom - top, right - left), np.float32)
    part = big[top:bottom, left:right]
    crop[:part.shape[0], :part.shape[1]] = part
    size = (crop.shape[1] // SUPERSAMPLE, crop.shape[0] // SUPERSAMPLE)
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA)


def compose_page(rows: Sequence[Sequence[np.ndarray]], style: PageStyle = PageStyle(),
                 rng: np.random.Generator | None = None
                 ) -> tuple[np.ndarray, list[list[tuple[int, int, int, int]]]]:
    """Rows of MNIST digits written on paper: (uint8 grey page, boxes x, y, w, h per row).

    Digits sit on a common baseline per row with a little random vertical jitter
    (when `rng` is given); `style.gap < 0` makes neighbours overlap, i.e. touch.
    """
    inks = [[render_digit(d, style.digit_height, style.pen) for d in row] for row in rows]
    h = style.digit_height
    gap, margin = round(style.gap * h), round(style.margin * h)
    jitter = (lambda: int(rng.integers(-h // 12, h // 12 + 1))) if rng is not None else (lambda: 0)
    placements: list[list[tuple[int, int, np.ndarray]]] = []
    y = margin
    width = 0
    for row in inks:
        x, placed = margin, []
        row_height = max(ink.shape[0] for ink in row)
        for ink in row:
            dy = row_height - ink.shape[0] + jitter()  # bottom-aligned, like handwriting
            placed.append((x, y + max(0, dy), ink))
            x += ink.shape[1] + gap
        placements.append(placed)
        width = max(width, x - gap + margin)
        y += row_height + h // 6 + round(style.line_gap * h)
    height = y - round(style.line_gap * h) - h // 6 + margin
    strength = np.zeros((height + h // 6, width), np.float32)
    boxes = []
    for placed in placements:
        row_boxes = []
        for x, y0, ink in placed:
            region = strength[y0:y0 + ink.shape[0], x:x + ink.shape[1]]
            np.maximum(region, ink, out=region)
            row_boxes.append((x, y0, ink.shape[1], ink.shape[0]))
        boxes.append(row_boxes)
    page = style.paper + (style.ink - style.paper) * strength
    return np.clip(page * 255 + 0.5, 0, 255).astype(np.uint8), boxes


def touching_pair(left: np.ndarray, right: np.ndarray, overlap: int = 0,
                  paper: float = 0.94, ink: float = 0.12, margin: int = 30) -> np.ndarray:
    """Two rendered digits (ink strength) slid together until their strokes touch.

    `overlap` slides them that many pixels further. Returns a uint8 grey page.
    """
    height = max(left.shape[0], right.shape[0])

    def place(shift: int) -> np.ndarray:
        width = left.shape[1] + right.shape[1] - shift
        strength = np.zeros((height, width), np.float32)
        strength[height - left.shape[0]:, :left.shape[1]] = left
        region = strength[height - right.shape[0]:, width - right.shape[1]:]
        np.maximum(region, right, out=region)
        return strength

    shift = 0
    while shift < left.shape[1] - 1:
        mask = (place(shift) >= 0.5).astype(np.uint8)
        if cv2.connectedComponents(mask)[0] == 2:  # background + one mark
            break
        shift += 1
    strength = np.pad(place(min(shift + overlap, left.shape[1] - 1)), margin)
    page = paper + (ink - paper) * strength
    return np.clip(page * 255 + 0.5, 0, 255).astype(np.uint8)


def photograph(page: np.ndarray, style: PhotoStyle,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """Add what a camera adds to a grey uint8 page: tilt, lighting, grain, blur, JPEG."""
    rng = rng or np.random.default_rng(0)
    image = page.astype(np.float32) / 255.0
    h, w = image.shape
    if style.tilt_deg:
        paper = float(np.median(image))
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), style.tilt_deg, 1.0)
        image = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=paper)
    if style.shading:
        # A light source off to one side: a linear fall-off plus a soft vignette.
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) + 0.5
        vignette = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2
        image = image * (1.0 - style.shading * np.clip(0.7 * ramp + 0.3 * vignette, 0, 1))
    if style.blur:
        image = cv2.GaussianBlur(image, (0, 0), style.blur)
    if style.noise:
        image = image + rng.normal(0.0, style.noise, image.shape).astype(np.float32)
    out = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    if style.jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, style.jpeg_quality])
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else out
    return out


def canvas_rgba(digit: np.ndarray, size: int = 280, brush: float = 18.0,
                fill: float = 0.7) -> np.ndarray:
    """A digit drawn on the app's canvas: black strokes `brush` px wide, transparent paper."""
    ink = render_digit(digit, round(size * fill), pen=brush)
    ink = ink[:size, :size]
    rgba = np.zeros((size, size, 4), np.uint8)
    top, left = (size - ink.shape[0]) // 2, (size - ink.shape[1]) // 2
    rgba[top:top + ink.shape[0], left:left + ink.shape[1], 3] = np.round(ink * 255)
    return rgba
