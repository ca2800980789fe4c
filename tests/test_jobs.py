"""Background jobs (training.jobs): real tiny trainings in their own processes, a real
SQLite MLflow store in a temporary folder, real signals."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from model.settings import SETTINGS
from training import jobs
from training.config import PRESETS, ConfigError

pytestmark = pytest.mark.slow  # each test trains (or starts) a real process

TINY = dataclasses.replace(PRESETS["classroom"], limit=2000, epochs=1, export_onnx=False)
# Runs until it is cancelled or killed (early stopping must not end it first).
LONG = dataclasses.replace(TINY, epochs=50, patience=50)
# Generous: a tiny job imports TensorFlow and MLflow in a fresh process on a busy machine.
JOB_TIMEOUT_S = 240.0


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runs/ (jobs and MLflow store) for this test, seen by its job processes too."""
    monkeypatch.setattr("training.jobs.records.SETTINGS",
                        dataclasses.replace(SETTINGS, runs_dir=tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(jobs.STANDBY_ENV, "0")
    yield tmp_path
    for job in jobs.list_jobs():
        if job.active:
            jobs.cancel(job.id)
    jobs.settle()
    jobs.stop_standby()


def wait_for(predicate, timeout: float = JOB_TIMEOUT_S, what: str = "the job") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} took over {timeout:.0f} s"
        time.sleep(0.2)


def current(job: jobs.Job) -> jobs.Job:
    return jobs.refresh(jobs.load(job.id))


def run_status(run_id: str) -> str:
    from mlflow import MlflowClient

    return MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).get_run(run_id).info.status


def test_invalid_settings_start_nothing(runs: Path) -> None:
    bad = dataclasses.replace(TINY, learning_rate=-0.1, filters=(0, 16))
    with pytest.raises(ConfigError, match="learning rate"):
        jobs.start_training(bad)
    with pytest.raises(jobs.JobError, match="experiment"):
        jobs.start_training(TINY, experiment=" ")
    assert jobs.list_jobs() == []


def test_a_training_job_shows_progress_refuses_a_second_and_finishes(runs: Path) -> None:
    job = jobs.start_training(TINY, experiment="jobs-test")
    with pytest.raises(jobs.JobRefused, match="already running"):
        jobs.start_training(TINY, experiment="jobs-test")
    wait_for(lambda: not current(job).active)
    done = current(job)
    assert done.status == "finished", done.log_tail()
    progress = done.progress()
    assert progress.epochs == 1 and progress.ended
    assert len(progress.batch_points) >= 2  # a line at least every BATCH_INTERVAL_S
    last = progress.batch_points[-1]
    assert last["batch"] == last["batches"] == progress.batches and last["eta"] == 0
    assert {"loss", "accuracy", "seconds", "eta"} <= set(last)
    assert progress.epoch_points[0]["val_accuracy"] is not None
    assert 0 < done.result["test_accuracy"] <= 1 and done.result["n"] == 10_000
    assert run_status(done.run_id) == "FINISHED"
    assert jobs.latest("train").id == job.id


def test_cancel_stops_the_job_and_marks_the_run_killed(runs: Path) -> None:
    job = jobs.start_training(LONG, experiment="jobs-test")
    wait_for(lambda: current(job).progress().batch_points and current(job).run_id)
    started = time.monotonic()
    ended = jobs.cancel(job.id)
    seconds = time.monotonic() - started
    assert ended.status == "cancelled"
    assert seconds < jobs.CANCEL_GRACE_S + jobs.KILL_WAIT_S + 0.5
    assert jobs.active_job() is None  # the next one may start
    # The process ends its run KILLED on its way out (or the canceller does, after SIGKILL).
    wait_for(lambda: not jobs.alive(ended) and run_status(ended.run_id) == "KILLED",
             timeout=jobs.CANCEL_GRACE_S + 10, what="the KILLED run")


def test_a_killed_process_marks_the_job_and_run_failed(runs: Path) -> None:
    job = jobs.start_training(LONG, experiment="jobs-test")
    wait_for(lambda: current(job).run_id is not None)
    job = current(job)
    os.killpg(job.pid, signal.SIGKILL)  # as the OOM killer would
    wait_for(lambda: not jobs.alive(job), timeout=10, what="the kill")
    dead = current(job)
    assert dead.status == "failed" and "without reporting" in dead.message
    assert run_status(dead.run_id) == "FAILED"


def test_a_command_runs_as_a_job(runs: Path) -> None:
    ok = jobs.start_command([sys.executable, "-c", "print('hello from the job')"], title="Hi")
    wait_for(lambda: not current(ok).active)
    assert current(ok).status == "finished" and "hello from the job" in current(ok).log_tail()
    bad = jobs.start_command([sys.executable, "-c", "raise SystemExit(3)"], title="Bad")
    wait_for(lambda: not current(bad).active)
    assert current(bad).status == "failed" and current(bad).returncode == 3
    slow = jobs.start_command([sys.executable, "-c", "import time; time.sleep(60)"],
                              title="Sleeper")
    with pytest.raises(jobs.JobRefused, match="Sleeper"):
        jobs.start_command(["true"], title="Second")
    wait_for(lambda: current(slow).status == "running", timeout=30)
    started = time.monotonic()
    assert jobs.cancel(slow.id).status == "cancelled"
    assert time.monotonic() - started < jobs.CANCEL_GRACE_S + jobs.KILL_WAIT_S + 0.5


def test_a_standby_worker_takes_the_next_training(runs: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(jobs.STANDBY_ENV, "1")
    jobs.ensure_standby()
    record = jobs.standby()
    assert record is not None
    jobs.ensure_standby()  # one is enough
    assert jobs.standby()["pid"] == record["pid"]
    wait_for(lambda: (jobs.standby() or {}).get("ready"), what="the standby's warm-up")
    job = jobs.start_training(TINY, experiment="jobs-test")
    assert job.pid == record["pid"] and jobs.standby() is None
    wait_for(lambda: not current(job).active)
    assert current(job).status == "finished", current(job).log_tail()
