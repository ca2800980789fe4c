"""The pipeline's step commands: `python -m training.azure.steps prepare|evaluate|register`.

The component YAMLs (`training.azure.pipeline`) call these, in Azure ML and in
`python -m training.azure pipeline --local`; each writes its result into the
folder given by `--out` (the step's output) and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from model.files import ModelFileError, atomic_write_bytes
from training.azure.pipeline import StepError

METRICS_FILE = "metrics.json"
DECISION_FILE = "decision.json"


def prepare(mnist: Path, usps: Path, out: Path) -> dict[str, Any]:
    """Check both data sets against their published checksums and copy them to `out`."""
    from training.data import MnistError, load_mnist
    from training.usps import UspsError, load_usps

    try:
        data = load_mnist(mnist)
        usps_test = load_usps("test", usps)
    except (MnistError, UspsError) as exc:
        raise StepError(str(exc)) from exc
    for source, name in ((mnist, "mnist"), (usps, "usps")):
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        for path in Path(source).iterdir():
            if path.is_file() and not path.name.startswith("."):
                shutil.copyfile(path, target / path.name)
    return {"mnist_train": len(data.x_train), "mnist_test": len(data.x_test),
            "usps_test": len(usps_test.labels)}


def evaluate(model: Path, data: Path) -> dict[str, Any]:
    """MNIST test metrics (`training.evaluate`) and USPS test accuracy through the reader."""
    from model.predictor import load_predictor
    from training.data import load_mnist
    from training.evaluate import evaluate as evaluate_mnist

    try:
        predictor = load_predictor(model)
    except ModelFileError as exc:
        raise StepError(str(exc)) from exc
    report = evaluate_mnist(predictor, load_mnist(data / "mnist"))
    os.environ["USPS_DIR"] = str(data / "usps")  # where training.usps looks first
    from training.baseline import measure_usps

    usps, usps_n = measure_usps(model)  # as the registry measures it, so the gate compares
    return {"model_dir": str(model), "test_accuracy": report["accuracy"],
            "test_macro_f1": report["macro_f1"], "test_ece": report["calibration_error"],
            "usps_accuracy": usps, "usps_n": usps_n}


def register(model: Path, metrics: Path) -> dict[str, Any]:
    """Register the trained model and promote it to champion if the registry's gate passes."""
    from training.azure.gate import register_if_better

    card_path = model / "card.json"
    if not card_path.is_file():
        raise StepError(f"{model} has no card.json: the train step did not finish.")
    card = json.loads(card_path.read_text())
    measured = json.loads((metrics / METRICS_FILE).read_text())
    return register_if_better(card, measured)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.azure.steps",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--mnist", type=Path, required=True)
    p.add_argument("--usps", type=Path, required=True)
    e = sub.add_parser("evaluate")
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--data", type=Path, required=True)
    r = sub.add_parser("register")
    r.add_argument("--model", type=Path, required=True)
    r.add_argument("--metrics", type=Path, required=True)
    for each in (p, e, r):
        each.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.step == "prepare":
            result, name = prepare(args.mnist, args.usps, args.out), "prepared.json"
        elif args.step == "evaluate":
            result, name = evaluate(args.model, args.data), METRICS_FILE
        else:
            result, name = register(args.model, args.metrics), DECISION_FILE
    except StepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / name, json.dumps(result, indent=2).encode())
    print(f"{args.step}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
