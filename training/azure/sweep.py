"""The sweep job: the local sweep's search space, run as Azure ML trials of `training.train`.

Each trial is `python -m training.train` with the sampled options; it logs
`val_accuracy` every epoch through MLflow, which the sweep maximises and the
Bandit policy watches to stop trials that trail the best one.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.settings import PROJECT_DIR
from training.azure.specs import (
    COMPUTE,
    EXPERIMENT,
    USPS_ENV,
    Spec,
    data_inputs,
    env_ref,
    relative,
)
from training.sweep.space import DEFAULT_PRESET, SEARCH, SEARCH_FILTERS

PRIMARY_METRIC = "val_accuracy"
MAX_TRIALS = 20
MAX_CONCURRENT = 4
TIMEOUT_S = 4 * 3600
SLACK = 0.02  # Bandit: stop a trial whose val_accuracy trails the best by more than 2 %


def local_space() -> dict[str, tuple[str, Any]]:
    """Parameter -> (kind, values or bounds): the local sweep's TPE space (training.sweep.space).

    Integers (epochs) become a choice of every value in their range; augmentation
    strengths below training.sweep's cut-off still train with augmentation here.
    """
    space: dict[str, tuple[str, Any]] = {"filters": ("choice", list(SEARCH_FILTERS))}
    for name, (low, high, log) in SEARCH.items():
        if isinstance(low, int) and isinstance(high, int):
            space[name] = ("choice", list(range(low, high + 1)))
        else:
            space[name] = ("loguniform" if log else "uniform", (low, high))
    return space


def search_space(space: dict[str, tuple[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The space in Azure ML's terms; LogUniform takes the natural logs of its bounds."""
    out: dict[str, dict[str, Any]] = {}
    for name, (kind, values) in (space or local_space()).items():
        if kind == "choice":
            out[name] = {"type": "choice", "values": list(values)}
        elif kind == "loguniform":
            low, high = values
            out[name] = {"type": "loguniform", "min_value": round(math.log(low), 6),
                         "max_value": round(math.log(high), 6)}
        else:
            low, high = values
            out[name] = {"type": "uniform", "min_value": low, "max_value": high}
    return out


def sweep_job(train_args: Sequence[str], base: Path, mnist: Spec, usps: Spec, env: Spec, *,
              compute_name: str = COMPUTE, max_trials: int = MAX_TRIALS,
              max_concurrent: int = MAX_CONCURRENT,
              space: dict[str, tuple[str, Any]] | None = None) -> Spec:
    """A sweep job (random sampling, Bandit early termination) over `training.train`.

    `train_args` are fixed for every trial (e.g. `--limit 2000`); an option that the
    search space samples must not be among them.
    """
    fixed_names = {a.split("=")[0] for a in train_args if a.startswith("--")}
    # An option fixed on the command line (say --epochs 1 for a quick sweep) is not sampled.
    space = {name: dim for name, dim in (space or local_space()).items()
             if f"--{name.replace('_', '-')}" not in fixed_names}
    sampled = " ".join(f"--{name.replace('_', '-')} ${{{{search_space.{name}}}}}"
                       for name in space)
    if "augment_strength" in space and not fixed_names & {"--augment", "--no-augment"}:
        train_args = [*train_args, "--augment"]  # the classroom preset has it off
    if not any(a.split("=")[0] == "--preset" for a in train_args):
        train_args = ["--preset", DEFAULT_PRESET, *train_args]  # as local sweeps start
    fixed = " ".join(shlex.quote(a) for a in train_args)
    command = (f"{USPS_ENV} python -m training.train --data-dir ${{{{inputs.mnist}}}} "
               "--output ${{outputs.model}} " + sampled + (f" {fixed}" if fixed else ""))
    return Spec("sweep-job.yml", "sweepJob", {
        "type": "sweep", "experiment_name": f"{EXPERIMENT}-sweep",
        "display_name": "digit-studio sweep",
        "compute": f"azureml:{compute_name}",
        "sampling_algorithm": "random",
        "search_space": search_space(space),
        "objective": {"goal": "maximize", "primary_metric": PRIMARY_METRIC},
        "early_termination": {"type": "bandit", "slack_factor": SLACK,
                              "evaluation_interval": 1, "delay_evaluation": 2},
        "limits": {"max_total_trials": max_trials, "max_concurrent_trials": max_concurrent,
                   "timeout": TIMEOUT_S},
        "inputs": data_inputs(mnist, usps),
        "outputs": {"model": {"type": "uri_folder"}},
        "trial": {
            "code": relative(PROJECT_DIR, base), "command": command,
            "environment": env_ref(env),
            "environment_variables": {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"},
        },
    })
