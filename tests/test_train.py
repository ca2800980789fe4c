"""Real training runs on an MNIST subset: learning, the model card, reproducibility, the CLI.

One classroom-sized run is shared by the module; the reproducibility runs are
smaller still, so the whole module takes about two minutes on two cores.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from model import Predictor, load_predictor
from model.files import file_sha256
from model.network import build_cnn
from model.settings import SETTINGS
from training.augment import AugmentConfig, augment_batch
from training.config import PRESETS
from training.data import Mnist, to_model_input
from training.evaluate import predict_test_set
from training.train import train

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Enough steps for a classroom-sized net to clear MIN_ACCURACY with augmentation on.
RUN = dataclasses.replace(PRESETS["classroom"], limit=5000, epochs=3, augment=True)
MIN_ACCURACY = 0.90
TINY = dataclasses.replace(PRESETS["classroom"], limit=1500, epochs=1, augment=True,
                           export_onnx=False)
CARD_KEYS = {"name", "created", "command", "hyperparameters", "parameters", "data", "versions",
             "training_seconds", "epochs_run", "best_epoch", "early_stopping", "history", "test",
             "files", "mlflow"}
HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}
AUGMENTED_MIN_ACCURACY = 0.95  # the shipped model was trained on such warps
AUGMENT_IMAGES = 1000


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("train") / "classroom-subset"
    return output, train(RUN, output, mnist_dir)


def test_training_learns(trained: tuple[Path, dict[str, Any]]) -> None:
    _, card = trained
    assert card["test"]["accuracy"] > MIN_ACCURACY
    assert card["history"][-1]["loss"] < card["history"][0]["loss"]


def test_card_describes_the_run(trained: tuple[Path, dict[str, Any]], mnist: Mnist) -> None:
    output, card = trained
    assert card.keys() == CARD_KEYS
    assert card == json.loads((output / SETTINGS.card_file).read_text())
    assert card["name"] == output.name
    assert datetime.fromisoformat(card["created"]).tzinfo is not None
    assert card["command"].startswith("python -m training.train")
    assert card["hyperparameters"] == RUN.to_dict()
    assert card["parameters"] == build_cnn(RUN.filters, RUN.convs, RUN.kernel_size, RUN.dropout,
                                           RUN.dense_units).count_params()
    n_val = round(RUN.limit * RUN.validation_split)
    assert card["data"] == {"checksums": mnist.checksums, "train": RUN.limit - n_val,
                            "validation": n_val, "test": 10_000}
    assert card["versions"]["keras"] == keras.__version__
    assert card["versions"]["tensorflow"] == tf.__version__
    assert card["training_seconds"] > 0


def test_card_history_and_test_report(trained: tuple[Path, dict[str, Any]]) -> None:
    _, card = trained
    history = card["history"]
    assert len(history) == card["epochs_run"] and 1 <= card["epochs_run"] <= RUN.epochs
    assert all(epoch.keys() >= HISTORY_KEYS for epoch in history)
    watched = [epoch["val_loss"] for epoch in history][card["early_stopping"]["from_epoch"] - 1:]
    assert history[card["best_epoch"] - 1]["val_loss"] == min(watched)  # best epoch restored
    test = card["test"]
    cm = np.array(test["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == test["n"] == 10_000
    assert cm.trace() == test["n"] - test["errors"]
    assert test["accuracy"] == pytest.approx(cm.trace() / cm.sum())


def test_saved_files_load_and_match_the_card(trained: tuple[Path, dict[str, Any]],
                                             mnist: Mnist) -> None:
    output, card = trained
    assert card["files"] == {name: file_sha256(output / name)
                             for name in (SETTINGS.keras_file, SETTINGS.onnx_file)}
    network = keras.saving.load_model(output / SETTINGS.keras_file, compile=False,
                                      safe_mode=True)
    assert network.count_params() == card["parameters"]
    # The saved weights are the evaluated ones: Keras reproduces the card's confusion matrix.
    keras_pred = load_predictor(output, backend="keras").predict(to_model_input(mnist.x_test))
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (mnist.y_test, keras_pred), 1)
    assert cm.tolist() == card["test"]["confusion_matrix"]
    onnx = load_predictor(output)
    assert onnx.backend == "onnx"
    onnx_pred = predict_test_set(onnx, mnist.x_test).argmax(axis=1)
    assert np.mean(onnx_pred != keras_pred) <= 0.001


def _weights(folder: Path) -> list[np.ndarray]:
    network = keras.saving.load_model(folder / SETTINGS.keras_file, compile=False,
                                      safe_mode=True)
    return network.get_weights()


def test_same_seed_same_weights_other_seed_different(tmp_path: Path, mnist_dir: Path) -> None:
    first = train(TINY, tmp_path / "a", mnist_dir)
    again = train(TINY, tmp_path / "b", mnist_dir)
    other = train(dataclasses.replace(TINY, seed=1), tmp_path / "c", mnist_dir)
    a, b, c = (_weights(tmp_path / name) for name in "abc")
    assert len(a) == len(b) == len(c)
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-6)
    assert first["history"] == again["history"]
    assert first["test"]["confusion_matrix"] == again["test"]["confusion_matrix"]
    assert any(not np.allclose(wa, wc) for wa, wc in zip(a, c, strict=True))
    assert first["history"] != other["history"]


def _run_train_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "training.train", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))


def test_cli_trains_and_logs_one_line_per_epoch(tmp_path: Path, mnist_dir: Path) -> None:
    output = tmp_path / "cli-run"
    done = _run_train_cli("--preset", "classroom", "--limit", "2000", "--epochs", "2",
                          "--output", str(output), "--data-dir", str(mnist_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((output / SETTINGS.card_file).read_text())
    assert card["hyperparameters"]["limit"] == 2000 and card["epochs_run"] == 2
    # Captured output is not a TTY: one summary line per epoch, no progress bars.
    lines = done.stdout.splitlines()
    assert len([line for line in lines if "val_accuracy" in line]) == card["epochs_run"]
    assert "\r" not in done.stdout and "━" not in done.stdout
    assert lines[-1].startswith(f"Saved {output}: test accuracy")
    assert (output / SETTINGS.onnx_file).is_file()


def test_cli_missing_data_is_one_sentence(tmp_path: Path) -> None:
    done = _run_train_cli("--data-dir", "/nonexistent/mnist", "--output", str(tmp_path / "x"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "/nonexistent/mnist" in errors[0]
    assert not (tmp_path / "x").exists()


# Augmentation (training/augment.py) on real digits.

@pytest.fixture(scope="module")
def digits(mnist: Mnist) -> tf.Tensor:
    return tf.constant(to_model_input(mnist.x_test[:AUGMENT_IMAGES]))


def _augment(x: tf.Tensor, seed: int, batch: int = 0, strength: float = 1.0) -> np.ndarray:
    key = tf.constant([seed, batch], tf.int64)
    return augment_batch(x, key, AugmentConfig(strength=strength)).numpy()


def test_augmentation_range_shape_and_determinism(digits: tf.Tensor) -> None:
    out = _augment(digits, seed=0)
    assert out.shape == tuple(digits.shape) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(out, _augment(digits, seed=0))
    changed = np.abs(out - digits.numpy()).reshape(len(out), -1).max(axis=1) > 0.1
    assert changed.mean() > 0.95
    for other in (_augment(digits, seed=1), _augment(digits, seed=0, batch=1)):
        assert np.abs(out - other).mean() > 0.01


def test_zero_strength_is_the_identity(digits: tf.Tensor) -> None:
    np.testing.assert_allclose(_augment(digits[:50], seed=3, strength=0.0),
                               digits[:50].numpy(), atol=1e-5)


def test_augmented_digits_keep_their_label(digits: tf.Tensor, predictor: Predictor,
                                           mnist: Mnist) -> None:
    labels = mnist.y_test[:AUGMENT_IMAGES]
    for seed in (0, 1):
        predicted = predictor.predict(_augment(digits, seed=seed))
        assert np.mean(predicted == labels) >= AUGMENTED_MIN_ACCURACY
