"""What a sweep searches and how one trial's recipe is made.

Shared by the sweep's command line (`training.sweep`), its runner (`training.sweep.run`)
and Azure ML sweeps (`training.azure.sweep`, the same search space). Importing it costs
no Optuna, MLflow or TensorFlow.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from model.settings import SETTINGS
from training import tracking
from training.config import TrainConfig, add_arguments, config_from_args

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


def train_parser() -> argparse.ArgumentParser:
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
    parser = train_parser()
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
            grid_value(parser, key, value)  # raises SweepError on a bad value
        grid[key] = items
    return grid


def grid_value(parser: argparse.ArgumentParser, key: str, value: str) -> Any:
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
