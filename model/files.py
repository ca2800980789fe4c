"""Model folders on disk: atomic writes, model cards, and the list of known models.

A model folder holds `model.keras` (Keras native format, loaded with
safe_mode=True only), `model.onnx` (the same network exported for fast
inference) and `card.json` (how it was trained and how well it does).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.settings import SETTINGS

_UMASK = os.umask(0)
os.umask(_UMASK)


class ModelFileError(Exception):
    """A model folder is missing, incomplete or unreadable."""


def _fsync_dir(directory: Path) -> None:
    # The rename itself must reach the disk too, or a power cut can undo it.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write a file through `write(tmp_path)`, then fsync and rename it into place.

    A crash or kill at any point leaves either the previous file or the new one,
    never a half-written file. The temporary file keeps `path`'s suffix because
    some writers (Keras) choose the format from it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                    dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give it normal file permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_card(model_dir: str | Path, card: dict[str, Any]) -> Path:
    text = json.dumps(card, indent=2, sort_keys=False) + "\n"
    return atomic_write_bytes(Path(model_dir) / SETTINGS.card_file, text.encode())


def read_card(model_dir: str | Path) -> dict[str, Any]:
    """The model card of a folder, or an empty dict if it has none."""
    path = Path(model_dir) / SETTINGS.card_file
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"The model card {path} cannot be read ({exc}).") from exc


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's content.

    Remembered per (path, size, modification time): pages key their caches on a
    model's hash at every rerun, and must not re-read megabytes each time.
    """
    stat = os.stat(path)
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model_dir(path: str | Path | None = None) -> Path:
    """The folder of a model: `path` itself, the folder of a model file, or the shipped model."""
    folder = Path(path) if path is not None else SETTINGS.shipped_model_dir
    if folder.is_file():
        folder = folder.parent
    if not (folder / SETTINGS.keras_file).is_file() and not (folder / SETTINGS.onnx_file).is_file():
        raise ModelFileError(
            f"No model in {folder}: it needs {SETTINGS.keras_file} or {SETTINGS.onnx_file}."
        )
    return folder


def list_model_dirs() -> list[Path]:
    """Every model folder the project knows: the shipped one first, then runs/, newest first."""
    found = []
    if (SETTINGS.shipped_model_dir / SETTINGS.keras_file).is_file():
        found.append(SETTINGS.shipped_model_dir)
    if SETTINGS.runs_dir.is_dir():
        runs = [p.parent for p in SETTINGS.runs_dir.glob(f"*/{SETTINGS.keras_file}")]
        found += sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)
    return found
