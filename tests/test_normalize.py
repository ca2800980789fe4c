"""Normalisation: any crop of ink to MNIST's 28x28 digit (stroke width, box, centre of mass)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.reader.ink import _ridge, stroke_width
from model.reader.normalize import MNIST_CENTRE, normalize_digit
from model.settings import SETTINGS
from training.synthetic_scans import render_digit

# MNIST's own stroke width over digit size, 1st and 99th percentiles (`_stroke_ratio`).
MNIST_STROKE_P1, MNIST_STROKE_P99 = 0.07, 0.25


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


@settings(max_examples=30, deadline=None)
@given(height=st.integers(12, 400), width=st.integers(3, 400), thickness=st.integers(1, 30),
       seed=st.integers(0, 2**16))
def test_normalised_digit_shape_range_and_centre(height, width, thickness, seed) -> None:
    rng = np.random.default_rng(seed)
    ink = np.zeros((height, width), np.float32)
    points = rng.integers(0, [width, height], size=(4, 2))
    cv2.polylines(ink, [points.astype(np.int32)], False, 1.0, min(thickness, height // 4 + 1))
    out = normalize_digit(ink)
    assert out.shape == (SETTINGS.image_size,) * 2 and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(out.max(1) > 0), np.flatnonzero(out.max(0) > 0)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= SETTINGS.digit_box + 1
    com_y, com_x = _centre_of_mass(out)
    # Off-centre only where the digit box would leave the field (very lopsided ink).
    assert abs(com_y - MNIST_CENTRE) <= 1.0 + max(0, abs(com_y - MNIST_CENTRE) - 4)
    assert abs(com_x - MNIST_CENTRE) <= 1.0 + max(0, abs(com_x - MNIST_CENTRE) - 4)


def test_mnist_digits_are_centred_by_mass(mnist, clear) -> None:
    for i in clear[:50]:
        com_y, com_x = _centre_of_mass(normalize_digit(mnist.x_test[i] / 255.0))
        assert abs(com_y - MNIST_CENTRE) <= 1.0 and abs(com_x - MNIST_CENTRE) <= 1.0


def test_empty_crop_is_all_black() -> None:
    assert not normalize_digit(np.zeros((40, 30), np.float32)).any()


def test_a_thin_one_stays_a_narrow_bar() -> None:
    ink = np.zeros((300, 60), np.float32)
    ink[20:280, 27:33] = 1.0  # a hairline "1", 6 px wide and 260 px tall
    out = normalize_digit(ink)
    columns = np.flatnonzero(out.max(0) > 0.25)
    rows = np.flatnonzero(out.max(1) > 0.25)
    assert len(rows) >= SETTINGS.digit_box - 1
    assert 2 <= len(columns) <= 5  # MNIST-thick, not a blob


def test_a_hairline_at_the_threshold_is_still_a_bar() -> None:
    # One pixel wide at exactly the ink level: the upscale's smoothing takes all of it
    # under the level, which once left nothing to crop (IndexError on a ruled page).
    ink = np.zeros((30, 2), np.float32)
    ink[:, 0] = 0.5
    out = normalize_digit(ink)
    assert len(np.flatnonzero(out.max(1) > 0.25)) >= SETTINGS.digit_box - 1
    assert len(np.flatnonzero(out.max(0) > 0.25)) <= 5


def _stroke_ratio(image: np.ndarray) -> float:
    """Stroke width over digit size of a 28x28 image, measured at 4x like MNIST's 0.125."""
    big = cv2.resize(image, (112, 112), interpolation=cv2.INTER_LINEAR) >= 0.5
    rows, cols = np.flatnonzero(big.any(1)), np.flatnonzero(big.any(0))
    return stroke_width(big) / max(np.ptp(rows) + 1, np.ptp(cols) + 1)


def test_stroke_width_does_not_depend_on_pen_or_scale(mnist, clear) -> None:
    """A hairline pen, a felt marker and any size all give strokes in MNIST's range."""
    for i in clear[:5]:
        ratios = [_stroke_ratio(normalize_digit(render_digit(mnist.x_test[i], h, pen)))
                  for h, pen in [(80, 1), (80, 12), (200, 2), (200, 40), (280, None)]]
        # MNIST's own 1st and 99th percentiles, measured the same way.
        assert min(ratios) >= MNIST_STROKE_P1 and max(ratios) <= MNIST_STROKE_P99
    assert _stroke_ratio(normalize_digit(render_digit(mnist.x_test[clear[0]], 200, 2))) < \
        _stroke_ratio(normalize_digit(render_digit(mnist.x_test[clear[0]], 200, 40)))



def test_a_distance_map_a_last_bit_apart_peaks_in_the_same_places() -> None:
    # OpenCV's distances can come out 1 ulp apart (they did once ONNX Runtime had run
    # in the process); the stroke width, and so the reading, must not move with them.
    mask = np.zeros((120, 90), np.uint8)
    cv2.ellipse(mask, (45, 60), (30, 45), 15, 0, 360, 1, 13)
    cv2.line(mask, (20, 20), (70, 100), 1, 9)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    away = np.where(np.random.default_rng(0).random(dist.shape) < 0.5, np.inf, -np.inf)
    apart = np.where(dist > 0, np.nextafter(dist, away.astype(np.float32)), dist)
    assert (apart != dist).sum() > 1000
    # An exact peak test moved 22 of its 128 peaks.
    assert np.array_equal(_ridge(dist), _ridge(apart))
