"""Azure ML for Digit Studio: `python -m training.azure <command>` (see `__main__.py`).

A small API for the app's /train page; azure-ai-ml is imported only when a function
needs it, so importing this package costs nothing:

    azure_status() -> (configured, one sentence)          no network
    submit_train(train_args) -> (job name, studio URL)    raises NotConfigured (one sentence)
    dry_run_specs(kind, train_args) -> {file: YAML}       checked by the SDK's loaders
    job_status(name) -> {"name", "status", "studio_url", "experiment", "metrics"}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from training.azure.workspace import NotConfigured

__all__ = ["NotConfigured", "azure_status", "dry_run_specs", "job_status", "submit_train"]


def azure_status() -> tuple[bool, str]:
    """Whether a workspace is configured, and a sentence saying which or how to set it up."""
    from training.azure.workspace import status

    return status()


def submit_train(train_args: Sequence[str] = (), *, compute: str | None = None,
                 report: Any = None) -> tuple[str, str]:
    """Submit `python -m training.train <train_args>` as a command job; (name, studio URL).

    `train_args` are training.train options, e.g. ["--preset", "classroom"]. Raises
    NotConfigured with one sentence when there is no workspace or no credentials.
    """
    from training.azure.commands import Options
    from training.azure.live import submit

    opts = Options(train_args=list(train_args))
    if compute:
        opts.compute = compute
    return submit("train", opts, report=report or (lambda _line: None))


def dry_run_specs(kind: str = "train", train_args: Sequence[str] = ()) -> dict[str, str]:
    """{file name: YAML} for a command ("train", "sweep", "pipeline", "deploy-online", ...).

    The files are meant to be unpacked in `azureml/` of the project and used with
    `az ml job create --file azureml/train-job.yml` (and the like).
    """
    from training.azure.commands import Options, dry_run_texts

    return dry_run_texts(kind, Options(train_args=list(train_args)))


def job_status(name: str) -> dict[str, Any]:
    """A submitted job's status, studio link and (once completed) its test metrics;
    raises NotConfigured like the others."""
    from training.azure.live import job_status as status

    return status(name)
