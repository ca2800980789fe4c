"""The standby worker: a job process that imports TensorFlow and MLflow, opens the store and
loads MNIST before there is a job, so the first batch comes seconds after Start.

The app keeps one (`ensure_standby()`, not while a job runs: it would take CPU from it).
`training.jobs` hands it a training by writing `standby.<pid>.assign` with the job's id;
it then runs the job like `python -m training.jobs run`. A standby ends when the process
that started it (the app's server) is gone, or after STANDBY_IDLE_S unused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from model.files import atomic_write_bytes
from training.jobs import STANDBY_ENV, _popen
from training.jobs.records import (
    LOCK_FILE,
    LOG_FILE,
    STANDBY_FILE,
    Job,
    active_job,
    jobs_dir,
    locked,
    start_ticks,
    update,
)

STANDBY_IDLE_S = 20 * 60
STANDBY_POLL_S = 0.1


def assign_file(pid: int) -> Path:
    return jobs_dir() / f"standby.{pid}.assign"


def standby() -> dict[str, Any] | None:
    """The live standby worker's record (pid, start_ticks, ready), or None."""
    try:
        record = json.loads((jobs_dir() / STANDBY_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if start_ticks(record["pid"]) == record["start_ticks"] else None


def ensure_standby() -> None:
    """Keep one worker waiting with TensorFlow and MLflow imported, unless a job runs (it
    would take CPU from the job) or `$DIGIT_STUDIO_STANDBY` is 0."""
    if os.environ.get(STANDBY_ENV, "1") == "0":
        return
    with locked(jobs_dir() / LOCK_FILE):
        if standby() is not None or active_job() is not None:
            return
        for stale in jobs_dir().glob("standby.*.assign"):  # left by a standby that died
            stale.unlink(missing_ok=True)
        pid, ticks = _popen(["standby"], jobs_dir() / "standby.log")
        record = {"pid": pid, "start_ticks": ticks, "ready": False}
        atomic_write_bytes(jobs_dir() / STANDBY_FILE, json.dumps(record).encode())


def stop_standby() -> None:
    """End the standby worker (tests, a server going down)."""
    with locked(jobs_dir() / LOCK_FILE):
        record = standby()
        (jobs_dir() / STANDBY_FILE).unlink(missing_ok=True)
    if record is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record["pid"], signal.SIGKILL)


def hand_over(job: Job) -> Job | None:
    """Give a training to the standby worker, if one is alive (under the jobs lock); the job
    as handed over, or None."""
    record = standby()
    if record is None:
        return None
    (jobs_dir() / STANDBY_FILE).unlink()
    job = update(job.id, pid=record["pid"], start_ticks=record["start_ticks"])
    atomic_write_bytes(assign_file(record["pid"]), job.id.encode())
    return job


def _warm_up() -> None:
    """Import what a training needs, open the store, run one tiny network once."""
    started = time.monotonic()
    try:
        from training import tracking, train  # noqa: F401, I001  (first: it quiets TensorFlow)
        import keras
        import mlflow
        import numpy as np

        from model.network import build_cnn

        tracking.use_store()
        mlflow.MlflowClient().search_experiments(max_results=1)  # creates a new store's tables
        from training.data import load_mnist

        load_mnist()  # cached per process: the job's data comes from memory
        # One step of a tiny fit starts what every first fit starts (thread pools, graph
        # optimisation), so the job's first batch comes sooner.
        tiny = build_cnn((2,), None, 3, 0.0, 4)
        tiny.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        tiny.fit(np.zeros((8, 28, 28, 1), np.float32), np.zeros(8, np.int64), verbose=0)
        keras.backend.clear_session()
    except Exception as exc:  # the job itself will meet and report the problem
        print(f"standby: warm-up incomplete: {type(exc).__name__}: {exc}", flush=True)
    print(f"standby: ready in {time.monotonic() - started:.1f} s", flush=True)


def _mine(record_path: Path) -> bool:
    with contextlib.suppress(OSError, json.JSONDecodeError, KeyError):
        return json.loads(record_path.read_text())["pid"] == os.getpid()
    return False


def _take_assignment() -> str | None:
    path = assign_file(os.getpid())
    try:
        job_id = path.read_text().strip()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    return job_id or None


def serve() -> int:
    """Wait, warm, for a training to run (`python -m training.jobs standby`)."""
    parent = os.getppid()
    _warm_up()
    record_path = jobs_dir() / STANDBY_FILE
    with locked(jobs_dir() / LOCK_FILE):
        if _mine(record_path):
            record = json.loads(record_path.read_text())
            atomic_write_bytes(record_path, json.dumps({**record, "ready": True}).encode())
    idle_since = time.monotonic()
    while True:
        job_id = _take_assignment()
        if job_id:
            folder = jobs_dir() / job_id
            fd = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)  # from here on everything goes to the job's own log
            os.dup2(fd, 2)
            from training.jobs.worker import run

            return run(folder)
        if os.getppid() != parent or time.monotonic() - idle_since > STANDBY_IDLE_S:
            with locked(jobs_dir() / LOCK_FILE):
                if assign_file(os.getpid()).exists():
                    continue  # handed a job just now: run it
                if _mine(record_path):
                    record_path.unlink(missing_ok=True)
            return 0
        time.sleep(STANDBY_POLL_S)
