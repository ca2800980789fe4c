"""Inside a job's process: run a training or a command, and write how it ended.

`python -m training.jobs run FOLDER` runs one job here; a standby worker
(`training.jobs.warm`) runs the job it is handed the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import traceback
from pathlib import Path
from typing import Any

from model.settings import PROJECT_DIR
from training.jobs.records import (
    PROGRESS_FILE,
    Job,
    JobError,
    load,
    update,
)
from training.progress import make_callback


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
