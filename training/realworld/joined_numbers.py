"""usps-joined: numbers of USPS digits whose writer's pen ran on from one digit to the next.

Written fast, or in an older hand, a number is often one stroke: the pen leaves a digit
where its stroke ends and goes on to the next one's start without lifting, leaving a
thin joining stroke (a hairline) between them, so two digits or a whole number are one
mark of ink. Each sample is a number of 3-6 USPS digits of one split written as
usps-numbers writes it (`training.realworld.usps_numbers.write_number`: one pen, slant, spacing),
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

from model.reader.ink import stroke_width
from model.reader.likeness import stroke_end_points
from training.realsets import Sample
from training.realworld.usps_numbers import Placed, number_picks, number_scan, write_number

JOINED_NUMBERS = 300  # pages in the set (the quick set, for tests: JOINED_QUICK)
JOINED_QUICK = 60
JOIN_SHARE = 0.5  # of the gaps between digits
JOIN_WIDTH = (0.3, 0.6)  # the joining stroke's width, a share of the digit's stroke width
INK_LEVEL = 0.5
LOW_VS_SIDE = 0.3  # a stroke end's height against its side: the pen leaves low, enters high


def joined_samples(split: str = "test", count: int = JOINED_NUMBERS,
                   seed: int = 0) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` with joined digits, as scans, seeded."""
    for digits, text, rng in number_picks(split, count, seed):
        yield Sample(number_scan(write_number(digits, rng, join=join_digits), rng), text)


def join_digits(page: np.ndarray, placed: list[Placed], rng: np.random.Generator,
                share: float = JOIN_SHARE, width: tuple[float, float] = JOIN_WIDTH) -> None:
    """Draw a hairline between neighbouring digits, each gap with probability `share`,
    `width` (a range) of the left digit's stroke width wide."""
    for (before, y0, x0), (after, y1, x1) in itertools.pairwise(placed):
        if rng.random() >= share:
            continue
        thickness = stroke_width(before >= INK_LEVEL) * rng.uniform(*width)
        start = _pen_end(before, right=True) + np.array([y0, x0])
        end = _pen_end(after, right=False) + np.array([y1, x1])
        line = np.zeros_like(page)
        # cv2 draws whole pixels; 4x finer points and shifts give a hairline its place.
        cv2.line(line, tuple(int(v * 4) for v in start[::-1]),
                 tuple(int(v * 4) for v in end[::-1]), 1.0, max(1, round(thickness)),
                 cv2.LINE_AA, shift=2)
        np.maximum(page, line, out=page)


def _pen_end(ink: np.ndarray, right: bool) -> np.ndarray:
    """(y, x) where the pen leaves a digit for the one on its right (`right`), or enters
    it from the one on its left."""
    ends = stroke_end_points(ink >= INK_LEVEL)
    ends = ends[(ends[:, 1] >= ink.shape[1] / 2) == right]
    if len(ends):
        order = ends[:, 1] + LOW_VS_SIDE * ends[:, 0]
        return ends[np.argmax(order) if right else np.argmin(order)]
    ys, xs = np.nonzero(ink >= INK_LEVEL)
    furthest = np.argmax(xs) if right else np.argmin(xs)
    return np.array([ys[furthest], xs[furthest]])
