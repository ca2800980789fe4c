"""Cutting a mark as wide as several digits into the digits it may be.

A mark is cut along the paths from its top to its bottom that cross the least ink
(`cut_paths`: upright through paper, bending round where digits overlap). Every way of
cutting along a few of those paths into parts of plausible width is offered
(`cut_options`); the reader lets the classifier and the geometric priors of
`model.reader.options` choose among them. A hairline that a cut leaves hanging from a part (the
pen running on from one digit to the next) goes with the cut, unless it is most of the
part (a digit in a finer pen than its neighbours); a cut is offered again with a
slightly thicker one going too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from model.reader.ink import stroke_width
from model.reader.loops import enclosed_paper
from model.reader.pieces import Piece

# The cheapest cut paths considered: CUT_CANDIDATES, or CANDIDATES_PER_HEIGHT for each
# height of the mark's width where more (a whole number joined into one mark by its
# pen's strokes between digits needs a cut between every two).
CUT_CANDIDATES = 6
CANDIDATES_PER_HEIGHT = 2
# A cut part is at least this share of the mark's height wide (a narrow 1 is ~0.2)
# and at most this share: a wide writer's 2 with a stroke joining it to the next digit
# is 1.3 heights wide. That is the widest one digit is, so `model.reader.segment` also counts
# no mark bigger than MAX_PART_WIDTH of the page's tallest when it tells specks.
MIN_PART_WIDTH = 0.15
MAX_PART_WIDTH = 1.6
MIN_PART_HEIGHT = 0.5  # ... and at least this share of its height tall (not a tail)
MINIMUM_RADIUS = 0.05  # a path's cost is a local minimum within this share of the height
# A cut's step sideways costs this share of an ink pixel crossed, and a cut strays at
# most CUT_BEND of the piece's height from a column: it keeps a cut through paper
# upright, and lets it bend round a neighbour's overhang (the `touching` pairs: 48.5 %
# read right with straight cuts, 57.5 % so, 54.0 % bending anywhere). Cuts are found
# on the piece shrunk to CUT_HEIGHT rows at most (at 48: 55.5 %; at 96: 59.5 %, twice
# the time).
SIDE_STEP = 0.3
CUT_BEND = 0.2
CUT_HEIGHT = 64
SLIVER = 0.15  # after a cut, marks smaller than this share of the part's largest go
# A hairline: ink thinner than this share of the mark's stroke width (the pen running on
# from one digit to the next). What of it a cut leaves hanging from a part goes with the
# cut, as a neighbour's sliver does: the part is the digit, not the digit and a tail.
HAIRLINE = 0.7
# Each cut is offered again with the ink under WIDE_HAIRLINE of the stroke width going
# with it, where that makes other parts: the pen's run-on stroke, blurred by the scan,
# can be too thick for HAIRLINE's disc. A digit's own quick stroke (a 7's bar, a 9's
# loop) can be as thin, so that offer pays `model.reader.options.THINNED_PENALTY`.
WIDE_HAIRLINE = 0.8
# A cut takes the hairlines hanging from it away only where at least this share of the
# part's ink stays: a digit written with a finer pen than its neighbours (a quick 7
# after a heavy 0) is hairline through and through, and taking it away left nothing of
# the digit to read ("500387" joined into "5", "0", "0387" read "502"). 300 usps-joined
# numbers of USPS *train* digits: 189 -> 191 read exactly at 0.5 and at 0.7; the other
# train number sets, the touching pairs and two-digit numbers read as before.
FINE_PEN_KEPT = 0.5


@dataclass(frozen=True)
class Cut:
    """One way to cut a piece: its parts, the strokes its cuts cross beyond one per
    cut (touching digits meet in one stroke, a loop cut in half has two), how many
    of its cuts go through a closed loop and how many through more than a hairline
    (digits that touch, not the pen running on from one to the next), and whether
    ink under WIDE_HAIRLINE, not only HAIRLINE, went with its cuts."""

    pieces: tuple[Piece, ...]
    crossed: float
    loops: int
    touching: int
    thinned: bool


def cut_options(piece: Piece, max_parts: int) -> list[Cut]:
    """Every cut of a piece along its cheapest paths into 2..max_parts plausible parts,
    each offered again with the ink under WIDE_HAIRLINE hanging from its cuts taken away
    too, where that changes its parts (`Cut.thinned`).

    Parts shared by several cuts are the same objects, so they are classified once.
    """
    paths = cut_paths(piece)
    rows = np.arange(piece.h)
    width = max(stroke_width(piece.mask), 1.0)
    loops = enclosed_paper(piece.mask, width)
    # Strokes crossed beyond the one touching digits share, and whether through a loop.
    extra = [max(0.0, float(piece.mask[rows, path].sum()) / width - 1.0) for path in paths]
    in_loop = [bool(loops[rows, path].any()) for path in paths]
    # Edges: the piece's sides (indices -1 and len(paths)) and the paths between them.
    edges = {-1: np.zeros(piece.h, np.intp), len(paths): np.full(piece.h, piece.w, np.intp),
             **dict(enumerate(paths))}
    middle = {index: float(edge.mean()) for index, edge in edges.items()}
    parts: dict[tuple[int, int, float], Piece | None] = {}
    hairlines = {share: _hairlines(piece.mask, width, share)
                 for share in (HAIRLINE, WIDE_HAIRLINE)}
    thick = piece.mask & (hairlines[HAIRLINE] == 0)
    # Most marks have no ink between the two shares: a second offer would repeat the first.
    second_offer = not np.array_equal(hairlines[WIDE_HAIRLINE] > 0, piece.mask & ~thick)
    touches = [bool(thick[rows, path].any()) for path in paths]

    def part(left: int, right: int, share: float) -> Piece | None:
        if (left, right, share) not in parts:
            cuts = [edges[left] if left >= 0 else None,
                    edges[right] - 1 if right < len(paths) else None]
            made = _part(piece, edges[left], edges[right], hairlines[share], cuts)
            narrow = parts.get((left, right, HAIRLINE))
            # The same part either way is one object: it is classified once.
            parts[left, right, share] = narrow if _same(made, narrow) else made
        return parts[left, right, share]

    lo, hi = MIN_PART_WIDTH * piece.h, MAX_PART_WIDTH * piece.h
    options = []
    for count in range(1, min(max_parts - 1, len(paths)) + 1):
        for chosen in itertools.combinations(range(len(paths)), count):
            bounds = [-1, *chosen, len(paths)]
            if not all(lo <= middle[b] - middle[a] <= hi for a, b in itertools.pairwise(bounds)):
                continue
            narrow = [part(a, b, HAIRLINE) for a, b in itertools.pairwise(bounds)]
            offers = [(narrow, False)]
            if second_offer:  # after the narrow parts, which the wide ones reuse
                wide = [part(a, b, WIDE_HAIRLINE) for a, b in itertools.pairwise(bounds)]
                if any(w is not n for w, n in zip(wide, narrow, strict=True)):
                    offers.append((wide, True))
            for cut, thinned in offers:
                if all(p is not None for p in cut):
                    options.append(Cut(tuple(p for p in cut if p is not None),
                                       sum(extra[c] for c in chosen),
                                       sum(in_loop[c] for c in chosen),
                                       sum(touches[c] for c in chosen), thinned))
    return options


def cut_paths(piece: Piece) -> list[np.ndarray]:
    """The cheapest cuts from the piece's top row to its bottom row (CUT_CANDIDATES, or
    CANDIDATES_PER_HEIGHT per height of its width), each a column per row, left to right.

    A cut pays for the ink it crosses and SIDE_STEP for each step sideways (one column
    per row at most), and keeps within CUT_BEND of the piece's height of a column of
    its own; the cuts kept are the local minima of that cost over the columns. So where
    two digits overlap, a cut bends round the one's overhang (a 7's bar, a 5's flag)
    instead of cutting it off as a straight column would. The cuts are found on the
    piece shrunk to CUT_HEIGHT rows at most (their cost grows with the cube of the
    size), then drawn at its own size.
    """
    shrink = min(1.0, CUT_HEIGHT / piece.h)
    small = (max(1, round(piece.w * shrink)), max(1, round(piece.h * shrink)))
    ink = cv2.resize(piece.mask.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    height, width = ink.shape
    reach = round(CUT_BEND * height)
    margin = max(1, round(MIN_PART_WIDTH * height))
    # (column, offset): the cut of each column may stray `reach` columns either way.
    columns = np.arange(width)[:, None] + np.arange(-reach, reach + 1)[None, :]
    inside = (columns >= margin) & (columns < width - margin)
    # What each row's step costs, (row, column, offset): its ink, or a wall at the margins.
    crossing = np.where(inside, ink[:, np.clip(columns, 0, width - 1)], np.inf)
    cost = crossing[0]
    moves = np.zeros(crossing.shape, np.int8)  # the offset step each row came by
    wall = np.full((width, 1), np.inf, np.float32)
    for row in range(1, height):
        from_left = np.hstack([wall, cost[:, :-1]]) + SIDE_STEP
        from_right = np.hstack([cost[:, 1:], wall]) + SIDE_STEP
        best = np.minimum(cost, np.minimum(from_left, from_right))
        moves[row] = np.where(best == cost, 0, np.where(best == from_left, -1, 1))
        cost = best + crossing[row]
    last = cost.argmin(axis=1)
    # A column whose every cut meets the margins' wall costs more than any cut could
    # (one ink pixel and one step a row), so it is never a minimum among real cuts.
    walled = height * (1.0 + SIDE_STEP) + 1.0
    total = np.minimum(cost[np.arange(width), last], walled).astype(np.float32)
    rows = np.minimum((np.arange(piece.h) * shrink).astype(np.intp), height - 1)
    paths = []
    count = max(CUT_CANDIDATES, math.ceil(CANDIDATES_PER_HEIGHT * piece.w / piece.h))
    for column in _local_minima(total, margin, round(MINIMUM_RADIUS * height), count):
        offset, path = int(last[column]), np.empty(height, np.intp)
        for row in range(height - 1, -1, -1):
            path[row] = columns[column, offset]
            offset += int(moves[row, column, offset])
        # Back to the piece's own rows and columns (a small column's middle).
        paths.append(np.clip(np.round((path[rows] + 0.5) * piece.w / width - 0.5),
                             0, piece.w - 1).astype(np.intp))
    return sorted(paths, key=lambda path: float(path.mean()))


def _local_minima(cost: np.ndarray, margin: int, radius: int, count: int) -> list[int]:
    """The `count` lowest local minima of a cost per column within `radius` (a flat
    valley counts once, by its middle column), `margin` columns in from the ends."""
    radius = max(1, radius)
    lowest = -cv2.dilate(-cost[None], np.ones((1, 2 * radius + 1), np.uint8))[0]
    minima = [c for c in range(margin, len(cost) - margin) if cost[c] <= lowest[c]]
    runs: list[list[int]] = []
    for c in minima:
        if runs and c - runs[-1][-1] <= radius:
            runs[-1].append(c)
        else:
            runs.append([c])
    centres = [run[len(run) // 2] for run in runs]
    return sorted(centres, key=lambda c: float(cost[c]))[:count]


def _hairlines(mask: np.ndarray, width: float, share: float) -> np.ndarray:
    """Labels (0: none) of the runs of ink thinner than `share` of the stroke `width`:
    what an opening by a disc that wide takes away."""
    side = round(share * width)
    if side < 2:  # a pen this thin has no thinner line to tell apart
        return np.zeros(mask.shape, np.int32)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)
    return cv2.connectedComponents((mask & ~opened).astype(np.uint8), connectivity=8)[1]


def _part(piece: Piece, left: np.ndarray, right: np.ndarray, hairlines: np.ndarray,
          cuts: list[np.ndarray | None]) -> Piece | None:
    """The piece's ink between two paths (a column per row; the left one's column
    included), less the hairlines hanging from its `cuts` (the paths' columns where they
    cut; None: the piece's own side) unless they are most of it (FINE_PEN_KEPT), and
    slivers of a neighbour, cropped to its ink."""
    columns = np.arange(piece.w)[None, :]
    between = (columns >= left[:, None]) & (columns < right[:, None])
    every_row = np.arange(piece.h)
    cut = {int(label) for path in cuts if path is not None
           for label in hairlines[every_row, np.clip(path, 0, piece.w - 1)]} - {0}
    mask = piece.mask & between
    if cut:  # most cuts cross no hairline: no pass over the labels for them
        thinned = mask & ~np.isin(hairlines, list(cut))
        if thinned.sum() >= FINE_PEN_KEPT * mask.sum():
            mask = thinned
    mask = _without_slivers(mask)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0 or rows[-1] + 1 - rows[0] < MIN_PART_HEIGHT * piece.h:
        return None
    top, bottom, first, last = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Piece(piece.x + first, piece.y + top, last - first, bottom - top,
                 mask[top:bottom, first:last])


def _same(a: Piece | None, b: Piece | None) -> bool:
    """Whether two parts are the same ink in the same box."""
    if a is None or b is None:
        return a is b
    return ((a.x, a.y, a.w, a.h) == (b.x, b.y, b.w, b.h)
            and bool(np.array_equal(a.mask, b.mask)))


def _without_slivers(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                               connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.isin(labels, 1 + np.flatnonzero(areas >= SLIVER * areas.max()))
