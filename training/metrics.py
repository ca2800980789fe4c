"""Classification metrics from predictions, in plain NumPy.

Shared by the training card, `python -m training.evaluate` and the evaluation
dashboard, so every place reports the same numbers. They agree with
scikit-learn's (tests/test_evaluate.py checks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUM_CLASSES = 10
CALIBRATION_BINS = 15


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int = NUM_CLASSES) -> np.ndarray:
    """k x k counts; rows are the true digit, columns the predicted one."""
    flat = np.asarray(y_true, np.int64) * k + np.asarray(y_pred, np.int64)
    return np.bincount(flat, minlength=k * k).reshape(k, k)


def per_class_metrics(cm: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per digit (0 where undefined, as scikit-learn)."""
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    support = cm.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        str(d): {"precision": float(precision[d]), "recall": float(recall[d]),
                 "f1": float(f1[d]), "support": int(support[d])}
        for d in range(len(cm))
    }


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> dict[str, Any]:
    """Reliability diagram data and the expected calibration error (ECE).

    Predictions are grouped by top probability into equal-width bins; ECE is the
    support-weighted mean gap between each bin's accuracy and mean confidence.
    """
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Right-closed bins, so a confidence of exactly 1.0 falls in the last one.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    safe = np.maximum(count, 1)
    accuracy = np.bincount(index, weights=correct, minlength=bins) / safe
    mean_conf = np.bincount(index, weights=confidence, minlength=bins) / safe
    ece = float(np.sum(count * np.abs(accuracy - mean_conf)) / max(len(confidence), 1))
    return {"edges": edges.tolist(), "count": count.tolist(), "accuracy": accuracy.tolist(),
            "confidence": mean_conf.tolist(), "ece": ece}


def classification_report(y_true: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Everything the card and the evaluate command report, from labels and probabilities."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = proba.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, proba.shape[1])
    per_class = per_class_metrics(cm)
    confidence = proba.max(axis=1)
    calib = reliability(confidence, y_pred == y_true)
    return {
        "n": len(y_true),
        "accuracy": float(np.mean(y_pred == y_true)) if len(y_true) else 0.0,
        "errors": int(np.sum(y_pred != y_true)),
        "macro_precision": float(np.mean([c["precision"] for c in per_class.values()])),
        "macro_recall": float(np.mean([c["recall"] for c in per_class.values()])),
        "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "calibration_error": calib["ece"],
        "reliability": calib,
    }


def most_confused_with(cm: np.ndarray) -> list[int | None]:
    """For each true digit, the wrong digit it is most often predicted as (None if never)."""
    off = np.asarray(cm).copy()
    np.fill_diagonal(off, 0)
    return [int(row.argmax()) if row.max() > 0 else None for row in off]
