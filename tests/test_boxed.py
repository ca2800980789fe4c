"""Digits kept as some published sets keep them: cut to the ink, stretched to
fill a 16x16 square, one bit deep. A narrow 1 becomes a wide block of ink that reaches
every edge of its picture; the reader must still take the dark strokes for the ink."""

from __future__ import annotations

import numpy as np
import pytest

from model.imaging import decode_image
from model.ink import find_ink, is_light_on_dark
from model.reader import read_digits
from training.realsets import FILE_SIZE, as_file, boxed, boxed_picture
from training.styles import to_network_input
from training.usps import load_usps

pytestmark = pytest.mark.usefixtures("mnist_dir")


@pytest.fixture(scope="module")
def usps_test():
    return load_usps("test")


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


def test_boxed_pictures_are_read_as_dark_ink_on_paper(usps_test) -> None:
    pictures = [boxed_picture(d) for d in usps_test.images[:300]]
    assert all(p.shape == (FILE_SIZE, FILE_SIZE) for p in pictures)
    # With the border alone, 34 of these 300 were read as light ink (the paper as the digit).
    flipped = sum(is_light_on_dark(p / 255.0) for p in pictures)
    assert flipped <= 3, flipped


def test_a_solid_block_of_ink_is_dark_ink() -> None:
    # A straight 1 stretched to its box: dark all round, the paper only in slivers.
    block = np.full((96, 96), 20, np.uint8)
    block[:6, 60:] = 245
    block[-6:, :30] = 245
    assert not is_light_on_dark(block / 255.0)
    # The same block in light ink on dark paper, with a margin, is light ink.
    assert is_light_on_dark(np.pad(255 - block, 20, constant_values=0) / 255.0)


def test_light_ink_on_dark_paper_is_still_found(mnist) -> None:
    for image in mnist.x_test[:50]:  # MNIST as published: white strokes, black margin
        assert is_light_on_dark(image / 255.0)


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
