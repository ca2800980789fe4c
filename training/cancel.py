"""Stopping a run cleanly: SIGTERM (a job's Cancel, `kill`) or Ctrl-C ends it KILLED.

A signal only takes note; the run stops with `Cancelled` at its next safe point, before
a training batch (`cancel_check`) or between its stages (`raise_if_cancelled`), or at
once in a stage that writes nothing to the store (`stop_at_once`). `training.train`,
`training.retrain`, `training.sweep` and the job worker wrap their work in
`cancel_on_signals`.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


class Cancelled(KeyboardInterrupt):
    """Raised on SIGTERM or a first Ctrl-C, so a cancelled run ends KILLED, not half-done."""


CANCELLED_MESSAGE = "Cancelled: the run is marked KILLED and nothing was registered."
CANCELLED_EARLY = "Cancelled while the data was loading: no run was begun."
STDERR_FD = 2
STOPPING_MESSAGE = b"\nStopping before the next batch; press Ctrl-C again to stop at once.\n"

_cancel_signal: int | None = None  # set by the handler `cancel_on_signals` installs
_stop_at_once = False  # set within `stop_at_once`: no safe point to wait for


@contextlib.contextmanager
def cancel_on_signals(on_signal: Callable[[], None] | None = None) -> Iterator[None]:
    """Within: on SIGTERM (a job's Cancel, `kill`) or Ctrl-C, stop with `Cancelled` at the
    next safe point, before a training batch (`cancel_check`) or between the stages of a
    run (`raise_if_cancelled`), or at once within `stop_at_once`. `on_signal` runs at
    once, in the handler. A second Ctrl-C stops at once, as Ctrl-C does elsewhere.

    The handler only takes note. Raised inside a write to the SQLite store (sqlite3's
    executemany runs Python between rows), an exception left the database locked: ending
    the run waited 40 s and failed, and the run stayed RUNNING.
    """
    global _cancel_signal

    def handler(signum: int, frame: object) -> None:
        global _cancel_signal
        if signum == signal.SIGINT and _cancel_signal == signal.SIGINT:
            raise KeyboardInterrupt
        if signum == signal.SIGINT and not _stop_at_once:
            os.write(STDERR_FD, STOPPING_MESSAGE)  # print() is not reentrant
        _cancel_signal = signum
        if on_signal is not None:
            on_signal()
        if _stop_at_once:
            raise_if_cancelled(CANCELLED_EARLY)

    _cancel_signal = None
    previous = {signum: signal.signal(signum, handler)
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)
        _cancel_signal = None


@contextlib.contextmanager
def stop_at_once() -> Iterator[None]:
    """Within: a stage that writes nothing to the store (loading the data, building the
    mix's cache, whose files are written atomically) stops at once on SIGTERM or Ctrl-C,
    instead of at the next safe point, which may be minutes away."""
    global _stop_at_once
    raise_if_cancelled(CANCELLED_EARLY)
    _stop_at_once = True
    try:
        yield
    finally:
        _stop_at_once = False


def raise_if_cancelled(message: str = CANCELLED_MESSAGE) -> None:
    """Raise `Cancelled(message)` if this process was told to stop (`cancel_on_signals`)."""
    if _cancel_signal is not None:
        raise Cancelled(message)


def cancel_check() -> keras.callbacks.Callback:
    """A Keras callback raising `Cancelled` before the batch after SIGTERM or Ctrl-C came."""
    import keras

    class CancelCheck(keras.callbacks.Callback):
        # A batch's begin, not its end: one batch-end hook and Keras stops running all of
        # them in its background thread; begin hooks run in the main thread anyway.
        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            raise_if_cancelled()

    return CancelCheck()
