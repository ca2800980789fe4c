"""Inside a job's process: run a training or a command, and write how it ended.

`python -m training.jobs run FOLDER` runs one job. `python -m training.jobs standby` imports
TensorFlow and MLflow, opens the store, then waits for `training.jobs` to hand it a training
(the file `standby.<pid>.assign` naming the job), so the first batch comes seconds after
Start instead of after the imports. A standby ends when the process that started it (the
app's server) is gone, or after STANDBY_IDLE_S unused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

from model.files import atomic_write_bytes
from model.settings import PROJECT_DIR
from training.jobs import (
    LOCK_FILE,
    LOG_FILE,
    PROGRESS_FILE,
    STANDBY_FILE,
    Job,
    JobError,
    _locked,
    jobs_dir,
    load,
    update,
)
from training.progress import make_callback

STANDBY_IDLE_S = 20 * 60
STANDBY_POLL_S = 0.1


def assign_file(pid: int) -> Path:
    return jobs_dir() / f"standby.{pid}.assign"


def progress_callback() -> Any:
    """For a command run as a job: a Keras callback writing the job's progress lines
    (None outside a job)."""
    folder = os.environ.get("DIGIT_STUDIO_JOB_DIR")
    return make_callback(Path(folder) / PROGRESS_FILE) if folder else None


def _run_training(job: Job) -> dict[str, Any]:
    from training.train import train

    def record_run() -> None:
        import mlflow

        run = mlflow.active_run()
        if run is not None:
            update(job.id, run_id=run.info.run_id)

    callback = make_callback(job.folder / PROGRESS_FILE, on_begin=record_run)
    card = train(job.train_config(), Path(job.output or job.folder / "model"),
                 callbacks=[callback], experiment=job.experiment, run_name=job.run_name,
                 tags={"source": "app"})
    test = card["test"]
    return {"test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"],
            "test_ece": test.get("calibration_error"), "errors": test["errors"], "n": test["n"],
            "confusion_matrix": test["confusion_matrix"], "parameters": card["parameters"],
            "training_seconds": card["training_seconds"], "epochs_run": card["epochs_run"],
            "run_id": (card.get("mlflow") or {}).get("run_id")}


def _run_command(job: Job) -> int:
    env = {**os.environ, "DIGIT_STUDIO_JOB_DIR": str(job.folder)}
    child = subprocess.Popen(job.argv, cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # SIGTERM reached the whole group: wait for the child
            continue


def _cancel_on_sigterm(job_id: str) -> None:
    """On SIGTERM, say "cancelled" at once (the page waits for that), then raise Cancelled
    so the training unwinds and its MLflow run ends KILLED."""
    from training.tracking import Cancelled

    def handler(signum: int, frame: object) -> None:
        # Not blocking: this thread may hold the job's lock right now (then the final
        # update below says it, a moment later).
        with contextlib.suppress(OSError, JobError):
            update(job_id, blocking=False, status="cancelled", message="Cancelled.")
        raise Cancelled(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def run(folder: Path) -> int:
    """Run the job in `folder` in this process and write how it ended."""
    _cancel_on_sigterm(folder.name)
    job = load(folder.name)
    try:
        if job.status != "starting":  # cancelled before it got going
            raise KeyboardInterrupt
        job = update(job.id, status="running")
        if job.kind == "train":
            result = _run_training(job)
            update(job.id, status="finished", result=result, run_id=result["run_id"],
                   message="Finished.")
            return 0
        code = _run_command(job)
        cancelled = load(job.id).status in ("cancelling", "cancelled")
        status = "cancelled" if cancelled else "finished" if code == 0 else "failed"
        update(job.id, status=status, returncode=code,
               message={"cancelled": "Cancelled.", "finished": "Finished."}.get(
                   status, f"The command exited with status {code}."))
        return 0 if code == 0 else 1
    except KeyboardInterrupt:
        update(job.id, status="cancelled", message="Cancelled.")
        return 130
    except Exception as exc:
        traceback.print_exc()
        update(job.id, status="failed", message=f"{type(exc).__name__}: {exc}")
        return 1


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


def standby() -> int:
    """Wait, warm, for a training to run; see the module's docstring."""
    parent = os.getppid()
    _warm_up()
    record_path = jobs_dir() / STANDBY_FILE
    with _locked(jobs_dir() / LOCK_FILE):
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
            return run(folder)
        if os.getppid() != parent or time.monotonic() - idle_since > STANDBY_IDLE_S:
            with _locked(jobs_dir() / LOCK_FILE):
                if assign_file(os.getpid()).exists():
                    continue  # handed a job just now: run it
                if _mine(record_path):
                    record_path.unlink(missing_ok=True)
            return 0
        time.sleep(STANDBY_POLL_S)
