"""Background jobs: one training (or command) at a time per server, in its own process group.

A job is a folder `<runs_dir>/jobs/<id>/` holding `job.json` (its state, written
atomically), `progress.jsonl` (lines from the Keras callback of `training.progress`) and
`log.txt` (its output). The app starts jobs here and every tab reads the same files, so a
reload or a second tab sees the same run. The job runs in `python -m training.jobs`
(`training.jobs.worker`), a session leader, so Cancel signals its whole group:

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
import dataclasses
import fcntl
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from model.files import atomic_write_bytes
from model.settings import PROJECT_DIR, SETTINGS
from training.config import TrainConfig, validate
from training.progress import Progress, read_progress

ACTIVE = ("starting", "running", "cancelling")
FINAL = ("finished", "failed", "cancelled")
CANCEL_GRACE_S = 4.0  # SIGTERM first: the run ends KILLED in MLflow and nothing half-done stays
KILL_WAIT_S = 1.0
POLL_S = 0.05
JOB_FILE, PROGRESS_FILE, LOG_FILE, LOCK_FILE = "job.json", "progress.jsonl", "log.txt", ".lock"
STANDBY_FILE = "standby.json"
STANDBY_ENV = "DIGIT_STUDIO_STANDBY"  # "0": no standby worker (every job imports afresh)


_FINISHING: list[threading.Thread] = []  # cancels completing in the background


class JobError(Exception):
    """A job cannot start or be found; the message is one sentence for the page or the CLI."""


class JobRefused(JobError):
    """Another job is running on this server."""


@dataclass
class Job:
    """The state of one job, as stored in its job.json."""

    id: str
    kind: str  # "train" or "command"
    title: str
    status: str = "starting"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    pid: int | None = None
    start_ticks: int | None = None  # the process's start time: a reused pid is not our job
    argv: list[str] = field(default_factory=list)
    config: dict[str, Any] | None = None
    experiment: str | None = None
    run_name: str | None = None
    output: str | None = None
    run_id: str | None = None
    returncode: int | None = None
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return jobs_dir() / self.id

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def seconds(self) -> float:
        return (self.ended or time.time()) - self.created

    def progress(self) -> Progress:
        return read_progress(self.folder / PROGRESS_FILE)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.folder / LOG_FILE).read_text(errors="replace")
                             .splitlines()[-lines:])
        except OSError:
            return ""

    def train_config(self) -> TrainConfig:
        values = dict(self.config or {})
        for key in ("filters", "convs"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return TrainConfig(**values)


def jobs_dir() -> Path:
    return SETTINGS.runs_dir / "jobs"


# --- state files ---------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[None]:
    """An exclusive advisory lock across processes (the app's sessions and the job itself);
    not `blocking`: BlockingIOError at once if it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save(job: Job) -> None:
    atomic_write_bytes(job.folder / JOB_FILE, json.dumps(dataclasses.asdict(job), indent=1)
                       .encode())


def load(job_id: str) -> Job:
    path = jobs_dir() / job_id / JOB_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise JobError(f"Job {job_id} cannot be read ({exc}).") from exc
    known = {f.name for f in dataclasses.fields(Job)}
    return Job(**{k: v for k, v in data.items() if k in known})


def update(job_id: str, blocking: bool = True, **changes: Any) -> Job:
    """Change a job's state under its lock. A final status is never overwritten: the first
    word on how a job ended (its own, or the canceller's) stands."""
    with _locked(jobs_dir() / job_id / LOCK_FILE, blocking):
        job = load(job_id)
        if job.status in FINAL and "status" in changes:
            changes = {k: v for k, v in changes.items()
                       if k not in ("status", "message", "ended", "returncode")}
        for key, value in changes.items():
            setattr(job, key, value)
        if job.status in FINAL and job.ended is None:
            job.ended = time.time()
        _save(job)
        return job


def list_jobs(kind: str | None = None) -> list[Job]:
    """Every job, newest first, each refreshed (a dead process is marked failed)."""
    found = []
    for path in sorted(jobs_dir().glob(f"*/{JOB_FILE}"), reverse=True):
        with contextlib.suppress(JobError):
            job = refresh(load(path.parent.name))
            if kind is None or job.kind == kind:
                found.append(job)
    return found


def latest(kind: str | None = None) -> Job | None:
    jobs = list_jobs(kind)
    return jobs[0] if jobs else None


def active_job() -> Job | None:
    return next((job for job in list_jobs() if job.active), None)


# --- processes -----------------------------------------------------------------------------


def _start_ticks(pid: int) -> int | None:
    """The start time of a live process (clock ticks since boot); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces and brackets
    return None if fields[0] in ("Z", "X") else int(fields[19])


def alive(job: Job) -> bool:
    return job.pid is not None and _start_ticks(job.pid) == job.start_ticks


def _end_run(job: Job, status: str, reason: str) -> None:
    """Mark the job's MLflow run ended; the store may be down, which must not stop a cancel."""
    if not job.run_id:
        return
    try:
        from training.tracking import mark_ended

        mark_ended(job.run_id, status, reason)
    except Exception as exc:  # a locked or missing store: the job's own state still says it
        with contextlib.suppress(OSError), open(job.folder / LOG_FILE, "a") as log:
            log.write(f"\nCould not mark MLflow run {job.run_id} {status}: {exc}\n")


def refresh(job: Job) -> Job:
    """The job as it stands: one whose process died without reporting is marked failed."""
    if not job.active or alive(job):
        return job
    time.sleep(POLL_S)  # it may be writing its final state right now
    job = load(job.id)
    if not job.active:
        return job
    was_cancel = job.status == "cancelling"
    status = "cancelled" if was_cancel else "failed"
    message = ("Cancelled." if was_cancel else
               "The job's process ended without reporting (killed, or out of memory).")
    job = update(job.id, status=status, message=message)
    _end_run(job, "KILLED" if was_cancel else "FAILED", message)
    return job


def _popen(args: list[str], log_path: Path) -> tuple[int, int | None]:
    """Start `python -m training.jobs ARGS` as its own session; its pid and start time."""
    env = {**os.environ, "DIGIT_STUDIO_RUNS": str(SETTINGS.runs_dir), "PYTHONUNBUFFERED": "1",
           "MLFLOW_TRACKING_URI": SETTINGS.tracking_uri}  # the store this server reads
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "training.jobs", *args], cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    # Reap it when it ends, or it lingers as a zombie of the app's server.
    threading.Thread(target=process.wait, daemon=True).start()
    return process.pid, _start_ticks(process.pid)


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
    with _locked(jobs_dir() / LOCK_FILE):
        running = active_job()
        if running is not None:
            raise JobRefused(f"{running.title} is already running (started "
                             f"{datetime.fromtimestamp(running.created):%H:%M:%S}); one job at "
                             f"a time on this server: wait for it or cancel it.")
        job.folder.mkdir(parents=True)
        _save(job)
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
    output = output or SETTINGS.runs_dir / f"{job_id}-app"
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
        _in_background(_end_run, job, "KILLED", "Cancelled.")


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
