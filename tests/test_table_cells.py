"""Numbers cut out of a table: the rules round the cell are no digits.

The pages are numbers of USPS *test* digits in a table's cell with its rules (the
column's on either side, the rows' above and below, or both), on a scan
(`training.realworld.table_cells`). A column's rule, beside the number and not 2.5 times as tall
as it, was read as a 1 ("4648" read "56481"), and rules close to all four edges made
the picture's border dark: the paper was taken for the ink.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.reader import read_canvas
from model.reader.cells import boxed_cells
from model.reader.imaging import decode_image
from model.reader.ink import InkMap, find_ink
from model.reader.polarity import judge_polarity
from model.reader.segment import find_marks
from tests.pictures import one_bit
from training.realsets import Sample
from training.realworld import table_cells
from training.realworld.table_cells import RULES, TABLE_QUICK, table_samples
from training.realworld.usps_numbers import number_picks, numbers_report, write_number
from training.usps import load_usps
from training.usps_pictures import usps_ink

# The first 60 test cells, measured with the shipped model: 90.0 % read exactly, all
# with the right digit count, 1 sure and wrong (63.3 %, 83.3 % and 5 before: the side
# rules read as 1s, 4 of 20 such cells read right).
MIN_EXACT = 0.8
MIN_COUNT_RIGHT = 0.95
MAX_SURE_WRONG = 0.05
MIN_BESIDE_RULES = 0.85
FRAMED = 20  # cells cut close round their rules, all four sides
MAX_FRAMED_LIGHT = 2  # ... judged light on dark (1 now, 8 before)
CANVAS_TWOS = 5
# The same cells thresholded to one bit (`test_a_tables_rules_one_bit_deep_make_no_boxes`).
MAX_ONE_BIT_BOXES = 3  # of the 120 inks, either level: 2 now, 11 before
MIN_ONE_BIT_EXACT = 0.85  # 88.3 % now, 83.3 % before
MIN_ONE_BIT_COUNT_RIGHT = 0.9  # 93.3 % now, 86.7 % before


@pytest.fixture(scope="module")
def cells() -> list:
    return list(table_samples("test", TABLE_QUICK))


def test_numbers_in_a_tables_cells_read_as_numbers(cells: list, predictor) -> None:
    report = numbers_report(cells, predictor)
    assert report["reader"] >= MIN_EXACT, report
    assert report["count_right"] >= MIN_COUNT_RIGHT, report
    assert report["sure_wrong"] <= MAX_SURE_WRONG, report


def test_a_columns_rules_are_no_1s(cells: list, predictor) -> None:
    """The cells with the column's rules either side: 19 of 20 read right (4 before,
    the rules read as 1s)."""
    report = numbers_report(cells[RULES.index("sides")::len(RULES)], predictor)
    assert report["count_right"] >= MIN_COUNT_RIGHT, report
    assert report["reader"] >= MIN_BESIDE_RULES, report


def test_a_tables_rules_one_bit_deep_make_no_boxes(cells: list, predictor) -> None:
    """The cells thresholded to one bit, as a bitonal scanner keeps a page: the rules
    above and below the number ran through every cell of a row of square cells, so the
    number was read one cell a digit ("2436" read "335"; `model.reader.cells._on_a_rule`)."""
    bitonal = [Sample(one_bit(cell.image), cell.text) for cell in cells]
    boxes = sum(bool(boxed_cells(find_ink(decode_image(image), ruled=True)))
                for sample in bitonal for image in (sample.image, 255 - sample.image))
    assert boxes <= MAX_ONE_BIT_BOXES, boxes
    report = numbers_report(bitonal, predictor)
    assert report["reader"] >= MIN_ONE_BIT_EXACT, report
    assert report["count_right"] >= MIN_ONE_BIT_COUNT_RIGHT, report


def test_rules_close_to_the_edges_are_no_dark_paper(monkeypatch) -> None:
    """Cells cut at most a pixel beyond their rules: the rules fill the picture's border.
    8 of these 20 were judged light ink on dark paper before, and read 50 % right."""
    monkeypatch.setattr(table_cells, "BEYOND", (0, 1))
    framed = list(table_samples("test", 3 * FRAMED))[RULES.index("grid")::len(RULES)]
    light = [judge_polarity(decode_image(cell.image)).light_on_dark for cell in framed]
    assert sum(light) <= MAX_FRAMED_LIGHT, light


def test_a_rule_crossing_the_cell_from_top_to_bottom_is_no_digit() -> None:
    """A column's rule a few pixels in from the crop's sides, from the picture's top row
    to its bottom row, 1.8 times as tall as the writing (under the 2.5 times that makes
    any thin mark a printed line): a frame line, not a 1 ("699" read "1699")."""
    for digits, _, rng in number_picks("test", 5, seed=4):
        number = write_number(digits, rng, slant=0.0)
        height, width = number.shape
        room = round(0.4 * height)
        page = np.pad(number, ((room, room), (room, room)))
        for x in (3, page.shape[1] - 4):
            cv2.line(page, (x, 0), (x + 1, page.shape[0] - 1), 1.0, 2)
        ink = InkMap(ink=page, mask=page >= 0.5, scale=1.0, light_on_dark=False,
                     contrast=200.0, one_bit=False)
        _, marks = find_marks(ink, scanned=True)
        assert marks and all(room - 2 <= g.x0 and g.x1 <= room + width + 2 for g in marks)


def test_a_1_drawn_from_the_canvas_top_to_its_bottom_is_a_1(predictor) -> None:
    """On a canvas the same mark is a 1 drawn edge to edge, beside USPS test 2s 0.7 of
    its height: no printed rule (each read "2" when a canvas's marks were judged as a
    scan's)."""
    usps = load_usps("test")
    for index in np.flatnonzero(usps.labels == 2)[:CANVAS_TWOS]:
        two = cv2.resize(usps_ink(usps.images[index], 190), (120, 190))
        alpha = np.zeros((280, 280), np.float32)
        cv2.line(alpha, (60, 0), (60, 279), 1.0, 14)
        alpha[80:270, 130:250] = two
        canvas = np.zeros((280, 280, 4), np.uint8)
        canvas[..., 3] = (alpha * 255).round().astype(np.uint8)
        reading = read_canvas(canvas, predictor)
        assert reading is not None and reading.text == "12"
