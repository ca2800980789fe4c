"""Digits kept as some published sets keep them: cut to the ink, stretched to
fill a 16x16 square, one bit deep. A narrow 1 becomes a wide block of ink that reaches
every edge of its picture, neighbours abut in a row of boxes, and a thin stroke the
threshold broke is still one digit. Which level is the ink: `test_boxed_polarity`."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.reader import read_canvas, read_digits
from model.reader.cells import boxed_cells
from model.reader.imaging import ReadError, decode_image
from model.reader.ink import find_ink
from model.reader.panels import without_the_page
from tests.pictures import grey_box, text_of
from training.form_fields import field_set
from training.realworld.usps_numbers import number_picks
from training.styles import to_network_input
from training.usps_pictures import FILE_SIZE, as_file, boxed, boxed_picture

pytestmark = pytest.mark.usefixtures("mnist_dir")

THIN_ROWS = 60
MIN_THIN_ROWS_FOUND = 50
MIN_THIN_ROWS_COUNTED = 58


def test_a_narrow_one_fills_its_box(usps_test) -> None:
    ones = [d for d in usps_test.images[usps_test.labels == 1]
            if np.ptp(np.nonzero(d > 0.5)[1]) + 1 <= 6][:20]  # written narrow: 6 of 16 columns
    assert len(ones) == 20
    for digit in ones:
        square = boxed(digit)
        assert square.shape == (16, 16) and set(np.unique(square)) <= {0.0, 1.0}
        # Stretched: ink in the first and last row and column.
        assert square[0].any() and square[-1].any()
        assert square[:, 0].any() and square[:, -1].any()


def test_a_faint_digit_keeps_its_ink() -> None:
    faint = np.zeros((16, 16), np.float32)
    faint[3:13, 7:9] = 0.3  # below the fixed threshold everywhere
    assert boxed(faint).mean() > 0.5


def test_a_boxed_digit_kept_small_with_a_margin_is_read_as_its_box(usps_test, predictor) -> None:
    # Every test digit kept at its 16x16 pixels with 6 px of paper round it (a 28x28
    # picture, MNIST's size). A bold one is dark at its box's corners and along its
    # sides, like a plot's dark panel on a light page (`model.reader.panels`): 41 were painted
    # so and their paper read as the ink (an 8 read "5", sure), 1,918 read right. And a
    # lone digit with paper round it was not read as its box: a stretched 2's foot was
    # taken for a printed line (read "7", sure), a 5's loose bar for a digit ("55"):
    # 1,952 right once no panel was found. A picture this small is one digit's box.
    pictures = [np.pad(255 - (255 * boxed(d)).astype(np.uint8), 6, constant_values=255)
                for d in usps_test.images]
    grey = [p / 255.0 for p in pictures]
    assert all(without_the_page(g) is g for g in grey)
    right = sum(text_of(p, predictor) == str(label)
                for p, label in zip(pictures, usps_test.labels, strict=True))
    assert right >= 1960, right  # 1,964
    # A square of one-bit ink with paper round it in a larger picture proves nothing.
    eight = np.pad(255 - (255 * boxed(usps_test.images[usps_test.labels == 8][0])), 6,
                   constant_values=255).astype(np.uint8)
    assert len(boxed_cells(find_ink(decode_image(eight)))) == 1
    doubled = cv2.resize(eight, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    assert boxed_cells(find_ink(decode_image(doubled))) == []


def test_digits_stretched_to_their_box_in_grey_are_not_taken_for_shading(usps_test,
                                                                      predictor) -> None:
    # Stretched to 16x16 but kept grey (not one bit), a 1 is a dark block with grey
    # bands, and the opening that estimates uneven lighting took it away as shading:
    # 1,796 of the 2,007 USPS test digits read right, 102 of the 264 1s. A picture at
    # most DIGIT_BOX_SIDE px across is one digit's box and has no shading to take out.
    texts = [text_of(grey_box(d), predictor) for d in usps_test.images]
    right = [t == str(int(label)) for t, label in zip(texts, usps_test.labels, strict=True)]
    assert sum(right) >= 1930, sum(right)  # 1,947
    assert sum(np.array(right)[usps_test.labels == 1]) >= 225  # 238


def test_wide_strokes_on_clean_paper_are_not_taken_for_shading(usps_test) -> None:
    # Boxed, the strokes can cover most of the picture, more than the opening that
    # estimates uneven lighting can take away; two exact levels say there is none.
    greyish = 0
    for digit in usps_test.images[:200]:
        picture = boxed_picture(digit)
        if (picture < 128).mean() > 0.8:
            continue  # a solid block: nothing to read
        image = to_network_input(picture)
        greyish += ((image > 0.2) & (image < 0.8)).mean() > 0.15
    assert greyish <= 4, greyish


def test_a_wide_row_of_boxed_digits_keeps_its_solid_ones(usps_test, predictor) -> None:
    # Straight 1s boxed are solid blocks. In a row of boxed digits the picture is wide
    # enough for the grain blur, which smeared the two exact levels; the blocks were
    # then taken for shading and lost ("41811" read "48").
    four, eight = (boxed(usps_test.images[usps_test.labels == d][0]) for d in (4, 8))
    block, gap = np.ones((16, 16), np.float32), np.zeros((16, 2), np.float32)
    tiles = [four, gap, block, gap, eight, gap, block, gap, block]
    row = np.pad(np.hstack(tiles), ((2, 2), (4, 4)))
    picture = as_file(row)
    assert picture.shape[1] >= 500  # wide enough to be blurred
    ink = find_ink(decode_image(picture))
    scale = ink.mask.shape[1] / picture.shape[1]
    for left in (18, 54, 72):  # the blocks, in 16 px box columns
        x0, x1 = round((4 + left + 2) * 6 * scale), round((4 + left + 14) * 6 * scale)
        y0, y1 = round(4 * 6 * scale), round(16 * 6 * scale)
        assert ink.mask[y0:y1, x0:x1].mean() > 0.95
    assert len(read_digits(picture, predictor).digits) == 5


def test_a_one_that_fills_its_box_is_read_as_a_one_not_sure(usps_test, predictor) -> None:
    # A straight 1 stretched to its box is ink from edge to edge: 13 of USPS test's 264
    # 1s (79 of all 9,298 USPS digits, every one a 1). There was no contrast to find,
    # so each read "No digit found".
    solid = [d for d in usps_test.images[usps_test.labels == 1] if boxed(d).all()]
    assert len(solid) == 13
    for digit in solid:
        reading = read_digits(boxed_picture(digit), predictor)
        assert reading.text == "1" and not reading.sure
        assert reading.digits[0].box == (0, 0, FILE_SIZE, FILE_SIZE)
        # Written straight from its bits (1, the ink, white) at its own 16x16, such a 1
        # is light all over, one digit's box of ink: it read "No digit found" (USPS test
        # digits so, 1,943 of 2,007 right; 1,956 now).
        bits = (255 * boxed(digit)).astype(np.uint8)
        reading = read_digits(bits, predictor)
        assert reading.text == "1" and not reading.sure
        assert reading.digits[0].box == (0, 0, 16, 16)
    # In a row of boxes each solid cell is such a 1 too, and never sure.
    four, eight = (boxed(usps_test.images[usps_test.labels == d][0]) for d in (4, 8))
    block = np.ones((16, 16), np.float32)
    reading = read_digits(as_file(np.pad(np.hstack([four, block, eight, block]), 2)),
                          predictor)
    assert reading.text == "4181"
    assert [d.sure for d in reading.digits][1::2] == [False, False]
    # A page light all over, or grey, larger than one digit's box, a black page that is
    # no square box (a photo with the lens covered), or a canvas painted over, holds no
    # digit.
    for level, shape in ((255, (96, 96)), (200, (96, 96)), (128, (96, 96)), (0, (300, 400))):
        with pytest.raises(ReadError, match="No digit"):
            read_digits(np.full(shape, level, np.uint8), predictor)
    assert read_canvas(np.dstack([np.zeros((280, 280, 3), np.uint8),
                                  np.full((280, 280), 255, np.uint8)]), predictor) is None


def test_a_one_that_fills_its_box_is_read_with_paper_round_it(usps_test, predictor) -> None:
    # 1s boxed to a block of ink (at least 80 % of it: 133 of the 264), written with a
    # margin of paper and square pixels: the block's rows were taken for printed lines,
    # and 4 read "No digit found" and 1 read "16".
    dense = [d for d in usps_test.images[usps_test.labels == 1] if boxed(d).mean() >= 0.8]
    assert len(dense) == 133
    for digit in dense:
        square = cv2.resize(255 - 255 * boxed(digit).astype(np.uint8), (64, 64),
                            interpolation=cv2.INTER_NEAREST)
        reading = read_digits(np.pad(square, 8, constant_values=255), predictor)
        assert reading.text == "1" and not reading.sure


def test_boxed_digits_with_paper_round_them_read_as_well(usps_test, predictor) -> None:
    # Every USPS test digit boxed and written as 32x32 square pixels with 4 px of paper:
    # the stretched bars of 2s, 4s and 7s were taken for printed lines (96.7 % before a
    # lone digit was kept whole; 97.56 % after, 97.66 % with no paper round them).
    right = 0
    for digit, label in zip(usps_test.images, usps_test.labels, strict=True):
        square = cv2.resize(255 - 255 * boxed(digit).astype(np.uint8), (32, 32),
                            interpolation=cv2.INTER_NEAREST)
        picture = np.pad(square, 4, constant_values=255)
        right += read_digits(picture, predictor).text == str(int(label))
    assert right / len(usps_test.labels) >= 0.973


def _pieces(square: np.ndarray) -> int:
    return cv2.connectedComponents(square.astype(np.uint8), connectivity=8)[0] - 1


def test_a_digit_cut_to_its_box_is_read_as_one_digit(usps_test, predictor) -> None:
    # Strokes the one-bit threshold broke apart, and 4s whose bars now run edge to edge:
    # the bars were taken out as printed lines and the pieces read as digits ("4" read
    # "1 11 1"): 9 of these 246 read as several digits, 220 right.
    chosen = [(boxed(d), label) for d, label in zip(usps_test.images, usps_test.labels,
                                                       strict=True)
              if label == 4 or _pieces(boxed(d)) >= 2]
    texts = [text_of(as_file(square), predictor) for square, _ in chosen]
    several = sum(len(t) > 1 for t in texts)
    right = np.mean([t == str(label) for t, (_, label) in zip(texts, chosen, strict=True)])
    assert len(chosen) == 246
    # Left: two 2s the threshold broke, wrong read whole too: one lost its thin diagonal
    # and misses an edge ("9 5"), one is a stub above a hook ("12"; "1" with the model
    # shipped until 2 December).
    assert several <= 2, several
    assert right >= 0.91, right


@pytest.fixture(scope="module")
def broken_boxes(usps_test) -> list[tuple[np.ndarray, str]]:
    """USPS test digits written with a thin pen (their grey cubed: the strokes' cores
    only) that the one-bit threshold broke into pieces, boxed, and their labels."""
    return [(square, str(int(label))) for digit, label in zip(usps_test.images,
                                                             usps_test.labels, strict=True)
            if _pieces(square := boxed(digit ** 3)) >= 2]


def test_a_lone_box_the_threshold_broke_is_read_whole(broken_boxes, predictor) -> None:
    # A piece stretched along a side of its box looked like shading along a picture's
    # border: "0" as "()" was read from one arc, "1". A lone box is one digit whole, as
    # each box of a row is (model.reader). Of the 511, 307 read right before, 341 after
    # (382 since the paper round them is no longer judged ink: the next test).
    right = sum(text_of(as_file(square), predictor) == label for square, label in broken_boxes)
    assert len(broken_boxes) == 511
    assert right >= 375, right


def test_a_thin_stroke_the_threshold_broke_is_the_ink(broken_boxes, predictor) -> None:
    # Broken, the stroke is in more pieces than the paper round it, so the paper was
    # judged the ink, and not as a close call. Ink judged so over most of the picture
    # is now a close call, read both ways round (model.reader.polarity): as 16x16 files, dark
    # on light 331 -> 382 of the 511 right, light on dark 330 -> 379.
    dark = [((255 * (1 - square)).astype(np.uint8), label) for square, label in broken_boxes]
    assert sum(text_of(picture, predictor) == label for picture, label in dark) >= 375
    assert sum(text_of(255 - picture, predictor) == label for picture, label in dark) >= 372


def test_a_printed_box_cut_at_its_edges_is_still_taken_out(usps_test, predictor) -> None:
    # A form's box cropped along its lines also reaches every edge; it is a box, not a
    # digit's strokes, and the digit inside is read alone.
    right = 0
    for label in range(10):
        digit = as_file(boxed(usps_test.images[usps_test.labels == label][0])) < 128
        field = np.zeros((96, 96), bool)
        field[14:82, 14:82] = cv2.resize(digit.astype(np.uint8), (68, 68)) > 0
        field[:3], field[-3:], field[:, :3], field[:, -3:] = True, True, True, True
        picture = np.where(field, 0, 255).astype(np.uint8)
        assert not boxed_cells(find_ink(decode_image(picture)))
        right += text_of(picture, predictor) == str(label)
    assert right >= 9, right


def test_boxes_are_found_only_in_one_bit_rows_of_square_cells(usps_test) -> None:
    eight, two = (boxed(usps_test.images[usps_test.labels == d][0]) for d in (8, 2))

    def cells(square: np.ndarray) -> list[tuple[int, int]]:
        found = boxed_cells(find_ink(decode_image(as_file(square))))
        return [(round(c.x / 6), round(c.w / 6)) for c in found]  # in 16 px box units

    assert cells(eight) == [(0, 16)]
    # Abutting boxes (neighbours touch across their common side), or set apart.
    assert cells(np.hstack([eight, two, eight])) == [(0, 16), (16, 16), (32, 16)]
    apart = np.pad(np.hstack([eight, np.zeros((16, 3), np.float32), two]), 2)
    assert cells(apart) == [(2, 16), (21, 16)]
    # Set the same gap apart, a digit the threshold broke (paper columns inside its box):
    # its pieces are no whole cells, but one pitch puts every inked column in a box.
    # Gaps that differ leave no such pitch.
    broken = eight.copy()
    broken[:, 7:9] = 0
    one, three, four = (np.zeros((16, k), np.float32) for k in (1, 3, 4))
    assert cells(np.pad(np.hstack([eight, three, broken, three, two]), 2)) == [
        (2, 16), (21, 16), (40, 16)]
    assert cells(np.pad(np.hstack([eight, one, broken, four, two]), 2)) == []
    seven = np.zeros((16, 7), np.float32)  # 0.44 of a side, as digits saved with margins
    assert cells(np.pad(np.hstack([eight, seven, broken, seven, two]), 2)) == [
        (2, 16), (25, 16), (48, 16)]
    # A lone digit with paper round it proves nothing by touching its own box; a box
    # and a half is no row of boxes; a photographed digit has shades of grey.
    assert cells(np.pad(eight, 2)) == []
    assert cells(np.hstack([eight, two[:, :8]])) == []
    # A bar across the middle, eight times as wide as tall, is no row of eight boxes.
    assert cells(np.pad(np.ones((2, 16), np.float32), ((7, 7), (0, 0)))) == []
    shaded = as_file(eight).astype(np.float32) * np.linspace(0.75, 1.0, FILE_SIZE)[None, :]
    assert boxed_cells(find_ink(decode_image(shaded.astype(np.uint8)))) == []


def test_boxes_at_their_own_heights_are_found_but_no_field_on_a_printed_line(usps_test) -> None:
    # Cells of one side, each at its own height, but never slices of a number written
    # on an underline: the line runs across the row, and through every slice's sides.
    # Without the line's check, 6 of these 80 fields were taken for such cells
    # ("05890" read "233112").
    eight, two = (boxed(usps_test.images[usps_test.labels == d][0]) for d in (8, 2))
    column = np.zeros((19, 16), np.float32)
    lower, higher = column.copy(), column.copy()
    lower[3:], higher[:16] = eight, two
    row = np.pad(np.hstack([higher, lower, higher]), 2)  # "282", the 8 3 px lower
    found = boxed_cells(find_ink(decode_image(as_file(row))))
    assert [(round(c.x / 6), round(c.y / 6), round(c.w / 6)) for c in found] == [
        (2, 2, 16), (18, 5, 16), (34, 2, 16)]
    for field, _ in field_set("usps-test", "underline", 80, seed=0):
        assert boxed_cells(find_ink(decode_image(field), ruled=True)) == []


@pytest.mark.parametrize("gaps", [(1, 4), (5, 8)], ids=["close", "with-margins"])
def test_boxes_set_evenly_apart_are_a_digit_each_however_broken(predictor, gaps) -> None:
    # Numbers of test digits written with a thin pen (their grey cubed), boxed, the
    # boxes `gaps` px apart (of 16): a digit the threshold broke was no whole cell, so the
    # row was not taken for boxes and its pieces were read as digits or dropped. Of
    # these 60, 1-4 px apart: boxes found in 29 -> 54, digit count right 54 -> 60, exact
    # 38 -> 46. 5-8 px apart, as digits saved each with a margin and set side by side
    # are, while the grid looked for boxes at most 0.3 of a side apart: 35 -> 55, 56 ->
    # 60, 40 -> 47.
    found = counted = 0
    for digits, text, rng in number_picks("test", THIN_ROWS, seed=5):
        gap = np.zeros((16, int(rng.integers(gaps[0], gaps[1] + 1))), np.float32)
        row = np.hstack([part for d in digits for part in (boxed(d ** 3), gap)][:-1])
        picture = as_file(np.pad(row, 2))
        found += len(boxed_cells(find_ink(decode_image(picture), ruled=True))) == len(text)
        counted += len(text_of(picture, predictor)) == len(text)
    assert found >= MIN_THIN_ROWS_FOUND, found
    assert counted >= MIN_THIN_ROWS_COUNTED, counted
