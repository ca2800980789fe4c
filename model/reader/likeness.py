"""Is what the network saw a digit at all? The checks behind a reading's "sure" flag.

A network without a "not a digit" class is often sure of a scribble: a zig-zag is a
confident 3, a cross or an asterisk a confident 4. So besides the top probability a
reading must pass checks against MNIST itself (`python -m training.likeness`
measures them on the 60,000 training digits, normalised as the reader does):

- ink: at most two enclosed holes (99 % of MNIST) and an ink mass (sum of the 28x28
  image) between 29 and 191 (99.7 %);
- for the digit read: an outline (the length of the ink's contours) no longer than
  99.9 % of MNIST's digits of that class (a scrawl has more stroke than a digit), and
  an anisotropy (how elongated the ink's second moments are, 0 for a cross or a ring,
  1 for a line) no lower than 99.9 % of them (crosses, stars and hashes are too
  symmetric for a 4 or a 7; a ring is a 0 all the same); and, drawn on the canvas, no
  more stroke ends (the ends of the ink's skeleton) than 99 % of them: an asterisk has
  six ends or more, a zig-zag read as a 3 grows a spur at every sharp turn, and a 4 or
  a 3 has at most five. Not on scans: a blurred, blocky low-resolution digit grows
  spurs too (a ring from an 8x8 scan has four; 20 of the 1,843 right and sure usps96
  readings would lose "sure");
- steadiness: nudged by 2 pixels or turned by 12 degrees (well inside how people's
  digits vary), the digit keeps its probability on average (`nudges`).

Digits cut to their boxes, as published digit sets keep them (`model.reader.cells`), are
stretched to fill a square whatever their shape and one bit deep: more ink, rounder,
blockier than a digit as written. They are measured against MNIST's digits boxed the
same way and read by the reader (`BOXED`), not against MNIST as written (`WRITTEN`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from model.settings import SETTINGS

MAX_HOLES = 2
MIN_HOLE_AREA = 2.0
INK_LEVEL = 0.5  # the outline is taken at this level of the 28x28 image


@dataclass(frozen=True)
class Bounds:
    """What MNIST's digits look like to the network, measured by `python -m
    training.likeness`: the ink mass's 0.1st and 99.9th percentile, and per class 0-9
    the outline's 99.9th percentile and the anisotropy's 0.1st."""

    ink_mass: tuple[float, float]
    max_outline: tuple[float, ...]
    min_anisotropy: tuple[float, ...]


# MNIST's 60,000 training digits as written, normalised as the reader normalises what it
# reads (the ink mass was set before the other bounds and kept: 99.7 % of them pass it).
WRITTEN = Bounds(
    ink_mass=(29.0, 191.0),
    max_outline=(137.4, 93.7, 137.4, 137.8, 108.3, 132.1, 131.1, 105.9, 149.2, 123.3),
    min_anisotropy=(0.020, 0.390, 0.026, 0.065, 0.013, 0.044, 0.019, 0.027, 0.062, 0.035))
# `--boxed`: the 60,000 cut to their ink's box, stretched to fill 16x16, one bit deep
# (`training.usps_pictures.boxed`) and read by the reader as such a file is.
BOXED = Bounds(
    ink_mass=(61.3, 370.8),
    max_outline=(146.2, 107.8, 145.0, 148.8, 114.6, 146.2, 142.1, 115.8, 161.3, 137.5),
    min_anisotropy=(0.006, 0.027, 0.021, 0.075, 0.019, 0.027, 0.009, 0.020, 0.017, 0.008))
# Drawn on a canvas: the 99th percentile of the stroke ends of MNIST's digits as written
# (at the 99.9th, 6 for a 4, an asterisk passed as a 4). 8 of the first 2,000 MNIST
# test digits fail it, 2 of 1,779 usps-tablet.
MAX_ENDS = (2, 4, 4, 5, 5, 5, 4, 5, 4, 4)
# A ring is a 0. MNIST's 0s are ovals (99.9 % have an anisotropy of 0.02 or more), but a
# round 0 is as much a 0: drawn as a circle it read "0" at 100 % and not sure. The
# anisotropy bound, there for crosses and stars read as 4s and 7s, is not held against it.
RING_DIGIT = 0
NUDGE_SHIFT = 2.0  # pixels of the 28x28 image
NUDGE_ANGLE = 12.0  # degrees


def bounds_for(boxed: bool) -> Bounds:
    """The bounds a picture is held to: MNIST's digits boxed so, for a digit cut to its
    box (`boxed`), else as written."""
    return BOXED if boxed else WRITTEN


def looks_like_a_digit(image: np.ndarray, digit: int | None = None, *,
                       drawn: bool = False, boxed: bool = False) -> bool:
    """Whether a normalised 28x28 image is within what MNIST digits (of class `digit`)
    look like; `drawn` (a canvas drawing) checks its stroke ends too, `boxed` (a digit
    cut to its box) is held to MNIST's digits boxed so."""
    bounds = bounds_for(boxed)
    mass = float(image.sum())
    if not bounds.ink_mass[0] <= mass <= bounds.ink_mass[1]:
        return False
    ink = (image >= INK_LEVEL).astype(np.uint8)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = sum(1 for contour, link in zip(contours, hierarchy[0], strict=True)
                if link[3] >= 0 and cv2.contourArea(contour) >= MIN_HOLE_AREA)
    if holes > MAX_HOLES:
        return False
    if digit is None:
        return True
    return (not more_stroke_than(image, digit, boxed=boxed)
            and (digit == RING_DIGIT or anisotropy(image) >= bounds.min_anisotropy[digit])
            and (not drawn or stroke_ends(image) <= MAX_ENDS[digit]))


def more_stroke_than(image: np.ndarray, digit: int, *, boxed: bool = False) -> bool:
    """Whether the image has more stroke (a longer outline) than 99.9 % of MNIST's
    `digit`s (boxed so, `boxed`)."""
    return outline_length(image) > bounds_for(boxed).max_outline[digit]


def outline_length(image: np.ndarray) -> float:
    """Total length of the contours (outer and holes) of the image's ink, in pixels."""
    contours, _ = cv2.findContours((image >= INK_LEVEL).astype(np.uint8), cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_NONE)
    return float(sum(cv2.arcLength(contour, True) for contour in contours))


def stroke_ends(image: np.ndarray) -> int:
    """How many ends the skeleton of the image's ink has (pixels with one neighbour)."""
    return len(stroke_end_points(np.asarray(image) >= INK_LEVEL))


def stroke_end_points(mask: np.ndarray) -> np.ndarray:
    """(row, column) of each end of a bool mask's skeleton: a pixel with one neighbour."""
    bones = skeleton(mask).astype(np.float32)
    neighbours = cv2.filter2D(bones, -1, _EIGHT, borderType=cv2.BORDER_CONSTANT) - bones
    return np.argwhere((bones > 0) & (neighbours == 1))


def skeleton(mask: np.ndarray) -> np.ndarray:
    """The one-pixel-wide skeleton of a small bool mask: Zhang and Suen's thinning (1984).

    By hand, with a table per sub-iteration, because the libraries that have it
    (scikit-image, OpenCV's contrib modules) would put SciPy or a second OpenCV into
    the scoring image for one 28x28 picture per digit.
    """
    bones = np.asarray(mask, np.float32).copy()
    changed = True
    while changed:
        changed = False
        for deletable in _THINNING:
            codes = cv2.filter2D(bones, -1, _NEIGHBOUR_BITS, borderType=cv2.BORDER_CONSTANT)
            delete = deletable[codes.astype(np.intp)] & (bones > 0)
            if delete.any():
                bones[delete] = 0.0
                changed = True
    return bones > 0


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """Whether a pixel goes, for each code of its 8 neighbours (bit i: P(i + 2) of
    Zhang and Suen, P2 north, then clockwise), in their first and second sub-iteration."""
    first, second = np.zeros(256, bool), np.zeros(256, bool)
    for code in range(256):
        p2, p3, p4, p5, p6, p7, p8, p9 = ((code >> i) & 1 for i in range(8))
        ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
        crossings = sum(a == 0 and b == 1 for a, b in itertools.pairwise(ring))
        if 2 <= sum(ring[:8]) <= 6 and crossings == 1:
            first[code] = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
            second[code] = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
    return first, second


_EIGHT = np.ones((3, 3), np.float32)  # a pixel and its 8 neighbours
# The weight of each neighbour in a pixel's code: north 1, north-east 2, ... north-west 128.
_NEIGHBOUR_BITS = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]], np.float32)
_THINNING = _thinning_tables()


def anisotropy(image: np.ndarray) -> float:
    """(l1 - l2) / (l1 + l2) of the ink's second central moments: 0 round or cross, 1 a line."""
    m = cv2.moments(np.asarray(image, np.float32))
    a, b, c = m["mu20"], m["mu02"], m["mu11"]
    return float(np.hypot(a - b, 2.0 * c) / max(a + b, 1e-9))


def nudges(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 6, 28, 28): each image shifted 2 px four ways and turned +-12 deg."""
    size = SETTINGS.image_size
    centre = ((size - 1) / 2, (size - 1) / 2)
    shift = NUDGE_SHIFT
    moves = [cv2.getRotationMatrix2D(centre, angle, 1.0) for angle in (NUDGE_ANGLE, -NUDGE_ANGLE)]
    for dx, dy in ((shift, 0), (-shift, 0), (0, shift), (0, -shift)):
        moves.append(np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]))
    return np.stack([np.stack([cv2.warpAffine(image, move, (size, size),
                                              flags=cv2.INTER_LINEAR) for move in moves])
                     for image in np.asarray(images, np.float32)])
