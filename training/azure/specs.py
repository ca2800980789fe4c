"""Azure ML specs as YAML: compute, environments, data assets, the training job, the model.

Every command builds its specs here as plain mappings and writes them as YAML
(`training.azure.dryrun`); a live command loads those same files with the SDK's
loaders and submits the entities, so a dry run shows exactly what would be sent
and the files work with ``az ml <kind> create --file``. Paths in a spec are
relative to the folder its YAML is written to.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from model.files import file_sha256
from model.settings import PROJECT_DIR

SCHEMA = "https://azuremlschemas.azureedge.net/latest/{kind}.schema.json"
# Ubuntu 22.04 with conda, the base of Azure ML's curated CPU images.
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
PYTHON = "3.11"
COMPUTE = "cpu-cluster"
VM_SIZE = "Standard_DS3_v2"  # 4 vCPUs, 14 GB: TensorFlow CPU training
MAX_NODES = 4
IDLE_SECONDS = 600  # a cluster scales back to 0 nodes after 10 idle minutes
EXPERIMENT = "digit-studio"
MODEL_NAME = "digit-cnn"
TRAIN_ENV = "digit-studio-train"
SERVE_ENV = "digit-studio-serve"
SERVE_REQUIREMENTS = PROJECT_DIR / "requirements-serve.txt"
TRAIN_REQUIREMENTS = PROJECT_DIR / "requirements.txt"
# What a training job does not need from requirements.txt: the app, the local server,
# local sweeps. Full mlflow is swapped for mlflow-skinny at the version azureml-mlflow
# allows: azureml-mlflow is what lets the same MLflow code log into the workspace.
NOT_FOR_TRAINING = ("streamlit", "plotly", "qrcode", "gunicorn", "azureml-inference-server-http",
                    "optuna", "azure-ai-ml", "mlflow==")
AZURE_MLFLOW = ("mlflow-skinny==3.15.0", "azureml-mlflow==1.62.0.post6")
DIGEST = 12  # hex digits of a content checksum used as an asset version
# The default recipe also trains on USPS train (training.mixture), found through USPS_DIR.
USPS_ENV = "USPS_DIR=${{inputs.usps}}"


@dataclass(frozen=True)
class Spec:
    """One YAML document: its file name, its schema kind and its body (without `$schema`)."""

    file: str
    kind: str
    body: dict[str, Any] = field(hash=False)

    def text(self) -> str:
        """The YAML, `$schema` first (the SDK's own dumps never write it)."""
        document = {"$schema": SCHEMA.format(kind=self.kind), **self.body}
        return yaml.safe_dump(document, sort_keys=False, width=4096, allow_unicode=True)


def relative(path: Path, base: Path) -> str:
    """`path` relative to `base` (the spec's folder), with forward slashes."""
    return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()


def folder_checksum(folder: Path, names: Sequence[str] | None = None) -> str:
    """A short SHA-256 over the names and contents of a folder's files: the asset version."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(folder).iterdir() if p.is_file()
                   and (names is None or p.name in names))
    for path in files:
        digest.update(f"{path.name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:DIGEST]


def pip_lines(requirements: Path) -> list[str]:
    """The pinned lines of a requirements file (no comments, no `-r`)."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def training_requirements() -> list[str]:
    """requirements.txt without what a training job does not need, plus azureml-mlflow."""
    kept = [line for line in pip_lines(TRAIN_REQUIREMENTS)
            if not line.lower().startswith(NOT_FOR_TRAINING)]
    return kept + list(AZURE_MLFLOW)


def environment(name: str, requirements: list[str], description: str) -> Spec:
    """An Environment: the base image and a conda spec with the pinned pip packages.

    Its version is the checksum of the package list, so an unchanged environment is
    built once and reused by every job.
    """
    conda = {"name": name, "channels": ["conda-forge"],
             "dependencies": [f"python={PYTHON}", "pip", {"pip": requirements}]}
    version = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:DIGEST]
    return Spec(f"environment-{name.removeprefix('digit-studio-')}.yml", "environment", {
        "name": name, "version": version, "description": description,
        "image": BASE_IMAGE, "conda_file": conda})


def train_environment() -> Spec:
    return environment(TRAIN_ENV, training_requirements(),
                       "Training: TensorFlow CPU, the ONNX export, MLflow into the workspace.")


def serve_environment() -> Spec:
    return environment(SERVE_ENV, pip_lines(SERVE_REQUIREMENTS),
                       "Scoring: ONNX Runtime, the reader and Azure ML's inference server.")


def env_ref(spec: Spec) -> str:
    return f"azureml:{spec.body['name']}:{spec.body['version']}"


def data_asset(name: str, folder: Path, base: Path, description: str,
               names: Sequence[str] | None = None) -> Spec:
    """A `uri_folder` data asset versioned by its content checksum: uploaded once."""
    return Spec(f"data-{name}.yml", "data", {
        "name": name, "version": folder_checksum(folder, names), "type": "uri_folder",
        "description": description, "path": relative(folder, base)})


def data_assets(base: Path) -> dict[str, Spec]:
    """MNIST and USPS as data assets, found the way the project's loaders find them."""
    from training.data import FILES as MNIST_FILES
    from training.data import find_mnist_dir
    from training.usps import find_usps_dir

    mnist = find_mnist_dir()
    mnist_names = [f for f in os.listdir(mnist) if f.split(".")[0] in MNIST_FILES]
    return {
        "mnist": data_asset("mnist", mnist, base, "The four MNIST IDX files.", mnist_names),
        "usps": data_asset("usps", find_usps_dir(), base, "USPS zip-code digits (test: 2,007).",
                           ["zip.train.gz", "zip.test.gz", "zip.train", "zip.test"]),
    }


def data_ref(spec: Spec) -> str:
    return f"azureml:{spec.body['name']}:{spec.body['version']}"


def compute(name: str = COMPUTE, size: str = VM_SIZE) -> Spec:
    """An AmlCompute cluster that scales to zero nodes when idle (no cost when unused)."""
    return Spec("compute.yml", "amlCompute", {
        "name": name, "type": "amlcompute", "size": size, "min_instances": 0,
        "max_instances": MAX_NODES, "idle_time_before_scale_down": IDLE_SECONDS,
        "tier": "dedicated"})


def train_command(train_args: Sequence[str]) -> str:
    """`python -m training.train` with the user's options; data and output from the job."""
    options = " ".join(shlex.quote(a) for a in train_args)
    return (f"{USPS_ENV} python -m training.train --data-dir ${{{{inputs.mnist}}}} "
            "--output ${{outputs.model}}" + (f" {options}" if options else ""))


def data_inputs(mnist: Spec, usps: Spec) -> dict[str, dict[str, str]]:
    """A job's two data inputs, downloaded to the node (small, read many times)."""
    return {name: {"type": "uri_folder", "path": data_ref(spec), "mode": "download"}
            for name, spec in (("mnist", mnist), ("usps", usps))}


def command_job(train_args: Sequence[str], base: Path, mnist: Spec, usps: Spec, env: Spec,
                compute_name: str = COMPUTE, experiment: str = EXPERIMENT) -> Spec:
    """The training run as a command job: the project's own CLI on the cluster.

    Azure ML sets MLFLOW_TRACKING_URI inside the job, so `training.train` logs its
    params, curves and artifacts to the workspace with the code it uses locally.
    """
    return Spec("train-job.yml", "commandJob", {
        "type": "command", "experiment_name": experiment,
        "display_name": "digit-studio train",
        "description": "python -m training.train on Azure ML compute.",
        "code": relative(PROJECT_DIR, base),
        "command": train_command(train_args),
        "inputs": data_inputs(mnist, usps),
        "outputs": {"model": {"type": "uri_folder"}},
        "environment": env_ref(env),
        "environment_variables": {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"},
        "compute": f"azureml:{compute_name}",
        "tags": {"project": "digit-studio"},
    })


def model_asset(base: Path, *, folder: Path | None = None, job: str | None = None,
                version: str | None = None, tags: dict[str, str] | None = None) -> Spec:
    """The model folder (model.keras, model.onnx, card.json) as a `custom_model` asset.

    From a job's `model` output (`register --job`) or from a local folder.
    """
    path = (f"azureml://jobs/{job}/outputs/model" if job
            else relative(folder or PROJECT_DIR / "model" / "shipped", base))
    body: dict[str, Any] = {"name": MODEL_NAME, "type": "custom_model", "path": path,
                            "description": "Digit Studio CNN: model.onnx, model.keras, card.json."}
    if version:
        body["version"] = str(version)
    if tags:
        body["tags"] = {k: str(v) for k, v in tags.items()}
    return Spec("model.yml", "model", body)


def card_tags(folder: Path) -> dict[str, str]:
    """A model card's headline metrics as asset tags."""
    import json

    card_path = folder / "card.json"
    if not card_path.is_file():
        return {}
    card = json.loads(card_path.read_text())
    test = card.get("test", {})
    tags = {"test_accuracy": test.get("accuracy"), "test_macro_f1": test.get("macro_f1"),
            "test_ece": test.get("calibration_error"), "parameters": card.get("parameters")}
    return {k: str(v) for k, v in tags.items() if v is not None}
