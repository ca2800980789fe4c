"""usps-uneven: numbers of USPS digits written at uneven sizes, as many hands write them.

usps-numbers writes every digit of a number at about one height (+-12 %) on one line.
Many writers do not: in a hurried hand each digit comes out its own size and sits a
little higher or lower, and older hands (ledgers, registers, letters) write old-style
figures, where 0, 1 and 2 are small and 3, 4, 5, 7 and 9 hang below the line. A short 1
beside a tall digit was then taken for a loose stroke of it and dropped ("81956" read
"8956"). Each sample is a number of 3-6 USPS digits of one split written as
usps-numbers writes it (`training.realworld.usps_numbers.write_number`: one pen, slant, spacing,
a quarter of the gaps close), half of the writers hurried and half in old-style
figures, read as `model.predict` reads a file and scored as usps-numbers is. Tuned on
USPS *train* digits; USPS test is only the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from training.realsets import Sample
from training.realworld.usps_numbers import number_picks, number_scan, write_number

UNEVEN_NUMBERS = 300  # pages in the set (the quick set, for tests: UNEVEN_QUICK)
UNEVEN_QUICK = 60
OLD_STYLE_SHARE = 0.5  # of the writers; the rest write hurried
# Old-style figures: 0, 1 and 2 at OLD_STYLE_SMALL of the number's height (the writer's
# own share), 3, 4, 5, 7 and 9 dropping OLD_STYLE_DROP of it below the line, 6 and 8
# full height on the line; each digit's height +- OLD_STYLE_JITTER.
SMALL_FIGURES = frozenset({0, 1, 2})
HANGING_FIGURES = frozenset({3, 4, 5, 7, 9})
OLD_STYLE_SMALL = (0.6, 0.8)
OLD_STYLE_DROP = (0.2, 0.4)
OLD_STYLE_JITTER = 0.1
# Hurried: each digit's height +- HURRIED_SIZE, its foot off the line by HURRIED_DROP
# (sd, in heights; with usps-numbers' own wobble, 0.12 in all).
HURRIED_SIZE = 0.3
HURRIED_DROP = 0.11


def uneven_samples(split: str = "test", count: int = UNEVEN_NUMBERS,
                   seed: int = 0) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` written at uneven sizes, as scans, seeded."""
    for digits, text, rng in number_picks(split, count, seed):
        labels = [int(c) for c in text]
        placing = old_style(labels, rng) if rng.random() < OLD_STYLE_SHARE else hurried(labels, rng)
        yield Sample(number_scan(write_number(digits, rng, placing=placing), rng), text)


def old_style(labels: list[int], rng: np.random.Generator) -> list[tuple[float, float]]:
    """Each digit's (height share, drop below the line) in one writer's old-style figures."""
    small, drop = rng.uniform(*OLD_STYLE_SMALL), rng.uniform(*OLD_STYLE_DROP)
    return [((small if d in SMALL_FIGURES else 1.0)
             * (1 + rng.uniform(-OLD_STYLE_JITTER, OLD_STYLE_JITTER)),
             drop if d in HANGING_FIGURES else 0.0) for d in labels]


def hurried(labels: list[int], rng: np.random.Generator) -> list[tuple[float, float]]:
    """Each digit's (height share, drop below the line) in a hurried hand."""
    return [(1 + rng.uniform(-HURRIED_SIZE, HURRIED_SIZE), rng.normal(0, HURRIED_DROP))
            for _ in labels]
