"""Inside a job's process: run a training or a command, and write how it ended.

`python -m training.jobs run FOLDER` runs one job here; a standby worker
(`training.jobs.warm`) runs the job it is handed the same way.
"""

from __future__ import annotations

import contextlib
import functools
import os
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
    # A Cancel's SIGTERM reaches the whole group: the child stops, this waits for it.
    return subprocess.Popen(job.argv, cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL).wait()


def _say_cancelled(job_id: str) -> None:
    """Mark the job cancelled at once, from SIGTERM's handler (the page waits for that)."""
    # Not blocking: this thread may hold the job's lock right now (then the final update
    # in `_run` says it, a moment later).
    with contextlib.suppress(OSError, JobError):
        update(job_id, blocking=False, status="cancelled", message="Cancelled.")


def run(folder: Path) -> int:
    """Run the job in `folder` in this process and write how it ended.

    A Cancel's SIGTERM says "cancelled" at once; a training then stops before its next
    batch and its MLflow run ends KILLED.
    """
    from training.cancel import cancel_on_signals

    with cancel_on_signals(functools.partial(_say_cancelled, folder.name)):
        return _run(load(folder.name))


def _run(job: Job) -> int:
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
