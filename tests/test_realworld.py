"""Digits that are not MNIST: handwriting fonts, canvas strokes, optdigits, photographed numbers,
and scribbles that are no digit at all.

The floors sit a few points under what the shipped model measures on the full sets
(README), so a regression in the reader or a worse model fails here.
"""

from __future__ import annotations

import pytest

from training.realsets import handwriting_fonts
from training.realworld import evaluate_realworld
from training.realworld.__main__ import main

# Set -> lowest acceptable share read exactly, on the quick sets (usps: the first 500
# USPS test digits as scans; the whole split is held to the 97.5 % in test_usps).
FLOORS = {"usps": 0.97, "fonts": 0.93, "strokes": 0.97, "optdigits": 0.90, "numbers": 0.88,
          # Boxed (cut to the ink, stretched to 16x16, one bit): 97.4 % on
          # the quick set, 86 % with the model before the boxed digits were trained on.
          "usps-boxed": 0.93,
          # The same saved light on dark, as their bits: 98.4 % on the quick set.
          "usps-boxed-light": 0.95}
# Set -> lowest acceptable share read exactly *and* sure: the checks that keep scribbles
# from being sure must not cost real digits their "sure" flag. Since "sure" needs 90 %
# (not 70 %; model.settings: at most 1 % of sure USPS readings may be wrong), the
# blurred 8x8 optdigits upscales are sure less often: 78 % on the quick set, from 88 %.
SURE_FLOORS = {"usps": 0.90, "fonts": 0.90, "strokes": 0.85, "optdigits": 0.75,
               "numbers": 0.80}
# Zig-zags, loops, crosses and scrawls: the least share the reader must not be sure of
# (0.64 on the quick set; 0.36 before the MNIST outline, anisotropy and nudge checks).
SCRIBBLES_REJECTED = 0.55


@pytest.fixture(scope="module")
def results(predictor) -> dict[str, dict[str, float]]:
    # Only the sets held here: the number sets have their own test (test_usps_numbers).
    held = frozenset(FLOORS) | frozenset(SURE_FLOORS) | {"scribbles"}
    return evaluate_realworld(predictor, quick=True, only=held)


def test_handwriting_fonts_are_installed() -> None:
    # .ci/run installs them; without them the font set would silently be empty.
    assert len(handwriting_fonts()) >= 15


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_reader_reads_non_mnist_digits(results, name: str) -> None:
    assert results[name]["n"] >= 50
    assert results[name]["reader"] >= FLOORS[name], results[name]


@pytest.mark.parametrize("name", sorted(SURE_FLOORS))
def test_real_digits_stay_sure(results, name: str) -> None:
    assert results[name]["sure"] >= SURE_FLOORS[name], results[name]


@pytest.mark.parametrize("name", ["usps-boxed", "usps-boxed-light"])
def test_boxed_digits_are_seldom_sure_and_wrong(results, name: str) -> None:
    # At most 1 % of the sure readings wrong, as on USPS scans: 1 of 455 light on dark.
    report = results[name]
    sure = report["n"] * report["sure"] + report["sure_wrong"]
    assert report["sure_wrong"] <= 0.01 * sure, report


def test_scribbles_are_not_sure(results) -> None:
    assert results["scribbles"]["n"] >= 100
    assert results["scribbles"]["rejected"] >= SCRIBBLES_REJECTED, results["scribbles"]


# Not optdigits: since the reader keeps the grey profile of those blurred 8x8 upscales
# (model.reader.normalize) it beats the naive squeeze on the full set by a point with the
# shipped model, but is level with it (within 0.2 %) with the model before, and on the
# 300 of the quick set either may win: not a margin a test can hold.
@pytest.mark.parametrize("name", ["fonts", "strokes"])
def test_reader_is_no_worse_than_naive_preprocessing(results, name: str) -> None:
    # Invert + contrast stretch + squeeze to 28x28, what tutorials do with an upload.
    assert results[name]["reader"] >= results[name]["naive"], results[name]


@pytest.mark.parametrize("points", ["x", "1", "8,,12"])
def test_a_bad_point_count_is_one_sentence(points: str, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--sets", "usps-tablet", "--tablet-points", points])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith("is not a list of point counts of 2 or more, e.g. 8 or 8,12,16")
