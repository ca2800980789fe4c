"""usps-numbers: numbers of 3-6 USPS test digits as real writers' numbers on a scan.

The quick set (the first USPS_NUMBERS_QUICK numbers of the seeded test set) is read as
`model.predict` reads a file, in about 10 s on an idle core. The floors sit a few
numbers under what the shipped model and reader measure on it (README), so a reader
that splits wide digits or loose pieces again, or merges neighbours, fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.reader import read_digits
from training.realsets import paper_page
from training.usps_numbers import (
    USPS_NUMBERS_QUICK,
    failure_kind,
    numbers_report,
    usps_number_samples,
    usps_numbers_samples,
)

MIN_EXACT = 0.85  # numbers read exactly
MIN_COUNT_RIGHT = 0.93  # digit count right
MAX_SURE_WRONG = 0.05  # numbers marked sure and read wrong


@pytest.fixture(scope="module")
def report(predictor) -> dict:
    return numbers_report(usps_numbers_samples("test", USPS_NUMBERS_QUICK), predictor)


def test_numbers_are_read_exactly(report: dict) -> None:
    assert report["n"] == USPS_NUMBERS_QUICK
    assert report["reader"] >= MIN_EXACT, report


def test_digits_are_neither_split_nor_merged(report: dict) -> None:
    assert report["count_right"] >= MIN_COUNT_RIGHT, report


def test_wrong_numbers_are_rarely_sure(report: dict) -> None:
    assert report["sure_wrong"] <= MAX_SURE_WRONG, report


def test_the_set_is_seeded_and_the_splits_differ() -> None:
    first = list(usps_number_samples("train", 5, seed=3))
    again = list(usps_number_samples("train", 5, seed=3))
    assert all(np.array_equal(a.image, b.image) and a.text == b.text
               for a, b in zip(first, again, strict=True))
    assert all(3 <= len(s.text) <= 6 and s.image.dtype == np.uint8 for s in first)
    test = list(usps_number_samples("test", 5, seed=3))
    assert [s.text for s in test] != [s.text for s in first]


def test_failure_kinds() -> None:
    assert failure_kind("5668", "25668") == "split"
    assert failure_kind("4710", "470") == "merged"
    assert failure_kind("4710", "4716") == "misread"


def _stroke(page: np.ndarray, points: list[tuple[int, int]], pen: int = 7) -> None:
    import cv2

    cv2.polylines(page, [np.array(points, np.int32)], False, 1.0, pen, cv2.LINE_AA)


def test_a_wide_two_among_spaced_digits_stays_one(predictor) -> None:
    # A 2 half again as wide as tall between digits written well apart: one 2.
    import cv2

    rng = np.random.default_rng(0)
    ink = np.zeros((140, 460), np.float32)
    cv2.ellipse(ink, (70, 70), (28, 45), 0, 0, 360, 1.0, 7, cv2.LINE_AA)  # 0
    _stroke(ink, [(150, 45), (175, 27), (215, 25), (245, 40), (248, 62), (225, 85),
                  (185, 105), (150, 115), (260, 115)])  # a wide 2
    cv2.ellipse(ink, (350, 70), (28, 45), 0, 0, 360, 1.0, 7, cv2.LINE_AA)  # 0
    _stroke(ink, [(420, 25), (420, 115)])  # 1
    assert read_digits(paper_page(rng, np.pad(ink, 20)), predictor).text == "0201"
