"""Which model answers: the registry's champion, or the shipped model when there is none.

`resolve_model()` asks the MLflow Model Registry (`SETTINGS.tracking_uri`) for the
version under alias `champion` of `digit-cnn`, downloads its folder once into
`runs/registry-cache/`, checks every file against its card, and returns it. An empty,
missing, locked, corrupt or slow registry never stops digit reading: the shipped model
answers and `note` says why in one sentence. mlflow is imported only when a registry
exists, in a worker thread bounded by a timeout. `current_model()` is the app's cached
view: it refreshes in the background, so a promotion reaches open pages within a TTL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from model.files import ModelFileError, file_sha256, read_card
from model.settings import SETTINGS

MODEL_NAME = "digit-cnn"
ALIAS = "champion"
SHIPPED_LABEL = "shipped"
RESOLVE_TIMEOUT_S = 20.0  # the CLIs; importing mlflow alone takes 1.4-4.4 s
APP_FIRST_WAIT_S = 6.0  # the app's first page waits this long, then the shipped model answers
APP_TTL_S = 15.0  # how soon a promotion reaches pages already open
MAX_NOTE = 160


@dataclass(frozen=True)
class ModelChoice:
    """The model folder to load and how to name it (`label` is never a machine path)."""

    label: str  # "digit-cnn v3" or "shipped"
    name: str | None  # registered model name, None for a plain folder
    version: str | None
    path: Path
    note: str | None = None  # why the shipped model answers, when it was not asked for

    @property
    def sidebar(self) -> str:
        return f"{self.label} ({ALIAS})" if self.version else self.label


def shipped(note: str | None = None) -> ModelChoice:
    return ModelChoice(SHIPPED_LABEL, None, None, SETTINGS.shipped_model_dir, note)


def _sqlite_file(uri: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(uri[len(prefix):]) if uri.startswith(prefix) else None


def cache_dir(uri: str | None = None) -> Path:
    """Downloaded versions of one store (version numbers are per store, so the key is it)."""
    key = hashlib.sha256((uri or SETTINGS.tracking_uri).encode()).hexdigest()[:12]
    return SETTINGS.runs_dir / "registry-cache" / key


def verify_folder(folder: Path) -> None:
    """Raise ModelFileError unless every file the card lists is there with its checksum."""
    card = read_card(folder)
    files = card.get("files") or {}
    if not files:
        raise ModelFileError("The model folder has no card listing its files.")
    for name, digest in files.items():
        path = folder / name
        if not path.is_file() or file_sha256(path) != digest:
            raise ModelFileError(f"{name} is missing or differs from its card.")


def _download(client: object, run_id: str, target: Path) -> Path:
    """The run's model folder, fetched once and checked, then renamed into place."""
    if (target / SETTINGS.card_file).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        folder = Path(client.download_artifacts(run_id, "model", tmp))  # type: ignore[attr-defined]
        verify_folder(folder)
        with contextlib.suppress(OSError):  # another process may have finished first
            os.replace(folder, target)
    verify_folder(target)
    return target


def _short(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= MAX_NOTE else text[: MAX_NOTE - 1] + "…"


def _resolve(uri: str) -> ModelChoice:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        try:
            version = client.get_model_version_by_alias(MODEL_NAME, ALIAS)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return shipped("The registry has no champion yet, so the shipped model answers.")
            raise
        label = f"{MODEL_NAME} v{version.version}"
        try:
            folder = _download(client, version.run_id,
                               cache_dir(uri) / f"{MODEL_NAME}-v{version.version}")
        except (ModelFileError, OSError, MlflowException) as exc:
            return shipped(f"The files of {label} cannot be used ({_short(exc)}), "
                           "so the shipped model answers.")
        return ModelChoice(label, MODEL_NAME, str(version.version), folder)
    except Exception as exc:  # a locked, corrupt or unreachable store: one sentence
        return shipped(f"The model registry cannot be read ({_short(exc)}), "
                       "so the shipped model answers.")


def resolve_model(timeout: float = RESOLVE_TIMEOUT_S) -> ModelChoice:
    """The champion's local folder, or the shipped model with a note; never raises."""
    uri = SETTINGS.tracking_uri
    db = _sqlite_file(uri)
    if db is not None and not db.is_file():  # the common case on a fresh clone: no mlflow import
        return shipped("There is no model registry yet, so the shipped model answers.")
    result: list[ModelChoice] = []
    worker = threading.Thread(target=lambda: result.append(_resolve(uri)), daemon=True,
                              name="champion-resolve")
    worker.start()
    worker.join(timeout)
    if not result:
        return shipped(f"The model registry did not answer within {timeout:.0f} s, "
                       "so the shipped model answers.")
    return result[0]


class _Cached:
    """Stale-while-revalidate: callers get the last answer at once; a thread refreshes it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: dict[str, tuple[float, ModelChoice]] = {}
        self.pending: dict[str, threading.Event] = {}

    def get(self, ttl: float, first_wait: float) -> ModelChoice:
        uri = SETTINGS.tracking_uri
        with self.lock:
            found = self.answers.get(uri)
            if (found is None or time.monotonic() - found[0] > ttl) and uri not in self.pending:
                done = self.pending[uri] = threading.Event()
                threading.Thread(target=self._refresh, args=(uri, done), daemon=True,
                                 name="champion-refresh").start()
            waiting = self.pending.get(uri)
        if found is None and waiting is not None:
            waiting.wait(first_wait)
            with self.lock:
                found = self.answers.get(uri)
        if found is None:
            return shipped("The model registry is still being checked; "
                           "the shipped model answers meanwhile.")
        return found[1]

    def _refresh(self, uri: str, done: threading.Event) -> None:
        try:
            choice = resolve_model()
            with self.lock:
                self.answers[uri] = (time.monotonic(), choice)
        finally:
            with self.lock:
                self.pending.pop(uri, None)
            done.set()

    def clear(self) -> None:
        with self.lock:
            self.answers.clear()


_CACHE = _Cached()


def current_model(ttl: float = APP_TTL_S, first_wait: float = APP_FIRST_WAIT_S) -> ModelChoice:
    """The app's answer: cached for `ttl` seconds, refreshed in the background."""
    return _CACHE.get(ttl, first_wait)


def forget_cached_choice() -> None:
    """Ask the registry again on the next call (after a promotion in this process)."""
    _CACHE.clear()


def remove_cached_versions(uri: str | None = None) -> None:
    """Delete the downloaded versions of a store (they are fetched again when needed)."""
    shutil.rmtree(cache_dir(uri), ignore_errors=True)
