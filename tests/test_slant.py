"""Writing that leans far is set upright before it is cut into digits (`model.reader.slant`).
On USPS *test* digits written as numbers (`training.realworld.usps_numbers`), never tuned on."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from model.reader import read_digits
from model.reader.imaging import decode_image
from model.reader.ink import InkMap, find_ink
from model.reader.segment import writing_alone
from model.reader.slant import (
    NATURAL_LEAN,
    SIDE_BY_SIDE_FROM,
    baseline_tilt,
    chain_code_slant,
    is_a_row,
    leaning,
)
from tests.geometry import turned
from training.realsets import Sample, paper_page, touching_samples
from training.realworld.usps_numbers import (
    SLANTED,
    USPS_NUMBERS,
    USPS_NUMBERS_QUICK,
    number_picks,
    numbers_report,
    usps_number_samples,
    write_number,
)

# Numbers leaning by 0.45 (24 degrees) either way read at most this far below the very
# same numbers upright (now 87.5 against 91.25 %; without the shear 81.25 %), and
# their digits are counted right at least this often (now 96.25 %; without: 92.5 %).
# Cut to their ink, the same leaning pages read 88.75 % (without the shear 83.75 %);
# turned 12 degrees either way, the same pages upright read 88.75 % and are counted right
# 96.25 % (not set level: 80.0 and 88.75 %).
LEANING_COST = 0.05
LEANING_COUNTED = 0.95
UPRIGHT_SHEARED = 0.08  # of upright numbers, at most this share is moved (now 18 of 300)
LEAN = 0.45  # a clear lean: 24 degrees
TURN = 12.0  # degrees: a number written uphill, or a photo taken askew
# A photo taken well askew: the first 80 test numbers turned 25 degrees either way read
# at most ASKEW_COST below the very same pages upright (now 87.5 against 91.25 %; left
# as they lie beyond 17 degrees, as before: 16.25 %), counted right as LEANING_COUNTED
# (now 96.25 %; before: 18.75 %). Turned 30 degrees: 82.5 % (6.25 % before).
ASKEW = 25.0
ASKEW_COST = 0.07


def _ink(image: np.ndarray) -> InkMap:
    return find_ink(decode_image(image), ruled=True)


def _leaning(image: np.ndarray, slant: float) -> np.ndarray:
    """A grey page sheared so that its tops lean right by `slant` (x per row)."""
    height, width = image.shape
    matrix = np.float32([[1, -slant, max(slant, 0.0) * (height - 1)], [0, 1, 0]])
    return cv2.warpAffine(image, matrix, (width + int(abs(slant) * height) + 2, height),
                          borderValue=int(np.median(image)))


def _read_nearly_as_upright(move: Callable[[np.ndarray, bool], np.ndarray], cost: float,
                            predictor) -> list[Sample]:
    """The first test numbers moved (`move(page, odd)`: every other one the other way)
    read at most `cost` below the very same pages upright, and are counted right
    LEANING_COUNTED; the moved pages."""
    written = list(usps_number_samples("test", USPS_NUMBERS_QUICK, slant=0.0))
    pages = [Sample(move(s.image, i % 2 == 1), s.text) for i, s in enumerate(written)]
    report = numbers_report(pages, predictor)
    assert report["reader"] >= numbers_report(written, predictor)["reader"] - cost, \
        report["examples"]
    assert report["count_right"] >= LEANING_COUNTED, report["examples"]
    return pages


def test_a_leaning_number_reads_nearly_as_well_as_upright(predictor) -> None:
    _read_nearly_as_upright(lambda page, odd: _leaning(page, LEAN if odd else -LEAN),
                            LEANING_COST, predictor)


def test_the_lean_is_measured_either_way() -> None:
    for sample in usps_number_samples("test", 20, slant=0.0):
        own = chain_code_slant(_ink(sample.image).mask)
        forwards = chain_code_slant(_ink(_leaning(sample.image, LEAN)).mask)
        backwards = chain_code_slant(_ink(_leaning(sample.image, -LEAN)).mask)
        assert backwards < own < forwards
        # The outline's measure reads about 0.7 of a shear (GAIN undoes it).
        assert 0.2 <= (forwards - backwards) / 2 <= LEAN


def test_upright_writing_is_left_as_it_is() -> None:
    samples = list(usps_number_samples("test", USPS_NUMBERS, slant=0.0))
    sheared = sum(leaning(_ink(s.image)) is not None for s in samples)
    assert sheared <= UPRIGHT_SHEARED * len(samples)


def test_a_row_leaning_far_is_sheared_back_to_a_writers_lean() -> None:
    sample = next(iter(usps_number_samples("test", 1, slant=0.0)))
    ink = _ink(_leaning(sample.image, LEAN))
    shear = leaning(ink)
    assert shear is not None and shear.slant > 0
    straightened = shear.upright(ink)
    assert abs(chain_code_slant(straightened.mask) - NATURAL_LEAN) < \
        abs(chain_code_slant(ink.mask) - NATURAL_LEAN)
    # The rows keep their places, and no ink is lost off the sides.
    assert straightened.mask.shape[0] == ink.mask.shape[0]
    assert abs(int(straightened.mask.sum()) - int(ink.mask.sum())) < 0.03 * ink.mask.sum()


def test_a_single_digit_is_left_as_it_is() -> None:
    digits, _, rng = next(number_picks("test", 1, seed=0))
    one_digit = _leaning(paper_page(rng, np.pad(write_number(digits[:1], rng, 0.0), 20)), LEAN)
    assert leaning(_ink(one_digit)) is None  # a single digit's lean is the network's to read


def test_a_number_written_uphill_or_downhill_is_set_level(predictor) -> None:
    pages = _read_nearly_as_upright(lambda page, odd: turned(page, TURN if odd else -TURN),
                                    LEANING_COST, predictor)
    shears = [leaning(_ink(s.image)) for s in pages[:2]]
    assert shears[0] is not None and shears[0].tilt > 0  # turned clockwise: it falls
    assert shears[1] is not None and shears[1].tilt < 0


def test_a_number_photographed_well_askew_is_set_level(predictor) -> None:
    _read_nearly_as_upright(lambda page, odd: turned(page, ASKEW if odd else -ASKEW),
                            ASKEW_COST, predictor)


def test_a_short_number_turned_is_a_row() -> None:
    # Three digits turned 25 degrees are no wider than tall as they lie (1.3 times), but
    # set level they are a row: a single digit so turned stays one digit.
    digits, _, rng = next(number_picks("test", 1, seed=3))
    three = paper_page(rng, np.pad(write_number(digits[:3], rng, 0.0), 20))
    one = paper_page(rng, np.pad(write_number(digits[:1], rng, 0.0), 20))
    assert is_a_row(_ink(turned(three, ASKEW)).mask)
    assert not is_a_row(_ink(turned(one, ASKEW)).mask)


def test_one_digit_in_italics_is_no_row() -> None:
    # Set level by its climb, a digit leaning 0.8 (39 degrees) is as wide as a row, but
    # it is one mark: it is read as it lies.
    digits, _, rng = next(number_picks("test", 1, seed=0))
    for digit in digits:
        page = paper_page(rng, np.pad(write_number([digit], rng, 0.0), 20))
        assert not is_a_row(_ink(_leaning(page, 0.8)).mask)


def test_two_touching_digits_at_different_heights_are_left_as_they_lie(mnist,
                                                                        predictor) -> None:
    # Two of the `touching` pairs of MNIST test digits climb 0.33 rows per column: one
    # mark, no row of digits side by side, so not set level (read "7" and "2" if so).
    pairs = list(touching_samples(mnist.x_test, mnist.y_test, 106))
    for sample in (pairs[36], pairs[105]):
        assert abs(baseline_tilt(_ink(sample.image).mask)) > SIDE_BY_SIDE_FROM
        assert read_digits(sample.image, predictor).text == sample.text


def test_a_leaning_number_cut_to_its_ink_reads_nearly_as_well_as_upright(predictor) -> None:
    # Number strings are often cut to their ink; then the writing touches the edges.
    written = list(usps_number_samples("test", USPS_NUMBERS_QUICK, slant=0.0))
    tight = []
    for i, sample in enumerate(written):
        page = _leaning(sample.image, LEAN if i % 2 else -LEAN)
        ink = _ink(page).mask
        rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        tight.append(Sample(page[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1], sample.text))
    report = numbers_report(tight, predictor)
    assert report["reader"] >= numbers_report(written, predictor)["reader"] - LEANING_COST, \
        report["examples"]


def test_each_digit_box_is_round_its_leaning_ink(predictor) -> None:
    samples = list(usps_number_samples("test", USPS_NUMBERS_QUICK, slant=SLANTED))[:30]
    moved = sum(leaning(writing_alone(_ink(s.image))) is not None for s in samples)
    assert moved >= len(samples) // 3  # the boxes below are mapped back for these
    for sample in samples:
        reading = read_digits(sample.image, predictor)
        assert (reading.width, reading.height) == sample.image.shape[1::-1]
        covered = np.zeros(sample.image.shape[:2], bool)
        for digit in reading.digits:
            x, y, w, h = digit.box
            assert x >= 0 and x + w <= reading.width and w > 0
            covered[y:y + h, x:x + w] = True
        ink = _ink(sample.image).mask  # working scale 1 for these pictures
        assert (ink & covered).sum() >= 0.97 * ink.sum()
        lefts = [d.box[0] for d in reading.digits]
        assert lefts == sorted(lefts)
