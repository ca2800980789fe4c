"""Digits in several strokes are one digit: on the canvas (its paths) and in scans (pieces).

Canvas numbers are drawn through the canvas's own json format (training.stroke_canvas);
scanned numbers are USPS and MNIST *test* digits cut in two (training.detached), which
the reader was never tuned on.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.reader import read_canvas, read_digits, read_strokes
from model.reader.imaging import decode_image
from model.reader.ink import find_ink
from model.reader.segment import segment
from model.reader.strokes import canvas_strokes, group_strokes
from training.detached import number_pages
from training.realworld.usps_numbers import usps_numbers_samples
from training.stroke_canvas import SHAPES, draw_number, label_of, number_set


def _expected_groups(names: list[str]) -> list[list[int]]:
    """Stroke indices of each digit: the digits' strokes were drawn one digit after another."""
    groups, start = [], 0
    for name in names:
        groups.append(list(range(start, start + len(SHAPES[name]))))
        start += len(SHAPES[name])
    return groups


def test_canvas_paths_are_read_in_drawing_order() -> None:
    json_data = {"version": "5.3.0", "objects": [
        {"type": "path", "strokeWidth": 12,
         "path": [["M", 10, 20], ["Q", 11, 21, 12.5, 22], ["L", 30, 40]]},
        {"type": "rect", "left": 0, "top": 0, "width": 5, "height": 5},
        {"type": "path", "strokeWidth": 8, "path": [["M", 50, 60], ["L", 70, 90]]},
    ]}
    strokes = canvas_strokes(json_data)
    assert len(strokes) == 2
    np.testing.assert_allclose(strokes[0].points, [[10, 20], [12.5, 22], [30, 40]])
    assert strokes[0].width == 12 and strokes[1].box == (46.0, 56.0, 74.0, 94.0)
    assert canvas_strokes(None) == [] and canvas_strokes({"objects": []}) == []


def test_strokes_of_one_digit_are_grouped_and_digits_kept_apart() -> None:
    """Every number of 2-5 digits, at least one of them in several strokes, jittered as a
    hand draws (a later stroke lands off by 5 % of the height), gaps 5-40 % of the height."""
    rng = np.random.default_rng(0)
    right = 0
    numbers = number_set(120, seed=5)
    for names, style in numbers:
        _, json_data = draw_number(names, rng=rng, **style)
        right += group_strokes(canvas_strokes(json_data)) == _expected_groups(names)
    assert right >= 118


@pytest.mark.parametrize("names", [
    ["1-flag", "1-flag"], ["7-crossed", "1-european"], ["1-european", "7-crossed"],
    ["5-two-strokes", "4-two-strokes"], ["4-two-strokes", "1-flag"], ["3", "5-two-strokes"],
])
def test_digits_written_close_together_stay_two(names: list[str]) -> None:
    for gap in (0.03, 0.08):
        _, json_data = draw_number(names, gap=gap, height=160)
        assert group_strokes(canvas_strokes(json_data)) == _expected_groups(names)


MODEL_READS = ("7-crossed", "5-two-strokes", "4-two-strokes", "0", "2", "3", "6", "8")


def test_numbers_with_multi_stroke_digits_are_read(predictor) -> None:
    """Whole numbers through read_strokes. 1s are left out: whether a European 1 reads
    as 1 is the model's part (the browser test draws one)."""
    rng = np.random.default_rng(1)
    right, count = 0, 30
    for _ in range(count):
        names = [str(n) for n in rng.choice(MODEL_READS, int(rng.integers(2, 5)))]
        rgba, json_data = draw_number(names, rng=rng, gap=float(rng.uniform(0.1, 0.4)),
                                      brush=float(rng.uniform(10, 22)))
        reading = read_strokes(rgba, json_data, predictor)
        right += reading is not None and reading.text == "".join(map(label_of, names))
    assert right >= count - 2


@pytest.mark.parametrize("name", ["7-crossed", "5-two-strokes", "4-two-strokes"])
def test_a_multi_stroke_digit_alone_is_one_digit(name: str, predictor) -> None:
    rgba, json_data = draw_number([name], canvas=(280, 280), height=200, brush=18)
    reading = read_strokes(rgba, json_data, predictor)
    assert reading is not None and reading.text == label_of(name)


def test_without_usable_paths_the_pixels_are_read(predictor) -> None:
    rgba, _ = draw_number(["7-crossed", "2", "5-two-strokes"], brush=14)
    pixels = read_canvas(rgba, predictor)
    assert read_strokes(rgba, None, predictor).text == pixels.text
    stale = {"objects": [{"type": "path", "strokeWidth": 10, "path": [["M", 5, 5], ["L", 9, 9]]}]}
    assert read_strokes(rgba, stale, predictor).text == pixels.text
    assert read_strokes(np.zeros_like(rgba), {"objects": []}, predictor) is None


@pytest.mark.parametrize(("source", "floor", "count_floor"),
                         [("usps-test", 0.82, 0.97), ("mnist-test", 0.91, 0.98)])
def test_scanned_digits_cut_in_two_stay_one_digit(source: str, floor: float,
                                                  count_floor: float, predictor) -> None:
    """Numbers of 3-6 real test digits, one or more cut in two by a gap (a loose bar, a
    broken stroke). These 200 numbers: USPS 165 exact, 195 with the right number of
    digits; MNIST 184, 197 (6 December; 167, 197 and 185, 198 when runs of marks came
    in, 3 December). Then, read as marks paired from the left and charged as short
    only below 0.6 of the line (`model.reader.footing.PART_FREE`): USPS 159, 190; MNIST 179,
    194. The rest are mostly cut digits the model misreads."""
    pages = number_pages(source, 200, seed=11)
    exact = counted = 0
    for cut, _, truth in pages:
        text = read_digits(cut, predictor).text
        exact += text == truth
        counted += len(text) == len(truth)
    assert exact >= floor * len(pages) and counted >= count_floor * len(pages)


def test_a_loose_stroke_between_two_digits_may_join_either() -> None:
    """A usps-numbers test page, "58494": the 4's left stroke stands free between the 8
    and the 4's stem, near enough to each to be part of it. One slot holds the run of
    marks and offers the stroke with either neighbour (paired from the left, it could
    only be the 8's: "58194")."""
    page = usps_numbers_samples("test", 124)[123]
    assert page.text == "58494"
    ink = find_ink(decode_image(page.image), ruled=True)
    slots = [slot for line in segment(ink, cropped=True) for slot in line]
    run = next(slot for slot in slots if len(slot.options[0].pieces) >= 3)
    apart = [(p.x, p.x + p.w) for p in run.options[0].pieces]
    offered = {(p.x, p.x + p.w) for option in run.options for p in option.pieces}
    assert any((apart[i - 1][0], apart[i][1]) in offered
               and (apart[i][0], apart[i + 1][1]) in offered for i in range(1, len(apart) - 1))
