"""The training objective: a digit's own class, and for a mark that is not one digit
(touching pairs, `training.outliers`) every class alike."""

from __future__ import annotations

import numpy as np

from training.objective import DigitAccuracy, digit_loss
from training.outliers import NOT_ONE_DIGIT


def _probabilities(rows: list[int | None]) -> np.ndarray:
    """One row per entry: 0.91 on that class (0.01 elsewhere), or uniform for None."""
    out = np.full((len(rows), 10), 0.01, np.float32)
    for i, digit in enumerate(rows):
        if digit is None:
            out[i] = 0.1
        else:
            out[i, digit] = 0.91
    return out


def test_a_digit_is_scored_against_its_class_and_a_pair_against_every_class() -> None:
    labels = np.array([3, NOT_ONE_DIGIT, NOT_ONE_DIGIT, 1])
    proba = _probabilities([3, None, 7, 2])
    loss = np.asarray(digit_loss(labels, proba))
    assert np.allclose(loss[0], -np.log(0.91), atol=1e-5)
    # The least a pair can cost is log 10, when the network spreads itself evenly; sure
    # of one digit (0.91 on a 7), it costs the mean of -log p over the ten classes.
    assert np.allclose(loss[1], np.log(10), atol=1e-5)
    assert np.allclose(loss[2], -np.mean(np.log(proba[2])), atol=1e-5)
    assert loss[2] > loss[1] + 1.5
    assert np.allclose(loss[3], -np.log(0.01), atol=1e-4)


def test_accuracy_counts_the_digits_only() -> None:
    labels = np.array([3, NOT_ONE_DIGIT, 1, NOT_ONE_DIGIT])
    metric = DigitAccuracy()
    metric.update_state(labels, _probabilities([3, 0, 2, 9]))
    assert float(metric.result()) == 0.5  # 3 right, 1 wrong; the pairs have no answer
    assert metric.name == "accuracy"  # what the progress charts and the card call it
