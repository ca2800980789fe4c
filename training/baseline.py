"""What the registry's gate measures a version against: the champion, or the shipped model.

`measure_usps` is the registry's USPS figure for a model folder: the USPS test digits
read through the reader (`training.realworld.scores.usps_report`), or only the first N of them
for quick checks. While no version is champion, the baseline is the shipped
model (`model/shipped`): a first version must hold its MNIST test accuracy (from its
card) and its USPS accuracy, measured with `measure_usps` on as many digits as the
candidate was, once per model checksum and count (cached in `runs/gate-baseline.json`).
Without this an empty registry compared against nothing, and any first version, even
an 11 % one, became the champion. Only MNIST is checked before USPS is measured, so a
clearly worse model is refused at once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model.files import ModelFileError, atomic_write_bytes, file_sha256, read_card
from model.settings import SETTINGS
from training.gate import GateResult, check_gate, metrics_of
from training.usps import UspsError, load_usps

SHIPPED = "shipped model"  # how gate reasons name the baseline
CACHE_FILE = "gate-baseline.json"


class BaselineError(Exception):
    """The shipped model's figures cannot be had; the message is one sentence."""


def measure_usps(folder: Path, limit: int | None = None) -> tuple[float, int]:
    """Accuracy on USPS test through the reader, and the number of digits read."""
    from model import load_predictor
    from training.realworld.scores import usps_report

    report = usps_report(load_predictor(folder), "test", limit)
    return report["reader"], report["n"]


def model_checksum(folder: Path) -> str:
    """SHA-256 over the model files of a folder (whichever of Keras and ONNX it has)."""
    digest = hashlib.sha256()
    for name in (SETTINGS.keras_file, SETTINGS.onnx_file):
        if (folder / name).is_file():
            digest.update(f"{name} {file_sha256(folder / name)}\n".encode())
    return digest.hexdigest()


def _cached(path: Path) -> dict[str, Any]:
    try:
        known = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):  # none yet, or damaged: measure again
        return {}
    return known if isinstance(known, dict) else {}


def shipped_usps(usps_n: int, folder: Path | None = None) -> float:
    """The shipped model's USPS accuracy on the first `usps_n` test digits (all of them
    when `usps_n` covers the set, as registering measures a version), measured once per
    model checksum and count."""
    folder = folder or SETTINGS.shipped_model_dir
    key = f"{model_checksum(folder)}/{usps_n}"
    cache = SETTINGS.runs_dir / CACHE_FILE
    if key in (known := _cached(cache)):
        return float(known[key]["usps_accuracy"])
    every = len(load_usps("test").labels)
    accuracy, n = measure_usps(folder, None if usps_n >= every else usps_n)
    known = _cached(cache)  # another process may have added its own meanwhile
    known[key] = {"usps_accuracy": accuracy, "usps_n": n,
                  "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write_bytes(cache, json.dumps(known, indent=1).encode())
    return accuracy


def shipped_test_accuracy(folder: Path | None = None) -> float:
    """The shipped model's MNIST test accuracy, from its card."""
    folder = folder or SETTINGS.shipped_model_dir
    try:
        accuracy = (read_card(folder).get("test") or {}).get("accuracy")
    except ModelFileError as exc:
        raise BaselineError(str(exc)) from exc
    if not isinstance(accuracy, int | float):
        raise BaselineError(f"The shipped model's card ({folder}) has no MNIST test accuracy.")
    return float(accuracy)


def check_against_shipped(candidate: Any) -> GateResult:
    """The gate with the shipped model in the champion's place (no version is champion)."""
    try:
        baseline: dict[str, float] = {"test_accuracy": shipped_test_accuracy()}
        gate = check_gate(candidate, baseline, against=SHIPPED)
        if not gate.ok:  # refused on MNIST: USPS need not be measured
            return gate
        usps_n = metrics_of(candidate).get("usps_n")
        if usps_n is None:
            return GateResult(False, "The candidate has no USPS accuracy to compare.")
        baseline |= {"usps_accuracy": shipped_usps(int(usps_n)), "usps_n": usps_n}
    except (BaselineError, ModelFileError, UspsError, OSError) as exc:  # one sentence
        return GateResult(False, f"The shipped model, the baseline while there is no "
                                 f"champion, cannot be measured ({exc}).")
    return check_gate(candidate, baseline, against=SHIPPED)


def check_candidate(candidate: Any, champion: Any | None) -> GateResult:
    """May `candidate` become the champion? Against `champion` (a version or a mapping
    of its figures), or the shipped model while there is none."""
    if champion is None:
        return check_against_shipped(candidate)
    return check_gate(candidate, champion)
