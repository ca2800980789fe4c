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

The package: this command line (`__main__` runs it), the search space (`space`) and the
runner (`run`: Optuna, MLflow and TensorFlow, imported only when trials start).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from training.cancel import Cancelled, cancel_on_signals
from training.config import add_arguments
from training.data import MnistError
from training.sweep.space import (
    DEFAULT_PRESET,
    SweepError,
    grid_value,
    option_names,
    parse_grid,
    recipe,
    train_parser,
)
from training.tracking import DEFAULT_EXPERIMENT


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
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
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
        options = train_parser()
        for point in points:
            recipe(args, {k: grid_value(options, k, v) for k, v in point.items()})
    except SweepError as exc:
        parser.error(str(exc))
    spec = spec_of(args, grid)
    name = args.name or default_name(spec)

    from training.sweep.run import run_sweep

    try:
        with cancel_on_signals():
            summary = run_sweep(args, name, spec, grid)
    except (MnistError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Cancelled:
        print(f"Cancelled: sweep {name} stopped; rerun the same command to resume it.",
              file=sys.stderr)
        return 130
    print(summary)
    return 0

