"""usps-joined: numbers of USPS digits whose writer's pen ran on from one digit to the next.

Written fast, or in an older hand, a number is often one stroke: the pen leaves a digit
where its stroke ends and goes on to the next one's start without lifting, leaving a
thin joining stroke (a hairline) between them, so two digits or a whole number are one
mark of ink. Each sample is a number of 3-6 USPS digits of one split written as
usps-numbers writes it (`training.usps_numbers.write_number`: one pen, slant, spacing),
with each gap joined by such a stroke with probability JOIN_SHARE, read as
`model.predict` reads a file and scored as usps-numbers is. Tuned on USPS *train*
digits; USPS test is only the check.

Where a joining stroke leaves and arrives: at the end of a stroke (an end of the digit's
skeleton) on the side facing the neighbour, lowest on the left digit and highest on
the right one, as a pen runs from a foot to the next digit's start; a digit with no
stroke end on that side (a 0, an 8) is left or entered at its ink furthest that way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import cv2
import numpy as np

from model.ink import stroke_width
from training.realsets import Sample, paper_page
from training.usps_numbers import Placed, number_picks, write_number
from training.usps_pictures import USPS_BLUR, USPS_MARGIN

JOINED_NUMBERS = 300  # pages in the set (the quick set, for tests: JOINED_QUICK)
JOINED_QUICK = 60
JOIN_SHARE = 0.5  # of the gaps between digits
HAIRLINE = (0.3, 0.6)  # the joining stroke's width, a share of the digit's stroke width
INK_LEVEL = 0.5
LOW_VS_SIDE = 0.3  # leaving a digit: its lowest stroke end on the right, this much lower
_STEPS = np.ones((3, 3), np.uint8)


def joined_samples(split: str = "test", count: int = JOINED_NUMBERS,
                   seed: int = 0) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` with joined digits, as scans, seeded."""
    for digits, text, rng in number_picks(split, count, seed):
        ink = write_number(digits, rng, join=join_digits)
        ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(*USPS_BLUR))
        yield Sample(paper_page(rng, np.pad(ink, int(rng.integers(*USPS_MARGIN)))), text)


def join_digits(page: np.ndarray, placed: list[Placed], rng: np.random.Generator,
                share: float = JOIN_SHARE) -> None:
    """Draw a hairline between neighbouring digits, each gap with probability `share`."""
    for (left, y0, x0), (right, y1, x1) in itertools.pairwise(placed):
        if rng.random() >= share:
            continue
        width = stroke_width(left >= INK_LEVEL) * rng.uniform(*HAIRLINE)
        start = _leaving(left) + np.array([y0, x0])
        end = _entering(right) + np.array([y1, x1])
        line = np.zeros_like(page)
        # cv2 draws whole pixels; 4x finer points and shifts give a hairline its place.
        cv2.line(line, tuple(int(v * 4) for v in start[::-1]),
                 tuple(int(v * 4) for v in end[::-1]), 1.0, max(1, round(width)),
                 cv2.LINE_AA, shift=2)
        np.maximum(page, line, out=page)


def _stroke_ends(ink: np.ndarray) -> np.ndarray:
    """(y, x) of the ends of the digit's skeleton: pixels with one neighbour."""
    from skimage.morphology import skeletonize

    bones = skeletonize(ink >= INK_LEVEL).astype(np.uint8)
    neighbours = cv2.filter2D(bones, -1, _STEPS, borderType=cv2.BORDER_CONSTANT) - 1
    return np.argwhere((bones > 0) & (neighbours == 1))


def _leaving(ink: np.ndarray) -> np.ndarray:
    """Where the pen leaves a digit for the one on its right."""
    ends = _stroke_ends(ink)
    ends = ends[ends[:, 1] >= ink.shape[1] / 2]
    if len(ends):
        return ends[np.argmax(ends[:, 1] + LOW_VS_SIDE * ends[:, 0])]
    ys, xs = np.nonzero(ink >= INK_LEVEL)
    return np.array([ys[np.argmax(xs)], xs.max()])


def _entering(ink: np.ndarray) -> np.ndarray:
    """Where the pen enters a digit from the one on its left."""
    ends = _stroke_ends(ink)
    ends = ends[ends[:, 1] < ink.shape[1] / 2]
    if len(ends):
        return ends[np.argmin(ends[:, 1] + LOW_VS_SIDE * ends[:, 0])]
    ys, xs = np.nonzero(ink >= INK_LEVEL)
    return np.array([ys[np.argmin(xs)], xs.min()])
