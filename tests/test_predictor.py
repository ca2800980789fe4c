"""The predictor on the real shipped model: Keras parity, output contract, threads, accuracy."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from model import Predictor, load_predictor
from model.files import ModelFileError, file_sha256
from model.settings import SETTINGS
from training.data import Mnist, to_model_input
from training.evaluate import predict_test_set

PARITY_IMAGES = 1000
PARITY_TOLERANCE = 1e-5
SHIPPED_MIN_ACCURACY = 0.996
THREADS = 8
CALLS_PER_THREAD = 50
CLASSES = SETTINGS.num_classes


@pytest.fixture(scope="module")
def images(mnist: Mnist) -> np.ndarray:
    """The first PARITY_IMAGES test digits as (N, 28, 28) floats in [0, 1]."""
    return to_model_input(mnist.x_test[:PARITY_IMAGES])[..., 0]


def test_onnx_matches_keras_model(predictor: Predictor, shipped_dir: Path,
                                  images: np.ndarray) -> None:
    import keras

    assert predictor.backend == "onnx"
    network = keras.saving.load_model(shipped_dir / SETTINGS.keras_file, compile=False,
                                      safe_mode=True)
    reference = np.asarray(network(images[..., None], training=False))
    np.testing.assert_allclose(predictor.predict_proba(images), reference,
                               atol=PARITY_TOLERANCE, rtol=0)


def test_keras_backend_matches_onnx(shipped_dir: Path, predictor: Predictor,
                                    images: np.ndarray) -> None:
    keras_predictor = load_predictor(shipped_dir, backend="keras")
    assert keras_predictor.backend == "keras"
    np.testing.assert_allclose(keras_predictor.predict_proba(images[:200]),
                               predictor.predict_proba(images[:200]),
                               atol=PARITY_TOLERANCE, rtol=0)
    assert keras_predictor.fingerprint() == file_sha256(shipped_dir / SETTINGS.keras_file)


def test_output_contract(predictor: Predictor, images: np.ndarray) -> None:
    proba = predictor.predict_proba(images[:32])
    assert proba.shape == (32, CLASSES)
    assert proba.dtype == np.float32
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(predictor.predict(images[:32]), proba.argmax(axis=1))


def test_accepts_channel_axis_single_image_and_float64(predictor: Predictor,
                                                       images: np.ndarray) -> None:
    batch = predictor.predict_proba(images[:4])
    np.testing.assert_array_equal(predictor.predict_proba(images[:4, :, :, None]), batch)
    np.testing.assert_allclose(predictor.predict_proba(images[:4].astype(np.float64)), batch,
                               atol=1e-7)
    single = predictor.predict_proba(images[2])
    assert single.shape == (1, CLASSES)
    np.testing.assert_allclose(single[0], batch[2], atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 28, 28, 3), (28,), (2, 28, 27), (1, 784)])
def test_rejects_wrong_shapes_with_one_sentence(predictor: Predictor,
                                                shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"Expected images of shape \(N, 28, 28\)"):
        predictor.predict_proba(np.zeros(shape, np.float32))


def test_empty_batch_gives_empty_result(predictor: Predictor) -> None:
    for empty in (np.zeros((0, 28, 28), np.float32), np.zeros((0, 28, 28, 1), np.float32)):
        proba = predictor.predict_proba(empty)
        assert proba.shape == (0, CLASSES) and proba.dtype == np.float32


def test_threads_sharing_one_predictor_agree_with_serial(predictor: Predictor,
                                                         images: np.ndarray) -> None:
    n = THREADS * CALLS_PER_THREAD
    serial = np.concatenate([predictor.predict_proba(images[i]) for i in range(n)])

    def worker(t: int) -> np.ndarray:
        # Interleaved indices, alternating single images and small batches.
        idx = list(range(t, n, THREADS))
        out = [predictor.predict_proba(images[i]) if k % 2 else
               predictor.predict_proba(images[[i]]) for k, i in enumerate(idx)]
        return np.concatenate(out)

    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(worker, range(THREADS)))
    threaded = np.empty_like(serial)
    for t, part in enumerate(parts):
        threaded[t::THREADS] = part
    np.testing.assert_array_equal(threaded, serial)


def test_shipped_model_accuracy_on_full_test_set(predictor: Predictor, mnist: Mnist) -> None:
    proba = predict_test_set(predictor, mnist.x_test)
    accuracy = float(np.mean(proba.argmax(axis=1) == mnist.y_test))
    assert accuracy >= SHIPPED_MIN_ACCURACY
    # The card was written from Keras predictions; the ONNX export must tell the same story.
    assert accuracy == pytest.approx(predictor.test_accuracy, abs=2 / len(mnist.y_test))


def test_card_identifies_the_loaded_files(predictor: Predictor, shipped_dir: Path) -> None:
    assert predictor.model_dir == shipped_dir
    assert predictor.name == predictor.card["name"]
    assert predictor.card["files"][SETTINGS.onnx_file] == predictor.fingerprint()
    assert predictor.card["files"][SETTINGS.keras_file] == file_sha256(
        shipped_dir / SETTINGS.keras_file)


def _copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize(("backend", "damaged"), [("onnx", SETTINGS.onnx_file),
                                                  ("auto", SETTINGS.onnx_file),
                                                  ("keras", SETTINGS.keras_file)])
def test_corrupt_model_file_raises_model_file_error(shipped_dir: Path, tmp_path: Path,
                                                    backend: str, damaged: str) -> None:
    folder = _copy_model(shipped_dir, tmp_path / "model")
    path = folder / damaged
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        load_predictor(folder, backend=backend)


def test_missing_files_raise_model_file_error(shipped_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="No model"):
        load_predictor(tmp_path)
    folder = _copy_model(shipped_dir, tmp_path / "keras-only")
    (folder / SETTINGS.onnx_file).unlink()
    with pytest.raises(ModelFileError, match=r"no model\.onnx"):
        load_predictor(folder, backend="onnx")
    assert load_predictor(folder).backend == "keras"  # auto falls back to Keras
