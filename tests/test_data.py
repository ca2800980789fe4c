"""Tests for training.data against the real MNIST files and damaged local copies
(downloads from loopback mirrors: test_data_download.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.mnist_files import SMALL, flip, folder_with, is_one_sentence, raw
from training.data import (
    FILES,
    Mnist,
    MnistError,
    find_mnist_dir,
    load_mnist,
    mnist_available,
    prepare,
    to_model_input,
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- the real data -------------------------------------------------------------------------


def test_loads_real_mnist_from_env(mnist_dir: Path) -> None:
    data = load_mnist()
    assert data.x_train.shape == (60000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.y_train.shape == (60000,) and data.y_train.dtype == np.uint8
    assert data.x_test.shape == (10000, 28, 28) and data.x_test.dtype == np.uint8
    assert data.y_test.shape == (10000,) and data.y_test.dtype == np.uint8
    assert np.bincount(data.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(data.y_test).tolist() == TEST_COUNTS
    assert data.x_train.min() == 0 and data.x_train.max() == 255
    assert data.source == mnist_dir.resolve()
    assert data.checksums == {stem: spec.sha256 for stem, spec in FILES.items()}
    assert mnist_available()


def test_cached_arrays_are_shared_and_read_only(mnist_dir: Path) -> None:
    first, second = load_mnist(mnist_dir), load_mnist(mnist_dir)
    assert first.x_train is second.x_train
    with pytest.raises(ValueError):
        first.x_train[0, 0, 0] = 1


def test_explicit_dir_beats_env(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_DIR", "/nonexistent/mnist")
    assert find_mnist_dir(mnist_dir) == mnist_dir.resolve()


def test_uncompressed_files_load_the_same(mnist: Mnist, mnist_dir: Path, tmp_path: Path) -> None:
    for stem in FILES:
        (tmp_path / stem).write_bytes(raw(mnist_dir, stem))
    unpacked = load_mnist(tmp_path)
    assert unpacked.source == tmp_path.resolve()
    np.testing.assert_array_equal(unpacked.x_train, mnist.x_train)
    np.testing.assert_array_equal(unpacked.y_test, mnist.y_test)
    assert unpacked.checksums == mnist.checksums


# --- bad local files -----------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize(
    ("stem", "damage", "words"),
    [
        (SMALL, lambda d: flip(d, 5000), "SHA-256"),
        ("t10k-images-idx3-ubyte", lambda d: flip(d, 400_000), "SHA-256"),
        (SMALL, lambda d: d[:-1], "truncated"),
        (SMALL, lambda d: d[:5], "truncated"),
        (SMALL, lambda d: d + b"\0", "longer than its header"),
        (SMALL, lambda d: (2051).to_bytes(4, "big") + d[4:], "magic number 2051"),
        ("t10k-images-idx3-ubyte", lambda d: flip(d, 11), "declares shape"),
    ],
    ids=["flip-labels", "flip-images", "short", "header-only", "long", "magic", "rows"],
)
def test_bad_file_is_rejected(
    mnist_dir: Path,
    tmp_path: Path,
    stem: str,
    damage: Callable[[bytes], bytes],
    words: str,
    gz: bool,
) -> None:
    folder = folder_with(tmp_path, mnist_dir, stem, damage(raw(mnist_dir, stem)), gz=gz)
    with pytest.raises(MnistError, match=words) as caught:
        load_mnist(folder)
    assert stem in str(caught.value) and is_one_sentence(str(caught.value))
    assert not mnist_available(folder)


def test_broken_gzip_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    (tmp_path / f"{SMALL}.gz").write_bytes((mnist_dir / f"{SMALL}.gz").read_bytes()[:-100])
    for other in set(FILES) - {SMALL}:
        (tmp_path / f"{other}.gz").symlink_to(mnist_dir / f"{other}.gz")
    with pytest.raises(MnistError, match=f"{SMALL} .*gzip"):
        find_mnist_dir(tmp_path)


def test_missing_file_in_explicit_dir(mnist_dir: Path, tmp_path: Path, no_mnist_env: None) -> None:
    for stem in set(FILES) - {SMALL}:
        (tmp_path / f"{stem}.gz").symlink_to(mnist_dir / f"{stem}.gz")
    with pytest.raises(MnistError, match=f"{tmp_path}.* lacks {SMALL}") as caught:
        find_mnist_dir(tmp_path)
    assert "MNIST_DIR" in str(caught.value) and is_one_sentence(str(caught.value))
    with pytest.raises(MnistError, match="does not exist"):
        find_mnist_dir(tmp_path / "nope")


# --- model input and splits ----------------------------------------------------------------


def test_to_model_input_normalises_once() -> None:
    images = np.array([[[0, 128, 255] + [0] * 25] * 28], dtype=np.uint8)
    x = to_model_input(images)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x[0, 0, :3, 0].tolist() == [0.0, np.float32(128 / 255), 1.0]
    np.testing.assert_array_equal(to_model_input(images[..., np.newaxis]), x)
    with pytest.raises(TypeError):
        to_model_input(x[..., 0])
    with pytest.raises(ValueError):
        to_model_input(np.zeros((2, 27, 28), np.uint8))


def test_prepare_split_is_seeded_disjoint_and_model_ready(mnist: Mnist) -> None:
    splits = prepare(mnist, validation_split=0.1, seed=3)
    assert len(splits.x_train) == 54000 and len(splits.x_val) == 6000
    assert splits.x_train.shape[1:] == (28, 28, 1) and splits.x_test.shape == (10000, 28, 28, 1)
    for x in (splits.x_train, splits.x_val, splits.x_test):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    for y in (splits.y_train, splits.y_val, splits.y_test):
        assert y.dtype == np.int64
    train = {image.tobytes() for image in splits.x_train}
    assert not train & {image.tobytes() for image in splits.x_val}
    counts = np.bincount(splits.y_train, minlength=10) + np.bincount(splits.y_val, minlength=10)
    assert counts.tolist() == TRAIN_COUNTS
    assert splits.checksums == mnist.checksums


def test_prepare_is_deterministic_and_limit_keeps_shuffled_prefix(mnist: Mnist) -> None:
    a, b = prepare(mnist, 0.2, seed=7, limit=1000), prepare(mnist, 0.2, seed=7, limit=1000)
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (800, 200, 10000)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(prepare(mnist, 0.2, seed=8, limit=1000).y_train, a.y_train)
    whole, prefix = prepare(mnist, 0.0, seed=7, limit=2000), prepare(mnist, 0.0, seed=7, limit=500)
    np.testing.assert_array_equal(prefix.x_train, whole.x_train[:500])
    assert len(prefix.x_val) == 0


@pytest.mark.parametrize(("split", "limit"), [(-0.1, None), (1.0, None), (0.5, 0), (0.1, 60001)])
def test_prepare_rejects_bad_arguments(mnist: Mnist, split: float, limit: int | None) -> None:
    with pytest.raises(ValueError):
        prepare(mnist, split, limit=limit)
