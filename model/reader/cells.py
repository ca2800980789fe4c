"""Digits cut to their boxes, as published digit sets keep them: one digit per cell.

A set such as those stretches each digit to fill a small square and keeps it one bit
deep; side by side in a number, the boxes abut. Their strokes run into the boxes'
edges, so the reader's usual steps would take a 4's bar for a printed line and
neighbours touching across a common side for one digit; `boxed_cells` finds such a
row and `one_digit_per_cell` reads each cell as one digit.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from model.reader.frames import frame_mask
from model.reader.ink import INK_LEVEL, InkMap
from model.reader.lines import straight_runs
from model.reader.options import Option, Slot
from model.reader.pieces import Piece
from model.reader.pixels import is_digit_box

# Digits cut to their boxes: square cells (width within CELL_ASPECT of the height), at
# most MAX_CELLS of them, inked within CELL_BAND of the height (CELL_BAND_PX at least)
# of their sides.
CELL_ASPECT = 0.03
MAX_CELLS = 12
CELL_BAND = 0.04
CELL_BAND_PX = 2
CELL_SIDES = 3  # ... along this many of their sides at least (the threshold can take one)
CELL_PAPER = 0.05  # columns of paper in a row of abutting boxes, share of its width
CELL_FILL = 0.5  # the row's share of the picture's height, at least
# A printed rule along the row (a table's, thresholded to one bit with the number it
# holds) is no digit's stroke: a piece of a cell's ink along its top or bottom, within
# RULE_DEPTH of the cell's height and across RULE_SPAN of its width (its side bands
# aside, where a table's upright rules join it), with paper between it and the digit.
# In more than half of a row's cells it is a rule; a boxed 5's loose bar is one cell.
RULE_DEPTH = 0.25
RULE_SPAN = 0.6
# Boxes set the same gap apart all along the row, up to CELL_GAP of their side: a cell's
# digit need not fill its box's width (the threshold can take its rightmost column, or
# leave paper columns inside it), so the cells are found as a grid of one pitch that puts
# every inked column in a cell, within CELL_SLACK_PX (an upscale's ringing). Up to half
# a side: digits saved each with a margin and set side by side are as far apart (MNIST
# lays its digit in a 20 px box within 28: 0.4). 200 numbers of USPS *train* digits in
# a thin pen, boxes 5-8 px apart (of 16), at 0.3 -> 0.5: rows found 114 -> 172, digit
# count right 184 -> 194, exact 139 -> 155; every other train number set as before.
CELL_GAP = 0.5
CELL_SLACK_PX = 2
# Boxes set at their own heights (digits pasted side by side a pixel or two up or down,
# a row not quite level): cells of one side, each as tall as its own digit's ink, the
# row up to 1 / STAGGER_SIDE of that side tall (`_staggered`). Each cell's ink reaches
# within STAGGER_SLACK of its side at its top, bottom, left and right (the one-bit
# threshold can take two of a 16 px box's rows or columns).
STAGGER_SIDE = 0.6
STAGGER_SLACK = 0.125
# A boxed digit's strokes run within its own box, and two neighbours' bars at one
# height within two: a level straight run of ink across STAGGER_RUN of the row and
# longer than STAGGER_RUN_CELLS cells is a printed line the digits stand on (an
# underline, a comb's base), and such a row is no row of boxes.
STAGGER_RUN = 0.75
STAGGER_RUN_CELLS = 1.5


def boxed_cells(ink: InkMap) -> list[Piece]:
    """The digits of a picture of digits each cut to its box, as published digit sets
    keep them, alone or side by side in a number: [] for any other picture.

    Such digits' strokes run into their box's edges, so a 4's bar looks like a printed
    line, neighbours touch across the boxes' common side, and a stroke the one-bit
    threshold broke looks like several digits; each box is one digit instead. The
    picture is one bit deep and has no printed box; its ink is a row of square cells
    (a whole number of them within CELL_ASPECT: all abutting, hardly a column of paper
    between them, or in runs with paper between, or, where a digit the threshold broke
    is no whole cell, cells of one pitch: `_grid`), each inked along its sides
    (stretched to fill it; the threshold may have taken one). A single cell must reach
    the picture's four edges: a digit with paper round it proves nothing by touching
    its own box. But a picture no larger than one digit's box (`is_digit_box`) is
    that digit saved with a margin, and a square of one-bit ink in it is its box. Boxes
    pasted each at its own height make a row taller than its cells (`_staggered`), and
    a table's rules along a row make no boxes (`_on_a_rule`).
    """
    if not ink.one_bit:
        return []
    # Measured on the ink above the threshold: a smooth upscale's ringing widens the mask
    # by the same pixels on every side, which would make the cells look narrow.
    strong = ink.ink >= INK_LEVEL
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    if not len(rows):
        return []
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    height = y1 - y0
    if height < CELL_FILL * strong.shape[0]:
        return []  # a row of boxes fills its picture's height, apart from a margin
    inked = strong[y0:y1, x0:x1].any(axis=0)
    # Boxes at their own heights first: the row is then taller than its cells, and
    # taken as cells of its height it is fewer of them (never so in a level row, whose
    # cells' ink is as tall as the row).
    found = (_staggered(strong, inked, x0, height)
             or _level(strong, inked, (y0, x0, y1, x1)))
    if not found or frame_mask(ink.mask).any():
        return []
    if len(found) > 1 and 2 * sum(_on_a_rule(strong[slice(*(own or (y0, y1))), a:b])
                                  for a, b, own in found) > len(found):
        return []  # a single cell is never judged so: every boxed picture of one digit
    return [_piece_in(ink.mask, a, b, own) for a, b, own in found]


Cell = tuple[int, int, tuple[int, int] | None]  # columns [a, b), its own rows if staggered


def _level(strong: np.ndarray, inked: np.ndarray,
           box: tuple[int, int, int, int]) -> list[Cell]:
    """The cells of a level row (`box`: its y0, x0, y1, x1), as `boxed_cells` tells them,
    else []."""
    y0, x0, y1, x1 = box
    height = y1 - y0
    spans = _cells(x0, x1, height)
    if not spans or (len(spans) > 1 and np.mean(~inked) > CELL_PAPER):
        spans = _set_apart(inked, x0, height) or _grid(inked, x0, height)
    if not spans or (len(spans) == 1 and box != (0, 0, *strong.shape)
                     and not is_digit_box(strong.shape)):
        return []
    band = max(CELL_BAND_PX, round(CELL_BAND * height))
    cells = [strong[y0:y1, a:b] for a, b in spans]
    sides = [[c[:band].any(), c[-band:].any(), c[:, :band].any(), c[:, -band:].any()]
             for c in cells]
    if min(sum(hit) for hit in sides) < CELL_SIDES:
        return []
    return [(a, b, None) for a, b in spans]


def _on_a_rule(cell: np.ndarray) -> bool:
    """The cell's ink along its top or bottom is a printed rule (RULE_DEPTH, RULE_SPAN)."""
    height, width = cell.shape
    band = max(CELL_BAND_PX, round(CELL_BAND * height))
    inside = cell.copy()
    inside[:, :band] = inside[:, width - band:] = False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inside.astype(np.uint8),
                                                              connectivity=8)
    top = stats[1:, cv2.CC_STAT_TOP]
    bottom = top + stats[1:, cv2.CC_STAT_HEIGHT]
    wide = stats[1:, cv2.CC_STAT_WIDTH] >= RULE_SPAN * width
    pieces = np.arange(1, count)
    along_top = np.isin(pieces, labels[:band]) & (bottom <= RULE_DEPTH * height)
    along_bottom = np.isin(pieces, labels[-band:]) & (top >= (1 - RULE_DEPTH) * height)
    return bool((wide & (along_top | along_bottom)).any())


def _piece_in(mask: np.ndarray, x0: int, x1: int,
              rows: tuple[int, int] | None = None) -> Piece:
    """The ink of columns [x0, x1) (inked: a cell), soft edges included, as one piece;
    only of `rows` [top, bottom) where given (a cell at its own height)."""
    part = mask[:, x0:x1].copy()
    if rows is not None:
        part[:rows[0]] = part[rows[1]:] = False
    inked = np.flatnonzero(part.any(axis=1))
    top, bottom = int(inked[0]), int(inked[-1]) + 1
    return Piece(x0, top, x1 - x0, bottom - top, part[top:bottom])


def _cells(x0: int, x1: int, height: float) -> list[tuple[int, int]]:
    """[x0, x1) as a whole number of square cells of side `height`, else []."""
    count = round((x1 - x0) / height)
    if not 1 <= count <= MAX_CELLS or abs((x1 - x0) / (count * height) - 1) > CELL_ASPECT:
        return []
    edges = np.linspace(x0, x1, count + 1).round().astype(int).tolist()
    return list(itertools.pairwise(edges))


def _set_apart(inked: np.ndarray, x0: int, height: int) -> list[tuple[int, int]]:
    """Boxes set apart, each run of inked columns (from `x0`) whole cells, else []."""
    spans = []
    for start, stop in _runs(inked):
        if not (run := _cells(x0 + start, x0 + stop, height)):
            return []
        spans += run
    return spans


def _grid(inked: np.ndarray, x0: int, height: int) -> list[tuple[int, int]]:
    """Two or more cells of side `height`, one pitch apart (abutting, or up to CELL_GAP
    between them) from the row's first inked column to its last, every inked column in
    a cell, ink in every cell, and at least half of them runs of whole cells (a row of
    handwritten digits has paper at one pitch or another, but its digits are not square);
    the fewest cells that fit (more cells, closer together, cover the columns all the
    more easily), else []."""
    columns = np.flatnonzero(inked)
    whole = [a for start, stop in _runs(inked) for a, _ in _cells(start, stop, height)]
    for count in range(2, MAX_CELLS + 1):
        pitch = (len(inked) - height) / (count - 1)
        if not (1 - CELL_ASPECT) * height <= pitch <= (1 + CELL_GAP) * height:
            continue
        side = min(float(height), pitch)
        offset = (columns + CELL_SLACK_PX) % pitch  # from a slack before its cell's start
        starts = [round(k * pitch) for k in range(count)]
        anchored = sum(any(abs(a - b) <= CELL_SLACK_PX for b in whole) for a in starts)
        if (np.all(offset < side + 2 * CELL_SLACK_PX) and 2 * anchored >= count
                and all(inked[a:a + round(side)].any() for a in starts)):
            return [(x0 + a, x0 + a + round(side)) for a in starts]
    return []


def _staggered(strong: np.ndarray, inked: np.ndarray, x0: int, height: int) -> list[Cell]:
    """Two or more cells of one side, each at its own height: the row taller than the
    side by more than a level row's slack (up to 1 / STAGGER_SIDE of it), every run of
    inked columns (from `x0`) whole cells, each cell's ink as tall as the cell is wide
    and reaching both its sides (`_own_rows`), and no printed line across the row
    (STAGGER_RUN); each cell's columns and rows for the largest side that fits, else []."""
    runs = _runs(inked)
    sides = {(stop - start) / count for start, stop in runs
             for count in range(1, MAX_CELLS + 1)}
    level = (1 - CELL_ASPECT) * height - CELL_SLACK_PX  # a cell as tall as a level row
    for side in sorted((s for s in sides if STAGGER_SIDE * height <= s < level), reverse=True):
        cells = [_cells(x0 + start, x0 + stop, side) for start, stop in runs]
        spans = [span for run in cells for span in run]
        if not all(cells) or not 2 <= len(spans) <= MAX_CELLS:
            continue
        found: list[Cell] = [(a, b, own) for a, b in spans
                             if (own := _own_rows(strong[:, a:b]))]
        if len(found) == len(spans):
            line = max(STAGGER_RUN * len(inked), STAGGER_RUN_CELLS * side)
            return [] if straight_runs(strong.astype(np.uint8), round(line))[0].any() else found
    return []


def _own_rows(cell: np.ndarray) -> tuple[int, int] | None:
    """The rows [top, bottom) of a digit stretched to fill its own box, a cell: its ink as
    tall as the cell is wide (up to STAGGER_SLACK shorter) and inked along the cell's
    left and right sides, else None. Its height is measured inside an upscale's slack:
    an abutting neighbour's ringing is no part of it."""
    rows = np.flatnonzero(cell[:, CELL_SLACK_PX:-CELL_SLACK_PX].any(axis=1))
    width = cell.shape[1]
    band = max(CELL_BAND_PX, round(STAGGER_SLACK * width))
    if not len(rows) or not (cell[:, :band].any() and cell[:, -band:].any()):
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    if not (1 - STAGGER_SLACK) * width <= bottom - top <= width + CELL_SLACK_PX:
        return None
    return max(top - CELL_SLACK_PX, 0), bottom + CELL_SLACK_PX


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist(), strict=True))


def one_digit_per_cell(cells: list[Piece]) -> list[list[Slot]]:
    """The line of `boxed_cells`: each cell one digit, no alternatives."""
    return [[Slot((Option((cell,)),)) for cell in cells]]
