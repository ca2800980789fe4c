"""The pipeline's register step: the registry's own gate decides (`training.gate`).

The candidate's metrics come from the evaluate step (MNIST test through
`training.evaluate`, USPS test measured as `training.registry` measures it); the
champion is the registry's, or the shipped model while there is none
(`training.baseline.check_candidate`). Only a candidate that passes is registered
(`training.registry.register_run`) and promoted; a refused one leaves the registry
untouched and the step says why. In Azure the registry is the workspace's (through
azureml-mlflow), here the local MLflow store.
"""

from __future__ import annotations

from typing import Any

from training.azure.pipeline import StepError


def register_if_better(card: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """{"registered", "promoted", "version", "reason"} for the trained model."""
    from training import registry
    from training.baseline import check_candidate

    run_id = (card.get("mlflow") or {}).get("run_id")
    if not run_id:
        raise StepError("The model card has no MLflow run id: the train step ran untracked.")
    candidate = {k: measured[k] for k in ("test_accuracy", "usps_accuracy", "usps_n")
                 if k in measured}
    try:
        champion = next((row for row in registry.versions() if row["champion"]), None)
        gate = check_candidate(candidate, champion)
        if not gate.ok:
            return {"registered": False, "promoted": False, "version": None,
                    "run_id": run_id, "reason": gate.reason}
        version = registry.register_run(run_id)
        result = registry.promote(version, reason=f"pipeline: {gate.reason}")
    except registry.RegistryError as exc:
        raise StepError(str(exc)) from exc
    except Exception as exc:  # a locked, corrupt or unreachable store: one sentence
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise StepError(f"The model registry cannot be used ({type(exc).__name__}: "
                        f"{first}).") from exc
    return {"registered": True, "promoted": result.ok, "version": version, "run_id": run_id,
            "reason": result.reason}
