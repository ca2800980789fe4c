"""Write specs as YAML and load each back with azure-ai-ml's own loaders, offline.

A loader that accepts a file is what `az ml ... --file` and the live commands use,
so a dry run that passes is the check that the specs are well formed (names,
fields, types, enum values, file references). It needs no workspace and no network.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.files import atomic_write_bytes
from training.azure.specs import Spec

# Spec kind -> name of its azure-ai-ml loader (the batch deployment's and the schedule's live in
# azure.ai.ml.entities._load_functions: load_batch_deployment rejects `type: model`).
LOADERS = {
    "commandJob": "load_job", "pipelineJob": "load_job", "sweepJob": "load_job",
    "commandComponent": "load_component", "environment": "load_environment",
    "data": "load_data", "model": "load_model", "amlCompute": "load_compute",
    "managedOnlineEndpoint": "load_online_endpoint",
    "managedOnlineDeployment": "load_online_deployment",
    "batchEndpoint": "load_batch_endpoint",
    "modelBatchDeployment": "load_model_batch_deployment",
    "schedule": "load_schedule",
}


@dataclass(frozen=True)
class Checked:
    """One written file and what its loader said: the entity, or the SDK's own message."""

    path: Path
    kind: str
    entity: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.ok:
            name = getattr(self.entity, "name", None) or getattr(self.entity, "display_name", "")
            return f"ok     {self.path.name:<36} {self.kind} {name or ''}".rstrip()
        return f"error  {self.path.name:<36} {self.kind}: {self.error}"


def loader(kind: str) -> Callable[..., Any]:
    """The SDK loader for a spec kind."""
    import azure.ai.ml as ml
    from azure.ai.ml.entities import _load_functions

    name = LOADERS[kind]
    # The public module lacks a few (load_model_batch_deployment, load_schedule).
    return getattr(ml, name, None) or getattr(_load_functions, name)


def load_spec(path: Path, kind: str) -> Checked:
    """Load one YAML file with its SDK loader; the loader's message on failure."""
    try:
        # The SDK prints warnings (e.g. about experimental classes) to stdout/stderr.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            entity = loader(kind)(source=path)
            validate = getattr(entity, "validate", None)
            if kind == "environment" and callable(validate):
                validate()  # loaders accept an environment with no image or build
    except Exception as exc:  # the SDK raises many types; its message is the point
        return Checked(path, kind, error=" ".join(str(exc).split())[:600])
    return Checked(path, kind, entity=entity)


def write_specs(specs: Iterable[Spec], folder: Path) -> list[Path]:
    """Write each spec's YAML into `folder` (atomically); the paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    return [atomic_write_bytes(folder / spec.file, spec.text().encode()) for spec in specs]


def write_and_check(specs: list[Spec], folder: Path) -> list[Checked]:
    """Write every spec, then load each back; components load before what uses them."""
    paths = write_specs(specs, folder)
    return [load_spec(path, spec.kind) for path, spec in zip(paths, specs, strict=True)]
