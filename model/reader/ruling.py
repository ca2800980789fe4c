"""Ruled and squared paper: an exercise book's printed lines, fainter than the pen.

Digits are written in exercise books: on ruled lines, or one in each square of a grid.
To the ink threshold of a scan or photo those lines are ink, and every digit that
touches one is joined through them to the whole page. The lines are printed light
(blue, grey) so that the pen stands out; so where a picture has at least MIN_RULINGS
thin straight lines across RULING_SPAN of it (level or upright; the straight side of
a stroke lies deep in its ink) whose ink is at most FAINT_RULING of the pen's (a
pencil is hardly darker than a grey grid), the threshold is raised between the two
levels: the lines drop out whole, grid crossings and all, and the strokes that cross
them stay unbroken. A digit written lighter than the rest, wholly under that threshold,
is kept where it stands alone and is no line (`lone_marks`).
Lines as dark as the pen are left to `model.reader.rules`, which takes out a form's boxes and
underlines (a 1 that fills its picture is as long and as dark as a line), and a ruled
page's lines among them (`without_dark_rulings`): a page scanned one bit deep or photocopied
keeps its grid as black as the pen, and only where the lines lie tells them apart; what
the search leaves of them, pieces far thinner than the pen, goes too (`without_line_pieces`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.reader.lines import (
    band_lines,
    bridged,
    grow,
    lines_across,
    straight_runs,
    take_out,
)
from model.reader.pixels import block_max, quantile

RULING_SPAN = 0.5  # a ruling runs across this share of the picture's width (or height)
MIN_RULINGS = 3  # ... and a ruled page shows this many of them at least
RULING_WIDTH = 5.0  # pixels (of the copy DETECT_SIDE wide): a printed line is thin
DETECT_SIDE = 320  # the lines are looked for on a copy at most this many pixels wide
# Gaps up to GAP_PX - 1 pixels (of that copy) along a line are bridged in the search
# (pencil pages of USPS *train* digits: 1 px, i.e. none, 90.0 % of 150 read right; 3 px
# 91.3 %; 5 px 92.7 %; 7 px 92.0 %).
GAP_PX = 5
# The lines' ink (its median) is at most this share of the pen's: printed lines are
# lighter than a ballpoint by far, and than a pencil by a little (90 pages of USPS
# *train* digits in a pencil grey at 0.5: 0.5 read 64.4 % of them right, 0.65 82.2 %,
# 0.8 83.3 %, and 95.6 % without lines; pages in ink and the form fields read the same
# at all three). A grid printed dark grey (0.2) under a black pen, 60 such pages: 71.7 %
# at 0.8, 86.7 % at 0.9 and at 1.0; every other page and set read the same at 0.9.
FAINT_RULING = 0.9
PEN_SHARE = 0.99  # the pen's level: this quantile of the ink off the lines
# A grid printed about as faint as `faint` shows there only in patches: one or two of
# its lines may cross the picture, too few for a ruled page. Then the lines are looked
# for again from FAINTER times `faint` up, and left out when at least PATCHES of their
# pixels reach `faint` (under that they lie under the threshold anyway, and raising
# the threshold over them would thin a pencil's strokes). 200 pages of USPS *train*
# digits: 190 read right with one search; 192 with a second from 0.7 (or 0.5; 191
# from 0.35) on every page without rulings, 38 of them finding some, a quarter to four
# fifths of whose pixels reached `faint` on 21 pages, under a quarter on 17 (a pencil's
# "55283" read "55233" on one of those); 193 with PATCHES; 193 searching again only
# where a line crossed the picture (a photo without lines pays no second search).
FAINTER = 0.7
PATCHES = 0.25
# Ink fainter than this multiple of the lines' 90th percentile is never kept, even where
# it joins the pen (hysteresis would take the whole line back).
ABOVE_RULING = 1.1
# A digit written lighter than the rest (less pressure, another pen) may lie wholly
# under the threshold, which sits halfway between the lines and the pen's darkest ink:
# it was dropped without a word ("361001" read "36100", sure). A mark from LONE_LEVEL
# of the way up from the lines to the pen, joined to none of the pen's ink, is kept
# when it is no line: under LONE_SPAN of the picture either way, LONE_MIN_PX tall (at
# the reader's working size), and wider than LINE_ASPECT of its height (a margin line
# left in pieces by the grid's removal is narrower, and pieces of it are darker than
# the grid). The 300 exercise-book pages of USPS *train* digits read the same from 0.2
# to 0.4 of the way.
LONE_LEVEL = 0.3
LONE_SPAN = 0.4
LONE_MIN_PX = 8
LINE_ASPECT = 0.15
# A ruled page printed as dark as the pen: its lines are RULED_VS_TEXT times as long as
# the tallest writing (marks at least TEXT_AREA of the largest's ink, no line's piece)
# at least. A line's pixels are those as near the straight line fitted to it as LINE_SHARE
# of the ink along it (a quantile), plus half a pixel: a low quantile keeps to the
# printed line where a digit's stroke runs along it. 300 exercise-book pages of USPS
# *train* digits thresholded to one bit: 60.7 % read exactly without the search; 75.0 %
# at 0, 82.0 % at 0.2, 85.7 % at 0.35, 84.3 % at 0.5, 82.0 % at 0.65, 73.7 % at 0.8 (more
# of the digits' strokes go with the lines).
#
# The search's runs are bands: where a row of digits touches both of the grid's lines
# round it, the two lines and the digits are one band, too thick for a line, and with
# a line left no writing stood apart ("40080" read "1"); a margin line beside a grid's
# line is one band thin enough for a line, and only one of the two went ("337 1"). A
# band is parted into the lines in it (`model.reader.lines.band_lines`). A line's
# pixels are taken from edge to edge of the picture, not only between the ends of its
# run: the search finds lines broken where others cross them, and a piece past the
# break was read as a sure 1 as thick as the pen ("690 1"). The writing is measured
# against the largest mark that is no line's piece: a margin line left whole
# outweighed the digits, which then passed for specks ("515" read "1"). One bit deep,
# a grid the threshold broke into dashes may show a few lines whole and the rest in
# pieces: the look in grown ink (`_rulings`' `grown`) is taken wherever it finds
# GROWN_MORE lines more than the first (at one more, a digit's strokes grown together
# passed for a line). 300 pages of USPS *train* digits one bit deep, read exactly:
# 88.3 % before; 89.0 % with thick bands parted, 91.0 % and lines from edge to edge,
# 91.3 % and the writing without pieces, 94.0 % and the grown look (93.7 % at one
# more), 94.3 % and thin bands parted too.
RULED_VS_TEXT = 2.5
TEXT_AREA = 0.2
LINE_SHARE = 0.35
GROWN_MORE = 2
# Pieces of a ruled page's lines that no search found whole (a grid the threshold broke
# into dashes, a line's end cut by the picture's edge) were read as stray sure 1s
# ("59704 1"). A 1 is written with its neighbours' pen, and a printed line is far
# thinner: a thin straight mark (LINE_ASPECT) whose deepest ink lies under PIECE_VS_PEN
# of the writing's (the median of its marks' deepest) is no digit. On 300 exercise-book
# pages of USPS *train* digits one bit deep, none of the 28 thin digit marks lay under
# 0.33 of it, and 94 % of the thin line pieces a third of the writing long lay under
# 0.3; read exactly, 85.7 % without the step, 86.3 % at 0.2, 88.3 % at 0.3, 88.7 % at
# 0.4, 89.0 % at 0.5 (0.3 keeps under the thinnest 1).
PIECE_VS_PEN = 0.3

Line = tuple[np.ndarray, int]  # a straight line's pixels and its length


@dataclass(frozen=True)
class PenLevels:
    """Where the pen's ink starts on a ruled page, on the paper-at-zero scale of
    `model.reader.ink`: its threshold, the faintest ink kept where it joins the pen, and the
    level from which a mark standing alone is the pen's (`lone_marks`)."""

    threshold: float
    faintest: float
    lone: float


def pen_above_ruling(flat: np.ndarray, faint: float,
                     one_bit: bool = False) -> tuple[PenLevels | None, bool]:
    """The levels that keep the pen and leave out a ruled page's faint lines, None
    when the picture (`flat`: ink above the paper) has none; and whether it has a ruled
    page's lines at all (those no levels leave out: `without_dark_rulings`). The lines
    are looked for in all ink from `faint` up, joined to the digits or not, on a copy
    at most DETECT_SIDE wide (each of its pixels the strongest of those it stands for,
    so a hairline stays whole and keeps its level). `one_bit`: the picture is one bit
    deep, and its lines may be broken at every step (`_rulings`' `grown`)."""
    flat = block_max(flat, -(-max(flat.shape) // DETECT_SIDE))
    mask = flat >= faint
    lines, across = _rulings(mask)
    if 0 < across < MIN_RULINGS:  # lines across, too few: the rest may be in patches
        mask = flat >= FAINTER * faint
        lines, _ = _rulings(mask)
    if not lines and one_bit:  # its hairlines may be broken at every step
        lines, across = _rulings(mask, grown=True)
    if not lines:
        return None, False
    rulings = np.logical_or.reduce([line for line, _ in lines])
    if 0 < across < MIN_RULINGS and np.mean(flat[rulings] >= faint) < PATCHES:
        return None, False  # it lies under the threshold: leaving it out would thin the pen
    off_lines = flat[mask & ~grow(rulings)]
    if off_lines.size == 0:
        return None, True
    pen = quantile(off_lines, PEN_SHARE)
    on_lines = flat[rulings]
    ruling = quantile(on_lines, 0.5)  # strokes crossing the lines are the minority
    if ruling > FAINT_RULING * pen:
        return None, True  # printed as dark as the pen
    threshold = (ruling + pen) / 2
    # The lines' own top level, unless strokes along them are a tenth of their pixels.
    return PenLevels(threshold, min(ABOVE_RULING * quantile(on_lines, 0.9), threshold),
                     ruling + LONE_LEVEL * (pen - ruling)), True


def without_dark_rulings(mask: np.ndarray, one_bit: bool = False) -> np.ndarray:
    """`mask` (the ink of a page `pen_above_ruling` found a ruling on) without a ruled
    page's lines printed as dark as the pen (a one-bit scan, a photocopy), which no
    threshold leaves out; the strokes crossing them are kept (`take_out`). They are a
    ruled page's lines (`_rulings`, crossed ones too, on a copy at most DETECT_SIDE
    wide) when each is RULED_VS_TEXT times as tall as the tallest writing left without
    them: a row of 1s cut tight is as long as the writing is tall. `one_bit`: the
    picture is one bit deep, and they are looked for in grown ink too (GROWN_MORE)."""
    block = -(-max(mask.shape) // DETECT_SIDE)
    small = block_max(mask.astype(np.uint8), block).astype(bool)
    found, _ = _rulings(small, crossed=True)
    if one_bit:
        more, _ = _rulings(small, crossed=True, grown=True)
        if len(more) >= len(found) + GROWN_MORE:
            found = more
    if not found:
        return mask
    kept = take_out(mask, _on_the_lines(mask, found, block))
    _, _, stats, _ = cv2.connectedComponentsWithStats(kept.astype(np.uint8), connectivity=8)
    text = stats[1:, cv2.CC_STAT_HEIGHT][_writing(stats)[1]]
    shortest = min(length for _, length in found) * block
    if text.size == 0 or shortest < RULED_VS_TEXT * text.max():
        return mask
    return kept


def without_line_pieces(mask: np.ndarray) -> np.ndarray:
    """`mask` (the ink of a ruled page, its lines taken out) without the pieces of lines
    left behind: thin straight marks with a stroke far thinner than the writing's
    (PIECE_VS_PEN)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                                connectivity=8)
    pieces, text = _writing(stats)
    if not text.any() or text.all():
        return mask
    ink = labels > 0
    deepest = np.zeros(count, np.float32)
    np.maximum.at(deepest, labels[ink], cv2.distanceTransform(ink.astype(np.uint8),
                                                               cv2.DIST_L2, 3)[ink])
    stray = pieces & (deepest[1:] <= PIECE_VS_PEN * np.median(deepest[1:][text]))
    return mask & np.r_[False, ~stray][labels] if stray.any() else mask


def _writing(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the marks of `stats` (connectedComponentsWithStats', paper first): the thin
    straight ones, pieces of lines (far longer than thick: LINE_ASPECT), and those that
    are writing (at least TEXT_AREA of the ink of the largest mark that is no piece,
    LONE_MIN_PX tall, no piece)."""
    areas, widths, heights = (stats[1:, k] for k in (cv2.CC_STAT_AREA, cv2.CC_STAT_WIDTH,
                                                      cv2.CC_STAT_HEIGHT))
    pieces = np.minimum(widths, heights) <= LINE_ASPECT * np.maximum(widths, heights)
    largest = areas[~pieces].max(initial=0)
    text = (areas >= TEXT_AREA * largest) & (heights >= LONE_MIN_PX) & ~pieces
    return pieces, text


def _on_the_lines(mask: np.ndarray, lines: list[Line], block: int) -> np.ndarray:
    """The pixels of `mask` on the straight `lines` found on a copy `block` times
    smaller, from edge to edge of the picture (see LINE_SHARE): a ruled page's lines
    cross it whole, and the search finds them broken where others cross them."""
    found = np.zeros_like(mask, dtype=bool)
    iy, ix = np.nonzero(mask)
    for line, _ in lines:
        near = line[iy // block, ix // block]
        points = np.column_stack([ix[near], iy[near]]).astype(np.float32)
        if len(points) < 2:
            continue
        vx, vy, x0, y0 = cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        off = np.abs((ix - x0) * vy - (iy - y0) * vx)
        on = off <= np.quantile(off[near], LINE_SHARE) + 0.5
        found[iy[on], ix[on]] = True
    return found


def lone_marks(candidates: np.ndarray) -> np.ndarray:
    """The marks of `candidates` (bool: faint ink joined to none of the pen's) that are
    no printed line (see LONE_LEVEL)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        candidates.astype(np.uint8), connectivity=8)
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    keep = ((width < LONE_SPAN * candidates.shape[1]) & (height < LONE_SPAN * candidates.shape[0])
            & (height >= LONE_MIN_PX) & (width > LINE_ASPECT * height))
    keep[0] = False
    return keep[labels]



def _rulings(mask: np.ndarray, crossed: bool = False,
             grown: bool = False) -> tuple[list[Line], int]:
    """The thin straight lines across the picture (each one's pixels and length) when
    it has at least MIN_RULINGS of them, else none; and how many straight lines across
    it were found. `crossed`: the lines crossing others are looked for again (a grid's
    are, see `straight_runs`). `grown`: they are looked for in the ink grown by a pixel
    (one bit deep, a hairline a little askew steps from one row to the next with both
    pixels half inked, both go, and the line's pieces end a row apart)."""
    if mask.any(axis=0).mean() < RULING_SPAN and mask.any(axis=1).mean() < RULING_SPAN:
        return [], 0  # no ink reaches across the picture
    # A hairline a little askew crosses from one row to the next with both pixels half
    # inked, and a faint line's half falls under the threshold: bridge such gaps along
    # rows and columns so the line is found whole; only inked pixels count as the line.
    joined = bridged(grow(mask) if grown else mask, GAP_PX).astype(np.uint8)
    runs = straight_runs(joined, round(RULING_SPAN * min(mask.shape)), crossed)
    candidates = [(line & mask, length) for line, length in lines_across(runs, RULING_SPAN)]
    if len(candidates) < MIN_RULINGS:
        return [], len(candidates)
    # A run is a band a few pixels wide wherever it lies; how deep it lies in the ink
    # says whether that ink is a thin line or a stroke (the side of a 0 in a tight crop).
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)

    def is_thin(line: np.ndarray, length: int) -> bool:
        return bool(line.sum() <= RULING_WIDTH * length
                    and 2 * np.median(depth[line]) <= RULING_WIDTH)

    # A band may be two lines side by side (a margin line beside the grid's), or joined
    # through the writing between them.
    thin = [(part, length) for line, length in candidates
            for part in band_lines(line, length, is_thin(line, length))
            if is_thin(part, length)]
    if len(thin) < MIN_RULINGS or _closed_box([line for line, _ in thin]):
        return [], len(candidates)
    return thin, len(candidates)


def _closed_box(lines: list[np.ndarray]) -> bool:
    """Two level and two upright lines that end where they meet (within GAP_PX): the four
    sides of a box (a printed box round a digit, a plot's frame), which `model.reader.rules`
    takes out, not a ruled page's lines. A box's hairlines, greyed by anti-aliasing, are
    fainter than the pen's darkest ink, and the threshold raised over them dropped a
    digit's grey pixels."""
    if len(lines) != 4:
        return False
    boxes = [cv2.boundingRect(line.astype(np.uint8)) for line in lines]  # x, y, w, h
    level = [b for b in boxes if b[2] > b[3]]
    upright = [b for b in boxes if b[2] <= b[3]]
    if len(level) != 2 or len(upright) != 2:
        return False
    left, right = min(b[0] for b in upright), max(b[0] + b[2] for b in upright)
    top, bottom = min(b[1] for b in level), max(b[1] + b[3] for b in level)
    return (all(abs(x - left) <= GAP_PX and abs(x + w - right) <= GAP_PX
                for x, _, w, _ in level)
            and all(abs(y - top) <= GAP_PX and abs(y + h - bottom) <= GAP_PX
                    for _, y, _, h in upright))
