"""`python -m training.azure <command>`: train, sweep, register and deploy on Azure ML.

    train [training.train options] [--compute NAME] [--vm-size SIZE] [--wait]
    pipeline [--local] [--preset P] [--epochs N] [--limit N] [--schedule "CRON"] [--wait]
    sweep [fixed training.train options] [--max-trials N] [--max-concurrent N]
    register --job NAME          deploy-online --version N [--traffic P]
    deploy-batch --version N     invoke FILE...     endpoints
    batch-score FOLDER --out CSV       batch-local FOLDER --out CSV   (here, no Azure)

`--dry-run DIR` on every command that creates something writes its YAML specs into
DIR, loads each back with azure-ai-ml's loaders and prints one line per file; exit 0
only if all load. Without a workspace configuration or credentials: one line on
stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.azure import deploy, specs, sweep
from training.azure.commands import COMMANDS, Options, dry_run, options_from
from training.azure.workspace import NotConfigured

EXIT_ERROR = 2
PASS_THROUGH = ("train", "sweep")  # commands that take training.train's own options
RESERVED = ("--output", "--data-dir")  # the job sets these itself


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.azure",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, cluster: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in COMMANDS:
            p.add_argument("--dry-run", type=Path, metavar="DIR",
                           help="write and check the YAML specs in DIR; submit nothing")
        if cluster:
            p.add_argument("--compute", help=f"AmlCompute cluster (default {specs.COMPUTE}; "
                           "created with 0 minimum nodes when missing)")
            p.add_argument("--vm-size", help=f"its VM size (default {specs.VM_SIZE})")
        return p

    t = command("train", "a command job running python -m training.train", cluster=True)
    t.add_argument("--wait", action="store_true", help="stream the job's logs until it ends")
    t.add_argument("--experiment", help=f"experiment name (default {specs.EXPERIMENT})")
    p = command("pipeline", "prepare -> train -> evaluate -> register as a pipeline job",
                cluster=True)
    p.add_argument("--local", action="store_true", help="run the same steps here, in order")
    p.add_argument("--preset", help="training preset (default: default)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--limit", type=int, help="train on the first N images only")
    p.add_argument("--schedule", metavar="CRON",
                   help='retrain on a cron schedule, e.g. "0 3 * * 1"')
    p.add_argument("--wait", action="store_true")
    s = command("sweep", "a sweep job over the local sweep's search space", cluster=True)
    s.add_argument("--max-trials", type=int, help=f"default {sweep.MAX_TRIALS}")
    s.add_argument("--max-concurrent", type=int, help=f"default {sweep.MAX_CONCURRENT}")
    s.add_argument("--wait", action="store_true")
    r = command("register", "register a job's model output (its metrics as tags)")
    r.add_argument("--job", help="the job whose `model` output to register")
    r.add_argument("--model-dir", type=Path, help="or a local model folder")
    o = command("deploy-online", "a managed online endpoint and deployment")
    o.add_argument("--version", required=True, help="registered model version")
    o.add_argument("--deployment", help=f"deployment name (default {deploy.DEPLOYMENT})")
    o.add_argument("--endpoint", help=f"endpoint name (default {deploy.ENDPOINT})")
    o.add_argument("--traffic", type=int, choices=range(101), metavar="P",
                   help="percent of traffic for this deployment (blue/green)")
    o.add_argument("--instance-type", help=f"default {deploy.INSTANCE_TYPE}")
    o.add_argument("--instance-count", type=int)
    b = command("deploy-batch", "a batch endpoint and model batch deployment", cluster=True)
    b.add_argument("--version", required=True, help="registered model version")
    b.add_argument("--deployment", help=f"deployment name (default {deploy.BATCH_DEPLOYMENT})")
    b.add_argument("--endpoint", help=f"endpoint name (default {deploy.BATCH_ENDPOINT})")
    b.add_argument("--mini-batch", type=int,
                   help=f"files per mini-batch (default {deploy.MINI_BATCH})")
    b.add_argument("--retries", type=int,
                   help=f"retries per mini-batch (default {deploy.MAX_RETRIES})")
    b.add_argument("--instance-count", type=int)
    i = command("invoke", "send image files to the online endpoint")
    i.add_argument("files", nargs="+", type=Path, metavar="FILE")
    i.add_argument("--endpoint")
    i.add_argument("--deployment")
    i.add_argument("--single", action="store_true", help="read each image as one digit")
    command("endpoints", "list endpoints, deployments and traffic")
    for name, help_text in (("batch-score", "score a folder on the batch endpoint"),
                            ("batch-local", "score a folder here with the batch script")):
        c = command(name, help_text)
        c.add_argument("folder", type=Path, metavar="FOLDER")
        c.add_argument("--out", type=Path, required=True, metavar="CSV")
        c.add_argument("--endpoint") if name == "batch-score" else c.add_argument(
            "--model", type=Path, help="model folder (default: the champion)")
    return parser


def _train_args(command: str, extra: list[str]) -> list[str]:
    """training.train's options, checked by its own parser before anything is sent."""
    from training.config import add_arguments

    for arg in extra:
        if arg.split("=")[0] in RESERVED:
            raise SystemExit(f"error: {arg.split('=')[0]} is set by the {command} job itself.")
    check = argparse.ArgumentParser(prog=f"python -m training.azure {command}")
    add_arguments(check)
    check.parse_args(extra)
    return extra


def _run(args: argparse.Namespace, opts: Options) -> int:
    command = args.command
    if getattr(args, "dry_run", None):
        checked = dry_run(command, opts, args.dry_run)
        for result in checked:
            print(result.line(), flush=True)
        return 0 if all(c.ok for c in checked) else 1
    if command == "pipeline" and args.local:
        from training.azure.pipeline import STEPS, run_local
        from training.data import find_mnist_dir
        from training.usps import find_usps_dir

        results = run_local({"mnist": str(find_mnist_dir()), "usps": str(find_usps_dir()),
                             "preset": opts.preset,
                             "epochs": None if opts.epochs is None else str(opts.epochs),
                             "limit": None if opts.limit is None else str(opts.limit)})
        ok = len(results) == len(STEPS) and all(r.ok for r in results)
        decision = results[-1].outputs["decision"] / "decision.json" if ok else None
        if decision is not None and decision.is_file():
            print(f"pipeline: {json.loads(decision.read_text())['reason']}")
        return 0 if ok else 1
    if command == "batch-local":
        from training.azure.batch import batch_local

        batch_local(args.folder, args.out, model_dir=args.model)
        return 0
    from training.azure import batch, live

    if command in ("train", "sweep", "pipeline"):
        live.submit(command, opts, wait=args.wait)
    elif command == "register":
        live.register(opts)
    elif command == "deploy-online":
        live.deploy_online(opts, args.traffic)
    elif command == "deploy-batch":
        batch.deploy_batch(opts)
    elif command == "invoke":
        live.invoke(args.files, opts, args.single)
    elif command == "endpoints":
        live.list_endpoints()
    elif command == "batch-score":
        batch.batch_score(args.folder, args.out, opts)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in PASS_THROUGH:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        opts = options_from(args)
        if args.command in PASS_THROUGH:
            opts.train_args = _train_args(args.command, extra)
        if args.command == "register" and not (args.job or args.model_dir):
            raise NotConfigured("register needs --job NAME (or --model-dir DIR).")
        return _run(args, opts)
    except NotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # data or model missing: one line, never a traceback
        from model.files import ModelFileError
        from training.data import MnistError
        from training.usps import UspsError

        if isinstance(exc, MnistError | UspsError | ModelFileError | ValueError | OSError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    raise SystemExit(main())
