"""Ink detection: which pixels of a grey picture are pen, pencil, chalk or brush strokes.

Works on scans, phone photos and canvas drawings alike:
1. big pictures are analysed at most WORK_MAX_SIDE pixels wide, small ones (under
   SMALL_SIDE pixels tall or wide) at ENLARGE times their size (boxes are mapped back);
2. polarity (`model.reader.polarity`): the ink is the Otsu class that is rarer on the
   picture's border (paper surrounds the writing), so dark-on-light and light-on-dark
   both work; when the border says little, or paper shows in the corners or only along
   the edges (a digit cut to its box), the ink is dark, as on paper, unless the picture
   is two levels (one bit deep, or a digit's box in two clear greys) and the dark level
   is in more pieces than the light one, or only slivers along the edges (a boxed digit
   saved in light ink);
3. uneven lighting (`model.reader.lighting`): the background, a fitted surface plus a
   morphological opening a few stroke widths wide (it removes the strokes and keeps
   the shading), is subtracted;
4. threshold: Otsu on the flattened picture, never inside the paper noise;
5. a contrast check refuses an empty page, a flat or a noise-only picture;
6. ink strength: the threshold maps to INK_LEVEL and the stroke core (the 90th
   percentile of the ink) to 1.0. A blurred, low-resolution scan keeps its grey
   profile, and the holes blur has nearly filled stay lighter than the strokes; a
   plain gain that put 1.0 at twice the threshold would flatten both.
A clean synthetic picture passes through unchanged up to a constant: its
background is flat, so step 3 subtracts zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.reader.imaging import NoDigitError
from model.reader.lighting import paper_background
from model.reader.pixels import (
    is_digit_box,
    is_one_bit,
    otsu,
    quantile,
    sample_of,
    shrink,
)
from model.reader.polarity import judge_polarity
from model.reader.ruling import lone_marks, pen_above_ruling

WORK_MAX_SIDE = 1280
# A picture under SMALL_SIDE px tall (or wide) holds writing a few dozen pixels tall at
# most, whose strokes and the gaps between digits are a pixel or two: the threshold
# joins neighbours that a smooth enlargement keeps apart. Such a picture is analysed at
# ENLARGE times its size, unless it is one digit's box (DIGIT_BOX_SIDE: a digit cut to
# its box keeps its exact pixels). USPS *train* numbers scaled to a quarter of their
# size (digits 10-22 px tall, 150): read exactly 136 -> 141 (from under 48 px: 140,
# 80 px: 141); to 0.35: 143 -> 145 (146, 146); to half: 146 -> 146 (146, 145).
SMALL_SIDE = 64
ENLARGE = 2
# Size of the small copy the stroke width under the background is measured on.
STROKE_SIDE = 400
# Paper grain and JPEG ringing are blurred away on big pictures (sigma grows with size).
GRAIN_SIGMA_PER_PX = 1 / 1000
GRAIN_SIGMA_MAX = 1.5
# Contrast check: ink must stand this far above the paper, absolutely and relative to
# the pixel noise (so an empty page, a flat or a noise-only picture is refused).
MIN_CONTRAST = 0.08
MIN_SIGNAL_TO_NOISE = 6.0
THRESHOLD_NOISE = 3.0  # the threshold sits at least this many noise deviations up
MIN_LEVEL = 0.25  # ... and at this share of the strongest ink (Otsu gives 0 on two levels)
NOISE_GAIN = 1.0  # residual-to-median deviation -> pixel noise deviation
INK_LEVEL = 0.5  # the threshold maps to this value of `InkMap.ink`
WEAK_LEVEL = 0.25  # fainter ink joins the mask where it connects to ink above INK_LEVEL
CORE_PERCENTILE = 90  # the stroke core, strength 1.0: this percentile of the ink's levels
RIDGE_TOLERANCE = 1e-4  # px: far above float rounding, far below any real step
# A square picture dark from edge to edge (every pixel darker than SOLID_DARK, all
# within SOLID_SPREAD of each other; width and height within SOLID_SQUARE) is all ink:
# a straight stroke cut to its box and stretched to fill a square, as published digit
# sets keep digits. A black page or photo of any other shape holds no digit. A picture
# no larger than one digit's box (`is_digit_box`) may be light all over too: such sets
# store the ink as 1, and a file written straight from the bits has white ink.
SOLID_DARK = 0.25
SOLID_SPREAD = 2 / 255
SOLID_SQUARE = 0.03


@dataclass(frozen=True)
class InkMap:
    """Ink strength at working resolution: 0 paper, INK_LEVEL at the threshold, 1 stroke core."""

    ink: np.ndarray  # float32 (h, w)
    mask: np.ndarray  # bool (h, w): ink >= INK_LEVEL, and fainter ink connected to it
    scale: float  # working pixels per pixel of the decoded picture
    light_on_dark: bool
    contrast: float  # how far the stroke core stands above the paper, in grey levels
    one_bit: bool  # two levels only, as a one-bit scan (smoothly upscaled) has
    close_call: bool = False  # the polarity was a close call (`judge_polarity`)
    # A ruled page's lines were found (`model.reader.ruling`): those the threshold kept, as
    # dark as the pen, `model.reader.rules` takes out (`model.reader.ruling.without_dark_rulings`).
    ruled_page: bool = False


def find_ink(gray: np.ndarray, *, ruled: bool = False,
             light_on_dark: bool | None = None) -> InkMap:
    """Locate the ink of a decoded picture (1 = white); NoDigitError when there is none.

    `ruled`: the picture may be a page of an exercise book (a scan or a photo, not a
    canvas), whose faint printed lines are left out (`model.reader.ruling`). `light_on_dark`
    overrides the polarity `model.reader.polarity` would judge."""
    work, scale = _working_copy(gray.astype(np.float32, copy=False))
    close_call = False
    if light_on_dark is None:
        light_on_dark, close_call = judge_polarity(work)
    strength = work if light_on_dark else 1.0 - work
    # Noise is measured before the grain blur: blurring hides it without removing it.
    noise = _grain(strength)
    # Judged before the grain blur, which would smear the two levels they look for.
    sample = sample_of(strength)
    one_bit = is_one_bit(sample)
    paper = _unshaded_paper(sample, one_bit or is_digit_box(work.shape))
    sigma = min(GRAIN_SIGMA_MAX, max(work.shape) * GRAIN_SIGMA_PER_PX)
    if sigma >= 0.5:
        strength = cv2.GaussianBlur(strength, (0, 0), sigma)
    background = _background(strength) if paper is None else paper
    threshold, contrast, flat = _threshold(strength - background, noise)
    faintest = THRESHOLD_NOISE * noise  # on `flat`'s scale, as the threshold
    # On ruled paper the lines are found among all the faint ink, joined to digits or not.
    pen, ruled_page = pen_above_ruling(
        flat, max(WEAK_LEVEL / INK_LEVEL * threshold, faintest),
        one_bit) if ruled else (None, False)
    if pen is not None:
        threshold, faintest = pen.threshold, pen.faintest
        contrast = quantile(flat[flat >= threshold], CORE_PERCENTILE / 100)
    ink = _strength(flat, threshold, contrast)
    # Hysteresis: the faint parts of a stroke (light pen pressure, a thin loop) count
    # as ink where they connect to clearly dark ink; faint specks on their own do not.
    weak = max(WEAK_LEVEL, INK_LEVEL * faintest / threshold)
    mask = connected_to(ink >= INK_LEVEL, ink >= weak)
    if pen is not None:  # a digit written lighter than the rest, standing alone
        mask |= lone_marks(connected_to(flat >= pen.lone, ink >= weak) & ~mask)
    return InkMap(ink=ink, mask=mask, scale=scale, light_on_dark=light_on_dark,
                  contrast=contrast, one_bit=one_bit, close_call=close_call,
                  ruled_page=ruled_page)


def solid_ink(gray: np.ndarray) -> InkMap | None:
    """The ink of a square decoded picture that is uniformly dark, all of it (or light,
    within one digit's box); else None.

    `find_ink` finds no contrast in such a picture and refuses it; a scan's reader asks
    here before giving up (`model.reader`).
    """
    height, width = gray.shape[:2]
    if abs(width / height - 1) > SOLID_SQUARE:
        return None
    work, scale = _working_copy(gray.astype(np.float32, copy=False))
    if float(work.max() - work.min()) > SOLID_SPREAD:
        return None
    light_on_dark = float(work.min()) >= 1.0 - SOLID_DARK and is_digit_box(gray.shape)
    if float(work.max()) > SOLID_DARK and not light_on_dark:
        return None
    contrast = float(work.mean()) if light_on_dark else 1.0 - float(work.mean())
    return InkMap(ink=np.ones_like(work), mask=np.ones(work.shape, bool), scale=scale,
                  light_on_dark=light_on_dark, contrast=contrast, one_bit=True)


def _strength(flat: np.ndarray, threshold: float, core: float) -> np.ndarray:
    """Ink strength: 0 at the paper, INK_LEVEL at the threshold, 1.0 at the stroke core.

    Linear on either side of the threshold, so the mask (>= INK_LEVEL) and the faint
    ink below it are exactly as a single gain would make them.
    """
    core = core if core > threshold else 2.0 * threshold
    below = flat * (INK_LEVEL / threshold)
    above = INK_LEVEL + (flat - threshold) * ((1.0 - INK_LEVEL) / (core - threshold))
    return np.clip(np.where(flat < threshold, below, above), 0.0, 1.0).astype(np.float32)


def connected_to(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """The parts of `weak` (a superset of `strong`) that touch `strong`."""
    count, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.bincount(labels[strong], minlength=count) > 0
    keep[0] = False
    return keep[labels]


def _working_copy(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The picture at the size it is analysed at, and that size's scale (see SMALL_SIDE)."""
    h, w = gray.shape
    if min(h, w) < SMALL_SIDE and not is_digit_box(gray.shape):
        enlarged = cv2.resize(gray, (ENLARGE * w, ENLARGE * h), interpolation=cv2.INTER_CUBIC)
        return np.clip(enlarged, 0.0, 1.0), float(ENLARGE)  # cubic overshoots at edges
    scale = min(1.0, WORK_MAX_SIDE / max(h, w))
    if scale == 1.0:
        return gray, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width of a binary mask in pixels: twice the median distance-ridge height.

    The ridge (local maxima of the distance to the background) runs along the
    middle of every stroke, so its median is robust to blobs and junctions.
    """
    if not mask.any():
        return 0.0
    # Paper all round, so ink touching the edge is measured from the edge.
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return 2.0 * quantile(dist[_ridge(dist)], 0.5)


def _ridge(dist: np.ndarray) -> np.ndarray:
    """Where a distance map peaks: at least as high as its 8 neighbours, within
    RIDGE_TOLERANCE. The same map can come out a last bit apart (OpenCV's distances
    changed by 1 ulp once ONNX Runtime had run in the process), and an exact test
    then moved the median, and the reading, of the same picture."""
    peak = cv2.dilate(dist, np.ones((3, 3), np.uint8))
    return (dist > 0) & (dist >= peak - RIDGE_TOLERANCE)


def _unshaded_paper(sample: np.ndarray, unshaded: bool) -> float | None:
    """The paper's level when the picture (`sample`: its pixels, `sample_of`) has no
    shading to take out, else None.

    Paper of one exact level (a drawing, a clean render), or a picture the caller knows
    has none (`unshaded`): one bit deep (a one-bit scan, a render with wide strokes,
    either saved as JPEG, whose ringing stays near the two levels) or one digit's box
    (`DIGIT_BOX_SIDE`). There the ink may cover more of the picture than an opening can
    take away (a digit stretched to its box).
    """
    low, middle = quantile(sample, 0.1), quantile(sample, 0.6)
    if low == middle:
        return low
    if unshaded:
        return float(sample.min())
    return None


def _background(strength: np.ndarray) -> np.ndarray:
    """Shading and paper colour (`model.reader.lighting`), under strokes of the width measured
    on a small copy."""
    small, factor = shrink(strength, STROKE_SIDE)
    return paper_background(strength, stroke_width(small > otsu(small)) / factor)


def _grain(strength: np.ndarray) -> float:
    """Pixel noise (grain, sensor noise) as a robust standard deviation.

    Measured on the difference to a 3x3 median, which removes strokes, edges and
    shading but not noise; the median absolute deviation ignores the stroke edges.
    """
    residual = strength - cv2.medianBlur(strength, 3)
    return 1.4826 * quantile(np.abs(sample_of(residual)), 0.5) * NOISE_GAIN


def _threshold(diff: np.ndarray, noise: float) -> tuple[float, float, np.ndarray]:
    """Threshold, ink contrast and the paper-at-zero picture; NoDigitError without real ink."""
    sample = sample_of(diff)
    paper_level = quantile(sample[sample <= _otsu_span(sample)], 0.5)
    flat = np.maximum(diff - paper_level, 0.0)
    top = float(flat.max())
    if top < MIN_CONTRAST:
        raise NoDigitError()
    level = max(otsu(flat / top) * top, THRESHOLD_NOISE * noise, MIN_LEVEL * top)
    ink = flat[flat >= level]
    contrast = quantile(ink, CORE_PERCENTILE / 100) if ink.size else 0.0
    if contrast < MIN_CONTRAST or contrast < MIN_SIGNAL_TO_NOISE * noise:
        raise NoDigitError()
    return level, contrast, flat


def _otsu_span(values: np.ndarray) -> float:
    """Otsu's threshold of values of any range."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-6:
        return high
    return low + otsu((values - low) / (high - low)) * (high - low)
