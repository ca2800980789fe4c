"""Numbers of USPS *test* digits written without lifting the pen, every gap joined."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from model.reader import read_digits
from model.reader.reading import DigitReading, ProbabilityModel
from model.settings import SETTINGS
from training.realworld.joined_numbers import join_digits
from training.realworld.usps_numbers import number_picks, write_number

ALL_JOINED = 60
MARGIN = 20  # paper round a number, px


def joined_pages(count: int = ALL_JOINED, seed: int = 1) -> Iterator[tuple[np.ndarray, str]]:
    """Numbers of 3-6 test digits, upright, every gap joined by the pen's run-on stroke:
    (grey page, uint8, dark on light; its text), seeded."""
    join_all = functools.partial(join_digits, share=1.0)
    for digits, text, rng in number_picks("test", count, seed=seed):
        page = 1.0 - write_number(digits, rng, slant=0.0, join=join_all)
        yield np.pad((page * 255).astype(np.uint8), MARGIN, constant_values=255), text


def a_digit_that_may_be_two(predictor: ProbabilityModel) -> tuple[np.ndarray, DigitReading]:
    """The first joined page read with a confident digit whose bounds are in doubt, and
    that digit (`model.reader.classify.COUNT_DOUBT`); AssertionError when none is."""
    for page, _ in joined_pages():
        for digit in read_digits(page, predictor).digits:
            if digit.bounds_doubted and digit.confidence >= SETTINGS.min_confidence:
                return page, digit
    raise AssertionError("no joined number was read with a confident digit that may be two")
