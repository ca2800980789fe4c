"""Does retraining with feedback help on writers the model reads badly? Prints the figures.

    python -m tests.benchmarks.bench_retrain [--population tablet|test|train] [--limit N]
                                             [--epochs N] [--mnist N] [--control]

The population: USPS digits the shipped model reads badly (misread, or read with less
than HARD_BELOW confidence), as the reader shows them. By default (`tablet`) they are
USPS *test* digits redrawn as 8-point pen-tablet trajectories (`training.usps_tablet`):
writers the shipped model never saw, all with one habit it reads worst, strokes of a
few straight segments. `test` takes them from USPS test as scans (hard digits there are
mostly one-offs, not a shared habit), `train` from USPS train as scans, for a model that
never saw USPS train (the shipped one trained on it). They are split at random into a
feedback set (written as a folder-per-digit folder, the layout a teacher exports) and a
disjoint evaluation set. `training.retrain` fine-tunes on MNIST + USPS train (any hard
train digit excluded) + the feedback; the figures are the accuracy on the evaluation set
before and after, MNIST test, and the rest of the population's split (the hard digits
left out) as the network sees it. With `--control` the same retraining without the
feedback runs too, to show what the feedback itself adds. Nothing is registered; the
MLflow runs go to a temporary runs/.
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
TABLET_POINTS = 8  # the sparsest pen recordings: read about 88 %, 12-16 points about 97 %


def population(name: str, limit: int | None) -> Any:
    """The population's digits as the network sees them (a `LabelledSet`)."""
    from training.feedback_set import usps_views

    if name != "tablet":
        return usps_views(name, limit)
    from training.feedback_set import LabelledSet, network_view
    from training.usps import load_usps
    from training.usps_tablet import tablet_canvas

    usps = load_usps("test")
    rng = np.random.default_rng(SEED)
    images = np.stack([network_view(tablet_canvas(image, TABLET_POINTS, rng))
                       for image in usps.images[:limit]])
    labels = usps.labels[:limit].astype(np.int64)
    return LabelledSet(images, labels, [f"usps-tablet/{i}" for i in range(len(labels))])


def hard_population(name: str, limit: int | None) -> tuple[Any, np.ndarray, np.ndarray]:
    """The population (first `limit`), the hard indices for feedback and those for evaluation."""
    from model import load_predictor
    from training.data import to_model_input

    usps = population(name, limit)
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


def experiment(name: str = "tablet", limit: int | None = None, epochs: int = 3,
               mnist: int = 20_000, usps_test_limit: int | None = None, control: bool = False,
               workdir: Path | None = None) -> dict[str, Any]:
    """Run the retraining (and the control); the figures as a dict."""
    from training.retrain import RetrainConfig, retrain

    workdir = Path(workdir or tempfile.mkdtemp(prefix="bench-retrain-"))
    usps, feedback, evaluation = hard_population(name, limit)
    hard = np.concatenate([feedback, evaluation])
    rest = np.setdiff1d(np.arange(len(usps)), hard)
    folder = write_folder(usps, feedback, workdir / "feedback")
    cfg = RetrainConfig(epochs=epochs, mnist=mnist, usps=limit if name == "train" else None,
                        usps_test_limit=usps_test_limit)
    excluded = frozenset(hard.tolist()) if name == "train" else frozenset()
    figures: dict[str, Any] = {"population": f"usps-{name}", "digits": len(usps),
                               "hard": len(hard), "feedback": len(feedback),
                               "evaluation": len(evaluation),
                               "eval_before": accuracy(None, usps, evaluation),
                               "rest_before": accuracy(None, usps, rest)}
    runs = {"with_feedback": folder}
    if control:
        runs["control"] = write_folder(usps, np.array([], int), workdir / "empty")
    for name, source in runs.items():
        result = retrain(cfg, source, workdir / name, register=False, usps_exclude=excluded,
                         allow_empty=True)
        figures[name] = {"eval_after": accuracy(workdir / name, usps, evaluation),
                         "rest_after": accuracy(workdir / name, usps, rest),
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
    parser.add_argument("--population", choices=("tablet", "test", "train"), default="tablet",
                        help="where the hard digits come from")
    parser.add_argument("--limit", type=int, default=None, help="first N USPS digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--mnist", type=int, default=20_000)
    parser.add_argument("--usps-test-limit", type=int, default=None)
    parser.add_argument("--control", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DIGIT_STUDIO_RUNS", tempfile.mkdtemp(prefix="bench-retrain-runs-"))
    figures = experiment(args.population, args.limit, args.epochs, args.mnist,
                         args.usps_test_limit, args.control)
    print(json.dumps(figures, indent=1))
    gain = figures["with_feedback"]["eval_after"] - figures["eval_before"]
    print(f"Evaluation set ({figures['evaluation']} hard {figures['population']} digits): "
          f"{figures['eval_before']:.1%} -> {figures['with_feedback']['eval_after']:.1%} "
          f"({gain * 100:+.1f} points); MNIST test "
          f"{figures['with_feedback']['mnist_test']:.2%}; the rest of {figures['population']} "
          f"{figures['rest_before']:.2%} -> {figures['with_feedback']['rest_after']:.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
