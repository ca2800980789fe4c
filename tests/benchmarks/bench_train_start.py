"""Train page speed, through the job runner the page uses:
`python -m tests.benchmarks.bench_train_start [--rounds 2]`.

(a) Start to the first progress line (a batch point on the curves), with a warm standby
    worker (the page keeps one) and with a cold process; target 15 s.
(b) Cancel: from `jobs.cancel()` to its return (the page shows "cancelled") and to the
    process being gone; target 5 s.

Each round trains on 2,000 digits in a private runs/ folder; prints figures, asserts nothing.
The load average is printed too: the 2-core machine is often shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from model.settings import SETTINGS
from training import jobs
from training.config import PRESETS

TINY = dataclasses.replace(PRESETS["classroom"], limit=2000, epochs=30, export_onnx=False)
TIMEOUT_S = 600.0


def _until(predicate, timeout: float = TIMEOUT_S) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("gave up waiting")
        time.sleep(0.05)
    return time.monotonic() - started


def one_round(warm: bool) -> tuple[float, float, float]:
    """(Start to first point, cancel() returning, cancel to process gone), in seconds."""
    if warm:
        jobs.ensure_standby()
        _until(lambda: (jobs.standby() or {}).get("ready"))
    started = time.monotonic()
    job = jobs.start_training(TINY, experiment="bench-train-start")
    _until(lambda: bool(jobs.load(job.id).progress().batch_points))
    first = time.monotonic() - started
    job = jobs.load(job.id)
    clicked = time.monotonic()
    jobs.cancel(job.id)
    returned = time.monotonic() - clicked
    _until(lambda: not jobs.alive(job), timeout=30)
    gone = time.monotonic() - clicked
    jobs.settle()
    return first, returned, gone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs = tempfile.mkdtemp(prefix="bench-train-start-")
    jobs.records.SETTINGS = dataclasses.replace(SETTINGS, runs_dir=Path(runs))  # this run only
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{runs}/mlflow.db"
    print(f"load average {os.getloadavg()[0]:.1f} at the start; runs in {runs}")
    for warm in (True, False):
        os.environ[jobs.STANDBY_ENV] = "1" if warm else "0"
        rounds = [one_round(warm) for _ in range(args.rounds)]
        first, returned, gone = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"{'warm standby' if warm else 'cold process'}: first point {first:.1f} s after "
              f"Start (target 15 s); cancel returns in {returned:.1f} s, process gone in "
              f"{gone:.1f} s (target 5 s); {len(rounds)} rounds, medians")
    jobs.stop_standby()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
