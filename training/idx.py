"""The MNIST IDX format: the four files, their specs, and the check every byte passes.

Each file is a big-endian header (magic number, item count, and for images the two
sides) followed by uint8 pixels or labels. A file is accepted only when its header,
length and the SHA-256 of its decompressed content all match the published dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIDE = 28
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FileSpec:
    """What one of the four files must be."""

    magic: int
    count: int
    sha256: str  # of the decompressed content


FILES: dict[str, FileSpec] = {
    "train-images-idx3-ubyte": FileSpec(
        IMAGES_MAGIC, 60000, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    ),
    "train-labels-idx1-ubyte": FileSpec(
        LABELS_MAGIC, 60000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
    ),
    "t10k-images-idx3-ubyte": FileSpec(
        IMAGES_MAGIC, 10000, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
    ),
    "t10k-labels-idx1-ubyte": FileSpec(
        LABELS_MAGIC, 10000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    ),
}


class MnistError(Exception):
    """MNIST is missing, unreachable or fails verification; the message says which file."""


def decode_idx(stem: str, data: bytes, where: str) -> tuple[np.ndarray, str]:
    """Check one file's decompressed bytes against its spec; return (array, sha256)."""
    spec = FILES[stem]
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise MnistError(f"{stem} from {where} is not a valid gzip file ({exc}).") from exc
    header_ints = 4 if spec.magic == IMAGES_MAGIC else 2
    header_len = 4 * header_ints
    if len(data) < header_len:
        raise MnistError(f"{stem} from {where} is truncated ({len(data)} bytes, no full header).")
    header = np.frombuffer(data, dtype=">u4", count=header_ints)
    if int(header[0]) != spec.magic:
        raise MnistError(
            f"{stem} from {where} has magic number {int(header[0])}, expected {spec.magic}."
        )
    shape = tuple(int(n) for n in header[1:])
    expected_shape = (spec.count, IMAGE_SIDE, IMAGE_SIDE)[: header_ints - 1]
    if shape != expected_shape:
        raise MnistError(f"{stem} from {where} declares shape {shape}, expected {expected_shape}.")
    expected_len = header_len + int(np.prod(shape))
    if len(data) != expected_len:
        state = "truncated" if len(data) < expected_len else "longer than its header says"
        raise MnistError(
            f"{stem} from {where} is {state} ({len(data)} bytes, expected {expected_len})."
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise MnistError(f"{stem} from {where} fails its SHA-256 check (got {digest[:12]}…).")
    # frombuffer over immutable bytes gives a read-only view, so the cached copy is safe.
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(shape), digest
