"""Live training progress as JSON lines: a Keras callback writes them, the app reads them.

One line per event, appended and flushed, so a reader in another process (any tab of the
app) sees each point within a second and a half-written last line is simply skipped:

    {"type": "begin", "epochs": 5, "batches": 421, "seconds": 0.0, "time": ...}
    {"type": "batch", "epoch": 1, "batch": 37, "batches": 421, "loss": .., "accuracy": ..,
     "seconds": 3.1, "eta": 170.2, "time": ...}
    {"type": "epoch", "epoch": 1, "loss": .., "accuracy": .., "val_loss": .., "val_accuracy": ..,
     "seconds": 35.0, "eta": 140.0, "time": ...}
    {"type": "end", "seconds": 171.0, "time": ...}

Epochs count from 1. Nothing here imports TensorFlow until a callback is made.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

# A batch line at most this often: often enough for curves that move every second,
# rare enough that a fast epoch does not write thousands of lines.
BATCH_INTERVAL_S = 0.75
METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no point on a curve


def make_callback(path: str | Path, interval_s: float = BATCH_INTERVAL_S,
                  on_begin: Callable[[], None] | None = None) -> keras.callbacks.Callback:
    """A Keras callback appending progress lines to `path` (see the module's docstring).

    `on_begin` runs once when fitting starts (the job runner records the MLflow run then).
    """
    import keras

    class ProgressWriter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.path = Path(path)
            self.started = time.monotonic()
            self.last_write = 0.0
            self.epochs = 1
            self.batches = 1
            self.epoch = 0

        def _write(self, kind: str, **values: Any) -> None:
            seconds = time.monotonic() - self.started
            line = {"type": kind, **values, "seconds": round(seconds, 2), "time": time.time()}
            with open(self.path, "a", encoding="utf-8") as sink:
                sink.write(json.dumps(line) + "\n")
                sink.flush()
            self.last_write = time.monotonic()

        def _eta(self, done: float) -> float | None:
            # Linear in batches done; the first epoch includes tracing, so it overestimates
            # a little at first and settles within an epoch.
            total = self.epochs * self.batches
            if done <= 0:
                return None
            elapsed = time.monotonic() - self.started
            return round(elapsed * (total - done) / done, 1)

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.started = time.monotonic()
            self.epochs = int(self.params.get("epochs") or 1)
            self.batches = int(self.params.get("steps") or 1)
            if on_begin is not None:
                on_begin()
            self._write("begin", epochs=self.epochs, batches=self.batches)

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if time.monotonic() - self.last_write < interval_s and batch + 1 < self.batches:
                return
            logs = logs or {}
            done = self.epoch * self.batches + batch + 1
            self._write("batch", epoch=self.epoch + 1, batch=batch + 1, batches=self.batches,
                        loss=_number(logs.get("loss")), accuracy=_number(logs.get("accuracy")),
                        eta=self._eta(done))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            self._write("epoch", epoch=epoch + 1, epochs=self.epochs,
                        **{key: _number(logs.get(key)) for key in METRIC_KEYS},
                        eta=self._eta((epoch + 1) * self.batches))

        def on_train_end(self, logs: dict | None = None) -> None:
            self._write("end")

    return ProgressWriter()


@dataclass
class Progress:
    """What the progress lines of one job say so far."""

    epochs: int = 0  # planned
    batches: int = 0  # per epoch
    batch_points: list[dict[str, Any]] = field(default_factory=list)
    epoch_points: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False  # fitting is over (testing and saving may still run)
    last: dict[str, Any] | None = None  # the newest line

    @property
    def epoch(self) -> int:
        """The epoch running now (or last run), from 1; 0 before the first batch."""
        if self.last and "epoch" in self.last:
            return int(self.last["epoch"])
        return len(self.epoch_points)

    @property
    def batch(self) -> int:
        """Batches done in the current epoch."""
        if self.last and self.last.get("type") == "batch":
            return int(self.last["batch"])
        return self.batches if self.epoch_points else 0

    @property
    def eta(self) -> float | None:
        return self.last.get("eta") if self.last else None

    @property
    def seconds(self) -> float:
        return float(self.last.get("seconds", 0.0)) if self.last else 0.0

    def curve(self, metric: str) -> tuple[list[float], list[float]]:
        """Points (x in epochs, from 0) of `metric`: batch points for training metrics
        (running means within the epoch), one point per epoch for validation ones."""
        if metric.startswith("val_"):
            points = [(p["epoch"], p.get(metric)) for p in self.epoch_points]
        else:
            points = [(p["epoch"] - 1 + p["batch"] / max(p["batches"], 1), p.get(metric))
                      for p in self.batch_points]
        kept = [(x, y) for x, y in points if y is not None]
        return [x for x, _ in kept], [y for _, y in kept]


def read_progress(path: str | Path) -> Progress:
    """Parse a progress file; a missing file is no progress yet, a torn last line is skipped."""
    progress = Progress()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return progress
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            continue  # the writer is mid-line
        kind = line.get("type")
        if kind == "begin":
            progress.epochs, progress.batches = int(line["epochs"]), int(line["batches"])
        elif kind == "batch":
            progress.batch_points.append(line)
        elif kind == "epoch":
            progress.epoch_points.append(line)
        elif kind == "end":
            progress.ended = True
        progress.last = line
    return progress
