"""Metrics against scikit-learn, and `python -m training.evaluate` as people run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from model import Predictor
from training.data import Mnist
from training.evaluate import evaluate, predict_test_set
from training.metrics import classification_report, most_confused_with, reliability

PROJECT_DIR = Path(__file__).resolve().parent.parent
CLASSES = 10
LABELS = list(range(CLASSES))
SHIPPED_MIN_ACCURACY = 0.996
REPORT_KEYS = {"model", "backend", "seconds", "n", "accuracy", "errors", "per_class",
               "confusion_matrix", "macro_precision", "macro_recall", "macro_f1",
               "calibration_error", "reliability"}


@pytest.fixture(scope="module")
def shipped_result(predictor: Predictor, mnist: Mnist) -> dict[str, Any]:
    return evaluate(predictor, mnist)


def assert_matches_sklearn(y_true: np.ndarray, proba: np.ndarray) -> None:
    report = classification_report(y_true, proba)
    y_pred = proba.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=LABELS, zero_division=0)
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert report["errors"] == int(np.sum(y_true != y_pred))
    np.testing.assert_array_equal(report["confusion_matrix"],
                                  skm.confusion_matrix(y_true, y_pred, labels=LABELS))
    for d in LABELS:
        row = report["per_class"][str(d)]
        assert row["precision"] == pytest.approx(precision[d])
        assert row["recall"] == pytest.approx(recall[d])
        assert row["f1"] == pytest.approx(f1[d])
        assert row["support"] == support[d]
    for name in ("precision", "recall", "f1"):
        assert report[f"macro_{name}"] == pytest.approx(getattr(skm, f"{name}_score")(
            y_true, y_pred, labels=LABELS, average="macro", zero_division=0))


def one_hot_proba(y_pred: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    """Probabilities whose argmax is `y_pred`, the rest spread evenly."""
    proba = np.full((len(y_pred), CLASSES), (1 - confidence) / (CLASSES - 1))
    proba[np.arange(len(y_pred)), y_pred] = confidence
    return proba


def test_shipped_model_metrics_match_sklearn(predictor: Predictor, mnist: Mnist,
                                             shipped_result: dict[str, Any]) -> None:
    y_true = mnist.y_test.astype(np.int64)
    proba = predict_test_set(predictor, mnist.x_test)
    assert_matches_sklearn(y_true, proba)
    assert shipped_result.keys() >= REPORT_KEYS
    assert shipped_result["accuracy"] == pytest.approx(skm.accuracy_score(y_true,
                                                                          proba.argmax(axis=1)))
    assert shipped_result["model"] == {"name": predictor.name, "version": None}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_predictions_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, CLASSES, 500)
    # Mostly right, some noise: a realistic mix of hits and confusions.
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, CLASSES, 500))
    proba = rng.dirichlet(np.ones(CLASSES), 500) + 2 * np.eye(CLASSES)[y_pred]
    assert_matches_sklearn(y_true, proba / proba.sum(axis=1, keepdims=True))


def test_class_never_predicted_and_class_never_present() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 8])  # no 9
    y_pred = np.array([0, 1, 1, 1, 0, 3, 9, 3, 4, 5, 6, 7, 0, 9])  # never 2 or 8
    assert_matches_sklearn(y_true, one_hot_proba(y_pred))
    report = classification_report(y_true, one_hot_proba(y_pred))
    assert report["per_class"]["2"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["per_class"]["9"]["support"] == 0


def test_all_correct_gives_perfect_scores() -> None:
    y = np.arange(CLASSES).repeat(3)
    report = classification_report(y, one_hot_proba(y, confidence=1.0))
    assert report["accuracy"] == report["macro_f1"] == 1.0
    assert report["errors"] == 0 and report["calibration_error"] == 0.0


def test_expected_calibration_error_by_hand() -> None:
    # Two bins, (0, 0.5] and (0.5, 1]: the low bin is 50 % right at mean confidence 0.3,
    # the high bin 100 % right at 0.95, so ECE = (2 * 0.2 + 2 * 0.05) / 4 = 0.125.
    result = reliability(np.array([0.2, 0.4, 0.9, 1.0]), np.array([0, 1, 1, 1]), bins=2)
    assert result["count"] == [2, 2]
    assert result["accuracy"] == pytest.approx([0.5, 1.0])
    assert result["confidence"] == pytest.approx([0.3, 0.95])
    assert result["ece"] == pytest.approx(0.125)


def test_calibration_error_with_default_bins() -> None:
    # Three of four right, all at confidence 0.95 (one bin): ECE = |0.75 - 0.95|.
    report = classification_report(np.array([0, 1, 2, 3]),
                                   one_hot_proba(np.array([0, 2, 2, 3]), confidence=0.95))
    assert report["calibration_error"] == pytest.approx(0.2)
    # 0.95 falls in the last of 15 bins, 0.65 in the tenth.
    ece = reliability(np.array([0.95, 0.95, 0.65, 0.65]), np.array([1, 0, 1, 1]))["ece"]
    assert ece == pytest.approx((2 * 0.45 + 2 * 0.35) / 4)


def test_most_confused_with() -> None:
    cm = np.eye(3, dtype=int) * 10
    cm[0, 2], cm[1, 0], cm[1, 2] = 4, 1, 3
    assert most_confused_with(cm) == [2, 2, None]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "training.evaluate", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def test_cli_json_is_one_object_with_the_report(mnist_dir: Path, predictor: Predictor) -> None:
    done = run_cli("--json", "--data-dir", str(mnist_dir))  # no --model: the shipped one
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert result.keys() >= REPORT_KEYS
    # An empty registry (the session's own runs/): the shipped model, said on stderr.
    assert result["model"] == {"name": predictor.name, "version": None}
    assert result["backend"] == "onnx" and "shipped model answers" in done.stderr
    assert Path(result["model_dir"]) == predictor.model_dir
    assert result["n"] == 10_000 and result["accuracy"] >= SHIPPED_MIN_ACCURACY
    cm = np.array(result["confusion_matrix"])
    assert cm.shape == (CLASSES, CLASSES) and cm.sum() == 10_000
    assert cm.trace() == 10_000 - result["errors"]
    assert [result["per_class"][str(d)]["support"] for d in LABELS] == cm.sum(axis=1).tolist()
    assert set(result["per_class"]["3"]) == {"precision", "recall", "f1", "support"}


def test_cli_table(mnist_dir: Path, shipped_result: dict[str, Any]) -> None:
    done = run_cli("--data-dir", str(mnist_dir))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"accuracy {shipped_result['accuracy']:.4%}" in done.stdout
    assert any(line.split()[:1] == ["macro"] for line in lines)
    # After the header, one row per true digit holding its confusion-matrix counts.
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    rows = [[int(v) for v in line.split()] for line in lines[start + 2 : start + 2 + CLASSES]]
    assert [row[1:] for row in rows] == shipped_result["confusion_matrix"]


@pytest.mark.parametrize("missing", ["--model", "--data-dir"])
def test_cli_errors_are_one_sentence(missing: str, shipped_dir: Path, mnist_dir: Path) -> None:
    args = {"--model": str(shipped_dir), "--data-dir": str(mnist_dir), missing: "/nonexistent/x"}
    done = run_cli(*(part for pair in args.items() for part in pair))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: ")
    assert "/nonexistent" in done.stderr and done.stdout == ""
