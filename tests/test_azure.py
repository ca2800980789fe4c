"""training.azure offline: every command's YAML through azure-ai-ml's own loaders, the SDK's
own message for a bad spec, the local pipeline's command substitution, and the one-line
exit without a workspace. No fake client anywhere: nothing here reaches Azure.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from model.settings import PROJECT_DIR
from training.azure import azure_status, dry_run_specs
from training.azure.commands import COMMANDS, Options, build, dry_run
from training.azure.dryrun import load_spec, loader, write_specs
from training.azure.live import split_traffic
from training.azure.pipeline import substitute
from training.azure.specs import SCHEMA, training_requirements

KINDS = {
    "train": {"amlCompute", "environment", "data", "commandJob"},
    "pipeline": {"amlCompute", "environment", "data", "commandComponent", "pipelineJob"},
    "sweep": {"amlCompute", "environment", "data", "sweepJob"},
    "register": {"model"},
    "deploy-online": {"environment", "managedOnlineEndpoint", "managedOnlineDeployment"},
    "deploy-batch": {"amlCompute", "environment", "batchEndpoint", "modelBatchDeployment"},
}
NO_AZURE = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME",
            "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET")


def _options(command: str) -> Options:
    return Options(train_args=["--limit", "2000", "--epochs", "1"], version="3",
                   model_dir=PROJECT_DIR / "model" / "shipped" if command == "register" else None,
                   schedule="0 3 * * 1" if command == "pipeline" else None)


@pytest.mark.parametrize("command", COMMANDS)
def test_dry_run_specs_load_with_the_sdk(tmp_path, command) -> None:
    checked = dry_run(command, _options(command), tmp_path / "specs")
    assert all(c.ok for c in checked), [c.line() for c in checked if not c.ok]
    assert {c.kind for c in checked} >= KINDS[command]
    for c in checked:
        text = c.path.read_text()
        assert text.startswith(f"$schema: {SCHEMA.format(kind=c.kind)}\n")
        assert not re.search(r":\s+/", text)  # relative paths only


def test_round_trip_keeps_what_matters(tmp_path) -> None:
    folder = tmp_path / "specs"
    job = {c.path.name: c.entity for c in dry_run("train", _options("train"), folder)}
    command_job = job["train-job.yml"]
    assert command_job.command.startswith(
        "USPS_DIR=${{inputs.usps}} python -m training.train --data-dir ${{inputs.mnist}}")
    assert "--limit 2000" in command_job.command
    assert Path(folder / str(yaml.safe_load((folder / "train-job.yml").read_text())["code"])
                ).resolve() == PROJECT_DIR
    assert job["data-mnist.yml"].version == job["data-mnist.yml"].version.lower()
    assert job["compute.yml"].min_instances == 0

    sweep = {c.path.name: c.entity for c in dry_run("sweep", _options("sweep"), folder)}
    sweep_job = sweep["sweep-job.yml"]
    assert sweep_job.objective.primary_metric == "val_accuracy"
    assert sweep_job.objective.goal == "maximize"
    assert sweep_job.early_termination.type == "bandit"
    assert "epochs" not in sweep_job.search_space  # fixed by --epochs 1, not sampled
    assert {"filters", "learning_rate", "dropout"} <= set(sweep_job.search_space)

    online = {c.path.name: c.entity for c in dry_run("deploy-online", _options("x"), folder)}
    deployment = online["online-deployment-blue.yml"]
    assert deployment.code_configuration.scoring_script == "score.py"
    assert (folder / deployment.code_configuration.code).resolve() == PROJECT_DIR / "model"
    assert online["online-endpoint.yml"].auth_mode == "key"
    batch = {c.path.name: c.entity for c in dry_run("deploy-batch", _options("x"), folder)}
    settings = batch["batch-deployment-onnx.yml"].settings
    assert settings.output_action == "append_row" and settings.mini_batch_size == 10


def test_an_invalid_spec_is_refused_with_the_sdks_own_message(tmp_path) -> None:
    spec = build("deploy-online", _options("x"), tmp_path)[1]  # the endpoint
    bad = dataclasses.replace(spec, body={**spec.body, "auth_mode": "password"})
    path = write_specs([bad], tmp_path)[0]
    checked = load_spec(path, bad.kind)
    assert not checked.ok
    with pytest.raises(Exception) as raised:
        loader(bad.kind)(source=path)
    assert checked.error == " ".join(str(raised.value).split())[:600]
    assert "auth_mode" in checked.error


def test_data_asset_versions_follow_content(tmp_path) -> None:
    from training.azure.specs import data_asset

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"one")
    first = data_asset("x", folder, tmp_path, "test").body["version"]
    assert data_asset("x", folder, tmp_path, "test").body["version"] == first
    (folder / "a.bin").write_bytes(b"two")
    assert data_asset("x", folder, tmp_path, "test").body["version"] != first


def test_training_environment_logs_to_the_workspace() -> None:
    pins = training_requirements()
    assert any(p.startswith("azureml-mlflow==") for p in pins)
    assert any(p.startswith("tensorflow-cpu==") for p in pins)
    assert not any(p.startswith(("streamlit", "mlflow==")) for p in pins)


def test_local_pipeline_substitutes_like_azure() -> None:
    command = ("python -m training.train --data-dir ${{inputs.data}}/mnist "
               "$[[--epochs ${{inputs.epochs}}]] $[[--limit ${{inputs.limit}}]]")
    argv = substitute(command, {"data": "/tmp/a b", "epochs": "1", "limit": None})
    assert argv == ["python", "-m", "training.train", "--data-dir", "/tmp/a b/mnist",
                    "--epochs", "1"]
    with pytest.raises(ValueError, match=r"inputs\.data"):
        substitute(command, {"epochs": "1"})


def test_traffic_split() -> None:
    assert split_traffic({}, "blue", None) == {"blue": 100}
    assert split_traffic({"blue": 100}, "green", 10) == {"blue": 90, "green": 10}
    assert split_traffic({"blue": 90, "green": 10}, "green", 100) == {"blue": 0, "green": 100}


def test_pages_api_without_a_workspace(tmp_path, monkeypatch) -> None:
    for name in NO_AZURE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    configured, message = azure_status()
    assert not configured and "config.json" in message
    texts = dry_run_specs("train", ["--preset", "classroom"])
    assert "train-job.yml" in texts and "--preset classroom" in texts["train-job.yml"]


def test_without_configuration_one_line_and_exit_2(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in NO_AZURE}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "training.azure", "train", "--epochs", "1"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.json" in lines[0] and "AZURE_SUBSCRIPTION_ID" in lines[0]
    assert result.stdout == ""
    assert elapsed < 10


def test_pipeline_steps_prepare_and_refuse_an_untracked_model(tmp_path, mnist_dir) -> None:
    from training.usps import find_usps_dir

    out = tmp_path / "data"
    step = [sys.executable, "-m", "training.azure.steps"]
    prepared = subprocess.run([*step, "prepare", "--mnist", str(mnist_dir), "--usps",
                               str(find_usps_dir()), "--out", str(out)],
                              cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
                              check=False)
    assert prepared.returncode == 0, prepared.stderr
    assert (out / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    assert (out / "usps" / "zip.test.gz").is_file() and (out / "prepared.json").is_file()
    model = tmp_path / "model"
    model.mkdir()
    (model / "card.json").write_text("{}")
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "metrics.json").write_text('{"test_accuracy": 0.99}')
    refused = subprocess.run([*step, "register", "--model", str(model), "--metrics",
                              str(metrics), "--out", str(tmp_path / "decision")],
                             cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
                             check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: The model card has no MLflow run id: the train step ran untracked."]
