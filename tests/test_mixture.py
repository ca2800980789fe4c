"""The training mix: MNIST, USPS train and synthesised styles, split and cached as documented."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.reader.classify import SOLID_BAR
from model.reader.normalize import normalize_digit
from model.settings import SETTINGS
from training import mixture
from training.config import PRESETS
from training.fingerprints import reader_sources
from training.mixture import build_splits
from training.outliers import NOT_ONE_DIGIT
from training.styles import BOX_LEVELS, to_network_input
from training.usps import load_usps
from training.usps_pictures import boxed, boxed_picture

# Converted in a process that has not loaded the model, then again once it has.
BEFORE_AND_AFTER_THE_MODEL = """
import numpy as np
from model.reader.imaging import ReadError
from model.predictor import load_predictor
from training.usps_pictures import usps_boxed_samples
from training.usps_pictures import usps_samples
from training.styles import to_network_input

def convert(picture):
    try:
        return to_network_input(picture)
    except ReadError:
        return np.zeros((28, 28), np.float32)

pictures = [s.image for s in usps_samples("test", 300)]
pictures += [s.image for s in usps_boxed_samples("test", 300)]
before = np.stack([convert(p) for p in pictures])
load_predictor().predict_proba(before[:8])
after = np.stack([convert(p) for p in pictures])
print(int((np.abs(before - after) > 1e-6).reshape(len(pictures), -1).any(axis=1).sum()))
"""
LIMIT = 1200  # 2 % of every source: 1,080 MNIST, 146 USPS train digits, 600 styles


@pytest.fixture()
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(mixture, "SETTINGS", dataclasses.replace(SETTINGS, runs_dir=tmp_path))
    return tmp_path


def test_plain_recipes_train_on_mnist_alone(mnist_dir: Path) -> None:
    cfg = dataclasses.replace(PRESETS["classroom"], limit=500)
    splits = build_splits(cfg, mnist_dir)
    assert len(splits.x_train) == 450 and len(splits.x_val) == 50
    assert set(splits.checksums) == {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}


@pytest.mark.slow
def test_mix_recipe_holds_every_source_and_is_cached(runs: Path, mnist_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = dataclasses.replace(PRESETS["mix"], limit=LIMIT, usps_tablet=1, touching=4000)
    splits = build_splits(cfg, mnist_dir)
    usps_digits, usps_val = 146, 15  # round(7291 * 0.02), a tenth held out
    styles, styles_val = 600, 60
    pairs = 80  # touching pairs: 2 % of 4,000, trained on only
    copies = 4  # two scans, one boxed picture and one tablet trajectory of each USPS digit
    assert len(splits.x_train) == ((LIMIT - 120) + (usps_digits - usps_val) * copies
                                   + styles - styles_val + pairs)
    assert len(splits.x_val) == 120 + usps_val + styles_val
    assert splits.x_train.shape[1:] == (28, 28, 1) and splits.x_train.dtype == np.float32
    assert splits.x_train.min() >= 0.0 and splits.x_train.max() <= 1.0
    assert np.bincount(splits.y_train, minlength=10)[:10].min() > 100
    assert np.sum(splits.y_train == NOT_ONE_DIGIT) == pairs
    assert not np.any(splits.y_val == NOT_ONE_DIGIT)
    assert len(splits.x_test) == 10_000  # MNIST test, as published
    assert {"usps-train", "styles", "touching"} <= set(splits.checksums)
    assert len(list((runs / "mix-cache").glob("*.npz"))) == 3

    # A second build reads the cache (the conversions are not run again) and agrees.
    def refuse(key: tuple) -> tuple:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(mixture, "_usps_images", refuse)
    monkeypatch.setattr(mixture, "_style_images", refuse)
    monkeypatch.setattr(mixture, "_touching_images", refuse)
    again = build_splits(cfg, mnist_dir)
    assert np.array_equal(again.x_train, splits.x_train)
    assert np.array_equal(again.y_val, splits.y_val)

    # A changed synthesiser draws the styles again, as do styles in own stroke orders.
    drawn_by = mixture.styles_fingerprint
    monkeypatch.setattr(mixture, "styles_fingerprint", lambda: "another synthesiser")
    with pytest.raises(AssertionError, match="the cache was not used"):
        build_splits(cfg, mnist_dir)
    monkeypatch.setattr(mixture, "styles_fingerprint", drawn_by)
    with pytest.raises(AssertionError, match="the cache was not used"):
        build_splits(dataclasses.replace(cfg, styles_own_orders=0.5), mnist_dir)

    # A changed reader converts again, even where the canary's first images agree.
    monkeypatch.setattr(mixture, "reader_fingerprint", lambda: "another reader")
    with pytest.raises(AssertionError, match="the cache was not used"):
        build_splits(cfg, mnist_dir)


def test_touching_pairs_are_taught_as_marks_of_two_digits(runs: Path, mnist_dir: Path) -> None:
    cfg = dataclasses.replace(PRESETS["classroom"], limit=3000, touching=4000)
    splits = build_splits(cfg, mnist_dir)
    pair = splits.y_train == NOT_ONE_DIGIT
    assert pair.sum() == 200 and not np.any(splits.y_val == NOT_ONE_DIGIT)  # 5 % of 4,000

    def wide(images: np.ndarray) -> float:
        """Share of images whose ink is wider than tall."""
        shares = []
        for image in images[..., 0]:
            rows, cols = np.flatnonzero(image.max(axis=1) > 0.5), np.flatnonzero(
                image.max(axis=0) > 0.5)
            shares.append(cols[-1] - cols[0] > rows[-1] - rows[0])
        return float(np.mean(shares))

    # Two digits side by side, normalised as the reader normalises one: mostly wider than tall,
    # where most of MNIST's digits are taller than wide.
    assert wide(splits.x_train[pair]) >= 0.75  # 0.83: a pair with a 1 can be narrow
    assert wide(splits.x_train[~pair][:500]) <= 0.2  # 0.12


def test_the_fingerprint_covers_every_module_the_reader_loads() -> None:
    def loaded(module: str) -> set[str]:
        code = (f"import sys, {module}; "
                "print(' '.join(m for m in sys.modules if m.startswith('model.')))")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        return set(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                  text=True, timeout=120, check=True).stdout.split())

    # Beyond what the package's __init__ loads (the predictor), the reader's own modules.
    fingerprinted = set(reader_sources())
    assert loaded("model.reader") - loaded("model") <= fingerprinted <= loaded("model.reader")


def test_about_half_of_mnist_is_shown_as_the_reader_normalises_it(mnist_dir: Path) -> None:
    plain = build_splits(dataclasses.replace(PRESETS["default"], limit=1000), mnist_dir)
    mixed = build_splits(dataclasses.replace(PRESETS["default"], limit=1000,
                                             mnist_normalized=0.5), mnist_dir)
    changed = np.mean([not np.array_equal(a, b)
                       for a, b in zip(plain.x_train, mixed.x_train, strict=True)])
    assert 0.35 <= changed <= 0.55
    assert np.array_equal(plain.y_train, mixed.y_train)


def test_training_sees_what_inference_sees_once_the_model_is_loaded(mnist_dir: Path) -> None:
    # The mix is converted in worker processes that never load the model; the app reads
    # with ONNX Runtime loaded, after which OpenCV's distances came out a last bit apart
    # and an exact peak test moved a stroke width: 1 image in these 600 changed.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", BEFORE_AND_AFTER_THE_MODEL], env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.split()[-1] == "0", done.stdout


def test_a_one_boxed_to_solid_ink_is_taught_as_a_scan(mnist_dir: Path) -> None:
    # The reader shows a picture that is ink edge to edge as the bar it was stretched
    # from (`model.reader.classify.SOLID_BAR`); the mix gives such a 1 as a scan instead, as the
    # shipped model was taught, so `make train` still trains on the same images.
    usps = load_usps("train")
    solid = [int(i) for i in np.flatnonzero(usps.labels == 1)
             if boxed(usps.images[i], max(BOX_LEVELS)).all()][:5]
    assert len(solid) == 5
    bar = to_network_input(boxed_picture(usps.images[solid[0]]))
    assert np.array_equal(bar, normalize_digit(np.ones(SOLID_BAR, np.float32)))
    taught = mixture._usps_chunk((0, "boxed", 0, 0, np.array(solid))) / 255.0
    for image in taught:
        assert image.max() == 1.0 and not np.allclose(image, bar, atol=1 / 255)
