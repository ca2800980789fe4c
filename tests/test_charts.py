"""The dashboard's figure builders and selection helpers, on hand-made and real predictions."""

from __future__ import annotations

import numpy as np
import pytest

from pages.common import charts
from pages.common import evaluation as ev
from training.metrics import confusion_matrix, reliability

# Ten images: true digits and what a model said, with two 5->3 mistakes and one 7->1.
Y_TRUE = np.array([5, 5, 5, 3, 7, 7, 1, 0, 5, 3])
Y_PRED = np.array([3, 5, 3, 3, 1, 7, 1, 0, 5, 3])


def _proba(pred: np.ndarray, top: np.ndarray) -> np.ndarray:
    """One-row-per-image probabilities with `top` on `pred` and the rest spread evenly."""
    proba = np.tile(((1 - top) / 9)[:, None], (1, 10))
    proba[np.arange(len(pred)), pred] = top
    return proba


def test_confusion_figure_colours_only_errors_and_writes_every_count() -> None:
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    fig = charts.confusion_figure(cm)
    grey, errors, text, clicks = fig.data
    z = np.array(errors.z, float)
    assert np.isnan(np.diag(z)).all(), "the diagonal is masked out of the error colours"
    off = ~np.eye(10, dtype=bool)
    np.testing.assert_array_equal(z[off], cm[off])
    assert z[5, 3] == 2 and z[7, 1] == 1
    mask = np.array(grey.z, float)
    assert (np.diag(mask) == 1).all() and np.isnan(mask[off]).all()
    # Text and click targets sit at (x=predicted, y=true) for every one of the 100 cells.
    labels = {(int(x), int(y)): s for x, y, s in zip(text.x, text.y, text.text, strict=True)}
    assert labels[(3, 5)] == "2" and labels[(5, 5)] == "2" and labels[(0, 0)] == "1"
    assert len(clicks.x) == 100 and (int(clicks.x[53]), int(clicks.y[53])) == (3, 5)
    # The click targets never show, selected or not; the hover text names the cell.
    assert clicks.marker.opacity == 0 and clicks.selected.marker.opacity == 0
    assert clicks.customdata[53] == "true 5, predicted 3: 2 (50.0%)"
    # The brightest error cell is written in white, a pale one in black.
    colours = dict(zip(zip(text.x, text.y, strict=True), text.textfont.color, strict=True))
    assert colours[(3, 5)] == "white" and colours[(1, 7)] == "black"


def test_row_normalised_confusion_figure_shows_shares() -> None:
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    z = np.array(charts.confusion_figure(cm, normalise=True).data[1].z, float)
    assert z[5, 3] == pytest.approx(2 / 4)  # two of the four 5s were read as 3
    assert z[7, 1] == pytest.approx(1 / 2)
    assert np.nansum(z[2]) == 0  # no 2s at all: a zero row, not a division by zero


def test_confusion_difference_is_second_minus_first_with_diverging_scale() -> None:
    a = confusion_matrix(Y_TRUE, Y_PRED)
    b = confusion_matrix(Y_TRUE, np.where(Y_TRUE == 5, 5, Y_PRED))  # B fixes the 5s
    fig = charts.confusion_diff_figure(a, b)
    z = np.array(fig.data[1].z, float)
    assert z[5, 3] == -2 and np.isnan(z[5, 5])
    assert fig.data[1].zmid == 0 and fig.data[1].zmin == -fig.data[1].zmax


def test_cell_indices_returns_exactly_that_cell() -> None:
    np.testing.assert_array_equal(ev.cell_indices(Y_TRUE, Y_PRED, 5, 3), [0, 2])
    np.testing.assert_array_equal(ev.cell_indices(Y_TRUE, Y_PRED, 3, 3), [3, 9])
    assert len(ev.cell_indices(Y_TRUE, Y_PRED, 2, 2)) == 0


def test_cell_indices_on_the_real_test_set(mnist, predictor) -> None:
    from training.evaluate import predict_test_set

    pred = predict_test_set(predictor, mnist.x_test).argmax(axis=1)
    cm = confusion_matrix(mnist.y_test, pred)
    for true, guess in [(5, 3), (4, 9), (7, 7)]:
        found = ev.cell_indices(mnist.y_test, pred, true, guess)
        assert len(found) == cm[true, guess]
        assert (mnist.y_test[found] == true).all() and (pred[found] == guess).all()


def test_clicked_cell_reads_the_point_under_the_click() -> None:
    event = {"selection": {"points": [{"curve_number": 3, "x": 3, "y": 5}]}}
    assert ev.clicked_cell(event) == (5, 3)
    assert ev.clicked_cell({"selection": {"points": []}}) is None
    assert ev.clicked_cell(None) is None


def test_confidence_orderings() -> None:
    top = np.array([0.9, 0.8, 0.6, 0.99, 0.95, 0.5, 0.7, 0.99, 0.97, 0.98])
    proba = _proba(Y_PRED, top)
    # Mistakes are images 0 (0.9), 2 (0.6) and 4 (0.95): surest first.
    np.testing.assert_array_equal(ev.most_confident_mistakes(Y_TRUE, proba, 10), [4, 0, 2])
    np.testing.assert_array_equal(ev.most_confident_mistakes(Y_TRUE, proba, 2), [4, 0])
    # Right ones, least sure first: 5 (0.5), 6 (0.7), 1 (0.8), ...
    np.testing.assert_array_equal(ev.least_confident_correct(Y_TRUE, proba, 3), [5, 6, 1])


def test_top_k_caption_lists_the_best_guesses_in_order() -> None:
    row = np.array([0.01, 0, 0, 0.71, 0, 0.27, 0, 0, 0.01, 0])
    assert ev.top_k_caption(42, 5, row) == "#42 · true 5 · 3 71% · 5 27% · 0 1%"


def test_random_indices_are_seeded_distinct_and_inside_the_mask() -> None:
    mask = np.arange(1000) % 3 == 0
    first = ev.random_indices(mask, 50, seed=1)
    assert len(set(first)) == 50 and mask[first].all()
    np.testing.assert_array_equal(first, ev.random_indices(mask, 50, seed=1))
    assert not np.array_equal(first, ev.random_indices(mask, 50, seed=2))
    assert len(ev.random_indices(mask, 10_000, seed=0)) == mask.sum()


def test_disagreements_in_both_directions() -> None:
    pred_b = np.array([5, 5, 3, 3, 7, 1, 1, 0, 5, 3])  # fixes #0 and #4, breaks #5
    a_only, b_only = ev.disagreements(Y_TRUE, Y_PRED, pred_b)
    np.testing.assert_array_equal(a_only, [5])
    np.testing.assert_array_equal(b_only, [0, 4])


def test_reliability_matches_a_hand_computed_case() -> None:
    # Four predictions in two bins: (0.55, right), (0.6, wrong) and (0.95, right) twice.
    confidence = np.array([0.55, 0.6, 0.95, 0.95])
    correct = np.array([1, 0, 1, 1])
    result = reliability(confidence, correct, bins=2)
    # Bin [0, 0.5] is empty; bin (0.5, 1]: accuracy 3/4, mean confidence 0.7625.
    assert result["count"] == [0, 4]
    assert result["ece"] == pytest.approx(abs(0.75 - 0.7625))
    fig = charts.reliability_figure(result)
    bars = fig.data[1]
    assert list(bars.y) == [0.75] and "0.0125" in fig.layout.title.text


def test_confidence_histogram_splits_right_and_wrong() -> None:
    fig = charts.confidence_histogram(np.array([0.9, 0.8, 0.4]), np.array([True, True, False]))
    right, wrong = fig.data
    assert list(right.x) == [0.9, 0.8] and list(wrong.x) == [0.4]
    assert right.name == "right (2)" and wrong.name == "wrong (1)"


def test_pca_orders_axes_by_variance() -> None:
    rng = np.random.default_rng(0)
    # Variance 100 along one hidden direction, 9 along another, 0.01 elsewhere.
    basis, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    scores = rng.normal(size=(2000, 3)) * np.array([10.0, 3.0, 0.1])
    features = scores @ basis[:, :3].T + 5.0
    coords, explained = ev.pca_2d(features)
    assert coords.shape == (2000, 2)
    assert explained[0] > explained[1] > 0 and explained.sum() <= 1
    assert explained[0] == pytest.approx(100 / 109.01, rel=0.05)
    assert np.var(coords[:, 0]) > np.var(coords[:, 1])
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-9)


def test_tile_places_each_image_in_its_cell() -> None:
    images = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    sheet = ev.tile(images, scale=1, pad=1, background=0)
    assert sheet.shape == (2 * 5 + 1, 3 * 5 + 1)
    np.testing.assert_array_equal(sheet[6:10, 11:15], images[1, 2])
    assert ev.tile(images, scale=3, pad=1).shape == (33, 48)


def test_data_statistics_helpers() -> None:
    labels = np.array([0, 1, 1, 9])
    np.testing.assert_array_equal(ev.class_counts(labels), [1, 2, 0, 0, 0, 0, 0, 0, 0, 1])
    images = np.zeros((4, 2, 2))
    images[1], images[2] = 10, 30
    means = ev.mean_images(images[[0, 1, 2, 3]], np.array([0, 1, 1, 2]))[:3]
    np.testing.assert_array_equal(means[1], np.full((2, 2), 20))


def test_digit_colours_are_shared_by_every_digit_chart() -> None:
    fig = charts.class_distribution_figure(np.arange(10), np.arange(10))
    assert list(fig.data[0].marker.color) == list(charts.DIGIT_COLORS)
    coords = np.random.default_rng(0).normal(size=(30, 2))
    labels = np.arange(30) % 10
    fig = charts.embedding_figure(coords, labels, labels, np.arange(30))
    assert [t.marker.color for t in fig.data] == list(charts.DIGIT_COLORS)
    assert [int(i) for i in fig.data[3].customdata[:, 0]] == [3, 13, 23]


def test_the_selected_cell_is_framed() -> None:
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    assert not charts.confusion_figure(cm).layout.shapes
    (frame,) = charts.confusion_figure(cm, selected=(5, 3)).layout.shapes
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (2.5, 3.5, 4.5, 5.5)


def test_sample_kinds_pick_from_the_right_group() -> None:
    top = np.array([0.9, 0.8, 0.6, 0.99, 0.95, 0.5, 0.7, 0.99, 0.97, 0.98])
    scored = ev.Scored(np.zeros((10, 28, 28), np.uint8), Y_TRUE, _proba(Y_PRED, top))
    wrong = {0, 2, 4}
    assert set(ev.sample(scored, "Random mistakes", 10, seed=0)) == wrong
    assert set(ev.sample(scored, "Random correct", 10, seed=0)) == set(range(10)) - wrong
    assert list(ev.sample(scored, "Most confident mistakes", 1, seed=0)) == [4]
    assert list(ev.sample(scored, "Least confident correct", 1, seed=0)) == [5]
    with pytest.raises(ValueError, match="Unknown sample kind"):
        ev.sample(scored, "Everything", 3, seed=0)


def test_a_click_on_the_map_finds_its_image() -> None:
    labels = np.array([3, 1, 3, 0, 3])
    fig = charts.embedding_figure(np.zeros((5, 2)), labels, labels, np.arange(5) * 100)
    # The third point of digit 3's trace is the fifth sample, test image #400.
    assert [int(i) for i in fig.data[3].customdata[:, 0]] == [0, 200, 400]
    event = {"selection": {"points": [{"curve_number": 3, "point_index": 2,
                                       "customdata": {"0": 400, "1": 3}}]}}
    assert ev.picked_map_point(event, labels) == 4
    assert ev.picked_map_point({"selection": {"points": []}}, labels) is None
