"""The prediction log: every reading served, recorded off the hot path in one SQLite store.

    log_reading("draw", reading, latency_ms=4.2, model="digit-cnn v3", session=sid)

puts the record on an in-process queue and returns (a few microseconds); one
background thread per process takes whatever has queued up and writes it in one
transaction. The store (``SETTINGS.monitor_db``: ``$DIGIT_STUDIO_MONITOR_DB``, else
``runs/monitor.db``) is SQLite in WAL mode with a generous busy timeout, so the app's
sessions, the scoring service's workers and batch jobs can all write at once.

A store that is locked, full, read-only, unreadable or corrupt never breaks a
prediction: the batch is rolled back whole (nothing half-written), ONE warning is
logged, the records wait in memory (up to MAX_PENDING) and every later write tries
the store again; once it works the waiting records land and an info line says so.
``DIGIT_STUDIO_MONITOR=off`` turns logging off.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import logging
import os
import queue
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from model.settings import SETTINGS

logger = logging.getLogger(__name__)

SOURCES = ("draw", "upload", "service", "batch", "cli", "class")
SCHEMA_VERSION = 1
QUEUE_LIMIT = 10_000  # readings waiting for the writer; beyond this new ones are dropped
MAX_PENDING = 50_000  # records kept in memory while the store is unusable
BATCH_ROWS = 1_000  # most rows per transaction
BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another process's lock
RETRY_EVERY_S = 2.0  # while records wait on a broken store, retry at least this often
FLUSH_AT_EXIT_S = 5.0
OFF_SWITCH = "DIGIT_STUDIO_MONITOR"
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


def enabled() -> bool:
    return os.environ.get(OFF_SWITCH, "").lower() not in ("0", "off", "false", "no")


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


def _row(item: tuple) -> tuple:
    """A queued item as a table row (done on the writer thread, not the caller's)."""
    at, source, reading, latency_ms, model, session, image = item
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


# --- The writer ------------------------------------------------------------------------------

class _Writer:
    """One background thread per process that moves queued records into the store."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.pending: list[tuple] = []
        self.failing = False
        self.dropped = 0
        self.accepted = itertools.count(1)  # next() is atomic under the GIL
        self.settled = 0  # records written or given up
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name="predlog-writer", daemon=True)
        self.thread.start()

    def put(self, item: tuple) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT:
            self._settle(dropped=1)
            return
        next(self.accepted)
        self.queue.put(item)

    def _loop(self) -> None:
        while True:
            try:
                items = [self.queue.get(timeout=RETRY_EVERY_S if self.pending else None)]
            except queue.Empty:
                items = []
            while len(items) < BATCH_ROWS:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            rows, bad = [], 0
            for item in items:
                try:
                    rows.append(_row(item))
                except Exception:  # a malformed reading is skipped, never fatal
                    bad += 1
            if bad:
                logger.debug("Skipped %d readings that could not be recorded", bad)
                self._settle(dropped=bad)
            self.pending.extend(rows)
            overflow = len(self.pending) - MAX_PENDING
            if overflow > 0:  # the store has been down a long time: keep the newest
                del self.pending[:overflow]
                self._settle(dropped=overflow)
            while self.pending and self._write_some():
                pass

    def _write_some(self) -> bool:
        """Write up to BATCH_ROWS waiting rows in one transaction; False on failure.

        Each batch opens its own connection: a store replaced, deleted or scribbled over
        is noticed at once (a long-lived connection would not look at the file again), and
        nothing outside SQLite ever opens the file, which would drop SQLite's POSIX locks.
        """
        batch = self.pending[:BATCH_ROWS]
        try:
            with open_store() as conn:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(_INSERT, batch)
                    conn.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")  # all of the batch or none of it
                    raise
        except (StoreError, sqlite3.Error, OSError) as exc:
            if not self.failing:
                logger.warning("The prediction log cannot be written (%s); predictions go on, "
                               "and the readings wait in memory until the store works again.",
                               exc)
            self.failing = True
            return False
        del self.pending[: len(batch)]
        if self.failing:
            logger.info("The prediction log works again; the waiting readings are written.")
            self.failing = False
        self._settle(done=len(batch))
        return True

    def _settle(self, done: int = 0, dropped: int = 0) -> None:
        with self.changed:
            self.settled += done + dropped
            self.dropped += dropped
            self.changed.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until everything accepted so far is written or given up; False on timeout."""
        target = next(self.accepted) - 1  # this call's own tick is settled below
        self._settle(done=1)
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.settled < target + 1:
                left = deadline - time.monotonic()
                if left <= 0 or (self.failing and self.queue.empty()):
                    return False  # a broken store: waiting would only delay the caller
                self.changed.wait(min(left, 0.1))
        return True


_writer: _Writer | None = None
_writer_lock = threading.Lock()


def _get_writer() -> _Writer:
    global _writer
    writer = _writer
    if writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = _Writer()
            writer = _writer
    return writer


def _forget_writer_after_fork() -> None:
    # A forked child (gunicorn workers) has the queue but not the thread: start afresh.
    global _writer, _writer_lock
    _writer, _writer_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_writer_after_fork)


def log_reading(source: str, reading: Any, *, latency_ms: float, model: str,
                session: str | None = None, image: bytes | np.ndarray | None = None) -> None:
    """Record one reading served (a model.reader.Reading, or None when nothing was read).

    Returns at once; never raises. `image` (the original bytes) is only hashed.
    """
    try:
        if enabled():
            _get_writer().put((time.time(), source, reading, latency_ms, model, session, image))
    except Exception:  # logging must never cost a prediction
        logger.debug("log_reading failed", exc_info=True)


def flush(timeout: float = 10.0) -> bool:
    """Wait until every reading logged so far in this process is written (or given up)."""
    return True if _writer is None else _writer.flush(timeout)


def writer_state() -> dict[str, Any]:
    """For tests and the Monitor page: is the store failing, and how much waits or was lost."""
    if _writer is None:
        return {"failing": False, "pending": 0, "dropped": 0}
    return {"failing": _writer.failing, "pending": len(_writer.pending) + _writer.queue.qsize(),
            "dropped": _writer.dropped}


atexit.register(lambda: flush(FLUSH_AT_EXIT_S))


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
