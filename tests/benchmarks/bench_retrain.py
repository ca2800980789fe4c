"""Does retraining with feedback help on writers the model reads badly? Prints the figures.

    python -m tests.benchmarks.bench_retrain [--limit N] [--epochs N] [--mnist N] [--control]

The population: USPS *train* digits the shipped model reads badly (misread, or read
with less than HARD_BELOW confidence), as the reader shows them. They are split at
random into a feedback set (written as a folder-per-digit folder, the layout a teacher
exports) and a disjoint evaluation set. `training.retrain` fine-tunes on MNIST + the
rest of USPS train (every hard digit excluded) + the feedback; the figure is the
accuracy on the evaluation set before and after, with MNIST test beside it. With
`--control` the same retraining without the feedback runs too, to show what the
feedback itself adds. Nothing is registered; the MLflow runs go to a temporary runs/.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HARD_BELOW = 0.95  # top probability under this counts as read badly
SEED = 0


def hard_population(limit: int | None) -> tuple[Any, np.ndarray, np.ndarray]:
    """USPS train (first `limit`), the hard indices for feedback and those for evaluation."""
    from model import load_predictor
    from training.data import to_model_input
    from training.feedback_set import usps_train

    usps = usps_train(limit)
    proba = load_predictor().predict_proba(to_model_input(usps.images))
    hard = (proba.argmax(axis=1) != usps.labels) | (proba.max(axis=1) < HARD_BELOW)
    order = np.random.default_rng(SEED).permutation(np.flatnonzero(hard))
    return usps, np.sort(order[::2]), np.sort(order[1::2])


def write_folder(usps: Any, indices: np.ndarray, folder: Path) -> Path:
    """The digits as `<label>/usps-<index>.png`, the export layout."""
    from training.feedback_set import as_png

    for i in indices:
        target = folder / str(int(usps.labels[i]))
        target.mkdir(parents=True, exist_ok=True)
        (target / f"usps-{int(i)}.png").write_bytes(as_png(usps.images[i]))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def accuracy(model_dir: Path | None, usps: Any, indices: np.ndarray) -> float:
    from model import load_predictor
    from training.data import to_model_input

    predictor = load_predictor(model_dir)
    return float(np.mean(predictor.predict(to_model_input(usps.images[indices]))
                         == usps.labels[indices]))


def experiment(limit: int | None = None, epochs: int = 3, mnist: int = 20_000,
               usps_test_limit: int | None = None, control: bool = False,
               workdir: Path | None = None) -> dict[str, Any]:
    """Run the retraining (and the control); the figures as a dict."""
    from training.retrain import RetrainConfig, retrain

    workdir = Path(workdir or tempfile.mkdtemp(prefix="bench-retrain-"))
    usps, feedback, evaluation = hard_population(limit)
    excluded = frozenset(np.concatenate([feedback, evaluation]).tolist())
    folder = write_folder(usps, feedback, workdir / "feedback")
    cfg = RetrainConfig(epochs=epochs, mnist=mnist, usps=limit, usps_test_limit=usps_test_limit)
    figures: dict[str, Any] = {"usps_train": len(usps), "hard": len(excluded),
                               "feedback": len(feedback), "evaluation": len(evaluation),
                               "eval_before": accuracy(None, usps, evaluation)}
    runs = {"with_feedback": folder}
    if control:
        runs["control"] = write_folder(usps, np.array([], int), workdir / "empty")
    for name, source in runs.items():
        result = retrain(cfg, source, workdir / name, register=False, usps_exclude=excluded,
                         allow_empty=True)
        figures[name] = {"eval_after": accuracy(workdir / name, usps, evaluation),
                         "mnist_test": result["after"]["mnist_test"],
                         "usps_test": result["after"]["usps_test"],
                         "mnist_test_before": result["before"]["mnist_test"],
                         "usps_test_before": result["before"]["usps_test"],
                         "holdout": result["after"]["holdout"],
                         "holdout_before": result["before"]["holdout"],
                         "seconds": result["seconds"]}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N USPS train digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--mnist", type=int, default=20_000)
    parser.add_argument("--usps-test-limit", type=int, default=None)
    parser.add_argument("--control", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DIGIT_STUDIO_RUNS", tempfile.mkdtemp(prefix="bench-retrain-runs-"))
    figures = experiment(args.limit, args.epochs, args.mnist, args.usps_test_limit, args.control)
    print(json.dumps(figures, indent=1))
    gain = figures["with_feedback"]["eval_after"] - figures["eval_before"]
    print(f"Evaluation set ({figures['evaluation']} hard USPS train digits): "
          f"{figures['eval_before']:.1%} -> {figures['with_feedback']['eval_after']:.1%} "
          f"({gain * 100:+.1f} points); MNIST test "
          f"{figures['with_feedback']['mnist_test']:.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
