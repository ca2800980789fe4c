"""The stroke-level style synthesiser: each style has the shape it claims, and renders.

The grid of every style as the network sees it is left in test-artifacts/styles.png.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest

from model.reader.ink import stroke_width
from training.skeletons import STYLES
from training.styles import (
    DEVICES,
    Drawing,
    own_order,
    pen_digit_trajectory,
    render,
    sample_strokes,
    simplify,
    style_grid,
    synthesize,
    to_network_input,
    transform,
)

DRAWS = 20  # random drawings per shape check


def _skeletons(name: str, count: int = DRAWS) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return [STYLES[name][1](rng) for _ in range(count)]


def _crosses(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two polylines intersect (any segment of one crosses one of the other)."""
    def side(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    return any(side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0
               for p, q in itertools.pairwise(a)
               for r, s in itertools.pairwise(b))


def test_european_one_has_a_long_flag_and_sometimes_a_foot() -> None:
    skeletons = _skeletons("1-european", 30)
    for strokes in skeletons:
        flag, top, bottom = strokes[0][0], strokes[0][1], strokes[0][-1]
        stem = np.linalg.norm(bottom - top)
        assert np.linalg.norm(top - flag) >= 0.3 * stem  # nearly as long as the stem
        assert flag[0] < top[0] - 0.1 and flag[1] > top[1]  # an up-stroke from the left
    feet = [s[1] for s in skeletons if len(s) == 2]
    assert feet and all(abs(f[0, 1] - f[1, 1]) < 1e-9 and f[1, 0] - f[0, 0] >= 0.3 for f in feet)


def test_crossed_seven_has_a_bar_across_its_stem() -> None:
    for stem, bar in _skeletons("7-crossed"):
        assert _crosses(stem[-2:], bar)
        assert abs(bar[0, 1] - bar[-1, 1]) < 1e-9  # level


def test_open_four_never_closes_at_the_top() -> None:
    for left, stem in _skeletons("4-open"):
        assert left[0, 1] <= stem[0, 1] + 0.3
        # The top of the left stroke and the stem's top are far apart: the 4 is open.
        assert np.linalg.norm(left[0] - stem[0]) > 0.35
        assert not _crosses(left[:2], stem)


def test_open_and_curled_nines() -> None:
    gaps, curled = [], 0
    for loop, _ in _skeletons("9-open", 40):
        turn = np.unwrap(np.arctan2(loop[:, 1] - 0.28, loop[:, 0] - 0.3))
        swept = abs(math.degrees(turn[-1] - turn[0]))
        if swept > 360:
            curled += 1  # the loop runs on past its start: curled in
        else:
            gaps.append(np.linalg.norm(loop[0] - loop[-1]))
    assert curled >= 5 and len(gaps) >= 5 and min(gaps) > 0.15
    for strokes in _skeletons("9-curled"):
        tail = strokes[0][-1]
        assert tail[0] < 0.3 and tail[1] > 0.8  # the tail bends back to the left


def test_five_with_a_loose_bar() -> None:
    gaps = [min(np.linalg.norm(body - p, axis=1).min() for p in bar)
            for body, bar in _skeletons("5", 40)]
    assert sum(g > 0.03 for g in gaps) >= 10 and sum(g < 0.01 for g in gaps) >= 10


def test_affine_widens_and_slants() -> None:
    box = [np.array([[0.3, 0.0], [0.3, 1.0], [0.6, 1.0]])]
    plain, wide = transform(box, 1.0, 0.0)[0], transform(box, 2.0, 0.0)[0]
    assert np.ptp(wide[:, 0]) == pytest.approx(2 * np.ptp(plain[:, 0]))
    slanted = transform(box, 1.0, 25.0)[0]
    # Forward slant: the top of the stem moves right by tan(25 deg) of the height.
    assert slanted[0, 0] - slanted[1, 0] == pytest.approx(math.tan(math.radians(25)))


def test_tablet_strokes_are_few_straight_segments_often_joined() -> None:
    rng = np.random.default_rng(1)
    drawings = [sample_strokes(d % 10, rng, device="tablet") for d in range(60)]
    # A few straight segments: each stroke in at most 20 points (a pen stroke has ~100).
    assert all(len(s) <= 20 for d in drawings for s in d.strokes)
    multi = [d for d in drawings if len(STYLES[d.style][1](np.random.default_rng(0))) > 1]
    assert any(len(d.strokes) == 1 for d in multi) and any(len(d.strokes) > 1 for d in multi)
    # Or as pen-digit sets keep a digit: one trajectory, the pen's travel included, as a
    # few points evenly spaced along it (both ends kept).
    seven = sample_strokes(7, np.random.default_rng(4), "7-crossed", device="mouse").strokes
    points = pen_digit_trajectory(seven, 8)
    assert points.shape == (8, 2)
    assert np.allclose(points[0], seven[0][0]) and np.allclose(points[-1], seven[-1][-1])
    circle = np.stack([np.cos(np.linspace(0, 6.28, 100)), np.sin(np.linspace(0, 6.28, 100))], 1)
    assert len(simplify(0.3 * circle, 0.05)) <= 10  # a 0 of 100 points: a few segments


def _five_orders(own_orders: float) -> set[tuple[bool, bool]]:
    """Of 300 tablet 5s kept in two strokes: (is the bar drawn first, right to left)."""
    rng = np.random.default_rng(2)
    orders = set()
    for _ in range(300):
        drawing = sample_strokes(5, rng, device="tablet", own_orders=own_orders)
        if len(drawing.strokes) == 2:  # neither joined nor resampled: the order is visible
            first, second = drawing.strokes
            bar = first if np.ptp(first[:, 1]) < np.ptp(second[:, 1]) else second
            orders.add((bar is first, bool(bar[0, 0] > bar[-1, 0])))
    return orders


def test_tablet_strokes_may_come_in_the_writers_own_order() -> None:
    # The skeleton draws a 5's body (tall), then its bar (flat) left to right.
    assert _five_orders(0.0) == {(False, False)}
    assert _five_orders(0.5) == {(False, False), (False, True), (True, False), (True, True)}
    strokes = [np.zeros((3, 2)), np.ones((4, 2)), np.full((5, 2), 2.0)]
    assert sorted(len(s) for s in own_order(strokes, np.random.default_rng(0))) == [3, 4, 5]


@pytest.mark.parametrize("pen", [4.0, 20.0])
def test_pens_from_thin_to_thick(pen: float) -> None:
    rng = np.random.default_rng(2)
    drawing = sample_strokes(7, rng, "7", device="mouse")
    canvas = render(drawing, rng, height=150, pen=pen)
    assert canvas.shape == (280, 280, 4)
    # OpenCV's anti-aliased lines come out 1-2 px wider than their thickness.
    assert stroke_width(canvas[..., 3] >= 128) == pytest.approx(pen + 1.5, abs=1.5)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_renders_as_a_digit(name: str) -> None:
    rng = np.random.default_rng(3)
    for device in DEVICES:
        drawing = sample_strokes(STYLES[name][0], rng, name, device)
        assert isinstance(drawing, Drawing) and drawing.label == STYLES[name][0]
        picture = render(drawing, rng)
        assert picture.ndim == (2 if device in ("pen", "box") else 3)
        image = to_network_input(picture)
        assert image.shape == (28, 28) and image.max() == pytest.approx(1.0)
        rows, cols = np.indices(image.shape)
        centre = ((rows * image).sum() / image.sum(), (cols * image).sum() / image.sum())
        assert centre == pytest.approx((14.0, 14.0), abs=1.0)  # MNIST-centred, as inference


def test_synthesis_is_seeded_and_balanced() -> None:
    images, labels = synthesize(20, seed=5)
    again, _ = synthesize(20, seed=5)
    assert images.dtype == np.uint8 and images.shape == (20, 28, 28)
    assert np.array_equal(images, again)
    assert np.bincount(labels, minlength=10).tolist() == [2] * 10


def test_grid_of_styles_is_saved(artifacts_dir) -> None:
    grid = style_grid(per_style=6)
    assert grid.shape == (6 * 30 * 3, len(STYLES) * 30 * 3)  # 28x28 + a 1 px frame, 3x
    path = artifacts_dir / "styles.png"
    cv2.imwrite(str(path), grid)
    assert path.stat().st_size > 1000
