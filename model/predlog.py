"""The prediction log: every reading served, recorded off the hot path in the monitoring store.

    log_reading("draw", reading, latency_ms=4.2, model="digit-cnn v3", session=sid)

puts the record on an in-process queue and returns (a few microseconds); one
background thread per process takes whatever has queued up and writes it in one
transaction to the monitoring store (``model.monitor_store``: its schema, connections
and the log read back).

A store that is locked, full, read-only, unreadable or corrupt never breaks a
prediction: the batch is rolled back whole (nothing half-written), ONE warning is
logged, the records wait in memory (up to MAX_PENDING) and every later write tries
the store again; once it works the waiting records land and an info line says so.
``DIGIT_STUDIO_MONITOR=off`` turns logging off.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import queue
import sqlite3
import threading
import time
from typing import Any

import numpy as np

from model.monitor_store import StoreError, insert_readings, reading_row

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000  # readings waiting for the writer; beyond this new ones are dropped
MAX_PENDING = 50_000  # records kept in memory while the store is unusable
BATCH_ROWS = 1_000  # most rows per transaction
RETRY_EVERY_S = 2.0  # while records wait on a broken store, retry at least this often
# After the first reading of a quiet spell, wait this long for more before writing (a
# flush cuts the wait short): a batch costs 1.5 ms of CPU however small (connection,
# transaction), so a server answering every few ms paid that per reading; gathered for
# 0.25 s, 40+ rows share it (0.05 ms a row).
GATHER_S = 0.25
FLUSH_AT_EXIT_S = 5.0
OFF_SWITCH = "DIGIT_STUDIO_MONITOR"


def enabled() -> bool:
    return os.environ.get(OFF_SWITCH, "").lower() not in ("0", "off", "false", "no")


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
        self.hurry = threading.Event()  # set by flush: write what has gathered now
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
            if items:
                self.hurry.wait(GATHER_S)
                self.hurry.clear()
            while len(items) < BATCH_ROWS:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            rows, bad = [], 0
            for item in items:  # rows are built here, on the writer thread, not the caller's
                try:
                    rows.append(reading_row(*item))
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
        """Write up to BATCH_ROWS waiting rows in one transaction; False on failure."""
        batch = self.pending[:BATCH_ROWS]
        try:
            insert_readings(batch)
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
        self.hurry.set()
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
