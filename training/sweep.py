"""Hyperparameter sweeps with Optuna, every trial an MLflow child run of the sweep's run.

    python -m training.sweep --grid filters=2,5,10,20,32 --limit 2000 --epochs 1
    python -m training.sweep --trials 20 --limit 10000 --name tpe-small

`--grid KEY=V1,V2` (any training option; several make a product; `;` separates values
that hold commas, e.g. `filters=16,32;32,64`) tries every combination. `--trials N`
searches filters, learning rate, dropout, augmentation strength and epochs with TPE,
stopping poor trials early (median pruner on each epoch's val_accuracy). A training
option given on the command line is fixed for every trial and leaves the search.
Trials are chosen on validation accuracy; test accuracy is logged, never optimised.
The study lives in `optuna.db` beside the MLflow store; the same command (or `--name`)
resumes it.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.settings import SETTINGS
from training import tracking
from training.config import TrainConfig, add_arguments, config_from_args
from training.data import MnistError

if TYPE_CHECKING:
    import optuna

DEFAULT_PRESET = "classroom"  # a sweep trains many models: start from the short recipe
SEARCH_FILTERS = ["8,16", "16,32", "32,64", "16,32,64"]
SEARCH = {  # name: (low, high, log) for numbers; the filters are categories
    "learning_rate": (3e-4, 1e-2, True),
    "dropout": (0.0, 0.5, False),
    "augment_strength": (0.0, 1.5, False),
    "epochs": (1, 6, False),
}
AUGMENT_OFF_BELOW = 0.1  # searched strengths below this train without augmentation
BOOLEAN = {"true": True, "on": True, "yes": True, "1": True,
           "false": False, "off": False, "no": False, "0": False}
PARENT_TAG = "sweep.parent"
NAME_TAG = "sweep.name"


class SweepError(ValueError):
    """A sweep that cannot run as asked; the message is one sentence."""


def _train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_arguments(parser)
    return parser


def option_names() -> list[str]:
    """Every training option a grid or the command line may set."""
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name != "export_onnx"]


def parse_grid(specs: list[str]) -> dict[str, list[str]]:
    """`["filters=2,5", "dropout=0,0.2"]` -> {"filters": ["2", "5"], "dropout": ["0", "0.2"]};
    every value is checked as its option's type."""
    grid: dict[str, list[str]] = {}
    parser = _train_parser()
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in option_names():
            raise SweepError(f"--grid {spec!r}: expected OPTION=V1,V2 with OPTION one of "
                             f"{', '.join(option_names())}.")
        split = values.split(";") if ";" in values else values.split(",")
        items = [v.strip() for v in split if v.strip()]
        if not items:
            raise SweepError(f"--grid {spec!r} lists no values.")
        for value in items:
            _grid_value(parser, key, value)  # raises SweepError on a bad value
        grid[key] = items
    return grid


def _grid_value(parser: argparse.ArgumentParser, key: str, value: str) -> Any:
    if key == "augment":
        if value.lower() not in BOOLEAN:
            raise SweepError(f"--grid augment takes true or false, not {value!r}.")
        return BOOLEAN[value.lower()]
    try:
        parsed, extra = parser.parse_known_args(["--" + key.replace("_", "-"), value])
    except (argparse.ArgumentError, SystemExit) as exc:
        raise SweepError(f"--grid {key}: {value!r} is not a valid value ({exc}).") from None
    if extra:
        raise SweepError(f"--grid {key}: {value!r} is not a valid value.")
    return getattr(parsed, key)


def recipe(args: argparse.Namespace, values: dict[str, Any]) -> TrainConfig:
    """The command line's recipe with one trial's values set; SweepError if invalid."""
    ns = copy.copy(args)
    for key, value in values.items():
        setattr(ns, key, value)
    try:
        return config_from_args(ns)
    except SystemExit as exc:  # config_from_args names the bad setting
        text = str(exc.code).removeprefix("error: ")
        raise SweepError(f"{text} (trial values {values})") from None
    except ValueError as exc:
        raise SweepError(f"{exc} (trial values {values})") from None


def search_space(args: argparse.Namespace) -> list[str]:
    """The searched options: the TPE space less what the command line fixed."""
    return [key for key in ["filters", *SEARCH] if getattr(args, key, None) is None]


def suggest(trial: optuna.Trial, space: list[str], augment_fixed: bool) -> dict[str, Any]:
    """One trial's values from the TPE space (augmentation off at the lowest strengths)."""
    values: dict[str, Any] = {}
    for key in space:
        if key == "filters":
            text = trial.suggest_categorical("filters", SEARCH_FILTERS)
            values["filters"] = tuple(int(v) for v in text.split(","))
        elif key == "epochs":
            low, high, _ = SEARCH[key]
            values[key] = trial.suggest_int(key, int(low), int(high))
        else:
            low, high, log = SEARCH[key]
            values[key] = trial.suggest_float(key, low, high, log=log)
    if "augment_strength" in values and not augment_fixed:
        values["augment"] = values["augment_strength"] >= AUGMENT_OFF_BELOW
    return values


def storage_url() -> str:
    """Optuna's SQLite store: beside a local MLflow store, else in runs/."""
    db = tracking.sqlite_path(SETTINGS.tracking_uri)
    folder = db.parent if db else SETTINGS.runs_dir
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def spec_of(args: argparse.Namespace, grid: dict[str, list[str]]) -> dict[str, Any]:
    """What defines a sweep: same spec, same study (so rerunning resumes it)."""
    fixed = {k: getattr(args, k) for k in option_names() if getattr(args, k, None) is not None}
    return {"experiment": args.experiment, "preset": args.preset, "grid": grid,
            "trials": None if grid else args.trials,
            "fixed": json.loads(json.dumps(fixed, default=list))}


def default_name(spec: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    kind = "grid-" + "-".join(spec["grid"]) if spec["grid"] else "tpe"
    return f"{kind}-{digest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.sweep", description=__doc__.splitlines()[0],
        epilog="Any training option (see python -m training.train --help) is fixed for "
               "every trial.")
    add_arguments(parser)
    parser.set_defaults(preset=DEFAULT_PRESET)
    parser.add_argument("--grid", action="append", default=[], metavar="OPTION=V1,V2",
                        help="try every value (several --grid: every combination)")
    parser.add_argument("--trials", type=int, default=None,
                        help="TPE search of this many trials (default 10 without --grid)")
    parser.add_argument("--name", default=None, help="study name; rerunning it resumes it")
    parser.add_argument("--experiment", default=tracking.DEFAULT_EXPERIMENT,
                        help="MLflow experiment of the sweep's runs")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where trial model folders go (default runs/sweeps/NAME)")
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    args = parser.parse_args(argv)
    try:
        grid = parse_grid(args.grid)
        if grid and args.trials is not None:
            raise SweepError("--grid and --trials are two kinds of sweep; give one.")
        if not grid:
            args.trials = 10 if args.trials is None else args.trials
            if args.trials < 1:
                raise SweepError(f"--trials must be at least 1, not {args.trials}.")
        # Every grid point (or the base recipe) is checked before anything starts.
        points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(
            *grid.values())] if grid else [{}]
        train_parser = _train_parser()
        for point in points:
            recipe(args, {k: _grid_value(train_parser, k, v) for k, v in point.items()})
    except SweepError as exc:
        parser.error(str(exc))
    spec = spec_of(args, grid)
    name = args.name or default_name(spec)

    from training.sweep_run import run_sweep

    tracking.cancel_on_sigterm()
    try:
        summary = run_sweep(args, name, spec, grid)
    except (MnistError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except tracking.Cancelled:
        print(f"Cancelled: sweep {name} stopped; rerun the same command to resume it.",
              file=sys.stderr)
        return 130
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
