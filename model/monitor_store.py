"""The monitoring store: its SQLite schema, connections, and the prediction log read back.

One file (``SETTINGS.monitor_db``: ``$DIGIT_STUDIO_MONITOR_DB``, else ``runs/monitor.db``)
in WAL mode with a generous busy timeout, so the app's sessions, the scoring service's
workers and batch jobs can all write at once. It holds the ``readings`` table (written
by ``model.predlog``'s background writer) and the ``feedback`` table (``model.feedback``).
Every connection is opened here; nothing else ever opens the file, which would drop
SQLite's POSIX locks.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from model.settings import SETTINGS

SOURCES = ("draw", "upload", "service", "batch", "cli", "class")
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another process's lock
IMAGE_HASH_CHARS = 16
CROP_SIDE = SETTINGS.image_size

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,            -- unix seconds
    source TEXT NOT NULL,          -- one of SOURCES
    session TEXT,                  -- anonymous: a random id per browser session or client
    model TEXT NOT NULL,           -- the model's label, "digit-cnn v3" or "shipped"
    version TEXT NOT NULL,         -- "3", or "" for a model outside the registry
    latency_ms REAL NOT NULL,
    text TEXT NOT NULL,            -- the digits read ("" when none)
    digits TEXT NOT NULL,          -- JSON list of ints
    confidences TEXT NOT NULL,     -- JSON list of top probabilities
    min_confidence REAL,           -- NULL when nothing was read
    sure INTEGER NOT NULL,         -- 1 when every digit is sure
    image_hash TEXT,               -- SHA-256 prefix of the image, never the image
    crops BLOB                     -- zlib of uint8 (n, 28, 28): what the network saw
);
CREATE INDEX IF NOT EXISTS readings_time ON readings (time);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    source TEXT NOT NULL,
    session TEXT,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    label INTEGER NOT NULL,        -- the digit it really is
    predicted INTEGER NOT NULL,    -- the digit the model read
    confidence REAL,
    reading TEXT NOT NULL,         -- the whole text read, for context
    crop BLOB NOT NULL,            -- PNG, 28x28: the digit as the model saw it
    ink BLOB                       -- PNG: the original ink the user gave, if any
);
CREATE INDEX IF NOT EXISTS feedback_label ON feedback (label, time);
PRAGMA user_version = {SCHEMA_VERSION};
"""
_INSERT = ("INSERT INTO readings (time, source, session, model, version, latency_ms, text, "
           "digits, confidences, min_confidence, sure, image_hash, crops) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_VERSION = re.compile(r"^(?P<name>.*?)[\s@:]+v?(?P<version>\d+)$")


class StoreError(Exception):
    """The monitoring store cannot be used right now; the message says why."""


def model_version(label: str) -> str:
    """The registry version in a model label: "digit-cnn v3" -> "3", "shipped" -> ""."""
    match = _VERSION.match(label.strip())
    return match.group("version") if match else ""


def image_hash(image: bytes | np.ndarray | None) -> str | None:
    if image is None:
        return None
    data = image.tobytes() if isinstance(image, np.ndarray) else bytes(image)
    return hashlib.sha256(data).hexdigest()[:IMAGE_HASH_CHARS]


def pack_crops(images: list[np.ndarray]) -> bytes | None:
    """28x28 crops (floats in [0, 1] or uint8) as one small blob; None for none."""
    if not images:
        return None
    stack = np.stack([np.asarray(i) for i in images])
    if stack.dtype != np.uint8:
        stack = np.round(np.clip(stack, 0.0, 1.0) * 255).astype(np.uint8)
    return zlib.compress(stack.tobytes(), 1)


def unpack_crops(blob: bytes | None) -> np.ndarray:
    """(n, 28, 28) uint8 from pack_crops' blob."""
    if not blob:
        return np.zeros((0, CROP_SIDE, CROP_SIDE), np.uint8)
    return np.frombuffer(zlib.decompress(blob), np.uint8).reshape(-1, CROP_SIDE, CROP_SIDE)


def reading_row(at: float, source: str, reading: Any, latency_ms: float, model: str,
                session: str | None, image: bytes | np.ndarray | None) -> tuple:
    """One reading (a model.reader.Reading, or None) as a row of the readings table."""
    digits = list(getattr(reading, "digits", None) or ())
    confidences = [round(float(d.confidence), 5) for d in digits]
    return (at, str(source), session, str(model), model_version(str(model)), float(latency_ms),
            "".join(str(int(d.digit)) for d in digits) if not hasattr(reading, "text")
            else str(reading.text),
            json.dumps([int(d.digit) for d in digits]), json.dumps(confidences),
            min(confidences) if confidences else None,
            int(bool(digits) and all(bool(d.sure) for d in digits)),
            image_hash(image), pack_crops([d.image for d in digits]))


# --- Opening the store ----------------------------------------------------------------------

def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """A connection to the store, created with its schema if new; raises StoreError."""
    path = Path(path or SETTINGS.monitor_db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path} cannot be opened ({exc})") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: once per file
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable to the last commit but one
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"{path} is not a usable SQLite store ({exc})") from exc
    return conn


@contextmanager
def open_store(path: str | Path | None = None) -> Iterator[sqlite3.Connection]:
    """A connection for readers and the feedback store, closed afterwards."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def insert_readings(rows: list[tuple]) -> None:
    """Write `reading_row`s in one transaction: all of them or none.

    Each call opens its own connection: a store replaced, deleted or scribbled over is
    noticed at once (a long-lived connection would not look at the file again).
    Raises StoreError, sqlite3.Error or OSError when the store cannot take them.
    """
    with open_store() as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")  # all of the batch or none of it
            raise


# --- Reading the log back -------------------------------------------------------------------

class LoggedReading(NamedTuple):
    time: float
    source: str
    session: str | None
    model: str
    version: str
    latency_ms: float
    text: str
    digits: list[int]
    confidences: list[float]
    sure: bool


def load_readings(since: float | None = None, path: str | Path | None = None,
                  with_crops: bool = False) -> list[LoggedReading] | list[tuple]:
    """Readings logged at or after `since` (unix seconds; None = all), oldest first.

    An absent store is an empty log. With `with_crops`, (LoggedReading, crops) pairs.
    """
    path = Path(path or SETTINGS.monitor_db)
    if not path.is_file():
        return []
    crops = "crops" if with_crops else "NULL"  # the blobs are read only when asked for
    query = ("SELECT time, source, session, model, version, latency_ms, text, digits, "
             f"confidences, sure, {crops} FROM readings WHERE time >= ? ORDER BY time")
    with open_store(path) as conn:
        rows = conn.execute(query, (since if since is not None else float("-inf"),)).fetchall()
    out = []
    for *head, digits, confidences, sure, blob in rows:
        record = LoggedReading(*head, json.loads(digits), json.loads(confidences), bool(sure))
        out.append((record, unpack_crops(blob)) if with_crops else record)
    return out


def prune(keep_days: float, path: str | Path | None = None) -> int:
    """Delete readings older than `keep_days` days; returns how many. Feedback is kept."""
    cutoff = time.time() - keep_days * 86_400
    with open_store(path) as conn:
        deleted = conn.execute("DELETE FROM readings WHERE time < ?", (cutoff,)).rowcount
        with suppress(sqlite3.Error):  # give the space back to the file system
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return int(deleted)
