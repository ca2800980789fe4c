"""usps-uneven: numbers whose digits are written at uneven sizes
(`training.realworld.uneven_numbers`).

A short 1 or a small digit standing on the line beside a taller digit is a digit of its
own, not a loose stroke of its neighbour; so is a 1 written a little above the line. A
mark read alone in a run of marks that may be one digit is charged as short from
PART_FREE of the line's height, but from STANDING_FREE (a stroke: STANDING_STROKE_FREE)
when its foot is on the line, or it is a stroke raised by up to RAISED_FREE
(`model.reader.footing`). A 4's loose stroke, which ends at its bar and which the bar reaches
back to, is still charged as before (`tests/test_multistroke.py` holds digits cut in two).
"""

from __future__ import annotations

import numpy as np
import pytest

import model.reader.footing
from model.reader import read_digits
from training.realworld.uneven_numbers import UNEVEN_QUICK, uneven_samples
from training.realworld.usps_numbers import number_scan, numbers_report, write_number
from training.usps import load_usps

# The quick set (the first UNEVEN_QUICK test numbers), shipped model: 56 of 60 read
# exactly, 58 with the right digit count (55 and 57 before raised strokes were kept; 52
# and 54 charging every mark from PART_FREE).
MIN_EXACT = 0.88
MIN_COUNT_RIGHT = 0.93
MAX_SURE_WRONG = 0.07
# Numbers of three USPS test digits, the middle one a short 1: SHORT_ONE as tall as the
# others, its foot on the line (standing) or RAISED_ONE as tall, its foot RAISE above
# the line (raised; the line's height: the other two). Shipped model, 30 of each: read
# with three digits, standing 27, all right (12 charging every mark from PART_FREE);
# raised 27, 24 right (19).
SHORT_ONE = 0.55
RAISED_ONE = 0.6
RAISE = 0.25
SHORT_ONE_NUMBERS = 30
MIN_SHORT_ONES_KEPT = 24
MIN_SHORT_ONES_RIGHT = 21  # ... and read right, every digit


@pytest.fixture(scope="module")
def report(predictor) -> dict:
    return numbers_report(list(uneven_samples("test", UNEVEN_QUICK)), predictor)


def test_uneven_numbers_are_read(report: dict) -> None:
    assert report["n"] == UNEVEN_QUICK
    assert report["reader"] >= MIN_EXACT, report
    assert report["count_right"] >= MIN_COUNT_RIGHT, report
    assert report["sure_wrong"] <= MAX_SURE_WRONG, report


def short_one_numbers(placing: tuple[float, float], count: int = SHORT_ONE_NUMBERS,
                      seed: int = 5) -> list[tuple[np.ndarray, str]]:
    """(page, text): a USPS test digit, a 1 placed as `placing` says (its height, how far
    its foot drops below the line: `training.realworld.usps_numbers.write_number`) and another
    digit, theirs on the line."""
    usps = load_usps("test")
    ones = np.flatnonzero(usps.labels == 1)
    others = np.flatnonzero(usps.labels != 1)
    rng = np.random.default_rng(seed)
    pages = []
    for _ in range(count):
        a, b = rng.choice(others, 2, replace=False)
        one = rng.choice(ones)
        ink = write_number([usps.images[a], usps.images[one], usps.images[b]], rng,
                           placing=[(1.0, 0.0), placing, (1.0, 0.0)])
        pages.append((number_scan(ink, rng), f"{usps.labels[a]}1{usps.labels[b]}"))
    return pages


@pytest.mark.parametrize("placing", [(SHORT_ONE, 0.0), (RAISED_ONE, -RAISE)],
                         ids=["standing", "raised"])
def test_a_short_one_beside_taller_digits_is_a_digit(placing: tuple[float, float], predictor,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = short_one_numbers(placing)

    def readings() -> list[str]:
        return [read_digits(page, predictor).text for page, _ in numbers]

    texts = readings()
    on = sum(len(text) == 3 for text in texts)
    assert on >= MIN_SHORT_ONES_KEPT
    assert sum(text == truth for text, (_, truth) in zip(texts, numbers, strict=True)) \
        >= MIN_SHORT_ONES_RIGHT
    # Charged as any loose stroke is, most of those 1s join a neighbour.
    monkeypatch.setattr(model.reader.footing, "STAND_FREE", -1.0)
    monkeypatch.setattr(model.reader.footing, "RAISED_FREE", 0.0)
    assert sum(len(text) == 3 for text in readings()) < on
