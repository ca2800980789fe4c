"""MLflow tracking of real training runs, in a real SQLite store under tmp_path.

One tiny CLI run (2,000 images, one epoch) is shared by the module; bad settings are
refused before anything starts; SIGTERM and errors end runs KILLED and FAILED.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training.config import PRESETS, TrainConfig

PROJECT_DIR = Path(__file__).resolve().parent.parent
TINY = ["--preset", "classroom", "--limit", "2000", "--epochs", "1"]
EPOCH_METRICS = {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                 "epoch_seconds"}
TEST_METRICS = {"test_accuracy", "test_macro_f1", "test_ece",
                *(f"test_f1_{d}" for d in range(10))}
START_TIMEOUT_S = 300  # the run must exist in the store before it is cancelled
STOP_TIMEOUT_S = 60


def store_env(tmp_path: Path, mnist_dir: Path) -> dict[str, str]:
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}",
            "DIGIT_STUDIO_RUNS": str(tmp_path / "runs"), "MNIST_DIR": str(mnist_dir)}


def client_for(tmp_path: Path):
    from mlflow import MlflowClient

    from training.tracking import init_store

    uri = f"sqlite:///{tmp_path / 'm.db'}"
    init_store(uri)  # waits while the process under test creates the tables
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def runs_of(tmp_path: Path, experiment: str) -> list:
    client = client_for(tmp_path)
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def train_cli(*args: str, env: dict[str, str], timeout: int = 300):
    return subprocess.run([sys.executable, "-m", "training.train", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path):
    """The done-when run: `MLFLOW_TRACKING_URI=sqlite:///<tmp>/m.db python -m
    training.train --limit 2000 --epochs 1 --experiment bars --output <tmp>/x`."""
    tmp = tmp_path_factory.mktemp("tracked")
    done = train_cli(*TINY, "--experiment", "bars", "--output", str(tmp / "x"),
                     env=store_env(tmp, mnist_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = runs_of(tmp, "bars")
    return tmp, run


def test_one_run_with_params_curves_and_test_metrics(logged) -> None:
    tmp, run = logged
    assert run.info.status == "FINISHED" and run.info.run_name == "x"
    cfg = dataclasses.replace(PRESETS["classroom"], limit=2000, epochs=1)
    assert set(run.data.params) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert run.data.params["filters"] == "16,32" and run.data.params["limit"] == "2000"
    assert float(run.data.params["learning_rate"]) == cfg.learning_rate
    history = client_for(tmp).get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1]
    assert run.data.metrics.keys() >= EPOCH_METRICS | TEST_METRICS
    assert 0.1 <= run.data.metrics["test_accuracy"] <= 1.0
    assert run.data.metrics["epoch_seconds"] > 0 and run.data.metrics["learning_rate"] > 0


def test_tags_name_commit_data_and_preset(logged) -> None:
    _, run = logged
    tags = run.data.tags
    assert tags["preset"] == "classroom" and tags["custom"] == "true"
    assert len(tags["git_commit"].removesuffix("-dirty")) == 40
    digests = {k: v for k, v in tags.items() if k.startswith("data.sha256.")}
    assert len(digests) >= 4 and all(len(v) == 64 for v in digests.values())


def test_artifacts_are_the_model_folder_and_the_figure_beside_the_store(logged) -> None:
    tmp, run = logged
    client = client_for(tmp)
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert top == {"model", "confusion_matrix.png"}
    files = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert files == {"model/model.keras", "model/model.onnx", "model/card.json"}
    # Artifacts live beside the SQLite store, never in ./mlruns of the working directory.
    assert run.info.artifact_uri.startswith((tmp / "mlartifacts").as_uri())
    assert not (PROJECT_DIR / "mlruns").exists()
    from PIL import Image

    png = Path(client.download_artifacts(run.info.run_id, "confusion_matrix.png", str(tmp)))
    assert Image.open(png).size[0] > 300


@pytest.mark.parametrize("bad, says", [
    (["--filters", "0"], "positive"),
    (["--learning-rate", "-0.1"], "learning rate"),
    (["--dropout", "1.5"], "dropout"),
    (["--no-such-option", "3"], "unrecognized arguments"),
])
def test_bad_settings_are_one_message_and_start_nothing(bad: list[str], says: str,
                                                         tmp_path: Path, mnist_dir: Path) -> None:
    done = train_cli(*bad, "--output", str(tmp_path / "x"), env=store_env(tmp_path, mnist_dir),
                     timeout=180)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and says in errors[0]
    assert not (tmp_path / "m.db").exists() and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_sigterm_ends_the_run_killed_and_logs_no_model(tmp_path: Path, mnist_dir: Path) -> None:
    env = store_env(tmp_path, mnist_dir)
    process = subprocess.Popen(
        # 100 epochs, patience 100: the run must not end before the signal comes (with
        # the classroom preset's 2 it once finished first, the store being slow to show it)
        [sys.executable, "-m", "training.train", "--preset", "classroom", "--limit", "6000",
         "--epochs", "100", "--patience", "100", "--experiment", "cancel",
         "--output", str(tmp_path / "x")],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        run_id = None
        while run_id is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(1)
            if (tmp_path / "m.db").exists():
                runs = runs_of(tmp_path, "cancel")
                run_id = runs[0].info.run_id if runs else None
        assert run_id is not None, "the run never appeared in the store"
        time.sleep(2)
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "Cancelled" in stderr
    run = client_for(tmp_path).get_run(run_id)
    assert run.info.status == "KILLED" and run.data.tags["status"] == "cancelled"
    assert "test_accuracy" not in run.data.metrics
    assert not client_for(tmp_path).list_artifacts(run_id)


def _signal_inside_the_next_metrics_insert(signum: int):
    """A SQLAlchemy listener: the store's next multi-row insert of metrics sends `signum`
    from inside sqlite3's executemany, where Python then runs the signal's handler.

    That moment is the one that hurt: an exception raised there left the SQLite database
    locked, and ending the run waited 40 s, failed and left it RUNNING."""
    fired = False

    def listener(conn, cursor, statement: str, parameters, context, executemany: bool):
        nonlocal fired
        if fired or not executemany or not statement.startswith("INSERT INTO metrics"):
            return statement, parameters

        def rows():
            for i, row in enumerate(parameters):
                if i == 1:  # one row is in: the insert is under way
                    os.kill(os.getpid(), signum)
                yield row

        fired = True
        return statement, rows()

    return listener


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_inside_a_store_write_ends_the_run_killed(signum: int, tmp_path: Path,
                                                           mnist_dir: Path, monkeypatch,
                                                           capfd) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from training import cancel
    from training.train import train

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    cfg = dataclasses.replace(PRESETS["classroom"], limit=600, epochs=3, export_onnx=False)
    listener = _signal_inside_the_next_metrics_insert(signum)
    event.listen(Engine, "before_cursor_execute", listener, retval=True)
    try:
        with pytest.raises(cancel.Cancelled), cancel.cancel_on_signals():
            train(cfg, tmp_path / "x", mnist_dir, experiment="cancel")
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    (run,) = runs_of(tmp_path, "cancel")
    assert run.info.status == "KILLED" and run.data.tags["status"] == "cancelled"
    client = client_for(tmp_path)
    # The first epoch's metrics were written whole; the second epoch never began.
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1]
    assert set(run.data.metrics) == EPOCH_METRICS
    assert not client.list_artifacts(run.info.run_id)
    said = capfd.readouterr().err
    assert ("press Ctrl-C again" in said) == (signum == signal.SIGINT)


def test_an_error_ends_the_run_failed(tmp_path: Path, mnist_dir: Path, monkeypatch) -> None:
    import keras

    from training.train import train

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            raise RuntimeError("disk full")

    cfg = dataclasses.replace(PRESETS["classroom"], limit=300, epochs=1, export_onnx=False)
    with pytest.raises(RuntimeError, match="disk full"):
        train(cfg, tmp_path / "x", mnist_dir, [Boom()], experiment="boom")
    (run,) = runs_of(tmp_path, "boom")
    assert run.info.status == "FAILED" and "disk full" in run.data.tags["error"]
    assert not client_for(tmp_path).list_artifacts(run.info.run_id)


def test_mark_ended_closes_a_run_whose_process_died(tmp_path: Path, monkeypatch) -> None:
    from training import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    tracking.use_store()
    client = client_for(tmp_path)
    run = client.create_run(tracking.ensure_experiment("dead"))
    assert tracking.mark_ended(run.info.run_id, "FAILED", "the process was killed")
    ended = client.get_run(run.info.run_id)
    assert ended.info.status == "FAILED" and "killed" in ended.data.tags["error"]
    assert not tracking.mark_ended(run.info.run_id)  # already over: left alone
