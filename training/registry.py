"""The model registry: `python -m training.registry list | register RUN_ID | promote VERSION |
rollback [--force] [--reason TEXT] [--json]`.

Versions of `digit-cnn` live in the MLflow Model Registry of `SETTINGS.tracking_uri`;
the alias `champion` is what the app, `model.predict` and `training.evaluate` load.
Registering checks the run finished and its files match its card, then measures the
model on real writers (USPS test through the reader). Promotion passes a gate: MNIST
test accuracy at most 0.2 points below the champion's, USPS accuracy not lower, unless
forced; with no champion yet the shipped model's figures stand in (`training.baseline`).
Every registration, promotion and rollback is appended to the registered model's
history (tags `history.<time>`) and stamped on the version's tags.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.champion import (
    ALIAS,
    MODEL_NAME,
    forget_cached_choice,
    resolve_model,
    verify_folder,
)
from model.files import ModelFileError
from training import tracking
from training.baseline import check_candidate, measure_usps
from training.gate import GateResult, metrics_of

if TYPE_CHECKING:
    from mlflow import MlflowClient

HISTORY = "history."
HISTORY_SHOWN = 10  # events `list` prints


class RegistryError(Exception):
    """The registry cannot do what was asked; the message is one sentence."""


def _client() -> MlflowClient:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow import MlflowClient

    tracking.use_store()
    return MlflowClient()


def _now() -> str:
    # Tag keys allow no "+": UTC as "Z". Microseconds keep keys unique and in order.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(client: MlflowClient, event: dict[str, Any]) -> dict[str, Any]:
    """Append an event to the registered model's history; keys sort by time."""
    event = {"time": _now(), **event}
    client.set_registered_model_tag(MODEL_NAME, HISTORY + event["time"], json.dumps(event))
    return event


def history(client: MlflowClient | None = None) -> list[dict[str, Any]]:
    """Every registration, promotion and rollback, oldest first."""
    client = client or _client()
    tags = _registered(client).tags if _exists(client) else {}
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith(HISTORY)]


def _exists(client: MlflowClient) -> bool:
    return bool(client.search_registered_models(f"name = '{MODEL_NAME}'"))


def _registered(client: MlflowClient) -> Any:
    return client.get_registered_model(MODEL_NAME)


def _champion(client: MlflowClient) -> Any | None:
    from mlflow.exceptions import MlflowException

    if not _exists(client):
        return None
    try:
        return client.get_model_version_by_alias(MODEL_NAME, ALIAS)
    except MlflowException:
        return None


def _version(client: MlflowClient, version: str | int) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(MODEL_NAME, str(version).removeprefix("v"))
    except MlflowException:
        raise RegistryError(f"{MODEL_NAME} has no version {version}.") from None


def register_run(run_id: str, *, usps_limit: int | None = None) -> str:
    """Register the model folder of a FINISHED run as a new version; returns its number.

    `usps_limit` scores only the first N USPS digits (quick checks, tests); the gate
    compares USPS accuracies only between versions measured on the same number.
    """
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise RegistryError(f"There is no run {run_id} in the store.") from None
    if run.info.status != "FINISHED":
        raise RegistryError(f"Run {run_id} is {run.info.status}: only a finished run's "
                            "model can be registered.")
    existing = client.search_model_versions(f"name = '{MODEL_NAME}' and run_id = '{run_id}'")
    if existing:
        return str(existing[0].version)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = Path(client.download_artifacts(run_id, tracking.MODEL_ARTIFACT, tmp))
            verify_folder(folder)
        except (MlflowException, OSError, ModelFileError) as exc:
            raise RegistryError(f"Run {run_id} has no complete model folder ({exc}).") from None
        usps, usps_n = measure_usps(folder, usps_limit)
    if not _exists(client):
        client.create_registered_model(MODEL_NAME, description="The digit CNN of Digit Studio.")
    metrics = run.data.metrics
    tags = {"test_accuracy": str(metrics["test_accuracy"]), "usps_accuracy": str(usps),
            "usps_n": str(usps_n), "registered_at": _now(), "run_name": run.info.run_name,
            "parameters": str(int(metrics.get("parameters", 0)))}
    created = client.create_model_version(MODEL_NAME, f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}",
                                          run_id=run_id, tags=tags)
    client.log_metric(run_id, "usps_accuracy", usps)
    _record(client, {"action": "register", "version": str(created.version), "run_id": run_id})
    return str(created.version)


def promote(version: str | int, force: bool = False, reason: str = "") -> GateResult:
    """Make `version` the champion if it passes the gate (or `force`); records it. With no
    champion yet the gate compares with the shipped model."""
    client = _client()
    candidate = _version(client, version)
    current = _champion(client)
    if current is not None and current.version == candidate.version:
        return GateResult(False, f"{MODEL_NAME} v{candidate.version} is already the champion.")
    gate = check_candidate(candidate, current)
    if not gate.ok and not force:
        return gate
    _set_champion(client, str(candidate.version), "promote", reason, force, gate.reason,
                  None if current is None else str(current.version))
    forced = "" if gate.ok else " (forced past the gate)"
    return GateResult(True, f"{MODEL_NAME} v{candidate.version} is the champion{forced}: "
                            f"{gate.reason}")


def _set_champion(client: MlflowClient, version: str | None, action: str, reason: str,
                  forced: bool, gate: str, previous: str | None) -> None:
    if version is None:
        client.delete_registered_model_alias(MODEL_NAME, ALIAS)
    else:
        client.set_registered_model_alias(MODEL_NAME, ALIAS, version)
        stamp = _now()
        for key, value in {f"{action}d_at": stamp, f"{action}_reason": reason or "-",
                           f"{action}_forced": str(forced).lower()}.items():
            client.set_model_version_tag(MODEL_NAME, version, key, value)
    _record(client, {"action": action, "version": version, "previous": previous,
                     "reason": reason, "forced": forced, "gate": gate})
    forget_cached_choice()
    # Fetch the new champion's folder now (mlflow is loaded here anyway), so the app and
    # the commands on this machine find it in the cache without importing mlflow.
    resolve_model()


def champion_line(client: MlflowClient) -> list[str | None]:
    """The champions in order, as replayed from the history: promotions push, rollbacks pop."""
    line: list[str | None] = []
    for event in history(client):
        if event["action"] == "promote":
            line.append(event["version"])
        elif event["action"] == "rollback":
            while line and line[-1] != event["version"]:
                line.pop()
            if not line and event["version"] is not None:
                line.append(event["version"])
    return line


def rollback(force: bool = False, reason: str = "") -> GateResult:
    """Give the champion alias back to the previous champion (`force`: with no earlier
    champion, go back to the shipped model)."""
    client = _client()
    current = _champion(client)
    if current is None:
        return GateResult(False, "There is no champion to roll back.")
    line = [v for v in champion_line(client) if v != str(current.version)]
    target = line[-1] if line else None
    if target is None and not force:
        return GateResult(False, f"{MODEL_NAME} v{current.version} was the first champion; "
                                 "--force rolls back to the shipped model.")
    _set_champion(client, target, "rollback", reason, force, "", str(current.version))
    now = f"{MODEL_NAME} v{target} is the champion again" if target else \
        "The shipped model answers again (no champion)"
    return GateResult(True, f"{now}; v{current.version} stepped down.")


def versions(client: MlflowClient | None = None) -> list[dict[str, Any]]:
    """Every version, newest first, with its metrics and whether it is the champion."""
    client = client or _client()
    if not _exists(client):
        return []
    champion = _champion(client)
    rows = []
    for v in sorted(client.search_model_versions(f"name = '{MODEL_NAME}'"),
                    key=lambda v: int(v.version), reverse=True):
        rows.append({"version": str(v.version), "run_id": v.run_id,
                     "champion": champion is not None and v.version == champion.version,
                     **metrics_of(v), **{k: v.tags[k] for k in sorted(v.tags)
                                        if k.endswith(("_at", "_reason", "run_name"))}})
    return rows


def _format(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> str:
    if not rows:
        return f"No versions of {MODEL_NAME} yet: the shipped model answers."
    lines = [f"{'version':>7}  {'':8}  {'MNIST test':>10}  {'USPS':>7}  run"]
    for row in rows:
        usps = f"{row['usps_accuracy']:.2%}" if "usps_accuracy" in row else "-"
        lines.append(f"{'v' + row['version']:>7}  {ALIAS if row['champion'] else '':8}  "
                     f"{row.get('test_accuracy', 0):>10.2%}  {usps:>7}  "
                     f"{row.get('run_name', '')} ({row['run_id']})")
    moves = [e for e in events if e["action"] != "register"][-HISTORY_SHOWN:]
    if moves:
        lines += ["", "history (latest last):"]
        lines += [f"  {e['time'][:19]}  {e['action']:8}  "
                  f"{'v' + e['version'] if e['version'] else 'shipped':8}"
                  f"{'  forced' if e.get('forced') else ''}  {e.get('reason') or ''}"
                  for e in moves]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.registry",
                                     description="Versions of digit-cnn: list, register, promote "
                                     "through the gate, roll back.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="versions, the champion and the history")
    register = sub.add_parser("register", help="register a finished run's model")
    register.add_argument("run_id")
    register.add_argument("--usps-limit", type=int, default=None,
                          help="score only the first N USPS digits (quick checks)")
    for name, text in (("promote", "make VERSION the champion if it passes the gate"),
                       ("rollback", "give the champion alias back to the previous champion")):
        cmd = sub.add_parser(name, help=text)
        if name == "promote":
            cmd.add_argument("version")
        cmd.add_argument("--force", action="store_true",
                         help="promote past the gate" if name == "promote"
                         else "with no earlier champion, go back to the shipped model")
        cmd.add_argument("--reason", default="", help="why (kept in the history)")
    # --json is accepted after the subcommand too.
    for cmd in sub.choices.values():
        cmd.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            client = _client()
            rows, events = versions(client), history(client)
            print(json.dumps({"name": MODEL_NAME, "versions": rows, "history": events})
                  if args.json else _format(rows, events))
            return 0
        if args.command == "register":
            version = register_run(args.run_id, usps_limit=args.usps_limit)
            print(json.dumps({"name": MODEL_NAME, "version": version}) if args.json
                  else f"Registered {MODEL_NAME} v{version}.")
            return 0
        result = (promote(args.version, args.force, args.reason) if args.command == "promote"
                  else rollback(args.force, args.reason))
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a locked or corrupt store: one sentence, not a traceback
        print(f"error: the model registry cannot be used ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0] if str(exc) else ''}).", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": result.ok, "reason": result.reason}))
    else:
        print(result.reason if result.ok else f"refused: {result.reason}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
