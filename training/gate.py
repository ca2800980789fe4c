"""The promotion gate: may a model version replace the champion? Pure logic, no mlflow.

MNIST test accuracy may fall at most 0.2 points below the champion's (about twice the
noise of 10,000 digits); accuracy on real writers (USPS test through the reader) may
not fall at all, since that is what people feel. While no version is champion the
shipped model stands in for it (`training.baseline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_MNIST_DROP = 0.002  # 0.2 percentage points
EPSILON = 1e-9
CHAMPION = "champion"


@dataclass(frozen=True)
class GateResult:
    ok: bool
    reason: str


def metrics_of(version: Any) -> dict[str, float]:
    """test_accuracy / usps_accuracy (/ usps_n) of a mapping or a ModelVersion's tags."""
    source = version if isinstance(version, Mapping) else getattr(version, "tags", {})
    return {k: float(source[k]) for k in ("test_accuracy", "usps_accuracy", "usps_n")
            if source.get(k) not in (None, "")}


def check_gate(candidate: Any, champion: Any, *, against: str = CHAMPION) -> GateResult:
    """May `candidate` replace `champion`? Each is a mapping with `test_accuracy` and
    `usps_accuracy` (fractions) or a registered version carrying them as tags; `against`
    names the champion in the reason ("shipped model" for the baseline)."""
    cand = metrics_of(candidate)
    if "test_accuracy" not in cand:
        return GateResult(False, "The candidate has no MNIST test accuracy.")
    champ = metrics_of(champion) if champion is not None else {}
    if "test_accuracy" not in champ:  # never wave a model through for want of a baseline
        return GateResult(False, f"The {against} has no MNIST test accuracy to compare with.")
    drop = champ["test_accuracy"] - cand["test_accuracy"]
    if drop > MAX_MNIST_DROP + EPSILON:
        return GateResult(False, f"MNIST test accuracy {cand['test_accuracy']:.2%} is "
                                 f"{drop * 100:.2f} points below the {against}'s "
                                 f"{champ['test_accuracy']:.2%} (at most "
                                 f"{MAX_MNIST_DROP * 100:.1f} allowed).")
    if "usps_accuracy" in champ:
        if "usps_accuracy" not in cand:
            return GateResult(False, "The candidate has no USPS accuracy to compare.")
        if cand.get("usps_n") != champ.get("usps_n"):
            return GateResult(False, "USPS accuracies were measured on different sets "
                                     "(register both the same way).")
        if cand["usps_accuracy"] < champ["usps_accuracy"] - EPSILON:
            return GateResult(False, f"USPS accuracy {cand['usps_accuracy']:.2%} is below "
                                     f"the {against}'s {champ['usps_accuracy']:.2%}.")
    usps = (f", USPS {cand['usps_accuracy']:.2%} ({against} {champ['usps_accuracy']:.2%})"
            if "usps_accuracy" in champ else "")
    return GateResult(True, f"MNIST test {cand['test_accuracy']:.2%} ({against} "
                            f"{champ['test_accuracy']:.2%}){usps}.")
