"""Class sessions: a teacher's short code, the digits students draw, and the live board.

Everything lives in SQLite (WAL), in the monitoring store's file (``SETTINGS.monitor_db``)
in tables of its own (``class_sessions``, ``class_digits``), so every server session,
server process and test sees the same class; nothing is kept in one process's memory.
Each call opens its own short connection: safe from any thread or process, and a
30-student class writes a handful of rows a second, far below what WAL SQLite takes.
"""

from __future__ import annotations

import io
import re
import secrets
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from model.feedback import png_bytes
from model.settings import SETTINGS

# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: a code read off a projector is typed right.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 5  # 22**5 = 5.2 million codes
KEY_BYTES = 12  # the teacher's key, in the board's link only
FOOLED_CONFIDENCE = 0.90  # wrong at least this sure: the digit "fooled the model"
BUSY_TIMEOUT_MS = 15_000
K = SETTINGS.num_classes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS class_sessions (
    code TEXT PRIMARY KEY,
    teacher_key TEXT NOT NULL,
    created REAL NOT NULL,
    closed REAL                     -- NULL while students may draw
);
CREATE TABLE IF NOT EXISTS class_digits (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    time REAL NOT NULL,
    student TEXT NOT NULL,          -- a random id per browser session, no account
    predicted INTEGER NOT NULL,
    confidence REAL NOT NULL,
    label INTEGER NOT NULL,         -- what the student says it is
    image BLOB NOT NULL             -- PNG 28x28: the digit as the model saw it
);
CREATE INDEX IF NOT EXISTS class_digits_code ON class_digits (code, id);
"""


class ClassError(Exception):
    """A class session cannot do what was asked; the message is one sentence for the user."""


@dataclass(frozen=True)
class ClassSession:
    code: str
    teacher_key: str
    created: float
    closed: float | None

    @property
    def open(self) -> bool:
        return self.closed is None


@dataclass(frozen=True)
class ClassDigit:
    id: int
    time: float
    student: str
    predicted: int
    confidence: float
    label: int
    image: np.ndarray | None  # (28, 28) uint8, when asked for

    @property
    def correct(self) -> bool:
        return self.predicted == self.label


@dataclass(frozen=True)
class Board:
    """What the teacher's board shows."""

    digits: int
    students: int
    correct: int
    confusion: np.ndarray  # (10, 10): rows what students meant, columns what the model read
    misread: list[ClassDigit]  # newest first
    fooled: list[ClassDigit]  # wrong and at least FOOLED_CONFIDENCE sure, surest first

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.digits if self.digits else None

    def accuracy_by_digit(self) -> np.ndarray:
        """Share read right per digit meant (NaN where nobody drew that digit)."""
        drawn = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(drawn > 0, np.diag(self.confusion) / drawn, np.nan)


def normalize_code(text: str) -> str:
    """What a student typed, as a code: upper case, spaces and dashes dropped."""
    return re.sub(r"[\s\-]", "", str(text)).upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class ClassStore:
    """The class tables of one SQLite file (default: the monitoring store's)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or SETTINGS.monitor_db)

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ClassError(f"The class store {self.path} cannot be opened ({exc}).") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")  # persistent, once per file
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            if write:
                conn.execute("BEGIN IMMEDIATE")
            yield conn
            if write:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise ClassError(f"The class store {self.path} failed ({exc}).") from exc
        finally:
            conn.close()

    def start(self) -> ClassSession:
        """A new open session with a fresh code and teacher key."""
        with self._connect(write=True) as conn:
            while True:
                session = ClassSession(new_code(), secrets.token_urlsafe(KEY_BYTES),
                                       time.time(), None)
                exists = conn.execute("SELECT 1 FROM class_sessions WHERE code = ?",
                                      (session.code,)).fetchone()
                if not exists:
                    conn.execute("INSERT INTO class_sessions VALUES (?, ?, ?, NULL)",
                                 (session.code, session.teacher_key, session.created))
                    return session

    def get(self, code: str) -> ClassSession:
        """The session with this code; ClassError if there is none."""
        code = normalize_code(code)
        with self._connect() as conn:
            row = conn.execute("SELECT code, teacher_key, created, closed FROM class_sessions "
                               "WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise ClassError(f"No class session has the code {code or '(empty)'}: "
                             "check it with your teacher.")
        return ClassSession(*row)

    def teacher(self, code: str, key: str) -> ClassSession:
        """The session, if `key` is its teacher's key; ClassError otherwise."""
        session = self.get(code)
        if not secrets.compare_digest(session.teacher_key, str(key)):
            raise ClassError("This link is not the teacher's link of that class session.")
        return session

    def add_digit(self, code: str, student: str, image: np.ndarray, predicted: int,
                  confidence: float, label: int) -> int:
        """Record one drawn digit; its id. ClassError if the session is closed or unknown."""
        if not (0 <= int(label) < K and 0 <= int(predicted) < K):
            raise ClassError("A digit is one of 0-9.")
        code = normalize_code(code)
        picture = png_bytes(image)
        with self._connect(write=True) as conn:
            row = conn.execute("SELECT closed FROM class_sessions WHERE code = ?",
                               (code,)).fetchone()
            if row is None:
                raise ClassError(f"No class session has the code {code}.")
            if row[0] is not None:
                raise ClassError("This class session is closed: your teacher has ended it.")
            cursor = conn.execute(
                "INSERT INTO class_digits (code, time, student, predicted, confidence, label, "
                "image) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (code, time.time(), str(student), int(predicted), float(confidence),
                 int(label), picture))
            return int(cursor.lastrowid)

    def digits(self, code: str, images: bool = False) -> list[ClassDigit]:
        """The session's digits, oldest first."""
        columns = "id, time, student, predicted, confidence, label" + (", image" if images
                                                                        else "")
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {columns} FROM class_digits WHERE code = ? "
                                "ORDER BY id", (normalize_code(code),)).fetchall()
        return [ClassDigit(*row[:6], image=_png_array(row[6]) if images else None)
                for row in rows]

    def board(self, code: str) -> Board:
        """Counts, the confusion matrix, and the misread and fooling digits with images."""
        everything = self.digits(code)
        confusion = np.zeros((K, K), np.int64)
        for d in everything:
            confusion[d.label, d.predicted] += 1
        wrong_ids = {d.id for d in everything if not d.correct}
        wrong = self.digits_by_id(code, wrong_ids) if wrong_ids else []
        misread = sorted(wrong, key=lambda d: -d.id)
        fooled = sorted((d for d in wrong if d.confidence >= FOOLED_CONFIDENCE),
                        key=lambda d: -d.confidence)
        return Board(digits=len(everything), students=len({d.student for d in everything}),
                     correct=sum(d.correct for d in everything), confusion=confusion,
                     misread=misread, fooled=fooled)

    def digits_by_id(self, code: str, ids: set[int]) -> list[ClassDigit]:
        """Some of the session's digits with their images."""
        marks = ",".join("?" * len(ids))
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, time, student, predicted, confidence, label, image FROM class_digits "
                f"WHERE code = ? AND id IN ({marks}) ORDER BY id",
                (normalize_code(code), *sorted(ids))).fetchall()
        return [ClassDigit(*row[:6], image=_png_array(row[6])) for row in rows]

    def close(self, code: str) -> None:
        """Stop taking digits (the board and the export stay)."""
        with self._connect(write=True) as conn:
            conn.execute("UPDATE class_sessions SET closed = ? WHERE code = ? AND closed IS NULL",
                         (time.time(), normalize_code(code)))

    def reopen(self, code: str) -> None:
        with self._connect(write=True) as conn:
            conn.execute("UPDATE class_sessions SET closed = NULL WHERE code = ?",
                         (normalize_code(code),))

    def reset(self, code: str) -> int:
        """Forget the session's digits (same code, still open); how many were removed."""
        with self._connect(write=True) as conn:
            return conn.execute("DELETE FROM class_digits WHERE code = ?",
                                (normalize_code(code),)).rowcount

    def export_zip(self, code: str) -> bytes:
        """The digits as a zip in the folder-per-digit layout retraining reads:
        ``<label>/<id>.png``, 28x28, white on black, labelled by what the student meant."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for d in self.digits(code, images=True):
                archive.writestr(f"{d.label}/{d.id}.png", png_bytes(d.image))
        return buffer.getvalue()


def _png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))
