"""Ink that touches the writing but is no part of it: show-through, stains.

`model.reader.ink` keeps faint ink (down to WEAK_LEVEL) wherever it connects to clearly dark
ink: a stroke's soft edge, a stretch written with less pressure. On old or thin paper
the writing on the back of the sheet shows through, mirrored and blurred, a tenth to
a third as dark as the pen; where it touches a digit, that hysteresis took all of it,
and "1062" on yellowed paper was read "122". The stroke's own faint ink lies close to
its dark core; so, once a scan's printed lines are out (their faint, thin pieces are
joined through the same hysteresis, and `model.reader.rules` needs them whole), faint ink
further than FAINT_REACH stroke widths from the clear ink it hangs on is left out.
Tuned on 150 numbers of USPS *train* digits on old paper (`training.realworld.old_paper`), read
exactly with the back showing through (and without it): without a reach 117 (141); a
reach of 2 stroke widths 122 (141), 1: 127 (141), 0.5: 131 (140), 0.25: 129 (143).

Where the back shows through as dark as a faded pen, it is clear ink, and the reach
keeps it. But the sheet blurs it: its edges are soft where a pen's are sharp, however
faint the pen has faded. So each ink pixel goes with the nearest edge of the ink, and
ink nearer a soft edge than a sharp one, and fainter than the pen, is left out too
(`sharp_writing`). Fainter, because the sheet dims what it blurs: a digit out of
focus, or a small one enlarged, has soft edges in places too, but its ink is as dark.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader.ink import INK_LEVEL, InkMap, connected_to, stroke_width

FAINT_REACH = 0.5  # stroke widths: the soft edge of a stroke, a short faint stretch of it
MIN_REACH_PX = 2.0  # ... and at least this many pixels, the edge of a thin pen's stroke
# An edge is the pen's when its steepness is at least SHARP_SHARE of the writing's
# steep edges (their 90th percentile): a faded stretch of a stroke keeps its edge's
# shape, only lower; the back's is spread over a few pixels by the sheet. Tuned on 300
# numbers of USPS *train* digits on old paper, read exactly (261 without the rule;
# before SOFT_INK_LEVEL): with a SOFT_MARGIN_PX of 1, 0.25: 264, 0.3: 267, 0.35: 272,
# 0.5: 269; of 2, 0.3: 266, 0.35: 273; 0.4 with 1.5: 274, but 2 train numbers fewer
# cut out of a page and 2 in exercise books (0.35 with 2: as many, 1 more).
SHARP_SHARE = 0.35
SHARP_QUANTILE = 0.9
SOFT_MARGIN_PX = 2.0  # ink within this much nearer a soft edge than a sharp one stays
# Soft-edged ink goes only where it is fainter than the pen: a piece of it with at least
# SOFT_SHARE of its ink under SOFT_INK_LEVEL (1.0 is the stroke core, INK_LEVEL the
# threshold).
# Old paper, as above, 273 of 300 without this condition; with it (as the piece's 90th
# percentile, first): 0.9 273, 0.8 272, 0.75 272, 0.7 271 (as a share: 271), 0.6 270.
# Without it, 20 of scikit-learn's 1,797 bundled 8x8 digits read otherwise (7 fewer
# right): enlarged, their edges are soft in places; with 0.7: 2 (none fewer right).
SOFT_INK_LEVEL = 0.7
SOFT_SHARE = 0.9
MIN_EDGE_PX = 20  # fewer edge pixels than this say nothing about sharpness


def within_reach(ink: InkMap, mask: np.ndarray) -> np.ndarray:
    """`mask` (ink.mask or part of it) less the faint ink further than FAINT_REACH stroke
    widths from the clear ink (>= INK_LEVEL) it is joined to. A mark with no clear ink
    at all (a digit written lighter than the rest, `model.reader.ruling.lone_marks`) stays."""
    clear = mask & (ink.ink >= INK_LEVEL)
    if not clear.any() or clear.all():
        return mask
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))  # all the work lies within
    marks, dark = mask[y:y + h, x:x + w], clear[y:y + h, x:x + w]
    reach = max(MIN_REACH_PX, FAINT_REACH * stroke_width(dark))
    distance = cv2.distanceTransform((~dark).astype(np.uint8), cv2.DIST_L2, 3)
    kept = mask.copy()
    kept[y:y + h, x:x + w] &= (distance <= reach) | ~connected_to(dark, marks)
    return kept


def sharp_writing(ink: InkMap, mask: np.ndarray) -> np.ndarray:
    """`mask` less the ink nearer a soft edge of the ink than a sharp one (SHARP_SHARE)
    and fainter than the pen (SOFT_INK_LEVEL): writing on the back of the sheet, blurred
    through it, where it is clear ink or touches the pen's. Ink with edges of one kind
    only stays as it is."""
    if not mask.any():
        return mask
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    x0, y0 = max(0, x - 1), max(0, y - 1)  # a pixel of paper round the ink, where there is
    x1, y1 = min(mask.shape[1], x + w + 1), min(mask.shape[0], y + h + 1)
    marks, strength = mask[y0:y1, x0:x1], ink.ink[y0:y1, x0:x1]
    # Ink cut by the picture's edge has no edge of its own there.
    inner = cv2.erode(marks.astype(np.uint8), np.ones((3, 3), np.uint8),
                      borderType=cv2.BORDER_REPLICATE).astype(bool)
    edge = marks & ~inner
    if edge.sum() < MIN_EDGE_PX:
        return mask
    steepness = np.hypot(cv2.Sobel(strength, cv2.CV_32F, 1, 0, ksize=3),
                         cv2.Sobel(strength, cv2.CV_32F, 0, 1, ksize=3))
    sharp = edge & (steepness >= SHARP_SHARE * np.quantile(steepness[edge], SHARP_QUANTILE))
    soft = edge & ~sharp
    if not sharp.any() or not soft.any():
        return mask
    to_sharp = cv2.distanceTransform((~sharp).astype(np.uint8), cv2.DIST_L2, 3)
    to_soft = cv2.distanceTransform((~soft).astype(np.uint8), cv2.DIST_L2, 3)
    softer = marks & (to_sharp > to_soft + SOFT_MARGIN_PX)
    count, pieces = cv2.connectedComponents(softer.astype(np.uint8), connectivity=8)
    faint = np.bincount(pieces[softer], weights=strength[softer] < SOFT_INK_LEVEL,
                        minlength=count)
    size = np.bincount(pieces[softer], minlength=count)
    gone = faint >= SOFT_SHARE * np.maximum(size, 1)
    gone[0] = False  # the label of everything else
    kept = mask.copy()
    kept[y0:y1, x0:x1] &= ~gone[pieces]
    return kept
