"""Loops: the paper a digit's ink encloses (a 0's hole, an 8's two, a 6's one).

Cutting a mark through a loop is seldom right: two digits that touch meet in one
stroke, while a cut through a 0 crosses two (`model.reader.cuts.cut_options` counts such
cuts, `model.reader.options.LOOP_CUT_PENALTY` charges them). A loop the pen left open is a
loop too: a 0 drawn in one stroke seldom closes exactly, and in a pen thin beside the
digit its two ends leave a gap no ink fills (a wide 0 of a pen-tablet trajectory, drawn
2-4 px wide on a 280 px canvas, was read "67", cut down its middle). So two stroke ends
within LOOP_GAP of the height of each other are joined before the loops are found.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np

from model.reader.ink import stroke_width
from model.reader.likeness import stroke_end_points

MIN_LOOP = 0.1  # enclosed paper counts as a loop from this share of the height squared
# Stroke ends this share of the height apart at most are one loop's open ends. Chosen on
# the 1,194 USPS *train* 0s as 8-point pen trajectories drawn 2-4 px wide, read as files:
# cut into two digits or more without: 37; at 0.1: 20, 0.15: 16, 0.2: 15, 0.25: 14. At
# 0.1 and 0.15 every train number set and touching pair read as without, page by page.
LOOP_GAP = 0.15
ENDS_STROKE_PX = 3.0  # stroke ends are found with the mask shrunk till its stroke is this wide


def enclosed_paper(mask: np.ndarray, width: float | None = None) -> np.ndarray:
    """Where a piece's ink (a bool mask) encloses paper, its open ends closed: bool, as
    `mask`; `width`: its stroke width, when the caller has measured it."""
    closed = ends_joined(mask, width)
    paper = cv2.copyMakeBorder((~closed).astype(np.uint8), 1, 1, 1, 1,
                               cv2.BORDER_CONSTANT, value=1)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    outside = labels[0, 0]
    smallest = (MIN_LOOP * mask.shape[0]) ** 2
    loops = [i for i in range(1, count)
             if i != outside and stats[i, cv2.CC_STAT_AREA] >= smallest]
    return np.isin(labels[1:-1, 1:-1], loops)


def ends_joined(mask: np.ndarray, width: float | None = None) -> np.ndarray:
    """The mask with each two stroke ends within LOOP_GAP of its height of each other
    joined by a stroke of its pen's `width` (measured here when not given)."""
    width = max(1.0, stroke_width(mask) if width is None else width)
    shrink = min(1.0, ENDS_STROKE_PX / width)
    size = (max(1, round(mask.shape[1] * shrink)), max(1, round(mask.shape[0] * shrink)))
    small = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    ends = np.round((stroke_end_points(small >= 0.5) + 0.5) / shrink - 0.5).astype(int)
    joined = mask.astype(np.uint8)
    for a, b in itertools.combinations(ends.tolist(), 2):
        if math.dist(a, b) <= LOOP_GAP * mask.shape[0]:
            cv2.line(joined, (a[1], a[0]), (b[1], b[0]), 1, round(width))
    return joined.astype(bool)
