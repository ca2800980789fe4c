"""USPS zip-code digits: real handwriting by writers MNIST never saw.

The two files (``zip.train.gz``: 7,291 digits, ``zip.test.gz``: 2,007) are gzip text,
one digit a line: the label written as a float, then 256 grey values in [-1, 1] for a
16x16 image, row by row (-1 background, 1 full ink). They are looked for in
``--usps-dir``, then ``$USPS_DIR``, then ``usps/`` beside ``$MNIST_DIR`` (the shared
data folder), and checked against their published SHA-256 before use.

The digits were deslanted and scaled to fill their 16x16 box, unlike MNIST's
20x20-in-28x28 centring: read them as scans, through the reader, never by pasting
them into a 28x28 frame.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Split = Literal["train", "test"]
ENV_VAR = "USPS_DIR"
SIDE = 16
FILES: dict[str, tuple[str, int, str]] = {  # split: (file, count, sha256 of the text)
    "train": ("zip.train", 7291,
              "abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0"),
    "test": ("zip.test", 2007,
             "6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc"),
}


class UspsError(Exception):
    """USPS is missing or fails verification; the message says which file and how to fix it."""


@dataclass(frozen=True)
class Usps:
    """One split: ink strength in [0, 1] (1 = full ink), labels 0-9."""

    images: np.ndarray  # (N, 16, 16) float32, read-only
    labels: np.ndarray  # (N,) uint8, read-only
    checksum: str


def find_usps_dir(usps_dir: str | Path | None = None) -> Path:
    """The folder holding the USPS files, by the lookup order above."""
    candidates = [Path(usps_dir)] if usps_dir else []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    if os.environ.get("MNIST_DIR"):
        candidates.append(Path(os.environ["MNIST_DIR"]).resolve().parent / "usps")
    for folder in candidates:
        if any((folder / (name + ext)).is_file() for name, _, _ in FILES.values()
               for ext in (".gz", "")):
            return folder
    raise UspsError(f"The USPS files (zip.train.gz, zip.test.gz) were not found; set {ENV_VAR} "
                    "to the folder holding them (CI and tests use ../shared/data/usps).")


def load_usps(split: Split, usps_dir: str | Path | None = None) -> Usps:
    """The verified digits of one split (cached per process)."""
    folder = find_usps_dir(usps_dir)
    name = FILES[split][0]
    path = folder / f"{name}.gz"
    if not path.is_file():
        path = folder / name
    if not path.is_file():
        raise UspsError(f"{folder} has no {name}.gz (or {name}).")
    stat = path.stat()
    return _load(str(path.resolve()), split, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load(path: str, split: Split, size: int, mtime_ns: int) -> Usps:
    name, count, expected = FILES[split]
    raw = Path(path).read_bytes()
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise UspsError(f"{path} is not a valid gzip file ({exc}).") from exc
    digest = hashlib.sha256(text).hexdigest()
    if digest != expected:
        raise UspsError(f"{path} is not the published {name} (SHA-256 {digest[:12]}…, "
                        f"expected {expected[:12]}…).")
    rows = np.array([line.split() for line in text.decode().splitlines() if line.strip()],
                    dtype=np.float32)
    if rows.shape != (count, 1 + SIDE * SIDE):
        raise UspsError(f"{path} has shape {rows.shape}, expected ({count}, {1 + SIDE * SIDE}).")
    images = ((rows[:, 1:] + 1.0) / 2.0).reshape(-1, SIDE, SIDE).clip(0.0, 1.0)
    labels = rows[:, 0].astype(np.uint8)
    images.flags.writeable = False
    labels.flags.writeable = False
    return Usps(images=images, labels=labels, checksum=digest)
