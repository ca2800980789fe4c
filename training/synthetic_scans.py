"""Synthetic scans, phone photos and canvas drawings built from real MNIST digits.

One place for the pictures that tests, benchmarks and the sample files in assets/
are made of, so they all mean the same thing by "a phone photo of 4071":

- :func:`render_digit`: one MNIST digit at any size, with its own stroke width or
  redrawn with a pen of a given width (from its morphological skeleton);
- :func:`compose_page`: rows of digits as dark ink on light paper (grey, or coloured
  ink on coloured paper), with their boxes;
- :func:`touching_pair`: two digits slid together until their strokes touch;
- :func:`photograph`: tilt, uneven lighting, paper grain, blur and JPEG, as a phone
  or a cheap scanner would add them;
- :func:`canvas_rgba`: one digit or a row of them as the drawing canvas returns them
  (black strokes on a transparent background).

Pure numpy/OpenCV and deterministic for a given `numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

MNIST_BOX = 20  # MNIST digits fill a 20x20 box inside 28x28
SUPERSAMPLE = 4  # pens are drawn this much larger, then area-averaged (anti-aliasing)

Colour = float | tuple[float, float, float]  # a grey level or an RGB triple, in [0, 1]
WARM_PAPER: Colour = (0.945, 0.929, 0.886)  # off-white notebook paper
BALLPOINT_BLUE: Colour = (0.110, 0.125, 0.227)  # blue-black ballpoint ink


@dataclass(frozen=True)
class PageStyle:
    """How a page is written: sizes are in pixels of the output picture."""

    digit_height: int = 100  # height of MNIST's 20 px box
    pen: float | None = None  # stroke width; None keeps the MNIST digit's own strokes
    gap: float = 0.35  # between digits, in digit heights (negative: they overlap)
    line_gap: float = 0.6  # between rows, in digit heights
    margin: float = 0.6  # around the writing, in digit heights
    ink: Colour = 0.12  # 0 black, 1 white; RGB ink or paper gives an RGB page
    paper: Colour = 0.94
    # Handwriting is uneven: with an `rng`, each digit's height and the gap after it
    # vary by up to these fractions of the digit height.
    size_jitter: float = 0.0
    gap_jitter: float = 0.0


@dataclass(frozen=True)
class PhotoStyle:
    """What the camera or scanner adds."""

    tilt_deg: float = 0.0
    shading: float = 0.0  # how much darker the far side is, as a fraction of the brightness
    noise: float = 0.0  # standard deviation of paper grain, in [0, 1] grey levels
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
    """Rows of MNIST digits written on paper: (uint8 page, boxes x, y, w, h per row).

    The page is grey (H, W), or RGB (H, W, 3) when the style's ink or paper is a
    colour. Digits sit on a common baseline per row; with `rng` they get a little
    random vertical jitter, and size and spacing jitter as the style asks.
    `style.gap < 0` makes neighbours overlap, i.e. touch.
    """
    h = style.digit_height

    def vary(spread: float) -> float:  # a random fraction in [-spread, spread], if asked for
        return float(rng.uniform(-spread, spread)) if rng is not None and spread else 0.0

    inks = [[render_digit(d, round(h * (1 + vary(style.size_jitter))), style.pen) for d in row]
            for row in rows]
    margin = round(style.margin * h)
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
            gap = round((style.gap + vary(style.gap_jitter)) * h)
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
    return on_paper(strength, style.ink, style.paper), boxes


def on_paper(strength: np.ndarray, ink: Colour, paper: Colour) -> np.ndarray:
    """Ink strength in [0, 1] as a uint8 page: grey, or RGB if either colour is RGB."""
    ink_c, paper_c = np.asarray(ink, np.float32), np.asarray(paper, np.float32)
    if ink_c.ndim or paper_c.ndim:
        strength = strength[..., None]
    page = paper_c + (ink_c - paper_c) * strength
    return np.clip(page * 255 + 0.5, 0, 255).astype(np.uint8)


def touching_pair(left: np.ndarray, right: np.ndarray, overlap: int = 0,
                  paper: Colour = 0.94, ink: Colour = 0.12, margin: int = 30) -> np.ndarray:
    """Two rendered digits (ink strength) slid together until their strokes touch.

    `overlap` slides them that many pixels further. Returns a uint8 page (see `on_paper`).
    """
    height = max(left.shape[0], right.shape[0])

    def place(shift: int) -> np.ndarray:
        width = left.shape[1] + right.shape[1] - shift
        strength = np.zeros((height, width), np.float32)
        strength[height - left.shape[0]:, :left.shape[1]] = left
        region = strength[height - right.shape[0]:, width - right.shape[1]:]
        np.maximum(region, right, out=region)
        return strength

    most = min(left.shape[1], right.shape[1]) - 1  # neither digit slides past the other
    shift = 0
    while shift < most:
        mask = (place(shift) >= 0.5).astype(np.uint8)
        if cv2.connectedComponents(mask)[0] == 2:  # background + one mark
            break
        shift += 1
    strength = np.pad(place(min(shift + overlap, most)), margin)
    return on_paper(strength, ink, paper)


def photograph(page: np.ndarray, style: PhotoStyle,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """Add what a camera adds to a uint8 page (grey or RGB): tilt, lighting, grain, blur, JPEG."""
    rng = rng or np.random.default_rng(0)
    image = page.astype(np.float32) / 255.0
    h, w = image.shape[:2]
    if style.tilt_deg:
        # The corners the turn uncovers are filled with paper (the commonest colour).
        paper = np.median(image.reshape(h * w, -1), axis=0)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), style.tilt_deg, 1.0)
        image = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT,
                               borderValue=tuple(float(v) for v in paper))
    if style.shading:
        # A light source off to one side: a linear fall-off plus a soft vignette.
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) + 0.5
        vignette = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 2
        light = 1.0 - style.shading * np.clip(0.7 * ramp + 0.3 * vignette, 0, 1)
        image = image * (light[..., None] if image.ndim == 3 else light)
    if style.blur:
        image = cv2.GaussianBlur(image, (0, 0), style.blur)
    if style.noise:
        image = image + rng.normal(0.0, style.noise, image.shape).astype(np.float32)
    out = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    if style.jpeg_quality is not None:
        colour = out.ndim == 3
        # OpenCV's encoder expects BGR; convert so chroma subsampling sees the real colours.
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR) if colour else out,
                                [cv2.IMWRITE_JPEG_QUALITY, style.jpeg_quality])
        if ok and colour:
            out = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        elif ok:
            out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return out


def canvas_rgba(digits: np.ndarray | Sequence[np.ndarray], size: int = 280,
                brush: float = 18.0, fill: float = 0.7, width: int | None = None) -> np.ndarray:
    """Digits drawn on the app's canvas: black strokes `brush` px wide, transparent paper.

    `digits` is one MNIST digit (28x28) or several, written side by side in equal
    slots across a canvas `size` high and `width` wide (default: `size` per digit).
    Each digit's 20 px MNIST box fills `fill` of the height.
    """
    many = [digits] if isinstance(digits, np.ndarray) and digits.ndim == 2 else list(digits)
    width = width or size * len(many)
    slot = width // len(many)
    rgba = np.zeros((size, width, 4), np.uint8)
    for i, digit in enumerate(many):
        ink = render_digit(digit, round(size * fill), pen=brush)[:size, :slot]
        top, left = (size - ink.shape[0]) // 2, i * slot + (slot - ink.shape[1]) // 2
        region = rgba[top:top + ink.shape[0], left:left + ink.shape[1], 3]
        np.maximum(region, np.round(ink * 255).astype(np.uint8), out=region)
    return rgba
