"""Ink the crop cut off: pieces of the writing round a number, cut by the picture's edge.

A number cropped out of a page (a form, a letter, a register) brings along pieces of
what was written round it: the tail of a digit on the line above, the top of one on the
line below, the end of the word before. Beside the number such a piece reads as one
more digit ("815" as "1815"); stacked on a digit it changes it ("80330" as "85330").
Segmentation (`model.reader.segment`) drops them among the picture's marks, before it joins
the pieces of each digit.

A piece is cut off when it touches an edge of the picture, is shorter than
CUT_OFF_HEIGHT of the tallest mark, and the writing keeps away from that edge: at least
MIN_WRITING marks of full height (CUT_OFF_HEIGHT of the tallest or more), none of them
within CLEARANCE of the tallest mark's height of it. The crop left paper round the
number, so what reaches the edge came from beyond it. Where the crop is tight the
writing itself comes to the edge, and a 5's loose bar touching it stays. At the left
and right edges the piece must also stand alone, with no mark over or under it.

A piece as tall as the writing at the left or right edge, a neighbour's last stroke,
looks like a 1 the crop touched (`at_the_sides`). The ink tells them apart: a stroke
the edge cut runs off the picture as it was, at full strength, while a digit the crop
only touches meets the edge with the rim of its stroke (fainter, or along fewer rows than
the stroke inside it), or at a point. So a narrow digit whose ink on the edge is at the
stroke's core along RUN_OFF of its height or more, and along about as many rows as a
little inside (RUN_ON), was cut, and goes; the others are read, but never marked sure.
A picture one bit deep has no rim to tell by, and its narrow digits at the edge are all
read so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from model.reader.ink import InkMap
from model.reader.pieces import Group, Piece

CUT_OFF_HEIGHT = 0.6  # ... of the tallest mark: shorter marks are charged as digits anyway
MIN_WRITING = 2
CLEARANCE = 0.1
SIDES = ("top", "bottom", "left", "right")
# A digit at most SIDE_NARROW as wide as tall at the left or right edge, in a line of
# SIDE_LINE digits or more, may be a neighbour's last stroke (it reads as a confident 1).
SIDE_LINE = 3
SIDE_NARROW = 0.4
# A narrow digit at the edge was cut by it when its ink there is at the stroke's core
# (CORE_INK; 1 is the core) along RUN_OFF of its height. On the USPS *train* crops
# (`training.realworld.page_crops`) the 33 such digits whose dropping decides the reading: 16 of
# the number's own 1s, at most 0.12 of their height, and 15 of 17 neighbours' pieces,
# 0.19-0.91. A stroke the edge cut runs on as it was: at the core along RUN_ON as many
# rows on the edge as INSET pixels inside, or more (those pieces: 0.57-1.25 but one,
# 0.27). A 1 cut crisply at the ink's edge has its rim there near the core too, but along
# fewer rows than inside it (0.34-0.50 where over RUN_OFF).
CORE_INK = 0.9
RUN_OFF = 0.15
RUN_ON = 0.55
INSET = 2


def without_cut_off(groups: list[Group], shape: tuple[int, int]) -> list[Group]:
    """`groups` (marks of a picture of `shape` (height, width)) without the pieces of
    writing beyond the crop that its edges cut off."""
    height, width = shape

    def distance(g: Group, side: str) -> int:
        return {"top": g.y0, "bottom": height - g.y1,
                "left": g.x0, "right": width - g.x1}[side]

    tallest = max((g.h for g in groups), default=0)
    full = [g for g in groups if g.h >= CUT_OFF_HEIGHT * tallest]
    if len(full) < MIN_WRITING:
        return groups
    cut: list[Group] = []
    for side in SIDES:
        if min(distance(g, side) for g in full) < CLEARANCE * tallest:
            continue  # a tight crop: the writing itself comes to this edge
        cut += [g for g in groups if distance(g, side) == 0 and g.h < CUT_OFF_HEIGHT * tallest
                and (side in ("top", "bottom") or _alone(g, groups))]
    return [g for g in groups if all(g is not c for c in cut)]


def _alone(g: Group, groups: list[Group]) -> bool:
    """No other mark over or under `g`."""
    return not any(o is not g and min(g.x1, o.x1) > max(g.x0, o.x0) for o in groups)


def at_the_sides(chosen: list[tuple[Piece, int]], ink: InkMap, width: int,
                 leaning_columns: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 ) -> tuple[set[int], set[int]]:
    """The narrow digits (pieces with their line numbers) at the left or right edge of a
    picture `width` pixels wide, in a line of SIDE_LINE digits or more, as the ids of
    those the edge cut (to drop) and of those it only touches (never sure).

    `leaning_columns` maps points (x, y) of the pieces to the picture's columns where
    they were moved (sheared upright, `model.reader.slant`); `ink` is the pieces' ink.
    """
    per_line = Counter(line for _, line in chosen)
    cut, touched = set(), set()
    for piece, line in chosen:
        if per_line[line] < SIDE_LINE or piece.w > SIDE_NARROW * piece.h:
            continue
        ys, xs = np.nonzero(piece.mask)
        if not len(xs):
            continue
        columns = (leaning_columns(xs + piece.x, ys + piece.y) if leaning_columns
                   else xs + float(piece.x))
        depth = columns if columns.min() < 0.5 else width - 1 - columns  # from the edge
        if depth.min() >= 0.5:
            continue  # at neither edge
        runs_off = not ink.one_bit and _runs_off(piece, ys, xs, ink.ink, depth)
        (cut if runs_off else touched).add(id(piece))
    return cut, touched


def _runs_off(piece: Piece, ys: np.ndarray, xs: np.ndarray, strength: np.ndarray,
              depth: np.ndarray) -> bool:
    """Whether a piece runs off the picture's edge: at the stroke's core on the edge
    along RUN_OFF of its height, and along RUN_ON as many rows as INSET pixels inside.

    `ys`, `xs`: the piece's pixels (`np.nonzero` of its mask); `depth`: each one's
    distance from the edge."""
    core = strength[ys + piece.y, xs + piece.x] >= CORE_INK

    def core_rows(at: np.ndarray) -> int:
        return len(np.unique(ys[at & core]))

    on_edge = core_rows(depth < 0.5)
    inside = core_rows(np.abs(depth - INSET) < 0.5)
    return on_edge >= RUN_OFF * piece.h and on_edge >= RUN_ON * inside
