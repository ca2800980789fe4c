"""Digits that are not MNIST: handwriting fonts, canvas strokes, optdigits, photographed numbers.

The floors sit a few points under what the shipped model measures on the full sets
(README), so a regression in the reader or a worse model fails here.
"""

from __future__ import annotations

import pytest

from training.realworld import evaluate_realworld, handwriting_fonts

# Set -> lowest acceptable share read exactly, on the quick sets.
FLOORS = {"fonts": 0.93, "strokes": 0.97, "optdigits": 0.90, "numbers": 0.88}


@pytest.fixture(scope="module")
def results(predictor) -> dict[str, dict[str, float]]:
    return evaluate_realworld(predictor, quick=True)


def test_handwriting_fonts_are_installed() -> None:
    # .ci/run installs them; without them the font set would silently be empty.
    assert len(handwriting_fonts()) >= 15


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_reader_reads_non_mnist_digits(results, name: str) -> None:
    assert results[name]["n"] >= 50
    assert results[name]["reader"] >= FLOORS[name], results[name]


# Not optdigits: on those blurred 8x8 upscales the naive squeeze keeps grey levels the
# reader's thresholding loses, and it wins by about a point (see the README).
@pytest.mark.parametrize("name", ["fonts", "strokes"])
def test_reader_is_no_worse_than_naive_preprocessing(results, name: str) -> None:
    # Invert + contrast stretch + squeeze to 28x28, what tutorials do with an upload.
    assert results[name]["reader"] >= results[name]["naive"], results[name]
