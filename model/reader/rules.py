"""Printed lines on forms: the box a digit is written in, the line it is written on.

Forms, cheques and exercise sheets put each digit in a box, in a comb of ticks or on
a line. To the segmenter a box is one mark larger than any digit, and a digit written
across a line is joined to every other digit on it, so such lines are taken out of the
ink first. A line is a straight run (within a few degrees, as a tilted photo leaves
it) across at least RULE_VS_EXTENT of all the ink, in a thin mark (a pen stroke is
thicker than a printed line) at least RULE_VS_TEXT times as long as the tallest
digit-like mark, reaching past the ink beside it. A digit's own bars (a 7's top, a 2's
base) are shorter than its height, and a 1 is no taller than its neighbours, so
neither qualifies; nor does any stroke of a picture that is one mark no wider than a
digit. Upright lines count where they meet a line already found (the sides of a box,
the walls of a comb; a comb's ticks are found in model.reader.combs). A thin line from edge
to edge of the picture with a row of far shorter marks beside it (an exercise book's
margin line) is printed too: beside it the digits would pass for specks; so is one
beyond all the writing and well longer than the writing spans (a table's rule beside a
number cut out of its column). Where a digit
crosses a line, the ink the line covered is put back so the digit stays whole.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader.combs import comb_cell, comb_ticks
from model.reader.frames import frame_mask
from model.reader.ink import stroke_width
from model.reader.lines import grow, lines_across, on_its_line, straight_runs, take_out, touching
from model.reader.ruling import without_dark_rulings, without_line_pieces

RULE_VS_EXTENT = 0.4  # a straight run across this share of the ink's extent may be a line
MIN_RULE_PX = 24  # ... and is this many pixels long at least
RULE_VS_TEXT = 1.2  # a mark with such runs this many times the text height is a line
LONG_VS_TEXT = 2.5  # ... and one this long is, even if it ends where the digits end (a comb)
UPRIGHT_VS_TEXT = 2.0  # ... a mark of upright runs only must be this much taller
WALL_VS_TEXT = 1.1  # upright runs this long that meet a line are its box's walls
STICK_OUT = 0.1  # ... and reach this share of the text height past the ink beside them
TALL_VS_TEXT = 0.5  # ... that is, past marks at least this share of the text height
MAX_THICKNESS = 0.08  # printed lines are thinner than this share of the text height ...
LINE_VS_PEN = 1.2  # ... or than this multiple of the handwriting's stroke
MIN_TEXT_AREA = 0.2  # marks smaller than this share of the largest are specks, not text
MAX_RUN_SHARE = 0.5  # marks mostly made of straight runs are lines, not text
MIN_TEXT_VS_HEIGHT = 0.25  # with no text this share of the ink's height, nothing is removed
# Ink that is one mark no wider than ONE_DIGIT_ASPECT times its height is one digit, not
# text on a line: its long straight strokes are its own (the bar of a wide 7 or 2, a 1
# stretched to fill its box), never a printed line. Marks whose longer side is under
# SPECK_EXTENT of the longest mark's are specks (a thin line is long, never a speck).
ONE_DIGIT_ASPECT = 1.5
SPECK_EXTENT = 0.3
# A line from edge to edge of the picture (within PAGE_SPAN: a margin line, a header
# rule) with writing beside it (MIN_PAGE_TEXT marks at least PAGE_TEXT_PX tall, not
# touching it, all LONG_VS_TEXT times shorter) is printed when it is at most PAGE_VS_PEN
# as wide as the writing's pen; its width is that of the ink within NEAR_LINE pixels of
# it. (A 1 from edge to edge of its picture is as wide as the pen, but beside it are a
# flag or specks, not digits.) Its straight run need only cross PAGE_RUN of the picture,
# its mark the whole: Hough's segment can stop short of an end of a line that drifts a
# few pixels (a photographed margin line: 94 % of the page, its top left as a 1).
PAGE_SPAN = 0.97
PAGE_RUN = 0.8
MIN_PAGE_TEXT = 2
PAGE_TEXT_PX = 8
PAGE_VS_PEN = 2.0
NEAR_LINE = 8
# A number cut out of a table (a register's column, a form's cell) comes with the rules
# on either side of it, as tall as the cell: from edge to edge of the picture, beside
# the writing, but not LONG_VS_TEXT times its height. Such a line is printed too when
# it lies beyond all the writing and is SIDE_VS_WRITING times as long as the writing
# spans along it (the whole number's, so a 1 in a crop cut tight round the number,
# as long as the number is tall, stays a digit).
SIDE_VS_WRITING = 1.25

Marks = tuple[int, np.ndarray, np.ndarray]  # connected marks: count (with paper), labels, stats


def remove_rules(mask: np.ndarray, ruled_page: bool = False,
                 one_bit: bool = False) -> np.ndarray:
    """The ink mask without printed lines and boxes; unchanged when it has none.
    `ruled_page`: the picture is a ruled page (`InkMap.ruled_page`), whose lines as dark
    as the pen are taken out too, and what is left of them; `one_bit`: it is one bit
    deep (`InkMap.one_bit`)."""
    if not mask.any() or min(mask.shape) < 3:
        return mask
    if ruled_page:
        mask = without_line_pieces(without_dark_rulings(mask, one_bit))
    boxes = frame_mask(mask)
    rules = boxes | _line_rules(mask & ~grow(boxes) if boxes.any() else mask)
    if not rules.any():
        return mask
    return take_out(mask, rules)


def _marks(mask: np.ndarray) -> Marks:
    """The mask's connected marks (8-connected): their count (with the paper), labels, stats."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                               connectivity=8)
    return count, labels, stats


def _one_digit(marks: Marks) -> bool:
    """One mark (specks aside: SPECK_EXTENT), at most ONE_DIGIT_ASPECT as wide as tall."""
    stats = marks[2]
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    extents = np.maximum(widths, heights)
    big = np.flatnonzero(extents >= SPECK_EXTENT * extents.max())
    return len(big) == 1 and bool(widths[big[0]] <= ONE_DIGIT_ASPECT * heights[big[0]])


def _line_rules(mask: np.ndarray) -> np.ndarray:
    """The pixels of long printed lines (underlines, combs, rows of boxes) in `mask`."""
    none = np.zeros_like(mask, dtype=bool)
    if not mask.any():
        return none
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    length = max(MIN_RULE_PX, round(RULE_VS_EXTENT * extent))
    ink = mask.astype(np.uint8)
    flat, upright = straight_runs(ink, length)
    runs = flat | upright
    marks = None
    # Marks from the top edge to the bottom (ink in nearly every row first, cheaply) are
    # looked at alone for upright lines: in a wide picture runs of `length` are longer
    # than it is tall, and beside the digits Hough can spend a line's pixels on segments
    # through them (a number cut out of a table between its column's rules).
    if mask.any(axis=1).mean() >= PAGE_SPAN:
        marks = _marks(mask)
        sides = _spanning(marks, True, mask.shape)
        if sides.any():
            upright = upright | straight_runs(sides.astype(np.uint8), max(
                MIN_RULE_PX, round(PAGE_RUN * mask.shape[0])))[1]
    if not (runs | upright).any():
        return none
    page = _page_lines(mask, flat, upright)
    if page.any():  # beside such a line the digits pass for specks: looked at without it
        return page | _line_rules(take_out(mask, page))
    if not runs.any():
        return none
    marks = marks or _marks(mask)
    if _one_digit(marks):
        return none
    text = _text_height(mask, flat, marks)
    if text < MIN_TEXT_VS_HEIGHT * (rows[-1] - rows[0] + 1):
        return none  # little but straight strokes: a drawn 1 or 7, not a form
    rest = mask & ~grow(runs)
    rules = np.zeros_like(mask)
    # A printed line is thinner than the pen, or than MAX_THICKNESS of the text when the
    # pen is fine (a ballpoint on a form printed with heavy lines).
    thickest = max(MAX_THICKNESS * text, LINE_VS_PEN * stroke_width(rest))
    # Level and upright runs are judged apart: a 1 written across a line is an upright
    # run touching it, not part of it.
    for kind in (flat, upright):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(kind.astype(np.uint8),
                                                                   connectivity=8)
        for i in range(1, count):
            w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
            part = labels == i
            if kind is flat and max(w, h) < RULE_VS_TEXT * text:
                if stroke_width(part) <= thickest:
                    rules |= comb_cell(marks[1], part, text, thickest)
                continue
            level = kind is flat \
                and (max(w, h) >= LONG_VS_TEXT * text or _sticks_out(part, rest, text)
                     or comb_ticks(ink, part, text, thickest).any())
            if (level or h >= UPRIGHT_VS_TEXT * text) and stroke_width(part) <= thickest:
                rules |= part
    if not rules.any():
        return none
    wall = max(MIN_RULE_PX, round(WALL_VS_TEXT * text))
    # Hough can spend a wall's pixels on a slanted segment through a digit beside it;
    # an opening with an upright bar finds the walls of an untilted row as well.
    walls = straight_runs(ink, wall)[1]
    walls |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((wall, 1), np.uint8)).astype(bool)
    rules |= touching(walls & ~rules, rules)
    return rules | comb_ticks(ink, rules, text, thickest)


def _page_lines(mask: np.ndarray, flat: np.ndarray, upright: np.ndarray) -> np.ndarray:
    """The pixels of lines from edge to edge, at most PAGE_VS_PEN as wide as the pen,
    beside writing far shorter than they are (see PAGE_SPAN); none when there are none."""
    found, marks = np.zeros_like(mask), None
    for line, length in lines_across((flat, upright), PAGE_RUN):
        marks = marks or _marks(mask)
        own = np.isin(marks[1], np.unique(marks[1][line]))
        if _reach(own, line) < PAGE_SPAN:
            continue
        # Other lines from edge to edge the same way (a cell's other rule) are no text.
        upright = _is_upright(line)
        text = mask & ~own & ~_spanning(marks, upright, mask.shape)
        text_marks = _marks(text)
        heights = _text_heights(text_marks)
        heights = heights[heights >= PAGE_TEXT_PX]
        if heights.size < MIN_PAGE_TEXT or (
                length < LONG_VS_TEXT * heights.max()
                and not _beside(line, upright, text_marks, length)):
            continue
        near = cv2.dilate(line.astype(np.uint8), np.ones((2 * NEAR_LINE + 1,) * 2, np.uint8))
        if stroke_width(own & near.astype(bool)) <= PAGE_VS_PEN * stroke_width(text):
            found |= on_its_line(line, own)
    return found


def _is_upright(run: np.ndarray) -> bool:
    """Whether a straight run stands upright (else it lies level)."""
    ys, xs = np.nonzero(run)
    return int(np.ptp(ys)) >= int(np.ptp(xs))


def _spanning(marks: Marks, upright: bool, shape: tuple[int, ...]) -> np.ndarray:
    """The pixels of `marks` that reach PAGE_SPAN of the picture upright (or level)."""
    _, labels, stats = marks
    along, side = (cv2.CC_STAT_HEIGHT, shape[0]) if upright else (cv2.CC_STAT_WIDTH, shape[1])
    across = stats[:, along] >= PAGE_SPAN * side
    across[0] = False
    return across[labels]


def _beside(line: np.ndarray, upright: bool, marks: Marks, length: int) -> bool:
    """Whether a line (`upright` or level) lies beyond all the writing (`marks` large
    enough to be text) on one side, and is SIDE_VS_WRITING times as long as the writing
    spans along it."""
    count, _, stats = marks
    if count <= 1:
        return False
    ys, xs = np.nonzero(line)
    x, y, w, h, areas = (stats[1:, k] for k in range(5))
    text = areas >= MIN_TEXT_AREA * areas.max()
    start, size = (x, w) if upright else (y, h)  # across the line
    along, extent = (y, h) if upright else (x, w)
    low, high = (xs.min(), xs.max()) if upright else (ys.min(), ys.max())
    centres = start[text] + size[text] / 2
    if not ((centres > high).all() or (centres < low).all()):
        return False
    span = (along[text] + extent[text]).max() - along[text].min()
    return bool(length >= SIDE_VS_WRITING * span)


def _reach(mark: np.ndarray, run: np.ndarray) -> float:
    """The share of the picture's height (an upright run) or width (a level one) that the
    mark it lies on spans."""
    upright = _is_upright(run)
    spread = np.flatnonzero(mark.any(axis=1 if upright else 0))
    return (spread[-1] - spread[0] + 1) / mark.shape[0 if upright else 1]


def _sticks_out(line: np.ndarray, rest: np.ndarray, text: int) -> bool:
    """Whether a line reaches past the other ink near it on both sides, as a box or an
    underline does.

    Two touching digits can line up their bars into one long straight run; it ends
    where their ink ends. A 2's long tail reaches past the ink on one side only. Only
    digit-sized marks count (not a comb's short ticks, not the thin walls of a row of
    boxes).
    """
    ys, xs = np.nonzero(line)
    band = rest[max(0, ys.min() - text): ys.max() + text + 1].astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    tall = 1 + np.flatnonzero((stats[1:, cv2.CC_STAT_HEIGHT] >= TALL_VS_TEXT * text)
                              & (stats[1:, cv2.CC_STAT_WIDTH] > STICK_OUT * text))
    cols = np.flatnonzero(np.isin(labels, tall).any(axis=0))
    if cols.size == 0:
        return True
    margin = STICK_OUT * text
    return bool(xs.min() < cols[0] - margin and xs.max() > cols[-1] + margin)


def _text_height(mask: np.ndarray, flat: np.ndarray, marks: Marks) -> int:
    """Height of the tallest mark that could be text (or 0).

    Not text: specks, marks mostly made of level straight runs (lines), and marks
    whose box holds another mark's box (a frame round a digit). Measured with and
    without the level runs, whichever finds taller text: digits written on a line or
    in a comb are one mark with it until the line is left out, while a digit's own
    bar left out would split the digit.
    """
    return max(_tallest_text(marks, flat), _tallest_text(_marks(mask & ~grow(flat)), flat))


def _tallest_text(marks: Marks, flat: np.ndarray) -> int:
    """Height of the tallest of `marks` that could be text (see _text_height), or 0."""
    heights = _text_heights(marks, flat)
    return int(heights.max()) if heights.size else 0


def _text_heights(marks: Marks, flat: np.ndarray | None = None) -> np.ndarray:
    """The heights of those of `marks` that could be text (see _text_height); with no
    level runs (`flat`) given, any mark large enough."""
    count, labels, stats = marks
    if count <= 1:
        return np.zeros(0, int)
    x, y, w, h, areas = (stats[1:, k] for k in range(5))
    text = areas >= MIN_TEXT_AREA * areas.max()
    if flat is not None:
        text &= np.bincount(labels[flat & (labels > 0)], minlength=count)[1:] \
            < MAX_RUN_SHARE * areas
    for i in np.flatnonzero(text):
        inside = (x >= x[i]) & (y >= y[i]) & (x + w <= x[i] + w[i]) & (y + h <= y[i] + h[i])
        text[i] = inside.sum() == 1  # only itself
    return h[text]
