"""Numbers written without lifting the pen: a hairline joins a digit to the next.

The pages are numbers of USPS *test* digits with half the gaps joined by a thin stroke
from one digit's stroke end to the next one's (`training.realworld.joined_numbers`). A cut through
such a stroke used to leave its halves hanging from both digits, and a number joined
all through, one mark as wide as four digits, could not be cut at all: "2381" read "1".
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from model.predictor import Predictor
from model.reader import read_digits
from model.reader.cuts import cut_options
from model.reader.ink import stroke_width
from model.reader.pieces import Piece
from model.reader.reading import Reading
from tests.joined_pages import ALL_JOINED, MARGIN, joined_pages
from training.realsets import stamp
from training.realworld.joined_numbers import JOIN_WIDTH, JOINED_QUICK, join_digits, joined_samples
from training.realworld.usps_numbers import Placed, number_picks, numbers_report, write_number
from training.usps import load_usps
from training.usps_pictures import usps_ink

# The first 60 test pages, measured with the shipped model: 51.7 % read exactly and
# 71.7 % with the right digit count. Before a page's biggest mark counted as no bigger
# than one digit can be (1.6 of its tallest mark's height): 48.3 and 63.3 %; before a cut
# through hairlines was spared the spaced line's charge: 45.0 and 63.3 %; with neither:
# 41.7 and 55.0 % (33.3 and 46.7 % before cuts left a joining stroke out, allowed parts
# 1.6 heights wide and looked for more cuts in a wider mark).
MIN_EXACT = 0.47
MIN_COUNT_RIGHT = 0.68
# Numbers of 3-6 test digits with every gap joined, read with the right digit count:
# 37 of 60 (34 before a cut was offered again with a wider hairline taken away, 33
# before the biggest mark's cap and the hairline cut's spared charge, 26 before cuts
# left a joining stroke out).
MIN_ALL_JOINED_COUNTED = 30
# Of those 60 (`tests.joined_pages`), 19 are read with fewer digits than written: 5 of
# them were marked sure before a number that may have swallowed a digit was doubted
# (`classify.COUNT_DOUBT`), 1 since (sure and wrong 9 -> 5 pages, sure and right 13 -> 11).
MAX_SHORT_AND_SURE = 2
# Six-digit numbers of test digits, the first five joined into one mark as wide as
# five digits: the sixth digit, a mark of its own beside it, read right in 17 of 20
# (4 when it was weighed against the whole joined mark and dropped as a speck).
BESIDE_A_JOINED_MARK = 20
MIN_LAST_DIGITS_READ = 14
SLACK = 4  # px a digit's box may begin left of where it was written (the blur's edge)
RUN_ON = 0.6  # a joining stroke's width, a share of the digit's stroke (see below)


def test_joined_numbers_are_read(predictor) -> None:
    report = numbers_report(list(joined_samples("test", JOINED_QUICK)), predictor)
    assert report["count_right"] >= MIN_COUNT_RIGHT, report
    assert report["reader"] >= MIN_EXACT, report


@pytest.fixture(scope="module")
def all_joined(predictor: Predictor) -> list[tuple[Reading, str]]:
    """Numbers of 3-6 test digits with every gap joined, as read, and their text."""
    return [(read_digits(page, predictor), text) for page, text in joined_pages(ALL_JOINED)]


def test_a_number_joined_all_through_is_cut_into_its_digits(all_joined) -> None:
    counted = sum(len(reading.text) == len(text) for reading, text in all_joined)
    assert counted >= MIN_ALL_JOINED_COUNTED


def test_a_number_read_a_digit_short_is_seldom_sure(all_joined) -> None:
    # A 1 the pen ran on from into its neighbour is swallowed by it ("71" read "7");
    # where reading the mark as more digits scored nearly as well, that is not sure.
    short = [(text, reading.text) for reading, text in all_joined
             if len(reading.text) < len(text) and reading.sure]
    assert len(short) <= MAX_SHORT_AND_SURE, short


def test_a_digit_beside_a_number_joined_into_one_mark_is_read(predictor) -> None:
    sixes = (pick for pick in number_picks("test", 400, seed=2) if len(pick[0]) == 6)
    read = 0
    for digits, text, rng in itertools.islice(sixes, BESIDE_A_JOINED_MARK):
        page, last_x = _joined_but_the_last(digits, rng)
        read += any(d.box[0] >= last_x - SLACK and d.digit == int(text[-1])
                    for d in read_digits(page, predictor).digits)
    assert read >= MIN_LAST_DIGITS_READ


def _joined_but_the_last(digits: list[np.ndarray],
                         rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A page of the digits, all but the last joined into one mark, and the column
    where the last one was written."""
    spots: list[Placed] = []

    def join(page: np.ndarray, placed: list[Placed], rng: np.random.Generator) -> None:
        spots.extend(placed)
        join_digits(page, placed[:-1], rng, share=1.0)

    page = 1.0 - write_number(digits, rng, slant=0.0, join=join)
    page = np.pad((page * 255).astype(np.uint8), MARGIN, constant_values=255)
    return page, spots[-1][2] + MARGIN


def _joined_pair(gap: int, width: tuple[float, float] = JOIN_WIDTH
                 ) -> tuple[np.ndarray, list[Placed]]:
    """The first USPS test 1 and 0, about 60 px tall and `gap` px apart, joined by a
    stroke `width` (a range) of the 1's stroke width wide."""
    usps = load_usps("test")
    one, zero = (usps_ink(usps.images[np.flatnonzero(usps.labels == d)[0]], 60) for d in (1, 0))
    placed = [(one, 0, 0), (zero, 0, one.shape[1] + gap)]
    page = np.zeros((max(one.shape[0], zero.shape[0]), one.shape[1] + gap + zero.shape[1]),
                    np.float32)
    for ink, y, x in placed:
        stamp(page, ink, y, x)
    join_digits(page, placed, np.random.default_rng(0), share=1.0, width=width)
    return page, placed


def test_a_cut_through_a_hairline_leaves_none_of_it_on_the_digits() -> None:
    page, ((one, _, _), (_, _, zero_x)) = _joined_pair(gap=24)
    mask = page >= 0.5
    assert mask[:, one.shape[1]:zero_x].any(axis=0).all()  # one mark: the hairline spans the gap
    tolerance = stroke_width(one >= 0.5)
    apart = [cut for cut in cut_options(Piece(0, 0, mask.shape[1], mask.shape[0], mask), 2)
             if len(cut.pieces) == 2
             and cut.pieces[0].x + cut.pieces[0].w <= one.shape[1] + tolerance
             and cut.pieces[1].x >= zero_x - tolerance]
    assert apart
    # ... and it crossed a hairline, not digits that touch: no spaced line's charge.
    assert all(cut.touching == 0 for cut in apart)


def test_a_run_on_stroke_too_thick_for_a_hairline_goes_with_the_cut(predictor) -> None:
    # 0.6 of the 1's stroke: wider than HAIRLINE's share of the mark's stroke, within
    # WIDE_HAIRLINE's. Offered only the narrow cut, the 1 kept the stroke as a tail and
    # read "1" at 81 %, not sure; the cut that takes it away reads it at 99.9 %.
    page, ((one, _, _), (_, _, zero_x)) = _joined_pair(gap=24, width=(RUN_ON, RUN_ON))
    mask = page >= 0.5
    assert mask[:, one.shape[1]:zero_x].any(axis=0).all()  # one mark
    tolerance = stroke_width(one >= 0.5)
    apart = [cut for cut in cut_options(Piece(0, 0, mask.shape[1], mask.shape[0], mask), 2)
             if len(cut.pieces) == 2
             and cut.pieces[0].x + cut.pieces[0].w <= one.shape[1] + tolerance
             and cut.pieces[1].x >= zero_x - tolerance]
    assert apart and all(cut.thinned for cut in apart)
    picture = np.pad(((1.0 - page) * 255).astype(np.uint8), MARGIN, constant_values=255)
    reading = read_digits(picture, predictor)
    assert reading.text == "10" and reading.sure


def test_a_cut_between_digits_written_into_each_other_is_touching() -> None:
    page, _ = _joined_pair(gap=-4)
    mask = page >= 0.5
    cuts = [cut for cut in cut_options(Piece(0, 0, mask.shape[1], mask.shape[0], mask), 2)
            if len(cut.pieces) == 2]
    assert cuts and all(cut.touching == 1 for cut in cuts)


def test_a_digit_written_finer_than_its_neighbour_is_not_taken_for_a_run_on_stroke(
        predictor) -> None:
    # A heavy 0 and a quick 7 in a fine line, joined by the pen's run-on stroke: the 7 is
    # hairline through and through. A cut took every hairline hanging from it away,
    # which left nothing of the 7, and the pair read "9", one broad digit.
    ink = np.zeros((90, 150), np.uint8)
    cv2.ellipse(ink, (30, 45), (20, 36), 0, 0, 360, 255, 10)
    cv2.polylines(ink, [np.int32([[95, 14], [135, 12], [108, 80]])], False, 255, 3)
    cv2.line(ink, (44, 74), (95, 14), 255, 2)
    reading = read_digits(np.pad(255 - ink, MARGIN, constant_values=255), predictor)
    assert reading.text == "07"
