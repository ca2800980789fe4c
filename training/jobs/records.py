"""A job's record on disk, and whether its process still lives.

Each job is a folder `<runs_dir>/jobs/<id>/` holding `job.json` (the `Job` below,
written atomically under the job's lock), `progress.jsonl` and `log.txt`. `refresh`
tells a job whose process died without a final word and marks it failed, and its
MLflow run FAILED. Starting and cancelling jobs is `training.jobs`' own business.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.files import atomic_write_bytes
from model.settings import SETTINGS
from training.config import TrainConfig
from training.progress import Progress, read_progress

ACTIVE = ("starting", "running", "cancelling")
FINAL = ("finished", "failed", "cancelled")
POLL_S = 0.05
JOB_FILE, PROGRESS_FILE, LOG_FILE, LOCK_FILE = "job.json", "progress.jsonl", "log.txt", ".lock"
STANDBY_FILE = "standby.json"


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
    # SETTINGS is read here only, for the whole package: tests give it a private runs/ here.
    return SETTINGS.runs_dir / "jobs"


# --- state files ---------------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: Path, blocking: bool = True) -> Iterator[None]:
    """An exclusive advisory lock across processes (the app's sessions and the job itself);
    not `blocking`: BlockingIOError at once if it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(job: Job) -> None:
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
    with locked(jobs_dir() / job_id / LOCK_FILE, blocking):
        job = load(job_id)
        if job.status in FINAL and "status" in changes:
            changes = {k: v for k, v in changes.items()
                       if k not in ("status", "message", "ended", "returncode")}
        for key, value in changes.items():
            setattr(job, key, value)
        if job.status in FINAL and job.ended is None:
            job.ended = time.time()
        save(job)
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


def start_ticks(pid: int) -> int | None:
    """The start time of a live process (clock ticks since boot); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces and brackets
    return None if fields[0] in ("Z", "X") else int(fields[19])


def alive(job: Job) -> bool:
    return job.pid is not None and start_ticks(job.pid) == job.start_ticks


def end_run(job: Job, status: str, reason: str) -> None:
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
    end_run(job, "KILLED" if was_cancel else "FAILED", message)
    return job
