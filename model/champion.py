"""Which model answers: the registry's champion, or the shipped model when there is none.

`resolve_model()` asks the MLflow Model Registry (`SETTINGS.tracking_uri`) for the
version under alias `champion` of `digit-cnn`, downloads its folder once into
`runs/registry-cache/`, checks every file against its card, and returns it. An empty,
missing, locked, corrupt or slow registry never stops digit reading: the shipped model
answers and `note` says why in one sentence. A local SQLite store is first read
directly (milliseconds); mlflow (1.4-4.4 s to import) is needed only to download a new
champion or to ask a server, in a worker thread bounded by a timeout. `current_model()`
is the app's cached view: it refreshes in the background, so a promotion reaches open
pages within a TTL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
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
# The CLIs' bound: importing mlflow takes 1.4-4.4 s alone, 20 s and more on a machine
# shared by many jobs; a download of the champion comes on top.
RESOLVE_TIMEOUT_S = 60.0
APP_FIRST_WAIT_S = 6.0  # the app's first page waits this long, then the shipped model answers
APP_TTL_S = 15.0  # how soon a promotion reaches pages already open
MAX_NOTE = 160
PEEK_TIMEOUT_S = 1.0  # a store locked longer than this is reported busy
SQLITE_MAGIC = b"SQLite format 3\x00"
# The alias and its version's run, straight from MLflow's registry tables (MLflow >= 2.3).
CHAMPION_SQL = ("SELECT a.version, v.run_id FROM registered_model_aliases a "
                "JOIN model_versions v ON v.name = a.name AND v.version = a.version "
                "WHERE a.name = ? AND a.alias = ?")


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


def _folder(uri: str, version: str, run_id: str) -> Path:
    # The run id too: a registered model deleted and made again numbers from 1 again.
    return cache_dir(uri) / f"{MODEL_NAME}-v{version}-{run_id[:12]}"


def _peek(uri: str, db: Path) -> ModelChoice | None:
    """Answer from the SQLite file itself when possible; None: ask mlflow."""
    try:
        with open(db, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
        if head != SQLITE_MAGIC:
            return shipped("The model registry cannot be read (it is not an SQLite "
                           "database), so the shipped model answers.")
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True,
                              timeout=PEEK_TIMEOUT_S)
        try:
            row = con.execute(CHAMPION_SQL, (MODEL_NAME, ALIAS)).fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return shipped("The model registry is busy (another process is writing to it), "
                           "so the shipped model answers.")
        return None  # e.g. a store whose tables are not made yet
    except (sqlite3.DatabaseError, OSError) as exc:
        return shipped(f"The model registry cannot be read ({_short(exc)}), "
                       "so the shipped model answers.")
    if row is None:
        return shipped("The registry has no champion yet, so the shipped model answers.")
    version, run_id = str(row[0]), str(row[1])
    folder = _folder(uri, version, run_id)
    if (folder / SETTINGS.card_file).is_file():  # checked when it was downloaded
        return ModelChoice(f"{MODEL_NAME} v{version}", MODEL_NAME, version, folder)
    return None  # a new champion: mlflow downloads it


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
                               _folder(uri, str(version.version), version.run_id))
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
    if db is not None:
        if not db.is_file():  # a fresh clone
            return shipped("There is no model registry yet, so the shipped model answers.")
        known = _peek(uri, db)
        if known is not None:
            return known
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
