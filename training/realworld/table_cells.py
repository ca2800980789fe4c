"""usps-table: numbers of USPS digits cut out of a table, with the table's rules.

Numbers people want read often stand in a table: a register's column, a ledger, a
form's grid. Cut out of it, a number comes with the rules round its cell: the column's
rules on either side of it, the rows' above and below it, or both, each running from
edge to edge of the crop. Each sample is one number of 3-6 USPS digits of one split
(`training.realworld.usps_numbers`: one writer's number, as usps-numbers) in such a cell, the
rules printed (1-3 px, grey to black, a little askew) at a random distance from the
writing and the crop a few pixels beyond them (or through them), on a scan; read as
`model.predict` reads a file and scored as usps-numbers is. Tuned on USPS *train*
digits; USPS test is only the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from training.realsets import Sample, paper_page
from training.realworld.usps_numbers import number_picks, write_number
from training.usps_pictures import USPS_BLUR

TABLE_NUMBERS = 300  # cells in the set (the quick set, for tests: TABLE_QUICK)
TABLE_QUICK = 60
RULES = ("sides", "above-below", "grid")  # the column's rules, the rows', both: in turn
SIDE_ROOM = (0.1, 0.5)  # paper between the writing and a side rule, in digit heights
ROW_ROOM = (0.05, 0.4)  # ... and a rule above or below
BEYOND = (0, 6)  # px of paper between a rule and the crop's edge (0: cut at the rule)
RULE_PX = (1, 3)
RULE_INK = (0.5, 1.0)  # how dark the rules are printed, against the pen's 1
SKEW = 0.02  # the table a little askew: the rules' slope, either way


def table_samples(split: str = "test", count: int = TABLE_NUMBERS,
                  seed: int = 0) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` cut out of a table's cells with its rules
    (RULES in turn), as scans (grey uint8), seeded."""
    for k, (digits, text, rng) in enumerate(number_picks(split, count, seed)):
        ink = write_number(digits, rng)
        page = _in_a_cell(ink, RULES[k % len(RULES)], rng)
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(*USPS_BLUR))
        yield Sample(paper_page(rng, page), text)


def _in_a_cell(ink: np.ndarray, rules: str, rng: np.random.Generator) -> np.ndarray:
    """The number's ink with paper round it and the cell's rules, as ink in [0, 1]."""
    height = ink.shape[0]
    sides = [round(rng.uniform(*SIDE_ROOM) * height) for _ in range(2)]
    rows = [round(rng.uniform(*ROW_ROOM) * height) for _ in range(2)]
    beyond = [int(rng.integers(BEYOND[0], BEYOND[1] + 1)) for _ in range(4)]
    width = int(rng.integers(RULE_PX[0], RULE_PX[1] + 1))
    edge = width // 2 + 1  # a rule's middle this far in keeps all of it in the picture
    top, bottom, left, right = (r + b + edge for r, b in zip(rows + sides, beyond, strict=True))
    page = np.pad(ink, ((top, bottom), (left, right)))
    lines = np.zeros_like(page)
    rows_px, cols_px = page.shape
    slope = rng.uniform(-SKEW, SKEW)
    if rules in ("sides", "grid"):
        for x in (beyond[2] + edge, cols_px - 1 - beyond[3] - edge):
            cv2.line(lines, (x, 0), (round(x + slope * rows_px), rows_px), 1.0, width)
    if rules in ("above-below", "grid"):
        for y in (beyond[0] + edge, rows_px - 1 - beyond[1] - edge):
            cv2.line(lines, (0, y), (cols_px, round(y - slope * cols_px)), 1.0, width)
    return np.maximum(page, lines * rng.uniform(*RULE_INK))
