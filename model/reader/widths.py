"""How wide digits are: of each class (MNIST's own spread), and of a writer's line.

Segmentation's options (`model.reader.options`) and the reader's choice among them
(`model.reader.classify`) judge a mark's width by these: a mark as wide as two digits is rather
two digits, unless its writer writes wide.
"""

from __future__ import annotations

import numpy as np

from model.reader.pieces import Group

# How wide digits of each class are: the share of MNIST's 60,000 training digits whose
# ink box (pixels >= 128) is at least WIDTH_GRID times as wide as tall (the tests
# recompute it). Reading a mark as a digit wider than its class usually is costs
# WIDTH_WEIGHT per unit of log-rarity against a square digit, so a mark as wide as two
# digits is rather an 8 touching a 3 than one broad 8, while a wide 2 or 5 stays whole.
WIDTH_GRID = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
WIDTH_TAIL = (
    (0.3427, 0.0763, 0.0206, 0.0032, 0.0012, 0.0008),  # 0
    (0.0070, 0.0004, 0.0001, 0.0001, 0.0001, 0.0001),  # 1
    (0.4105, 0.1235, 0.0515, 0.0183, 0.0062, 0.0045),  # 2
    (0.1488, 0.0215, 0.0041, 0.0005, 0.0001, 0.0001),  # 3
    (0.1448, 0.0219, 0.0034, 0.0002, 0.0001, 0.0001),  # 4
    (0.4272, 0.1887, 0.0847, 0.0269, 0.0063, 0.0035),  # 5
    (0.0656, 0.0096, 0.0035, 0.0005, 0.0001, 0.0001),  # 6
    (0.1152, 0.0215, 0.0073, 0.0018, 0.0008, 0.0002),  # 7
    (0.1108, 0.0178, 0.0048, 0.0010, 0.0002, 0.0002),  # 8
    (0.0296, 0.0027, 0.0012, 0.0003, 0.0001, 0.0001),  # 9
)
WIDTH_WEIGHT = 0.5
# Past the table the log-rarity keeps falling by this much per unit of width: of the
# 60,000, all classes together, 53 are at least 2.0 times as wide as tall, 5 at least
# 2.5 and none 3.0 (ln(53 / 5) per 0.5). A row of loops 3.5 times as wide as tall is
# then no one broad digit.
BEYOND_SLOPE = 4.7
_LOG_TAIL = np.log(np.asarray(WIDTH_TAIL))
# The writer's width: the median aspect of a line's other digits (marks narrower than
# NARROW_MARK are 1s and say nothing) against MNIST's median digit (0.8, 1s aside),
# from WRITER_MIN_MARKS such marks on, between 1 and WRITER_MAX_WIDTH. A wide writer's
# digits are judged by MNIST's widths divided by it: a broad 2 among broad digits is
# one 2, not a 6 touching a 2.
NARROW_MARK = 0.45
MNIST_ASPECT = 0.8
WRITER_MIN_MARKS = 2
WRITER_MAX_WIDTH = 1.6


def writer_width(line: list[Group], own: tuple[Group, ...]) -> float:
    """How much wider than MNIST's the line's digits other than `own` are (>= 1)."""
    aspects = [g.w / g.h for g in line if all(g is not o for o in own)]
    aspects = [a for a in aspects if a >= NARROW_MARK]
    if len(aspects) < WRITER_MIN_MARKS:
        return 1.0
    return float(np.clip(np.median(aspects) / MNIST_ASPECT, 1.0, WRITER_MAX_WIDTH))


def width_prior(digit: int, aspect: float, writer: float = 1.0) -> float:
    """Log-prior (<= 0) of a mark `aspect` times as wide as tall being this digit,
    written by a writer `writer` times as wide as MNIST's."""
    aspect /= writer
    if aspect <= WIDTH_GRID[0]:
        return 0.0
    tail = _LOG_TAIL[digit]
    beyond = BEYOND_SLOPE * max(0.0, aspect - WIDTH_GRID[-1])
    return WIDTH_WEIGHT * float(np.interp(aspect, WIDTH_GRID, tail) - tail[0] - beyond)
