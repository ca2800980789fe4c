"""Printed upright lines among the marks: what is left of an exercise book's margin line.

`model.reader.rules` takes out lines from edge to edge; where the grid crossed a margin line
and was taken out, the margin is left in pieces, none from edge to edge. Beside the
digits those pieces pass for 1s, and a stack of them several digits tall makes the digits
look like dashes. Segmentation (`model.reader.segment`) drops them here, among its groups of
marks: a thin mark far taller than the writing, or a column of marks as narrow as a
line from the top of the picture to its bottom through rows with no writing, and the
thin marks in line with either.
"""

from __future__ import annotations

import itertools

from model.reader.pieces import Group, linked

# A mark at most RULE_ASPECT as wide as tall and RULE_VS_TEXT times as tall as the
# tallest of at least MIN_TEXT_MARKS other marks is a printed line, as are the thin marks
# in line with it: a margin line the grid crossed (a 1 is no taller than its neighbours).
RULE_ASPECT = 0.15
RULE_VS_TEXT = 2.5
MIN_TEXT_MARKS = 2
# So is a column of COLUMN_PIECES or more marks as narrow (measured against the tallest
# of the others when they are shorter) on one straight upright, from within
# COLUMN_REACH of the picture's top to within it of its bottom, through rows with no
# writing: a margin line the grid's removal cut into pieces no taller than a digit (a
# column of 1s starting the numbers of a list has digits beside every one).
COLUMN_PIECES = 3
COLUMN_REACH = 0.25
COLUMN_TILT = 0.1  # x per y: a line photographed up to about 6 degrees off upright
COLUMN_ALONE = 0.5  # ... and at least half of them on rows with no other writing


def without_uprights(groups: list[Group], height: int) -> list[Group]:
    """`groups` (of a picture `height` pixels tall) without printed upright lines and the
    thin marks in line with them."""
    thin = [g.w <= RULE_ASPECT * g.h for g in groups]
    text = [g for g, is_thin in zip(groups, thin, strict=True) if not is_thin]
    if len(text) < MIN_TEXT_MARKS:
        return groups
    tallest = max(g.h for g in text)
    rules = [g for g, is_thin in zip(groups, thin, strict=True)
             if is_thin and g.h >= RULE_VS_TEXT * tallest]
    # A column's pieces may be shorter than the writing: as narrow beside it as a line.
    narrow = [g.w <= RULE_ASPECT * max(g.h, tallest) for g in groups]
    cut = _cut_line([g for g, n in zip(groups, narrow, strict=True) if n],
                    [g for g, n in zip(groups, narrow, strict=True) if not n], height)
    rules += cut

    def in_line(g: Group) -> bool:
        return any(min(g.x1, r.x1) > max(g.x0, r.x0) for r in rules)

    return [g for g, is_thin in zip(groups, thin, strict=True)
            if not (any(g is c for c in cut) or (is_thin and in_line(g)))]


def _cut_line(pieces: list[Group], text: list[Group], height: int) -> list[Group]:
    """The narrow marks (`pieces`) of columns that run from the picture's top to its
    bottom through rows with none of the other marks (`text`; see COLUMN_PIECES)."""
    def in_column(a: Group, b: Group) -> bool:
        drift = abs(a.x0 + a.x1 - b.x0 - b.x1) / 2 - max(a.w, b.w)
        return drift <= COLUMN_TILT * abs(a.y0 + a.y1 - b.y0 - b.y1) / 2

    def alone(g: Group) -> bool:
        return not any(min(g.y1, t.y1) > max(g.y0, t.y0) for t in text)

    pairs = [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(pieces), 2)
             if in_column(a, b)]
    reach = COLUMN_REACH * height
    lines = []
    for column in ([pieces[i] for i in members] for members in linked(len(pieces), pairs)):
        if (len(column) >= COLUMN_PIECES
                and sum(alone(g) for g in column) >= COLUMN_ALONE * len(column)
                and min(g.y0 for g in column) <= reach
                and max(g.y1 for g in column) >= height - reach):
            lines += column
    return lines
