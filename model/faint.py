"""Faint ink that touches the writing but is no part of it: show-through, stains.

`model.ink` keeps faint ink (down to WEAK_LEVEL) wherever it connects to clearly dark
ink: a stroke's soft edge, a stretch written with less pressure. On old or thin paper
the writing on the back of the sheet shows through, mirrored and blurred, a tenth to
a third as dark as the pen; where it touches a digit, that hysteresis took all of it,
and "1062" on yellowed paper was read "122". The stroke's own faint ink lies close to
its dark core; so, once a scan's printed lines are out (their faint, thin pieces are
joined through the same hysteresis, and `model.rules` needs them whole), faint ink
further than FAINT_REACH stroke widths from the clear ink it hangs on is left out.
Tuned on 150 numbers of USPS *train* digits on old paper (`training.old_paper`), read
exactly with the back showing through (and without it): without a reach 117 (141); a
reach of 2 stroke widths 122 (141), 1: 127 (141), 0.5: 131 (140), 0.25: 129 (143).
"""

from __future__ import annotations

import cv2
import numpy as np

from model.ink import INK_LEVEL, InkMap, connected_to, stroke_width

FAINT_REACH = 0.5  # stroke widths: the soft edge of a stroke, a short faint stretch of it
MIN_REACH_PX = 2.0  # ... and at least this many pixels, the edge of a thin pen's stroke


def within_reach(ink: InkMap, mask: np.ndarray) -> np.ndarray:
    """`mask` (ink.mask or part of it) less the faint ink further than FAINT_REACH stroke
    widths from the clear ink (>= INK_LEVEL) it is joined to. A mark with no clear ink
    at all (a digit written lighter than the rest, `model.ruling.lone_marks`) stays."""
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
