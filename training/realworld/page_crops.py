"""usps-cropped: numbers of USPS digits cut out of a page of writing, with what the crop cut.

A number people want read seldom comes alone: it is cut out of a form, a letter or a
register, and the crop takes in pieces of the writing round it, the tails of the line
above, the tops of the line below, the end of the word before; or it is cut tight, its
edge on the number's own ink. Each sample is a number of 3-6 USPS digits of one split
written as in usps-numbers (`training.realworld.usps_numbers.write_number`), and each side of the
crop, at random, is one of: neighbouring writing that the edge cuts (3-6 more digits of
the split on the line above or below, 1-3 beside the number on its line; only part of
it inside the crop, NEIGHBOUR_INSIDE, never nearer the number than NEIGHBOUR_GAP), paper
(CROP_MARGIN), or a tight cut. Read as
`model.predict` reads a file and scored as usps-numbers is
(`training.realworld.usps_numbers.numbers_report`); `neighbours=False` gives the very same crops
without their neighbours, so what they cost is the difference. Tuned on USPS *train*
digits; USPS test is the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from training.realsets import Sample, paper_page, stamp
from training.realworld.usps_numbers import number_picks, write_number
from training.usps_pictures import USPS_BLUR

CROPPED_NUMBERS = 300  # crops in the set (the quick set, for tests: CROPPED_QUICK)
CROPPED_QUICK = 60
CROP_MARGIN = (0.15, 0.6)  # paper round the number on a side, in its height
NEIGHBOUR, TIGHT, PAPER = 0, 1, 2  # what a side of the crop is
SIDE_ODDS = (0.5, 0.15, 0.35)  # ... and how often
NEIGHBOUR_SIZE = (0.9, 1.1)  # the neighbours' height against the number's: one writer
NEIGHBOUR_INSIDE = (0.1, 0.45)  # inside the crop: this share of a neighbour's height
# (above, below) or of a digit's width, 0.7 of the height (beside)
DIGIT_WIDTH = 0.7
NEIGHBOUR_GAP = 0.05  # paper between a neighbour's piece and the number, in its height
ABOVE_BELOW = (3, 6)  # digits on the line above or below
BESIDE = (1, 3)  # digits beside the number on its line
SIDES = ("top", "bottom", "left", "right")


def cropped_samples(split: str = "test", count: int = CROPPED_NUMBERS, seed: int = 0,
                    neighbours: bool = True) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of one split, cut out of a page with pieces of the
    writing round them (seeded; `neighbours=False`: the same crops without them)."""
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    for digits, text, rng in number_picks(split, count, seed):
        ink = _ink_box(write_number(digits, rng))
        height = ink.shape[0]
        kinds = rng.choice(len(SIDE_ODDS), len(SIDES), p=SIDE_ODDS)
        top, bottom, left, right = (0 if kind == TIGHT else
                                    round(rng.uniform(*CROP_MARGIN) * height) for kind in kinds)
        page = np.zeros((height + top + bottom, ink.shape[1] + left + right), np.float32)
        stamp(page, ink, top, left)
        for side, room, kind in zip(SIDES, (top, bottom, left, right), kinds, strict=True):
            if kind != NEIGHBOUR:
                continue
            count_range = ABOVE_BELOW if side in ("top", "bottom") else BESIDE
            picked = rng.choice(len(usps.labels), int(rng.integers(count_range[0],
                                                                     count_range[1] + 1)))
            writing = write_number([usps.images[i] for i in picked], rng)
            scale = height * rng.uniform(*NEIGHBOUR_SIZE) / writing.shape[0]
            writing = cv2.resize(writing, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            piece = _cut_in(page.shape, writing, side, room - round(NEIGHBOUR_GAP * height),
                            top, rng)
            if neighbours and piece is not None:
                stamp(page, *piece)
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(*USPS_BLUR))
        yield Sample(paper_page(rng, page), text)


def _ink_box(ink: np.ndarray) -> np.ndarray:
    """`ink` cut to the box of its ink (above half strength): a tight crop's edges."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.5), np.flatnonzero(ink.max(0) > 0.5)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _cut_in(shape: tuple[int, ...], writing: np.ndarray, side: str, room: int, line_top: int,
            rng: np.random.Generator) -> tuple[np.ndarray, int, int] | None:
    """The part of `writing` that a crop's `side` takes into a page of `shape`, at most
    `room` px deep, and where it goes (ink, y, x); None when too little of it is inside."""
    rows, cols = writing.shape
    if side in ("top", "bottom"):
        inside = min(round(rng.uniform(*NEIGHBOUR_INSIDE) * rows), room)
        part = writing[rows - inside:] if side == "top" else writing[:inside]
        y = 0 if side == "top" else shape[0] - inside
        x = int(rng.integers(-cols // 2, max(shape[1] - cols // 2, 1)))
    else:
        inside = min(round(rng.uniform(*NEIGHBOUR_INSIDE) * DIGIT_WIDTH * rows), room)
        part = writing[:, cols - inside:] if side == "left" else writing[:, :inside]
        y = line_top + round(rng.normal(0, 0.1 * rows))
        x = 0 if side == "left" else shape[1] - inside
    if inside < 2:
        return None
    # What falls outside the page is cut off, on either side.
    return part[max(0, -y):, max(0, -x):], max(0, y), max(0, x)
