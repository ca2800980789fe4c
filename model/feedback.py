"""Feedback: a user's "right" or "wrong, it's a 3" kept as a labelled example.

Each answered digit becomes one row of the monitoring store's ``feedback`` table
(``model.monitor_store`` owns the schema): the 28x28 crop the model saw and the original
ink around it (both PNG), the label, the digit read, the whole reading and the model.
Writes are synchronous (a click, not a stroke) and answer with the ids saved, or
raise StoreError with the reason. ``export_zip`` writes the folder-per-digit layout
(``<digit>/<id>.png``) that ``training.retrain --feedback`` reads back.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from model.files import atomic_write_bytes
from model.monitor_store import StoreError, model_version, open_store
from model.settings import SETTINGS

INK_MARGIN = 0.15  # share of the box added round a digit's original ink
MAX_INK_SIDE = 256  # the original ink is kept at most this large (pixels)


@dataclass(frozen=True)
class FeedbackItem:
    """One labelled example as stored."""

    id: int
    time: float
    source: str
    model: str
    version: str
    label: int
    predicted: int
    confidence: float | None
    reading: str
    crop: np.ndarray  # (28, 28) uint8, white on black

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


def png_bytes(image: np.ndarray) -> bytes:
    """A grey image (uint8, or floats in [0, 1]) as PNG."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def ink_around(picture: np.ndarray | None, box: Sequence[int]) -> bytes | None:
    """The original picture round one digit's box (a margin added), as PNG; None without one."""
    if picture is None:
        return None
    picture = np.asarray(picture)
    x, y, w, h = (int(v) for v in box)
    mx, my = round(w * INK_MARGIN), round(h * INK_MARGIN)
    part = picture[max(0, y - my): y + h + my, max(0, x - mx): x + w + mx]
    if part.size == 0:
        return None
    if part.ndim == 3:  # an RGBA canvas: its alpha is the ink; colours go grey
        part = part[..., 3] if part.shape[2] == 4 else np.asarray(
            Image.fromarray(part[..., :3]).convert("L"))
    thumb = Image.fromarray(part.astype(np.uint8))
    thumb.thumbnail((MAX_INK_SIDE, MAX_INK_SIDE))
    return png_bytes(np.asarray(thumb))


def save_answers(reading: Any, labels: Sequence[int], *, source: str, model: str,
                 session: str | None = None, picture: np.ndarray | None = None,
                 path: str | Path | None = None) -> list[int]:
    """Store every digit of `reading` with its true label (one per digit); the new ids.

    `picture` is the image the reading was made from (grey, or an RGBA canvas): the
    original ink of each digit is cut from it. Raises StoreError when the store is unusable.
    """
    digits = list(reading.digits)
    if len(labels) != len(digits):
        raise ValueError(f"{len(digits)} digits read but {len(labels)} labels given.")
    now = time.time()
    rows = [(now, source, session, model, model_version(model), int(label), int(d.digit),
             float(d.confidence), str(reading.text), png_bytes(d.image),
             ink_around(picture, d.box)) for d, label in zip(digits, labels, strict=True)]
    if not all(0 <= r[5] < SETTINGS.num_classes for r in rows):
        raise ValueError("Labels are digits 0-9.")
    try:
        with open_store(path) as conn:
            conn.execute("BEGIN IMMEDIATE")
            ids = [conn.execute(
                "INSERT INTO feedback (time, source, session, model, version, label, predicted, "
                "confidence, reading, crop, ink) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row).lastrowid for row in rows]
            conn.execute("COMMIT")
    except StoreError:
        raise
    except Exception as exc:  # sqlite3 and OS errors: the same one sentence
        raise StoreError(f"the feedback could not be saved ({exc})") from exc
    return [int(i) for i in ids]


_COLUMNS = "id, time, source, model, version, label, predicted, confidence, reading, crop"


def list_feedback(label: int | None = None, since: float | None = None,
                  limit: int | None = None, path: str | Path | None = None) -> list[FeedbackItem]:
    """Stored examples, newest first; only `label`'s, only since `since`, at most `limit`."""
    if not Path(path or SETTINGS.monitor_db).is_file():
        return []
    query = f"SELECT {_COLUMNS} FROM feedback WHERE time >= ?"
    args: list[Any] = [since if since is not None else float("-inf")]
    if label is not None:
        query += " AND label = ?"
        args.append(int(label))
    query += " ORDER BY time DESC, id DESC"
    if limit is not None:
        query += " LIMIT ?"
        args.append(int(limit))
    with open_store(path) as conn:
        rows = conn.execute(query, args).fetchall()
    return [FeedbackItem(*row[:-1], crop=_png_array(row[-1])) for row in rows]


def label_counts(path: str | Path | None = None) -> dict[int, int]:
    """How many examples each label has."""
    if not Path(path or SETTINGS.monitor_db).is_file():
        return {}
    with open_store(path) as conn:
        rows = conn.execute("SELECT label, COUNT(*) FROM feedback GROUP BY label").fetchall()
    return {int(label): int(count) for label, count in rows}


def accuracy_by_model(since: float | None = None,
                      path: str | Path | None = None) -> list[dict[str, Any]]:
    """Per model label: how many answers, and the share the model had right."""
    if not Path(path or SETTINGS.monitor_db).is_file():
        return []
    with open_store(path) as conn:
        rows = conn.execute(
            "SELECT model, version, COUNT(*), AVG(label = predicted) FROM feedback "
            "WHERE time >= ? GROUP BY model, version ORDER BY MIN(time)",
            (since if since is not None else float("-inf"),)).fetchall()
    return [{"model": m, "version": v, "count": int(n), "accuracy": float(a)}
            for m, v, n, a in rows]


def original_ink(item_id: int, path: str | Path | None = None) -> np.ndarray | None:
    """The original ink stored with an example, if any."""
    with open_store(path) as conn:
        row = conn.execute("SELECT ink FROM feedback WHERE id = ?", (int(item_id),)).fetchone()
    return _png_array(row[0]) if row and row[0] else None


def delete_feedback(ids: Sequence[int], path: str | Path | None = None) -> int:
    """Delete examples by id; how many were deleted."""
    if not ids:
        return 0
    with open_store(path) as conn:
        marks = ",".join("?" * len(ids))
        return int(conn.execute(f"DELETE FROM feedback WHERE id IN ({marks})",
                                [int(i) for i in ids]).rowcount)


def export_zip(destination: str | Path | None = None,
               path: str | Path | None = None) -> bytes:
    """Every example's crop as ``<label>/<id>.png`` in a zip (written to `destination` too)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(list_feedback(path=path), key=lambda i: i.id):
            archive.writestr(f"{item.label}/{item.id}.png", png_bytes(item.crop))
    if destination is not None:
        atomic_write_bytes(destination, buffer.getvalue())
    return buffer.getvalue()
