"""Background jobs: one training (or command) at a time per server, in its own process group.

A job is a folder `<runs_dir>/jobs/<id>/` holding `job.json` (its state, written
atomically: `training.jobs.records`), `progress.jsonl` (lines from the Keras callback of
`training.progress`) and `log.txt` (its output). The app starts jobs here and every tab
reads the same files, so a reload or a second tab sees the same run. The job runs in
`python -m training.jobs` (`training.jobs.worker`), a session leader, so Cancel signals
its whole group:

    start_training(cfg, experiment=...)   # refused with JobRefused while another job runs
    start_command(["python", "-m", "training.retrain", ...], title="Retrain")
    cancel(job_id)                        # SIGTERM, SIGKILL after 4 s; the run ends KILLED

A process found dead without a final word marks its job failed and its MLflow run FAILED.
Importing TensorFlow and MLflow takes 10-20 s on a busy 2-core machine, longer than a
class should wait for the first point of a curve, so a training job goes to a standby
worker that has imported them already when there is one (`ensure_standby()`, in `warm.py`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from model.settings import PROJECT_DIR
from training.config import TrainConfig, validate
from training.jobs import records
from training.jobs.records import (
    ACTIVE,
    FINAL,
    LOCK_FILE,
    LOG_FILE,
    POLL_S,
    Job,
    JobError,
    JobRefused,
    active_job,
    alive,
    end_run,
    jobs_dir,
    latest,
    list_jobs,
    load,
    locked,
    refresh,
    save,
    start_ticks,
    update,
)

__all__ = ["ACTIVE", "CANCEL_GRACE_S", "FINAL", "KILL_WAIT_S", "STANDBY_ENV", "Job", "JobError",
           "JobRefused", "active_job", "alive", "cancel", "ensure_standby", "jobs_dir", "latest",
           "list_jobs", "load", "refresh", "settle", "standby", "start_command", "start_training",
           "stop_standby", "update"]

CANCEL_GRACE_S = 4.0  # SIGTERM first: the run ends KILLED in MLflow and nothing half-done stays
KILL_WAIT_S = 1.0
STANDBY_ENV = "DIGIT_STUDIO_STANDBY"  # "0": no standby worker (every job imports afresh)

_FINISHING: list[threading.Thread] = []  # cancels completing in the background


def _popen(args: list[str], log_path: Path) -> tuple[int, int | None]:
    """Start `python -m training.jobs ARGS` as its own session; its pid and start time."""
    settings = records.SETTINGS  # the package reads its settings there (tests replace them)
    env = {**os.environ, "DIGIT_STUDIO_RUNS": str(settings.runs_dir), "PYTHONUNBUFFERED": "1",
           "MLFLOW_TRACKING_URI": settings.tracking_uri}  # the store this server reads
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "training.jobs", *args], cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    # Reap it when it ends, or it lingers as a zombie of the app's server.
    threading.Thread(target=process.wait, daemon=True).start()
    return process.pid, start_ticks(process.pid)


def _spawn(job: Job) -> Job:
    """Hand a training to the standby worker if there is one, else start a fresh worker.
    Called under the jobs lock."""
    if job.kind == "train":
        handed = hand_over(job)
        if handed is not None:
            return handed
    pid, ticks = _popen(["run", str(job.folder)], job.folder / LOG_FILE)
    return update(job.id, pid=pid, start_ticks=ticks)


def _create(job: Job) -> Job:
    """Register and start a job, unless one is already running (checked under a lock, so two
    tabs pressing Start at once get one job and one refusal)."""
    with locked(jobs_dir() / LOCK_FILE):
        running = active_job()
        if running is not None:
            raise JobRefused(f"{running.title} is already running (started "
                             f"{datetime.fromtimestamp(running.created):%H:%M:%S}); one job at "
                             f"a time on this server: wait for it or cancel it.")
        job.folder.mkdir(parents=True)
        save(job)
        return _spawn(job)


def _new_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def start_training(cfg: TrainConfig, *, experiment: str = "digit-studio",
                   run_name: str | None = None, title: str | None = None,
                   output: Path | None = None) -> Job:
    """Validate the recipe, then train it in the background. Raises ConfigError (invalid,
    nothing started) or JobRefused (another job runs)."""
    validate(cfg)
    if not experiment.strip():
        raise JobError("Name an experiment to log the run to.")
    job_id = _new_id()
    output = output or records.SETTINGS.runs_dir / f"{job_id}-app"
    return _create(Job(id=job_id, kind="train", title=title or f"Training {job_id}",
                       config=cfg.to_dict(), experiment=experiment.strip(),
                       run_name=run_name or output.name, output=str(output)))


def start_command(argv: list[str], *, title: str, kind: str = "command") -> Job:
    """Run a command (`python -m training.retrain ...`) as the server's one background job.

    The command finds its job folder in `$DIGIT_STUDIO_JOB_DIR`: a training inside it can
    write progress lines with `training.jobs.worker.progress_callback()`.
    """
    if not argv:
        raise JobError("The job has no command to run.")
    return _create(Job(id=_new_id(), kind=kind, title=title, argv=[str(a) for a in argv]))


def _after_cancel(job: Job, deadline: float) -> None:
    """Make a cancel complete: SIGKILL the group if it outlives the deadline, then make sure
    the job says cancelled and its MLflow run KILLED (a killed process cannot say so)."""
    while alive(job) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    if alive(job):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.pid, signal.SIGKILL)
        end = time.monotonic() + KILL_WAIT_S
        while alive(job) and time.monotonic() < end:
            time.sleep(POLL_S)
    try:
        job = update(job.id, status="cancelled", message="Cancelled.")
    except JobError:  # the runs folder went away meanwhile (a test's, or cleaned up)
        return
    if job.run_id:  # importing mlflow here takes seconds: the page must not wait for it
        _in_background(end_run, job, "KILLED", "Cancelled.")


def cancel(job_id: str) -> Job:
    """Stop a job: SIGTERM to its process group, SIGKILL after CANCEL_GRACE_S.

    Returns as soon as the job has stopped training and says so (its SIGTERM handler
    writes "cancelled" first), or its process is gone; the rest (SIGKILL if needed, the
    MLflow run marked KILLED) finishes in a background thread.
    """
    job = refresh(load(job_id))
    if not job.active:
        return job
    job = update(job_id, status="cancelling")
    deadline = time.monotonic() + CANCEL_GRACE_S
    with contextlib.suppress(ProcessLookupError):
        os.killpg(job.pid, signal.SIGTERM)  # a session leader: its pid is the group's id
    while alive(job) and load(job_id).active and time.monotonic() < deadline:
        time.sleep(POLL_S)
    if alive(job) and load(job_id).active:  # it ignored SIGTERM: no more waiting
        deadline = time.monotonic()
    if not alive(job) or deadline <= time.monotonic():
        _after_cancel(job, deadline)
    else:
        _in_background(_after_cancel, job, deadline)
    return load(job_id)


def _in_background(task: Callable[..., None], *args: Any) -> None:
    thread = threading.Thread(target=task, args=args, daemon=True)
    _FINISHING.append(thread)
    thread.start()


def settle(timeout: float = CANCEL_GRACE_S + 30) -> None:
    """Wait for the background parts of cancels to finish (tests, before changing stores)."""
    deadline = time.monotonic() + timeout
    while _FINISHING:
        _FINISHING.pop().join(max(0.0, deadline - time.monotonic()))


# The standby worker (its own module); imported last, as it uses the names above.
from training.jobs.warm import ensure_standby as ensure_standby  # noqa: E402
from training.jobs.warm import hand_over  # noqa: E402
from training.jobs.warm import standby as standby  # noqa: E402
from training.jobs.warm import stop_standby as stop_standby  # noqa: E402
