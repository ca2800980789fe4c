"""Optuna sweeps for real: the hidden-channel grid of the done-when, its resume, a tiny TPE
search, and the command line's refusals. Each store is a fresh SQLite file in tmp_path."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training import sweep
from training.sweep import space as sweep_space

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHANNELS = ["2", "5", "10", "20", "32"]
GRID = ["--grid", "filters=" + ",".join(CHANNELS), "--limit", "2000", "--epochs", "1",
        "--experiment", "bars-sweep"]


def sweep_cli(tmp: Path, mnist_dir: Path, *args: str, timeout: int = 600):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'm.db'}",
           "DIGIT_STUDIO_RUNS": str(tmp / "runs"), "MNIST_DIR": str(mnist_dir)}
    return subprocess.run([sys.executable, "-m", "training.sweep", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout, env=env)


def runs(tmp: Path, experiment: str) -> list:
    from mlflow import MlflowClient

    from training.tracking import init_store

    uri = f"sqlite:///{tmp / 'm.db'}"
    init_store(uri)
    client = MlflowClient(tracking_uri=uri)
    return client.search_runs([client.get_experiment_by_name(experiment).experiment_id])


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path):
    tmp = tmp_path_factory.mktemp("sweep")
    done = sweep_cli(tmp, mnist_dir, *GRID)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp, done


@pytest.mark.slow
def test_grid_logs_a_parent_and_one_child_per_value(grid_sweep) -> None:
    tmp, done = grid_sweep
    found = runs(tmp, "bars-sweep")
    parents = [r for r in found if r.data.tags.get("sweep.parent") == "true"]
    assert len(parents) == 1 and len(found) == 6
    parent = parents[0]
    children = [r for r in found if r is not parent]
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children)
    assert sorted(r.data.params["filters"] for r in children) == sorted(CHANNELS)
    assert all(r.info.status == "FINISHED" and "test_accuracy" in r.data.metrics
               for r in children)
    assert all(r.data.params["epochs"] == "1" and r.data.params["limit"] == "2000"
               for r in children)
    # The parent holds the best params (chosen on validation) and the sweep's plots.
    assert parent.info.status == "FINISHED" and parent.data.metrics["trials_complete"] == 5
    best = next(r for r in children if r.info.run_id == parent.data.tags["best.run_id"])
    assert parent.data.tags["best_params.filters"] == best.data.params["filters"]
    assert parent.data.metrics["best_test_accuracy"] == best.data.metrics["test_accuracy"]
    assert parent.data.metrics["best_val_accuracy"] == max(
        r.data.metrics["val_accuracy"] for r in children)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'm.db'}")
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"sweep_plots.html", "best_params.json", "trials.csv", "plots"} <= artifacts
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert "plots/optimization_history.json" in plots
    assert (tmp / "optuna.db").is_file()  # Optuna's store beside MLflow's
    assert "5 complete" in done.stdout


@pytest.mark.slow
def test_rerunning_the_sweep_resumes_it(grid_sweep, mnist_dir: Path) -> None:
    tmp, _ = grid_sweep
    again = sweep_cli(tmp, mnist_dir, *GRID)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "5 complete" in again.stdout
    assert len(runs(tmp, "bars-sweep")) == 6  # nothing trained twice, same parent


@pytest.mark.slow
def test_tpe_search_fixes_what_the_command_line_gives(tmp_path: Path, mnist_dir: Path) -> None:
    done = sweep_cli(tmp_path, mnist_dir, "--trials", "2", "--limit", "600", "--epochs", "1",
                     "--name", "tiny-tpe", "--experiment", "tpe")
    assert done.returncode == 0, done.stderr[-3000:]
    children = [r for r in runs(tmp_path, "tpe") if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == 2
    assert all(r.data.params["epochs"] == "1" for r in children)
    rates = {r.data.params["learning_rate"] for r in children}
    assert len(rates) == 2  # searched, not fixed
    assert all(3e-4 <= float(rate) <= 1e-2 for rate in rates)


@pytest.mark.parametrize("args, says", [
    (["--grid", "colour=red,blue"], "expected OPTION=V1,V2"),
    (["--grid", "filters=8,zero"], "not a valid value"),
    (["--grid", "learning_rate=0.01,-1"], "learning rate"),
    (["--grid", "filters=8", "--trials", "3"], "give one"),
    (["--trials", "0"], "at least 1"),
])
def test_bad_sweeps_are_refused_before_anything_starts(args: list[str], says: str,
                                                       tmp_path: Path, mnist_dir: Path) -> None:
    done = sweep_cli(tmp_path, mnist_dir, *args, timeout=180)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and says in errors[0], done.stderr
    assert not (tmp_path / "m.db").exists() and not (tmp_path / "optuna.db").exists()


def test_grid_values_with_commas_and_products() -> None:
    grid = sweep_space.parse_grid(["filters=16,32;32,64", "augment=true,false", "dropout=0,0.3"])
    assert grid == {"filters": ["16,32", "32,64"], "augment": ["true", "false"],
                    "dropout": ["0", "0.3"]}
    args = argparse.Namespace(experiment="e", preset="classroom", trials=None,
                              **{k: None for k in sweep_space.option_names()})
    spec = sweep.spec_of(args, grid)
    assert sweep.default_name(spec) == sweep.default_name(json.loads(json.dumps(spec)))
    assert sweep.default_name(spec).startswith("grid-filters-augment-dropout-")


def test_the_median_pruner_stops_a_trial_that_falls_behind() -> None:
    import keras
    import optuna

    from training.sweep.run import _pruning_callback, median_pruner

    study = optuna.create_study(direction="maximize", pruner=median_pruner())
    for _ in range(3):  # the pruner waits for three finished trials
        first = study.ask()
        for epoch, value in enumerate([0.90, 0.95, 0.97], start=1):
            first.report(value, epoch)
        study.tell(first, 0.97)
    trial = study.ask()
    callback = _pruning_callback(trial)
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    callback.model.stop_training = False  # as fit sets it
    callback.on_epoch_end(0, {"val_accuracy": 0.50})  # warm-up: never pruned
    assert not callback.pruned and not callback.model.stop_training
    callback.on_epoch_end(1, {"val_accuracy": 0.60})  # below the median of 0.95
    assert callback.pruned and callback.model.stop_training
