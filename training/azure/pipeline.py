"""The life cycle as an Azure ML pipeline: prepare data -> train -> evaluate -> register.

Each step is a command component with its own YAML that calls the project's own
CLIs (`training.azure.steps`, `training.train`). `run_local` runs the very same
component commands in order on this machine: it substitutes `${{inputs.x}}` and
`${{outputs.x}}` with local paths and values the way Azure ML does (an optional
input's `$[[...]]` block is dropped when the input is unset).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from model.settings import PROJECT_DIR, SETTINGS
from training.azure.specs import COMPUTE, EXPERIMENT, Spec, data_ref, env_ref, relative

STEPS = ("prepare", "train", "evaluate", "register")
SCHEDULE_NAME = "digit-studio-retrain"
_REF = re.compile(r"\$\{\{(inputs|outputs)\.(\w+)\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]")
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")

# step -> (description, inputs, outputs, command); input types as in Azure ML's schema.
COMPONENTS: dict[str, tuple[str, dict[str, dict[str, Any]], list[str], str]] = {
    "prepare": (
        "Verify MNIST and USPS by their checksums and lay them out for the next steps.",
        {"mnist": {"type": "uri_folder"}, "usps": {"type": "uri_folder"}}, ["data"],
        "python -m training.azure.steps prepare --mnist ${{inputs.mnist}} "
        "--usps ${{inputs.usps}} --out ${{outputs.data}}"),
    "train": (
        "Train the CNN with the project's recipe (python -m training.train).",
        {"data": {"type": "uri_folder"}, "preset": {"type": "string", "default": "default"},
         "epochs": {"type": "integer", "optional": True},
         "limit": {"type": "integer", "optional": True}}, ["model"],
        "USPS_DIR=${{inputs.data}}/usps python -m training.train --preset ${{inputs.preset}} "
        "--data-dir ${{inputs.data}}/mnist "
        "--output ${{outputs.model}} $[[--epochs ${{inputs.epochs}}]] "
        "$[[--limit ${{inputs.limit}}]]"),
    "evaluate": (
        "Score the model on MNIST test and on USPS test through the reader.",
        {"model": {"type": "uri_folder"}, "data": {"type": "uri_folder"}}, ["metrics"],
        "python -m training.azure.steps evaluate --model ${{inputs.model}} "
        "--data ${{inputs.data}} --out ${{outputs.metrics}}"),
    "register": (
        "Register the model and make it champion only if the registry's gate passes.",
        {"model": {"type": "uri_folder"}, "metrics": {"type": "uri_folder"}}, ["decision"],
        "python -m training.azure.steps register --model ${{inputs.model}} "
        "--metrics ${{inputs.metrics}} --out ${{outputs.decision}}"),
}
# How the steps feed each other: step -> {input: "parent.<input>" or "<step>.<output>"}.
WIRING: dict[str, dict[str, str]] = {
    "prepare": {"mnist": "parent.mnist", "usps": "parent.usps"},
    "train": {"data": "prepare.data", "preset": "parent.preset", "epochs": "parent.epochs",
              "limit": "parent.limit"},
    "evaluate": {"model": "train.model", "data": "prepare.data"},
    "register": {"model": "train.model", "metrics": "evaluate.metrics"},
}


def component(step: str, base: Path, env: Spec) -> Spec:
    description, inputs, outputs, command = COMPONENTS[step]
    return Spec(f"component-{step}.yml", "commandComponent", {
        "name": f"digit_studio_{step}", "display_name": f"Digit Studio: {step}",
        "version": "1", "type": "command", "description": description,
        "code": relative(PROJECT_DIR, base), "environment": env_ref(env),
        "inputs": inputs, "outputs": {name: {"type": "uri_folder"} for name in outputs},
        "command": command})


def pipeline_job(base: Path, env: Spec, mnist: Spec, usps: Spec, *, preset: str = "default",
                 epochs: int | None = None, limit: int | None = None,
                 compute_name: str = COMPUTE) -> list[Spec]:
    """The four components and the pipeline job that wires them, in load order."""
    components = [component(step, base, env) for step in STEPS]
    parent: dict[str, Any] = {
        "mnist": {"type": "uri_folder", "path": data_ref(mnist)},
        "usps": {"type": "uri_folder", "path": data_ref(usps)}, "preset": preset}
    if epochs is not None:
        parent["epochs"] = epochs
    if limit is not None:
        parent["limit"] = limit
    jobs = {}
    for step in STEPS:
        wired = {}
        for name, source in WIRING[step].items():
            owner, key = source.split(".")
            if owner == "parent" and key not in parent:
                continue  # an optional input left unset
            wired[name] = (f"${{{{parent.inputs.{key}}}}}" if owner == "parent"
                           else f"${{{{parent.jobs.{owner}.outputs.{key}}}}}")
        jobs[step] = {"type": "command", "component": f"./component-{step}.yml", "inputs": wired}
    job = Spec("pipeline-job.yml", "pipelineJob", {
        "type": "pipeline", "display_name": "digit-studio life cycle",
        "experiment_name": f"{EXPERIMENT}-pipeline",
        "description": "prepare data -> train -> evaluate (MNIST, USPS) -> register if the gate "
                       "passes",
        "settings": {"default_compute": f"azureml:{compute_name}",
                     "continue_on_step_failure": False},
        "inputs": parent, "jobs": jobs})
    return [*components, job]


def schedule(cron: str, time_zone: str = "UTC") -> Spec:
    """A JobSchedule that submits pipeline-job.yml on `cron` (periodic retraining)."""
    return Spec("schedule.yml", "schedule", {
        "name": SCHEDULE_NAME, "display_name": "Digit Studio: periodic retraining",
        "trigger": {"type": "cron", "expression": cron, "time_zone": time_zone},
        "create_job": "./pipeline-job.yml"})


def substitute(command: str, values: dict[str, str | None]) -> list[str]:
    """A component command with its references replaced, as Azure ML does, split for exec."""
    def optional(match: re.Match[str]) -> str:
        names = [m.group(2) for m in _REF.finditer(match.group(1))]
        return match.group(1) if all(values.get(n) is not None for n in names) else ""

    def ref(match: re.Match[str]) -> str:
        value = values.get(match.group(2))
        if value is None:
            raise ValueError(f"The command needs {match.group(0)}, which is not set.")
        return shlex.quote(str(value))

    return shlex.split(_REF.sub(ref, _OPTIONAL.sub(optional, command)))


class StepError(Exception):
    """A step cannot go on; the message is one sentence. (Here, not in `steps`, which
    runs as __main__: its own class there would not be the one `gate` raises.)"""


@dataclass(frozen=True)
class StepResult:
    step: str
    ok: bool
    seconds: float
    outputs: dict[str, Path]


def run_local(parent: dict[str, str | None], folder: Path | None = None,
              report: Callable[[str], None] = print) -> list[StepResult]:
    """Run the components' commands in order here; stops at the first failing step."""
    folder = folder or SETTINGS.runs_dir / f"pipeline-{datetime.now():%Y%m%d-%H%M%S}"
    produced: dict[str, dict[str, Path]] = {}
    results: list[StepResult] = []
    for number, step in enumerate(STEPS, 1):
        _, _, outputs, command = COMPONENTS[step]
        values: dict[str, str | None] = {}
        for name, source in WIRING[step].items():
            owner, key = source.split(".")
            values[name] = parent.get(key) if owner == "parent" else str(produced[owner][key])
        produced[step] = {name: folder / step / name for name in outputs}
        for name, path in produced[step].items():
            path.mkdir(parents=True, exist_ok=True)
            values[name] = str(path)
        argv = substitute(command, values)
        report(f"[{number}/{len(STEPS)}] {step}: {shlex.join(argv)}")
        env = dict(os.environ)
        while argv and _ASSIGNMENT.match(argv[0]):  # `VAR=value command`, as a shell reads it
            name, value = argv.pop(0).split("=", 1)
            env[name] = value
        started = time.perf_counter()
        code = subprocess.call([sys.executable if argv[0] == "python" else argv[0], *argv[1:]],
                               cwd=PROJECT_DIR, env=env)
        result = StepResult(step, code == 0, time.perf_counter() - started, produced[step])
        results.append(result)
        report(f"[{number}/{len(STEPS)}] {step}: {'done' if result.ok else f'FAILED (exit {code})'}"
               f" in {result.seconds:.1f} s")
        if not result.ok:
            break
    return results
