"""Ink the crop cut off: pieces of the writing round a number, cut by the picture's edge.

A number cropped out of a page (a form, a letter, a register) brings along pieces of
what was written round it: the tail of a digit on the line above, the top of one on the
line below, the end of the word before. Beside the number such a piece reads as one
more digit ("815" as "1815"); stacked on a digit it changes it ("80330" as "85330").
Segmentation (`model.segment`) drops them among the picture's marks, before it joins
the pieces of each digit.

A piece is cut off when it touches an edge of the picture, is shorter than
CUT_OFF_HEIGHT of the tallest mark, and the writing keeps away from that edge: at least
MIN_WRITING marks of full height (CUT_OFF_HEIGHT of the tallest or more), none of them
within CLEARANCE of the tallest mark's height of it. The crop left paper round the
number, so what reaches the edge came from beyond it. Where the crop is tight the
writing itself comes to the edge, and a 5's loose bar touching it stays. At the left
and right edges the piece must also stand alone, with no mark over or under it.

A piece as tall as the writing at the left or right edge, a neighbour's last stroke,
looks like a 1 the crop touched, and is read; but the classifier never marks such a
narrow digit sure (`at_the_sides`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from model.pieces import Group, Piece

CUT_OFF_HEIGHT = 0.6  # ... of the tallest mark: shorter marks are charged as digits anyway
MIN_WRITING = 2
CLEARANCE = 0.1
SIDES = ("top", "bottom", "left", "right")
# A digit at most SIDE_NARROW as wide as tall at the left or right edge, in a line of
# SIDE_LINE digits or more, may be a neighbour's last stroke (it reads as a confident 1).
SIDE_LINE = 3
SIDE_NARROW = 0.4


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


def at_the_sides(chosen: list[tuple[Piece, int]], width: int,
                 columns: Callable[[Piece], tuple[int, int]] | None = None) -> set[int]:
    """The ids of the narrow digits (pieces with their line numbers) at the left or right
    edge of a picture `width` pixels wide, in a line of SIDE_LINE digits or more;
    `columns` gives the columns of the picture a piece covers where its pieces were
    moved (sheared upright, `model.slant`)."""
    per_line = Counter(line for _, line in chosen)
    narrow = [piece for piece, line in chosen
              if per_line[line] >= SIDE_LINE and piece.w <= SIDE_NARROW * piece.h]
    spans = [columns(p) if columns else (p.x, p.x + p.w) for p in narrow]
    return {id(piece) for piece, (x0, x1) in zip(narrow, spans, strict=True)
            if x0 == 0 or x1 >= width}
