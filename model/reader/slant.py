"""Slant: a row of digits written uphill, downhill or leaning far forwards or backwards
is set level and upright before it is cut into digits.

Many people write leaning by 10-30 degrees, and a number is often written uphill or
photographed askew. Leaning digits overlap in x, so segmentation (`model.reader.segment`),
which joins pieces stacked over each other and cuts touching digits along columns,
joins neighbours or cuts one digit in two: USPS *train* numbers leaning by up to 0.6
(shear, x per row) either way read 94.7 % exactly against 99.3 % upright, with 10 of 16
failures merged digits; turned 12 degrees, 93.3 % against 96.7 %.

The climb is the slope of a line through each column's middle of ink. From LEVEL_FROM
(upright USPS *train* numbers: 95 % climb less than 0.083, 99 % less than 0.115) up to
MAX_TILT the rows are shifted back by it: the row is set level. A photo is often taken
well askew, and a short number turned so is under ROW_ASPECT times as wide as tall as it
lies (three digits turned 25 degrees: 1.3-1.5 times), so ink is a row when it is that
wide as it lies or set level.

The lean is then measured on the outline of the ink, as handwriting recognisers long
have (the chain-code slant of Kimura, Shridhar and Chen): of the outline's steps that
go up or down, the share leaning right less the share leaning left. Curves partly
cancel, so it reads about 0.7 of a shear (USPS numbers sheared by 0.45: 0.30 on
average; GAIN undoes that), and real writers lean a little forwards: upright USPS
*train* numbers measure 0.09 at the median, 5 % of them under -0.02 and 5 % over 0.20.
The network has learnt that lean (MNIST's digits lean further), so only writing leaning
further than LEAN_BAND from NATURAL_LEAN is sheared, back to NATURAL_LEAN.

Only a row of digits (wider than ROW_ASPECT of its height) is moved: a single digit's
lean is the network's to read (USPS *train* digits as 96x96 files, a wide one broken in
two pieces read as two digits: 1 more misread with rows from 1.2 times as wide as tall,
none from 1.5).

Moving the ink moves the picture's edges, which `model.reader.crop` looks at, and tilts what is
left of printed upright lines (`model.reader.margins`): the reader drops those before
(`segment.writing_alone`), and `columns` tells the classifier which digits touch a side
edge of the picture.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import cv2
import numpy as np

from model.reader.ink import InkMap
from model.reader.reading import Reading

NATURAL_LEAN = 0.09  # the median lean (chain-code measure) of upright USPS train numbers
LEAN_BAND = 0.15  # ... writing within this of it is left as it is
GAIN = 1.4  # shear per unit of the chain-code measure (1 / 0.7)
ROW_ASPECT = 1.5  # only ink this many times wider than tall, a row of digits, is moved
LEVEL_FROM = 0.1  # rows per column: a row climbing or falling this much is set level
# ... up to MAX_TILT (40 degrees); a row turned further is left as it is. The climb
# measured reads under the turn's tangent (25 degrees: 0.30-0.48, not 0.47). Tuned on
# 150 USPS *train* numbers turned either way, read exactly (upright: 146): up to 0.3 (17
# degrees, as before) turned 20 degrees 92-101, 25: 29-40, 30: 6-12; up to 0.6: 142-143,
# 139-141, 131-135; up to 0.85: 142-143, 139-141, 137-139, and 35: 132-133, 40: 115-126.
MAX_TILT = 0.85
# A climb steeper than SIDE_BY_SIDE_FROM (17 degrees, the most levelled before) is
# believed of digits side by side only (`_side_by_side`): two touching digits at
# different heights climb as steeply ("54" read "7"). TALL_MARK: the marks counted,
# APART: how far apart their middles lie, in the tallest's heights (two digits side by
# side: 0.7-1.0). Two-digit USPS *train* numbers (150) turned 25 and 30 degrees either
# way read exactly 120-126 and 82-86 apart 1.0 as 3-6 digits need, 132-136 and 104-106
# apart 0.7 or 0.5 (upright: 145); the 3-6 digit numbers above read alike.
SIDE_BY_SIDE_FROM = 0.3
TALL_MARK = 0.5
APART = 0.7
MAX_SLANT = 1.0  # x per row (45 degrees): the most a shear corrects


@dataclass(frozen=True)
class Shear:
    """What sets a row of digits level and upright, in working pixels (`scale` of the
    picture's; `width` the working picture's): rows are shifted by `tilt` per column,
    then columns by `slant` per row, within a picture `size` (width, height) that keeps
    all of the ink."""

    tilt: float
    slant: float
    scale: float
    width: int
    matrix: np.ndarray  # (2, 3) float64: leaning picture -> upright picture
    size: tuple[int, int]

    @classmethod
    def of(cls, tilt: float, slant: float, scale: float, shape: tuple[int, int]) -> Shear:
        """Level by `tilt`, then upright by `slant`, a working picture of `shape`."""
        height, width = shape
        level = np.array([[1.0, 0.0, 0.0], [-tilt, 1.0, 0.0], [0.0, 0.0, 1.0]])
        upright = np.array([[1.0, slant, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        matrix = (upright @ level)[:2]
        corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1],
                            [width - 1, height - 1, 1]])
        moved = corners @ matrix.T
        matrix[:, 2] -= moved.min(axis=0)
        extent = np.ceil(moved.max(axis=0) - moved.min(axis=0)).astype(int) + 1
        return cls(tilt, slant, scale, width, matrix, (int(extent[0]), int(extent[1])))

    def upright(self, ink: InkMap) -> InkMap:
        """The ink set level and upright."""
        return dataclasses.replace(ink, ink=self._moved(ink.ink), mask=self.upright_mask(ink.mask))

    def upright_mask(self, mask: np.ndarray) -> np.ndarray:
        """A mask moved as the ink is, interpolated and cut at half."""
        return self._moved(mask.astype(np.float32)) >= 0.5

    def _moved(self, image: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(image, self.matrix.astype(np.float32), self.size,
                              flags=cv2.INTER_LINEAR)

    @functools.cached_property
    def _inverse(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.matrix)

    def _back(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Points (working pixels) of the upright picture in the leaning one, (N, 2)."""
        return np.stack([xs, ys, np.ones_like(xs)], axis=1) @ self._inverse.T

    def leaning_columns(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The columns of the leaning picture that points (working pixels) of the upright
        one came from, float."""
        return self._back(xs.astype(np.float64), ys.astype(np.float64))[:, 0]

    def in_picture(self, reading: Reading, shape: tuple[int, ...]) -> Reading:
        """The reading of the upright ink as one of the picture (`shape`): each digit's
        box the box round the leaning quadrilateral it came from."""
        height, width = shape[:2]
        digits = tuple(dataclasses.replace(d, box=self._leaning(d.box, width, height))
                       for d in reading.digits)
        return Reading(digits=digits, width=width, height=height)

    def _leaning(self, box: tuple[int, int, int, int], width: int,
                 height: int) -> tuple[int, int, int, int]:
        x, y, w, h = (v * self.scale for v in box)
        corners = self._back(np.array([x, x + w, x, x + w]), np.array([y, y, y + h, y + h]))
        x0, y0 = np.floor(corners.min(axis=0) / self.scale).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0) / self.scale).astype(int)
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        return x0, y0, max(1, min(width, int(x1)) - x0), max(1, min(height, int(y1)) - y0)


def is_a_row(mask: np.ndarray) -> bool:
    """Ink ROW_ASPECT times wider than tall or more, as it lies or set level (a row
    climbing by up to MAX_TILT): a row of digits, not one digit."""
    if not mask.any():
        return False
    ink = _ink_box(mask)
    if _wide(ink):
        return True
    tilt = baseline_tilt(ink)
    if not LEVEL_FROM <= abs(tilt) <= MAX_TILT:
        return False
    level = _levelled(ink, tilt)
    return bool(level.any()) and _wide(_ink_box(level)) and _side_by_side(level)


def _levelled(mask: np.ndarray, tilt: float) -> np.ndarray:
    return Shear.of(tilt, 0.0, 1.0, mask.shape).upright_mask(mask)


def _ink_box(mask: np.ndarray) -> np.ndarray:
    """The part of a mask (with some ink) between its outermost ink rows and columns."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _wide(box: np.ndarray) -> bool:
    """An ink box (`_ink_box`) ROW_ASPECT times wider than tall or more."""
    height, width = box.shape
    return width - 1 >= ROW_ASPECT * (height - 1)


def _side_by_side(mask: np.ndarray) -> bool:
    """Marks at least TALL_MARK of the tallest's height whose middles lie APART of
    its height apart or more: digits side by side. One digit in italics set level
    is wide too (an 8 leaning 40 degrees: twice as wide as tall), but one mark."""
    count, _, stats, centres = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                                connectivity=8)
    heights = stats[1:count, cv2.CC_STAT_HEIGHT]
    if len(heights) < 2:
        return False
    middles = centres[1:count, 0][heights >= TALL_MARK * heights.max()]
    return float(middles.max() - middles.min()) >= APART * heights.max()


def leaning(ink: InkMap) -> Shear | None:
    """What sets a row of digits level and upright, or None when the ink is no row of
    digits, climbs more than MAX_TILT, or is level and leans no further than writers do."""
    mask = ink.mask
    if not is_a_row(mask):
        return None
    tilt = baseline_tilt(mask)
    if abs(tilt) > MAX_TILT:
        return None
    tilt = tilt if abs(tilt) >= LEVEL_FROM else 0.0
    level = _levelled(mask, tilt) if tilt else mask
    if abs(tilt) > SIDE_BY_SIDE_FROM and not _side_by_side(level):
        return None
    excess = chain_code_slant(level) - NATURAL_LEAN
    slant = 0.0 if abs(excess) < LEAN_BAND else float(np.clip(GAIN * excess, -MAX_SLANT,
                                                                     MAX_SLANT))
    if not (tilt or slant):
        return None
    return Shear.of(tilt, slant, ink.scale, mask.shape)


def chain_code_slant(mask: np.ndarray) -> float:
    """How far the strokes of `mask` lean, x per row (positive: the tops lean right)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    right = left = upright_steps = 0
    for contour in contours:
        points = contour[:, 0, :]
        steps = np.diff(np.vstack([points, points[:1]]), axis=0)
        dx, dy = steps[:, 0], steps[:, 1]
        # Image rows grow downwards: a step up and to the right has dx * dy < 0.
        right += int(np.count_nonzero(dx * dy < 0))
        left += int(np.count_nonzero(dx * dy > 0))
        upright_steps += int(np.count_nonzero((dx == 0) & (dy != 0)))
    total = right + left + upright_steps
    return (right - left) / total if total else 0.0


def baseline_tilt(mask: np.ndarray) -> float:
    """How far the writing climbs or falls, rows per column (least squares through each
    column's middle of ink, columns weighted by their ink)."""
    weight = mask.sum(axis=0).astype(np.float64)
    columns = np.flatnonzero(weight)
    middle = (mask[:, columns] * np.arange(mask.shape[0])[:, None]).sum(axis=0) / weight[columns]
    if len(columns) < 2:
        return 0.0
    return float(np.polyfit(columns, middle, 1, w=np.sqrt(weight[columns]))[0])
