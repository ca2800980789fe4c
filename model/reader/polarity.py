"""Polarity: which of a picture's two levels is the ink (dark on light, or chalk, MNIST
and white brushes: light on dark)."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from model.reader.pixels import (
    DIGIT_BOX_SIDE,
    EVEN_SPREAD_SEPARATION,
    ONE_BIT_TOLERANCE,
    is_digit_box,
    is_one_bit,
    otsu,
    sample_of,
    shrink,
    two_level_separation,
)

POLARITY_SIDE = 256  # polarity is judged on a copy at most this wide
BORDER_FRACTION = 0.04
# Light ink on dark paper only when the border is this dark, fewer than LIGHT_CORNERS
# of the picture's corners (CORNER_BANDS border bands square) are light, and at least
# LIGHT_INSIDE of the light pixels lie inside that margin.
LIGHT_INK_BORDER = 0.65
CORNER_BANDS = 3
LIGHT_CORNERS = 2
LIGHT_INSIDE = 0.1
# ... and, in a picture larger than one digit's box, the picture is still dark
# FRAME_DEPTH border bands in: a dark border round light paper (under FRAMED_PAPER of
# that ring dark) is a frame (a printed box or a table's rules round a number, close to
# the crop's edges), not dark paper. A digit stretched to its box reaches that ring.
FRAME_DEPTH = 2
FRAMED_PAPER = 0.1
# A one-bit picture with both levels on at least BOTH_ON_BORDER of its border: the ink
# is the level in fewer pieces (MORE_PIECES fewer at least; pieces over PIECE_MIN_AREA).
BOTH_ON_BORDER = 0.1
MORE_PIECES = 2
PIECE_MIN_AREA = 0.002
SLIVER_AREA = 0.25  # ... and it is no sliver-thin level along the edges, this share at most
PAPER_SPAN = 0.6  # paper left at the edges of a stroke filling its box: each piece spans less
# ... unless one piece of a level runs along this share of the border: paper round
# writing that reaches the edges in places only (a number cropped out of a page).
PAPER_ROUND = 0.75
INK_INSIDE = 0.5  # ... and this share of the other level lies in pieces off the edges,
SEVERAL_MARKS = 6  # ... or it is this many pieces: a number cut tight, several marks
# Ink judged so by its pieces that covers more than this share of the picture leaves the
# polarity a close call too (`Polarity`): a thin stroke the threshold broke is in more
# pieces than the paper round it, and that paper, most of the picture, looks like ink.
MOST_OF_THE_PICTURE = 0.5
# A one-bit digit of 16x16 upscaled bilinearly ramps between its levels over a source
# pixel, a digit-box pixel (of 32 to the side) either way of the edge; its levels are
# flat this many digit-box pixels in (half a pixel more for `shrink`'s own smoothing).
RAMP_SIDES = 1.5


class Polarity(NamedTuple):
    """Which level is the ink, and whether the picture left that a close call: one bit
    deep, both levels along its border and neither in clearly fewer pieces (a digit cut
    to its box, saved either way round, whose shape alone does not say which is ink),
    or the level judged ink by its pieces covering most of the picture (a bold digit
    stretched to its box, or the paper round a thin stroke the threshold broke)."""

    light_on_dark: bool  # the ink is lighter than the paper (chalk, MNIST, a white brush)
    close_call: bool


def judge_polarity(gray: np.ndarray) -> Polarity:
    """The picture's polarity (`Polarity`)."""
    small, _ = shrink(gray, POLARITY_SIDE)
    dark = small <= otsu(small)
    band = max(1, round(BORDER_FRACTION * min(small.shape)))
    border = _rim(dark, band).mean()
    light_ink = _light_ink_by_border(dark, band, border)
    # One bit deep with the light only in small pieces at the edges: a dark stroke
    # stretched to fill its box (a straight 1 in a thick pen), the light what is left of
    # the paper. Light writing stretched to its box has a stroke that spans it, and a
    # light digit on dark paper has strokes off the edges.
    if light_ink and paper_at_edges(~dark) and is_one_bit(sample_of(small)):
        return Polarity(False, False)
    # One bit deep with a dark level of slivers along a little of the border only: a
    # light digit stretched to fill its box, the slivers what is left of the paper. On
    # so little of the border, a small dark digit near a corner would be slivers too, but
    # not every piece of it reaches the edge. (Cheapest tests first: this and the next
    # branch run on every picture, and each border share passes at most one of them.)
    if (border < BOTH_ON_BORDER and _slivers(dark, band)
            and is_one_bit(sample_of(small)) and _all_on_edge(dark)):
        return Polarity(True, False)
    # Two levels with both along the border (a digit cut to its box): the border says
    # little. Writing is a stroke or two, and the paper between strokes that reach the
    # edges falls into several regions: the ink has fewer pieces. Nor is ink only
    # slivers along the edges (what is left of the paper round a stretched 1).
    if BOTH_ON_BORDER <= border <= 1 - BOTH_ON_BORDER and _ink_and_paper(small):
        # Writing that reaches the edges in places only (a number cut out of a page with
        # pieces of its neighbours): its paper is most of the picture and one piece along
        # most of the border, and its ink lies mostly inside or is several marks. A digit
        # cut to its box has a stroke or two, all on the edges; a printed box round a
        # digit is no paper, but ink.
        for paper_level, light in ((~dark, False), (dark, True)):
            if (paper_level.mean() > 0.5 and _round_the_border(paper_level, band)
                    and _marks_not_a_box(~paper_level)):
                return Polarity(light, False)
        ink, paper = (~dark, dark) if light_ink else (dark, ~dark)
        more_pieces = _pieces(ink) - _pieces(paper)
        slivers = _slivers(ink, band)
        flip = more_pieces >= MORE_PIECES or slivers
        close = (abs(more_pieces) < MORE_PIECES
                 or bool((paper if flip else ink).mean() > MOST_OF_THE_PICTURE))
        return Polarity(light_ink != flip, close)
    return Polarity(light_ink, False)


def _ink_and_paper(small: np.ndarray) -> bool:
    """The picture is two levels, ink and paper: one bit deep, or one digit's box in
    grey (a digit stretched to fill it, smoothly) whose two Otsu classes stand further
    apart than an even spread of greys' (a small photo's shadow and faint strokes do not),
    or flat at both levels away from the edges between them (`_flat_levels`).
    """
    if is_one_bit(sample_of(small)):
        return True
    if is_digit_box(small.shape):
        return two_level_separation(small) >= EVEN_SPREAD_SEPARATION
    return _flat_levels(small)


def _flat_levels(small: np.ndarray) -> bool:
    """Each Otsu class, RAMP_SIDES of a digit box's pixel in from its edge, is one level
    within ONE_BIT_TOLERANCE: a one-bit picture upscaled smoothly (bilinear ramps a
    source pixel wide, more of a bold digit than `is_one_bit` allows), never a photo or
    a scan (their paper has grain)."""
    depth = max(1, round(RAMP_SIDES * min(small.shape) / DIGIT_BOX_SIDE))
    kernel = np.ones((2 * depth + 1, 2 * depth + 1), np.uint8)
    dark = (small <= otsu(small)).astype(np.uint8)
    for level in (dark, 1 - dark):
        core = small[cv2.erode(level, kernel, borderType=cv2.BORDER_REPLICATE) > 0]
        if core.size == 0 or float(np.ptp(core)) > ONE_BIT_TOLERANCE:
            return False
    return True


def _slivers(mask: np.ndarray, band: int) -> bool:
    """Under SLIVER_AREA of the picture, and only slivers along its edges (`_in_slivers`)."""
    return bool(mask.mean() < SLIVER_AREA) and _in_slivers(mask, band)


def paper_at_edges(mask: np.ndarray) -> bool:
    """Under SLIVER_AREA of the picture, in pieces each on its edge and under
    PAPER_SPAN of its width and of its height (a stroke spans more, one way at least):
    what is left of the paper round a bold stroke stretched to fill its box."""
    if mask.mean() >= SLIVER_AREA:
        return False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                              connectivity=8)
    on_edge = np.isin(np.arange(1, count), _edge_labels(labels))
    small = ((stats[1:, cv2.CC_STAT_WIDTH] < PAPER_SPAN * mask.shape[1])
             & (stats[1:, cv2.CC_STAT_HEIGHT] < PAPER_SPAN * mask.shape[0]))
    return bool(on_edge.all() and small.all())


def _rim(values: np.ndarray, band: int) -> np.ndarray:
    """The picture's border bands, `band` pixels deep, as one flat array (as `border`
    measures them: the corners in two bands each)."""
    return np.concatenate([values[:band].ravel(), values[-band:].ravel(),
                           values[:, :band].ravel(), values[:, -band:].ravel()])


def _edge_labels(labels: np.ndarray) -> np.ndarray:
    """The labels of the pieces that reach the picture's outermost rows or columns."""
    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def _round_the_border(mask: np.ndarray, band: int) -> bool:
    """One piece of the mask covers PAPER_ROUND of the picture's border bands or more."""
    labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[1]
    rim = _rim(labels, band)
    counts = np.bincount(rim)
    counts[0] = 0  # the other level
    return bool(counts.max() >= PAPER_ROUND * rim.size)


def _marks_not_a_box(mask: np.ndarray) -> bool:
    """The mask is writing on paper, not a digit cut to its box (whose ink is a stroke or
    two, all on the edges): INK_INSIDE of it or more lies in pieces off the edges, or it
    is SEVERAL_MARKS pieces (over PIECE_MIN_AREA) or more."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                          connectivity=8)
    area = stats[1:, cv2.CC_STAT_AREA]
    on_edge = _edge_labels(labels)
    inside = area.sum() - area[on_edge[on_edge > 0] - 1].sum()
    marks = int(np.sum(area >= PIECE_MIN_AREA * mask.size))
    return bool(inside >= INK_INSIDE * max(area.sum(), 1) or marks >= SEVERAL_MARKS)


def _all_on_edge(mask: np.ndarray) -> bool:
    """Every piece of the mask touches the picture's edge."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return bool(np.isin(np.arange(1, count), _edge_labels(labels)).all())


def _in_slivers(mask: np.ndarray, band: int) -> bool:
    """Under LIGHT_INSIDE of the mask lies inside the margin of CORNER_BANDS border
    bands: it is only slivers along the edges."""
    c = band * CORNER_BANDS
    return bool(mask[c:-c, c:-c].sum() < LIGHT_INSIDE * max(mask.sum(), 1))


def _light_ink_by_border(dark: np.ndarray, band: int, border: float) -> bool:
    if border < LIGHT_INK_BORDER:
        return False  # paper shows along the border: dark ink, as on paper
    depth = FRAME_DEPTH * band
    inner = dark[depth:dark.shape[0] - depth, depth:dark.shape[1] - depth]
    if (not is_digit_box(dark.shape) and min(inner.shape) > 2 * band
            and _rim(inner, band).mean() < FRAMED_PAPER):
        return False  # a dark frame round light paper
    # A dark border may still be dark writing that fills its picture to the edges (a
    # digit cut to its box, as some published sets keep them): then the paper shows in
    # the corners, which writing seldom reaches, or only in slivers along the edges.
    c = band * CORNER_BANDS
    corners = [dark[:c, :c], dark[:c, -c:], dark[-c:, :c], dark[-c:, -c:]]
    if sum(bool(corner.mean() < 0.5) for corner in corners) >= LIGHT_CORNERS:
        return False
    return not _in_slivers(~dark, band)


def _pieces(mask: np.ndarray) -> int:
    """Connected pieces of a mask, specks (under PIECE_MIN_AREA of the picture) aside."""
    stats = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)[2]
    return int(np.sum(stats[1:, cv2.CC_STAT_AREA] >= PIECE_MIN_AREA * mask.size))
