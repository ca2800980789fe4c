"""Cutting touching digits: the width prior from MNIST, and loops that are never cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.options import WIDTH_GRID, WIDTH_TAIL, width_prior
from model.pieces import Piece, cut_options
from model.reader import read_digits


def _ink_box_aspects(images: np.ndarray) -> np.ndarray:
    ink = images >= 128
    cols, rows = ink.any(axis=1), ink.any(axis=2)

    def extent(a: np.ndarray) -> np.ndarray:
        return a.shape[1] - a[:, ::-1].argmax(axis=1) - a.argmax(axis=1)

    return extent(cols) / extent(rows)


def test_width_table_is_what_mnist_says(mnist) -> None:
    aspects = _ink_box_aspects(mnist.x_train)
    for digit in range(10):
        mine = aspects[mnist.y_train == digit]
        measured = [max(float(np.mean(mine >= g)), 1e-4) for g in WIDTH_GRID]
        np.testing.assert_allclose(WIDTH_TAIL[digit], measured, rtol=0.02, atol=1e-4)


def test_width_prior_grows_with_width_and_depends_on_the_digit() -> None:
    for digit in range(10):
        costs = [width_prior(digit, a) for a in (0.5, 1.0, 1.3, 1.7, 2.5)]
        assert costs[0] == costs[1] == 0.0
        assert costs == sorted(costs, reverse=True)
    # A wide 2 or 5 is common; a wide 1 or 9 is not.
    assert width_prior(2, 1.4) > width_prior(8, 1.4) > width_prior(1, 1.4)


def _ring(width: int, height: int, pen: int = 8) -> Piece:
    mask = np.zeros((height + 2 * pen, width + 2 * pen), np.uint8)
    centre = (mask.shape[1] // 2, mask.shape[0] // 2)
    cv2.ellipse(mask, centre, (width // 2, height // 2), 0, 0, 360, 1, pen)
    return Piece(0, 0, mask.shape[1], mask.shape[0], mask.astype(bool))


def test_every_cut_of_a_flat_zero_goes_through_its_loop() -> None:
    cuts = cut_options(_ring(180, 90), max_parts=3)
    assert cuts and all(cut.loops >= 1 for cut in cuts)
    open_ring = _ring(180, 90)
    open_ring.mask[:, open_ring.w // 2 - 4: open_ring.w // 2 + 4] = False  # two arcs
    assert all(cut.loops == 0 for cut in cut_options(open_ring, max_parts=3))


@pytest.mark.parametrize("aspect", [1.3, 1.7, 2.0])
def test_a_flat_zero_is_read_as_one_zero(aspect: float, predictor) -> None:
    ring = _ring(int(100 * aspect), 100, pen=10)
    page = np.full((ring.h + 80, ring.w + 80), 240, np.uint8)
    page[40:-40, 40:-40][ring.mask] = 30
    assert read_digits(page, predictor).text == "0"
