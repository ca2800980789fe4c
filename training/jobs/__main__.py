"""`python -m training.jobs list | cancel JOB_ID`, and the entry of a job's own process."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from training.jobs import JobError, cancel, list_jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Background jobs of Digit Studio.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the jobs, newest first")
    stopper = commands.add_parser("cancel", help="cancel a running job")
    stopper.add_argument("job_id")
    runner = commands.add_parser("run", help="(internal) run the job in FOLDER")
    runner.add_argument("folder", type=Path)
    commands.add_parser("standby", help="(internal) wait, warm, for a training to run")
    args = parser.parse_args(argv)
    try:
        if args.command in ("run", "standby"):
            from training.jobs import warm, worker

            code = worker.run(args.folder.resolve()) if args.command == "run" else warm.serve()
            # The job has written how it ended; TensorFlow's teardown at exit takes seconds
            # and would hold a cancelled job's process past its SIGKILL deadline.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        if args.command == "cancel":
            print(f"{args.job_id}: {cancel(args.job_id).status}")
            return 0
        for job in list_jobs():
            print(f"{job.id}  {job.kind:8} {job.status:10} {job.title}  {job.message}")
        return 0
    except JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
