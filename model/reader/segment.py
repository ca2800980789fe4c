"""Segmentation: the ink mask of a page becomes digits, line by line, left to right.

1. connected components; specks (tiny relative to the page and to the largest mark)
   and scanner frame lines along the border are dropped, and in a scan or photo the
   pieces of the writing round the number that the picture's edges cut (`model.reader.crop`);
2. the strokes of one digit are merged: a 5's loose bar, a 4 or 9 written in two
   strokes, a stroke broken by a scan gap: pieces stacked over each other (their
   x-ranges overlap) and close vertically, and fragments at a digit's top or bottom
   (`model.reader.grouping`);
3. a printed upright line that the lines' removal left (an exercise book's margin
   line, cut where the grid crossed it) is dropped, with the thin marks in line with it
   (`model.reader.margins`);
4. lines: groups whose vertical extents overlap form a line, and a line that goes on
   from another joins it (a number written uphill); lines go top to bottom, and marks
   far shorter than their line (a dash, a dot) are dropped;
5. each line becomes slots of alternative readings (`model.reader.options`): touching digits
   to cut apart, neighbours that may be one digit; the reader lets the classifier pick.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Literal

import cv2
import numpy as np

from model.reader.crop import without_cut_off
from model.reader.cuts import MAX_PART_WIDTH
from model.reader.grouping import merged_digits
from model.reader.imaging import NoDigitError
from model.reader.ink import InkMap
from model.reader.margins import RULE_ASPECT, without_uprights
from model.reader.options import Option, Slot, line_slots
from model.reader.pieces import Group, linked, piece_of

# Specks: smaller than this share of the page's longer side, or of the largest mark.
SPECK_PAGE_FRACTION = 0.012
SPECK_MARK_FRACTION = 0.12
SPECK_MIN_AREA = 4
MAX_MARKS = 400  # more separate marks than this is text, texture or noise, not digits
# Frame lines: hugging one border (within this share of the side) along half its length,
# or, upright in a scan, as narrow as a printed line (`RULE_ASPECT`) from the picture's
# top row to its bottom row wherever it stands: the rule of a table's column, the crop a
# few pixels beyond it ("699" cut out of a table read "1699"). Not on a canvas: a 1
# drawn from its top edge to its bottom beside a smaller digit is a 1.
FRAME_BAND = 0.04
FRAME_SPAN = 0.5
FRAME_VS_TEXT = 1.3  # ... and, upright, this many times as tall as the tallest other mark
# Shading: a mark whose border contact is this share of its box's perimeter (a digit
# cropped tightly touches the border at a few places; a dark corner runs along it).
BORDER_HUG = 0.3
SOLID_INK = 0.85  # mean ink strength (1 = stroke core) of real strokes is above this
# Lines: vertical overlap of at least this share of the shorter mark; only marks of
# LINE_START of the tallest mark's height start a line of their own.
LINE_OVERLAP = 0.5
LINE_START = 0.5
# Marks shorter than this share of the tallest mark of their line are dashes or dots.
MIN_LINE_HEIGHT = 0.3
# ... or smaller than this share of the page's biggest mark, counted no bigger than one
# digit can be (`model.reader.cuts.MAX_PART_WIDTH` of its tallest mark): digits the pen
# joined into one mark make it as wide as several, and the digits beside them are no
# smaller for it ("138040" with "1380" one mark read "1380", sure).
MIN_PAGE_EXTENT = 0.25


Marks = tuple[np.ndarray, list[Group]]  # component labels, and the components that are marks
Side = Literal["upright", "level"]  # the way a mark lies along a side of the picture


def segment(ink: InkMap, *, single: bool = False, cropped: bool = False,
            marks: Marks | None = None) -> list[list[Slot]]:
    """Lines of slots, top to bottom and left to right; NoDigitError when nothing is left.

    `cropped`: the picture is cut out of a page (a scan or photo, not a canvas), so its
    edges may have cut off pieces of the writing round it (`model.reader.crop`), and a thin
    mark from its top row to its bottom row is a printed rule (`find_marks(scanned=)`).
    A scan sheared upright (`model.reader.slant`) is not `cropped`: its edges lean, and its
    rules went before the shear (`writing_alone`). `marks`: the ink's `find_marks`, when
    the caller has them already (it gives them up: they are merged here)."""
    labels, groups = marks or find_marks(ink, scanned=cropped)
    if not groups:
        raise NoDigitError()
    if single:
        whole = groups[0]
        for group in groups[1:]:
            whole.absorb(group)
        return [[Slot((Option((piece_of(labels, whole),)),))]]
    if cropped:
        groups = without_cut_off(groups, ink.mask.shape)
    return [line_slots(labels, line)
            for line in _lines(without_uprights(merged_digits(groups), ink.mask.shape[0]))]


def writing_alone(ink: InkMap, marks: Marks | None = None) -> InkMap:
    """The ink less what segmentation drops for where it lies: shading along the
    border, the pieces of writing round it that the picture's edges cut (`model.reader.crop`)
    and what is left of a printed upright line (`model.reader.margins`). For a picture sheared
    upright (`model.reader.slant`) before it is segmented, whose edges and uprights then lean.
    `marks`: the ink's `find_marks`, left as they are."""
    labels, groups = marks or find_marks(ink, scanned=True)
    if not groups:
        return ink
    groups = [dataclasses.replace(g, labels=list(g.labels)) for g in groups]  # merged below
    writing = without_uprights(merged_digits(without_cut_off(groups, ink.mask.shape)),
                               ink.mask.shape[0])
    # Specks and shading along the border go too: sheared off the border, they would stay.
    gone = (labels > 0) & ~np.isin(labels, [label for g in writing for label in g.labels])
    return dataclasses.replace(ink, mask=ink.mask & ~gone, ink=np.where(gone, 0.0, ink.ink))


def find_marks(ink: InkMap, *, scanned: bool) -> Marks:
    """The labels of the ink's connected components, and those that are marks: not
    specks, frame lines or shading along the border. `scanned`: a scan or photo, which
    may hold printed rules, not a canvas, where a 1 may be drawn from edge to edge."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.mask.astype(np.uint8),
                                                               connectivity=8)
    strength = np.bincount(labels.ravel(), weights=ink.ink.ravel(), minlength=count)
    mean_ink = strength[1:count] / np.maximum(stats[1:count, cv2.CC_STAT_AREA], 1)
    return labels, _marks(stats[1:count], _border_contact(labels, count), mean_ink,
                          ink.mask.shape, scanned)


def _border_contact(labels: np.ndarray, count: int) -> np.ndarray:
    """How many pixels of each component lie on the picture's outermost rows and columns."""
    rim = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    return np.bincount(rim, minlength=count)[1:count]


def _marks(stats: np.ndarray, contact: np.ndarray, mean_ink: np.ndarray,
           shape: tuple[int, int], scanned: bool) -> list[Group]:
    """Components that are not specks, frame lines or shading along the border."""
    height, width = shape
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    if extent.size == 0:
        return []
    keep = ((stats[:, cv2.CC_STAT_AREA] >= SPECK_MIN_AREA)
            & (extent >= SPECK_PAGE_FRACTION * max(height, width))
            & (extent >= SPECK_MARK_FRACTION * extent.max()))
    if keep.sum() > MAX_MARKS:
        raise NoDigitError("The image has too many separate marks to read as digits.")
    groups = []
    for i in np.flatnonzero(keep):
        x, y, w, h = (int(v) for v in stats[i, :4])
        groups.append(Group([int(i) + 1], x, y, x + w, y + h))
    # A dark corner or a shadow lies along the border and fades; a digit at most
    # touches the border, and its strokes are solid.
    shading = [contact[g.labels[0] - 1] >= BORDER_HUG * 2 * (g.w + g.h)
               and mean_ink[g.labels[0] - 1] < SOLID_INK for g in groups]
    sides = [_along_a_side(g, height, width, scanned) for g in groups]
    writing = max((g.h for g, shade, side in zip(groups, shading, sides, strict=True)
                   if not (shade or side)), default=0)
    marks, hugging = [], []
    for g, shade, side in zip(groups, shading, sides, strict=True):
        # An upright frame line is taller than the writing beside it (FRAME_VS_TEXT): one
        # no taller is a 1 that a crop cut tight round the number ("10744" read "0744").
        frame = side == "level" or (side == "upright" and g.h > FRAME_VS_TEXT * writing)
        (hugging if shade or frame else marks).append(g)
    return marks or hugging


def _along_a_side(g: Group, height: int, width: int, scanned: bool) -> Side | None:
    """Whether a mark may be a scanner edge, the page's rim (thin, along one border,
    spanning much of it) or, `scanned`, a rule crossing the picture from top to bottom:
    "upright" or "level", or None."""
    band_x, band_y = FRAME_BAND * width, FRAME_BAND * height
    hugging = g.w <= band_x and (g.x0 == 0 or g.x1 == width)
    crossing = scanned and g.y0 == 0 and g.y1 == height and g.w <= RULE_ASPECT * g.h
    if g.h >= FRAME_SPAN * height and (hugging or crossing):
        return "upright"
    if g.h <= band_y and g.w >= FRAME_SPAN * width and (g.y0 == 0 or g.y1 == height):
        return "level"
    return None


def _continued(lines: list[list[Group]]) -> list[list[Group]]:
    """Lines joined where one goes on from another: wholly left of it, its last mark
    overlapping the other's first by LINE_OVERLAP of the shorter. A number written
    along a rising or falling baseline is one line, though its first and last digits
    are at different heights."""
    ends = [(max(line, key=lambda g: g.x1), min(line, key=lambda g: g.x0)) for line in lines]

    def goes_on(last: Group, first: Group) -> bool:
        overlap = min(last.y1, first.y1) - max(last.y0, first.y0)
        return last.x1 <= first.x0 and overlap >= LINE_OVERLAP * min(last.h, first.h)

    pairs = [(i, j) for (i, (last, _)), (j, (_, first))
             in itertools.permutations(enumerate(ends), 2) if goes_on(last, first)]
    return [[g for i in joined for g in lines[i]] for joined in linked(len(lines), pairs)]


def _lines(groups: list[Group]) -> list[list[Group]]:
    """Cluster groups into lines by vertical overlap; drop dashes and dots.

    Only marks of at least half the tallest mark's height start a line; a shorter one
    (a stray stroke, a dash) joins the line it overlaps most, or is dropped.
    """
    tallest = max(g.h for g in groups)
    lines: list[list[Group]] = []
    spans: list[list[int]] = []
    for g in sorted(groups, key=lambda g: (-g.h, g.y0)):
        overlaps = [min(g.y1, span[1]) - max(g.y0, span[0]) for span in spans]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= LINE_OVERLAP * min(g.h, spans[best][1] - spans[best][0]):
            lines[best].append(g)
            spans[best][0], spans[best][1] = min(spans[best][0], g.y0), max(spans[best][1], g.y1)
        elif g.h >= LINE_START * tallest:
            lines.append([g])
            spans.append([g.y0, g.y1])
        elif best >= 0 and overlaps[best] > 0:
            lines[best].append(g)
    lines = _continued(lines)
    biggest = min(max(max(g.w, g.h) for g in groups), MAX_PART_WIDTH * tallest)
    result = []
    for line in sorted(lines, key=lambda line: np.median([(g.y0 + g.y1) / 2 for g in line])):
        top = max(g.h for g in line)
        kept = [g for g in line if g.h >= MIN_LINE_HEIGHT * top
                and max(g.w, g.h) >= MIN_PAGE_EXTENT * biggest]
        if kept:
            result.append(sorted(kept, key=lambda g: g.x0 + g.x1))
    return result
