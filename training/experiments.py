"""What the Experiments and Train pages read from MLflow: runs, curves, sweeps, the registry.

Every function turns a store problem (locked, corrupt, unreachable) into StoreError with one
sentence, so a page can say it once and the rest of the app keeps reading digits. mlflow is
imported inside the functions: it takes seconds, and the app's start-up must not wait.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model.settings import SETTINGS
from training import tracking

if TYPE_CHECKING:
    from mlflow import MlflowClient

CURVE_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
# Side by side when runs are compared, in this order (those a run lacks are left blank).
COMPARED_METRICS = ("test_accuracy", "usps_accuracy", "test_macro_f1", "test_ece",
                    "val_accuracy", "parameters", "training_seconds", "best_epoch")
# Parameters shown in the runs table; the comparison shows every parameter that differs.
TABLE_PARAMS = ("filters", "convs", "epochs", "batch_size", "learning_rate", "schedule",
                "dropout", "augment", "augment_strength", "limit")
OBJECTIVE = "val_accuracy"  # what sweeps optimise (training.sweep)
SWEEP_PARENT_TAG, SWEEP_NAME_TAG, TRIAL_TAG = "sweep.parent", "sweep.name", "optuna.trial"
MAX_RUNS = 2000


class StoreError(Exception):
    """The experiment store or the registry cannot answer; one sentence."""


def where() -> str:
    """The store, for messages: the SQLite file, or the server's address."""
    uri = SETTINGS.tracking_uri
    db = tracking.sqlite_path(uri)
    return str(db) if db else uri.split("?")[0]


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0].rstrip(".")[:200]


@contextlib.contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Raise StoreError("The experiment store (...) cannot <action>: <why>.") for any failure."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        from training.registry import RegistryError

        if isinstance(exc, RegistryError):
            raise StoreError(str(exc)) from exc
        raise StoreError(f"The experiment store ({where()}) cannot {action}: "
                         f"{_first_line(exc)}.") from exc


def _client() -> MlflowClient:
    from mlflow import MlflowClient

    tracking.use_store()
    return MlflowClient()


def runs_frame(max_results: int = MAX_RUNS) -> pd.DataFrame:
    """Every run of every experiment, newest first: one row each, with its main params and
    metrics, its parent (sweep trials) and sweep name."""
    import mlflow

    with store_errors("list the runs"):
        client = _client()
        experiments = {e.experiment_id: e.name for e in client.search_experiments()}
        if not experiments:
            return pd.DataFrame()
        raw = mlflow.search_runs(list(experiments), max_results=max_results,
                                 output_format="pandas")
    if raw.empty:
        return pd.DataFrame()

    def col(name: str) -> pd.Series:
        return raw[name] if name in raw else pd.Series([None] * len(raw), index=raw.index)

    status = col("status").where(col(f"tags.{tracking.STATUS_TAG}") != "cancelled", "CANCELLED")
    frame = pd.DataFrame({
        "run": col("tags.mlflow.runName"), "experiment": col("experiment_id").map(experiments),
        "status": status, "started": pd.to_datetime(col("start_time")),
        "seconds": (pd.to_datetime(col("end_time")) - pd.to_datetime(col("start_time")))
        .dt.total_seconds().round(1),
        **{m: pd.to_numeric(col(f"metrics.{m}"), errors="coerce")
           for m in ("test_accuracy", "val_accuracy", "usps_accuracy", "test_macro_f1",
                     "parameters")},
        **{p: col(f"params.{p}") for p in TABLE_PARAMS},
        "sweep": col(f"tags.{SWEEP_NAME_TAG}").fillna(col("tags.sweep")),
        "is_sweep": col(f"tags.{SWEEP_PARENT_TAG}") == "true",
        "trial": pd.to_numeric(col(f"tags.{TRIAL_TAG}"), errors="coerce"),
        "parent": col("tags.mlflow.parentRunId"), "run_id": col("run_id"),
    })
    return frame.sort_values("started", ascending=False).reset_index(drop=True)


def label(runs: pd.DataFrame, run_id: str) -> str:
    """A run's short name for legends: its name and the first characters of its id."""
    row = runs.loc[runs["run_id"] == run_id]
    name = row["run"].iloc[0] if len(row) and isinstance(row["run"].iloc[0], str) else "run"
    return f"{name} ({run_id[:6]})"


def histories(run_ids: Sequence[str], metrics: Sequence[str] = CURVE_METRICS
              ) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
    """Per-epoch curves: {run_id: {metric: (epochs, values)}}."""
    out: dict[str, dict[str, tuple[list[int], list[float]]]] = {}
    with store_errors("read the runs' curves"):
        client = _client()
        for run_id in run_ids:
            out[run_id] = {}
            for metric in metrics:
                points = sorted(client.get_metric_history(run_id, metric), key=lambda m: m.step)
                out[run_id][metric] = ([p.step for p in points], [p.value for p in points])
    return out


def compare_params(runs: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """Every parameter whose value differs between the runs (rows), one column per run."""
    with store_errors("read the runs' parameters"):
        client = _client()
        params = {label(runs, r): client.get_run(r).data.params for r in run_ids}
    table = pd.DataFrame(params).fillna("–")
    differs = table.nunique(axis=1) > 1
    return table[differs].sort_index()


def compare_metrics(runs: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """The runs' headline metrics side by side (rows: metrics, columns: runs)."""
    with store_errors("read the runs' metrics"):
        client = _client()
        metrics = {label(runs, r): client.get_run(r).data.metrics for r in run_ids}
    return pd.DataFrame({name: {m: found.get(m, np.nan) for m in COMPARED_METRICS}
                         for name, found in metrics.items()})


def confusion(run_id: str) -> np.ndarray | None:
    """The MNIST test confusion matrix from a run's model card; None if it has none."""
    with store_errors("read the run's model card"), tempfile.TemporaryDirectory() as tmp:
        from mlflow.exceptions import MlflowException

        try:
            path = _client().download_artifacts(
                run_id, f"{tracking.MODEL_ARTIFACT}/{SETTINGS.card_file}", tmp)
        except (MlflowException, OSError):
            return None
        card = json.loads(Path(path).read_text())
    matrix = (card.get("test") or {}).get("confusion_matrix")
    return None if matrix is None else np.asarray(matrix)


def sweeps(runs: pd.DataFrame) -> dict[str, str]:
    """Sweep parent runs: {run_id: "name (N trials)"}, newest first."""
    if runs.empty:
        return {}
    parents = runs[runs["is_sweep"] | runs["run_id"].isin(runs["parent"].dropna())]
    counts = runs["parent"].value_counts()
    return {r: f"{name} ({counts.get(r, 0)} trials)"
            for r, name in zip(parents["run_id"], parents["run"], strict=True)}


def trials(runs: pd.DataFrame, parent_id: str) -> pd.DataFrame:
    """A sweep's trial runs in the order they ran."""
    found = runs[runs["parent"] == parent_id].copy()
    order = found["trial"].fillna(found["started"].rank(method="first") - 1)
    return found.assign(order=order).sort_values("order").reset_index(drop=True)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def varying_params(trials_frame: pd.DataFrame) -> list[str]:
    """The table parameters that change across a sweep's trials."""
    return [p for p in TABLE_PARAMS if trials_frame[p].nunique(dropna=True) > 1]


def parallel_data(trials_frame: pd.DataFrame
                  ) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Axes for parallel coordinates: each varying parameter (categories as codes, with
    their names) and the objective last, over the trials that have it."""
    done = trials_frame.dropna(subset=[OBJECTIVE])
    columns: dict[str, list[float]] = {}
    labels: dict[str, list[str]] = {}
    for param in varying_params(done):
        numbers = [_number(v) for v in done[param]]
        if all(n is not None for n in numbers):
            columns[param] = numbers
        else:
            names = sorted(set(done[param].astype(str)), key=lambda s: (len(s), s))
            columns[param] = [names.index(str(v)) for v in done[param]]
            labels[param] = names
    columns[OBJECTIVE] = done[OBJECTIVE].tolist()
    return columns, labels


def channel_curve(trials_frame: pd.DataFrame, metric: str = "test_accuracy"
                  ) -> tuple[list[int], list[float]] | None:
    """The hidden-channel experiment: (channels, accuracy) when a sweep varies only the
    filters of a one-block network (`--grid filters=2,5,10,20,32`); else None."""
    done = trials_frame.dropna(subset=[metric])
    if done.empty or varying_params(done) != ["filters"]:
        return None
    channels = [_number(v) for v in done["filters"]]
    if any(c is None for c in channels):
        return None
    return [int(c) for c in channels], done[metric].tolist()


# --- the registry (training.registry) -------------------------------------------------------


def registry_versions() -> list[dict[str, Any]]:
    from training.registry import versions

    with store_errors("list the registered models"):
        return versions()


def registry_history() -> list[dict[str, Any]]:
    from training.registry import history

    with store_errors("read the registry's history"):
        return history()


def register(run_id: str) -> str:
    """Register a finished run's model; returns the version number."""
    from training.registry import register_run

    with store_errors("register the run"):
        return register_run(run_id)


def try_promote(version: str, force: bool = False, reason: str = "") -> tuple[bool, str]:
    """Promote through the gate; (done, the gate's reason)."""
    from training.registry import promote

    with store_errors("promote the version"):
        result = promote(version, force=force, reason=reason)
    return result.ok, result.reason


def try_rollback(force: bool = False, reason: str = "") -> tuple[bool, str]:
    from training.registry import rollback

    with store_errors("roll back"):
        result = rollback(force=force, reason=reason)
    return result.ok, result.reason
