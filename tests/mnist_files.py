"""MNIST files for the data tests: the real ones read raw, damaged, or put in a folder."""

from __future__ import annotations

import gzip
from pathlib import Path

from training.data import FILES

SMALL = "t10k-labels-idx1-ubyte"  # the smallest file keeps corruption tests fast


def raw(mnist_dir: Path, stem: str) -> bytes:
    return gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes())


def folder_with(tmp: Path, mnist_dir: Path, stem: str, data: bytes, *, gz: bool = True) -> Path:
    """A folder holding ``data`` as ``stem`` and the other three real files (symlinked)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for other in FILES:
        if other != stem:
            (tmp / f"{other}.gz").symlink_to(mnist_dir / f"{other}.gz")
    (tmp / (f"{stem}.gz" if gz else stem)).write_bytes(
        gzip.compress(data, compresslevel=1) if gz else data
    )
    return tmp


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def is_one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and ". " not in message
