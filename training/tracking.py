"""MLflow tracking for every training run: the store, the run's life cycle, what gets logged.

The store is `SETTINGS.tracking_uri`: `$MLFLOW_TRACKING_URI` (a server, an Azure ML
workspace) or a SQLite file in runs/ with artifacts beside it in `mlartifacts/`. mlflow
is imported inside functions only: it takes seconds, and `--help` or a bad setting
must answer at once.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.settings import PROJECT_DIR, SETTINGS

if TYPE_CHECKING:
    import keras
    from mlflow.entities import Run

    from training.config import TrainConfig

DEFAULT_EXPERIMENT = "digit-studio"
MODEL_ARTIFACT = "model"  # the model folder's place in a run's artifacts
FIGURE_ARTIFACT = "confusion_matrix.png"
STATUS_TAG = "status"  # "cancelled" when a run was stopped on purpose
ERROR_TAG = "error"
MAX_TAG = 4000  # MLflow keeps tag values up to 8,000 characters; errors are cut well short


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI, else None (a server or a workspace)."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix):]) if uri.startswith(prefix) else None


def artifact_location(uri: str) -> str | None:
    """Where a new experiment keeps artifacts: beside a SQLite store, else the server's choice.

    Without it MLflow writes `./mlruns` under whatever the working directory happens to be.
    """
    db = sqlite_path(uri)
    return (db.parent / "mlartifacts").resolve().as_uri() if db else None


_READY: set[str] = set()


def init_store(uri: str) -> None:
    """Create a SQLite store's tables once, under a file lock.

    Two processes opening a fresh store at once (a training job and the Experiments
    page) would otherwise both create its tables, and one would fail.
    """
    db = sqlite_path(uri)
    if db is None or uri in _READY:
        return
    import fcntl

    from mlflow import MlflowClient

    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / f".{db.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    _READY.add(uri)


def use_store(uri: str | None = None) -> str:
    """Point mlflow (runs and registry) at `uri` or the configured store; returns the URI."""
    import mlflow

    uri = uri or SETTINGS.tracking_uri
    init_store(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(name: str) -> str:
    """The id of experiment `name`, created (artifacts beside a SQLite store) if new."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(
            client.tracking_uri))
    except MlflowException:  # created by another process in the meantime
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def git_commit() -> str | None:
    """The checked-out commit, with `-dirty` when the tree has changes; None outside git."""
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=PROJECT_DIR, capture_output=True,  # noqa: E731
                                        text=True, timeout=5, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def run_tags(cfg: TrainConfig, checksums: dict[str, str], tags: dict[str, str] | None,
             output: Path) -> dict[str, str]:
    """Tags every run carries: preset, git commit, data checksums, model folder."""
    from training.config import PRESETS

    tags = dict(tags or {})
    preset = tags.pop("preset", None) or next(
        (name for name, recipe in PRESETS.items() if recipe == cfg), "custom")
    # "custom": options changed the preset's recipe.
    out = {"preset": preset, "custom": str(PRESETS.get(preset) != cfg).lower(),
           "model_dir": str(output)}
    commit = git_commit()
    if commit:
        out["git_commit"] = commit
        out["mlflow.source.git.commit"] = commit.removesuffix("-dirty")
    out.update({f"data.sha256.{stem}": digest for stem, digest in checksums.items()})
    out.update({k: str(v) for k, v in tags.items()})
    return out


def params_of(cfg: TrainConfig) -> dict[str, str]:
    """All of the recipe as MLflow params (lists as `16,32`; None as `none`)."""
    out = {}
    for key, value in cfg.to_dict().items():
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        out[key] = "none" if value is None else str(value)
    return out


@contextlib.contextmanager
def tracked_run(experiment: str, run_name: str | None = None, tags: dict[str, str] | None = None,
                parent_run_id: str | None = None) -> Iterator[Run]:
    """An MLflow run that ends FINISHED, FAILED (on an error, tag `error`) or KILLED (on
    KeyboardInterrupt or SIGTERM, tag `status=cancelled`)."""
    import mlflow

    use_store()
    experiment_id = ensure_experiment(experiment)
    run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags,
                           parent_run_id=parent_run_id, nested=parent_run_id is not None)
    try:
        yield run
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            mlflow.set_tag(STATUS_TAG, "cancelled")
        mlflow.end_run("KILLED")
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):
            mlflow.set_tag(ERROR_TAG, f"{type(exc).__name__}: {exc}"[:MAX_TAG])
        mlflow.end_run("FAILED")
        raise
    mlflow.end_run("FINISHED")


def mark_ended(run_id: str, status: str = "FAILED", reason: str = "") -> bool:
    """End a run that its process can no longer end (it was killed); False if it had ended.

    `status` is FAILED or KILLED; a KILLED run is tagged cancelled.
    """
    from mlflow import MlflowClient

    use_store()
    client = MlflowClient()
    if client.get_run(run_id).info.status != "RUNNING":
        return False
    if status == "KILLED":
        client.set_tag(run_id, STATUS_TAG, "cancelled")
    if reason:
        client.set_tag(run_id, ERROR_TAG, reason[:MAX_TAG])
    client.set_terminated(run_id, status)
    return True


def epoch_logger() -> keras.callbacks.Callback:
    """A Keras callback logging each epoch: loss, accuracy, val_loss, val_accuracy,
    learning_rate (the schedule's rate as the epoch began) and epoch_seconds, at step =
    epoch number (from 1)."""
    import keras
    import mlflow

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._started = time.perf_counter()
            rate = self.model.optimizer.learning_rate  # the schedule's value at this step
            self._rate = float(keras.ops.convert_to_numpy(rate))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            metrics = {k: float(v) for k, v in (logs or {}).items()
                       if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            metrics["epoch_seconds"] = time.perf_counter() - self._started
            metrics["learning_rate"] = self._rate
            mlflow.log_metrics(metrics, step=epoch + 1)

    return EpochLogger()


def log_results(card: dict[str, Any], output: Path) -> None:
    """Test metrics, the model folder and the confusion-matrix figure, on the active run."""
    import mlflow

    from training.figures import confusion_png

    test = card["test"]
    metrics = {"test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"],
               "test_ece": test["calibration_error"], "test_errors": test["errors"],
               "parameters": card["parameters"], "training_seconds": card["training_seconds"],
               "best_epoch": card["best_epoch"], "epochs_run": card["epochs_run"]}
    metrics.update({f"test_f1_{digit}": m["f1"] for digit, m in test["per_class"].items()})
    mlflow.log_metrics(metrics)
    # The card is written last, so a folder with a card is complete; only then is it logged.
    mlflow.log_artifacts(str(output), MODEL_ARTIFACT)
    mlflow.log_image(confusion_png(test["confusion_matrix"]), FIGURE_ARTIFACT)
