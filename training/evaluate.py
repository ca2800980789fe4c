"""Evaluate a model on the MNIST test set: `python -m training.evaluate [--model DIR] [--json]`.

Without `--model` it scores the registry's champion (`model.champion`), or the shipped
model when there is none, and says so on stderr.

The numbers come from `training.metrics.classification_report`, the same code that
fills the model card, so the command, the card and the dashboard always agree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from model import Predictor, load_predictor
from model.champion import ModelChoice, resolve_model
from model.files import ModelFileError
from training.data import Mnist, MnistError, load_mnist, to_model_input
from training.metrics import classification_report

EXIT_ERROR = 2
CELL = 6  # width of one confusion-matrix cell in the table


def predict_test_set(predictor: Predictor, x_test_uint8: np.ndarray) -> np.ndarray:
    """Class probabilities (N, 10) for uint8 MNIST-style images (N, 28, 28)."""
    return predictor.predict_proba(to_model_input(x_test_uint8))


def evaluate(predictor: Predictor, mnist: Mnist,
             choice: ModelChoice | None = None) -> dict[str, Any]:
    """The classification report of `predictor` on the 10,000 MNIST test digits.

    `model` names what was scored: the registered name and version when `choice`
    came from the registry, else the folder's card name (version None).
    """
    started = time.perf_counter()
    proba = predict_test_set(predictor, mnist.x_test)
    seconds = time.perf_counter() - started
    report = classification_report(mnist.y_test, proba)
    registered = choice is not None and choice.version is not None
    model = ({"name": choice.name, "version": choice.version} if registered
             else {"name": predictor.name, "version": None})
    return {"model": model, "model_dir": str(predictor.model_dir),
            "backend": predictor.backend, "seconds": round(seconds, 3), **report}


def model_label(model: dict[str, Any]) -> str:
    return f"{model['name']} v{model['version']}" if model.get("version") else model["name"]


def format_table(result: dict[str, Any]) -> str:
    """A plain-text report: per-digit metrics, totals and the confusion matrix."""
    lines = [
        f"Model {model_label(result['model'])} ({result['backend']}) on {result['n']} MNIST "
        f"test digits, {result['seconds']:.2f} s",
        "",
        f"{'digit':>5} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for digit, m in result["per_class"].items():
        lines.append(f"{digit:>5} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} "
                     f"{m['support']:>8}")
    lines += [
        f"{'macro':>5} {result['macro_precision']:>9.4f} {result['macro_recall']:>7.4f} "
        f"{result['macro_f1']:>7.4f} {result['n']:>8}",
        "",
        f"accuracy {result['accuracy']:.4%} ({result['errors']} errors), "
        f"calibration error (ECE) {result['calibration_error']:.4f}",
        "",
        "confusion matrix (rows: true digit, columns: predicted digit)",
        " " * 5 + "".join(f"{d:>{CELL}}" for d in range(len(result["confusion_matrix"]))),
    ]
    for digit, row in enumerate(result["confusion_matrix"]):
        lines.append(f"{digit:>5}" + "".join(f"{v:>{CELL}}" for v in row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="model folder (default: the registry's champion, else shipped)")
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    parser.add_argument("--backend", choices=["auto", "onnx", "keras"], default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    choice = None if args.model else resolve_model()
    if choice is not None and choice.note:
        print(f"note: {choice.note}", file=sys.stderr)
    try:
        predictor = load_predictor(args.model or choice.path, backend=args.backend)
        result = evaluate(predictor, load_mnist(args.data_dir), choice)
    except (ModelFileError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(result) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
