"""Which specs each command writes, and the dry run that checks them.

`build(command, options, base)` returns a command's specs in the order Azure ML
needs them (compute, environments, data, then what uses them). The dry run writes
them to a folder and loads them back; a live command does the same in a private
folder and submits what the loaders returned (`training.azure.live`).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.settings import PROJECT_DIR, SETTINGS
from training.azure import deploy, pipeline, specs, sweep
from training.azure.dryrun import Checked, write_and_check
from training.azure.specs import Spec

COMMANDS = ("train", "pipeline", "sweep", "register", "deploy-online", "deploy-batch")
# Where the pages' download of the dry-run YAML expects to be unpacked.
DOWNLOAD_DIR = PROJECT_DIR / "azureml"


@dataclass
class Options:
    """What a command's specs depend on (the CLI's and the app's arguments)."""

    train_args: list[str] = field(default_factory=list)
    compute: str = specs.COMPUTE
    vm_size: str = specs.VM_SIZE
    experiment: str = specs.EXPERIMENT
    version: str | None = None  # model version to deploy
    job: str | None = None  # job whose model output `register` registers
    model_dir: Path | None = None  # local model folder for `register` without --job
    deployment: str | None = None
    endpoint: str | None = None
    instance_type: str = deploy.INSTANCE_TYPE
    instance_count: int = deploy.INSTANCE_COUNT
    mini_batch: int = deploy.MINI_BATCH
    retries: int = deploy.MAX_RETRIES
    max_trials: int = sweep.MAX_TRIALS
    max_concurrent: int = sweep.MAX_CONCURRENT
    preset: str = "default"
    epochs: int | None = None
    limit: int | None = None
    schedule: str | None = None


def options_from(args: argparse.Namespace) -> Options:
    """The Options a parsed command line sets (unset ones keep their defaults)."""
    known = Options.__dataclass_fields__
    return Options(**{k: v for k, v in vars(args).items() if k in known and v is not None})


def build(command: str, opts: Options, base: Path) -> list[Spec]:
    """The specs of `command`, in creation order, with paths relative to `base`."""
    if command == "register":
        tags = specs.card_tags(opts.model_dir) if opts.model_dir else None
        return [specs.model_asset(base, folder=opts.model_dir, job=opts.job, tags=tags)]
    if command in ("deploy-online", "deploy-batch"):
        env = specs.serve_environment()
        version = opts.version or "1"
        if command == "deploy-online":
            return [env, deploy.online_endpoint(opts.endpoint or deploy.ENDPOINT),
                    deploy.online_deployment(base, env, version,
                                             name=opts.deployment or deploy.DEPLOYMENT,
                                             endpoint=opts.endpoint or deploy.ENDPOINT,
                                             instance_type=opts.instance_type,
                                             instance_count=opts.instance_count)]
        return [specs.compute(opts.compute, opts.vm_size), env,
                deploy.batch_endpoint(opts.endpoint or deploy.BATCH_ENDPOINT),
                deploy.batch_deployment(base, env, version,
                                        name=opts.deployment or deploy.BATCH_DEPLOYMENT,
                                        endpoint=opts.endpoint or deploy.BATCH_ENDPOINT,
                                        compute_name=opts.compute, mini_batch=opts.mini_batch,
                                        retries=opts.retries, instance_count=opts.instance_count)]
    env = specs.train_environment()
    data = specs.data_assets(base)
    common = [specs.compute(opts.compute, opts.vm_size), env]
    if command == "train":
        return [*common, *data.values(),
                specs.command_job(opts.train_args, base, data["mnist"], data["usps"], env,
                                  opts.compute, opts.experiment)]
    if command == "sweep":
        return [*common, *data.values(),
                sweep.sweep_job(opts.train_args, base, data["mnist"], data["usps"], env,
                                compute_name=opts.compute, max_trials=opts.max_trials,
                                max_concurrent=opts.max_concurrent)]
    if command == "pipeline":
        steps = pipeline.pipeline_job(base, env, data["mnist"], data["usps"], preset=opts.preset,
                                      epochs=opts.epochs, limit=opts.limit,
                                      compute_name=opts.compute)
        extra = [pipeline.schedule(opts.schedule)] if opts.schedule else []
        return [*common, data["mnist"], data["usps"], *steps, *extra]
    raise ValueError(f"Unknown command {command!r}; expected one of {', '.join(COMMANDS)}.")


def dry_run(command: str, opts: Options, folder: Path) -> list[Checked]:
    """Write the command's specs into `folder` and load each back with the SDK's loaders."""
    folder = folder.resolve()
    return write_and_check(build(command, opts, folder), folder)


def dry_run_texts(command: str, opts: Options | None = None) -> dict[str, str]:
    """{file name: YAML} of a checked dry run, for the app to offer as a download.

    Paths inside are relative to `azureml/` in the project folder: unpack there and
    run `az ml ... --file azureml/<file>`. Raises ValueError with the loader's
    message if any file fails to load.
    """
    opts = opts or Options()
    SETTINGS.runs_dir.mkdir(parents=True, exist_ok=True)
    texts = {spec.file: spec.text() for spec in build(command, opts, DOWNLOAD_DIR)}
    with tempfile.TemporaryDirectory(dir=SETTINGS.runs_dir) as tmp:
        checked = dry_run(command, opts, Path(tmp))
    bad = [c.line() for c in checked if not c.ok]
    if bad:
        raise ValueError(bad[0])
    return texts


def entities(checked: list[Checked]) -> dict[str, Any]:
    """{file name: loaded entity} of a dry run that passed."""
    return {c.path.name: c.entity for c in checked}
