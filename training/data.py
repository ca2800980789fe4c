"""MNIST for Digit Studio: find, download, verify and load the four original IDX files.

Lookup order: an explicit ``data_dir``, then ``$MNIST_DIR``, then the per-user cache
(``$XDG_CACHE_HOME/digit-studio/mnist`` or ``~/.cache/digit-studio/mnist``), which is
filled from public mirrors when empty. Every file is checked (magic number, counts,
shape and the SHA-256 of its decompressed bytes, see ``training.idx``) before any of
it is used; anything wrong raises :class:`MnistError`. ``to_model_input`` is the only
place pixels are normalised, so training and evaluation cannot drift apart.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.files import atomic_write_bytes
from training.idx import FILES, GZIP_MAGIC, IMAGE_SIDE, MnistError, decode_idx

ENV_VAR = "MNIST_DIR"
PIXEL_MAX = 255.0
DOWNLOAD_TIMEOUT_S = 30.0
# The largest genuine file is ~9.6 MB gzipped; refuse anything far bigger.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024

# Tried in order, like torchvision; each serves the four files as `<stem>.gz`.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_HINT = (
    f"set {ENV_VAR} to a folder holding the four MNIST files "
    f"({', '.join(FILES)}, each optionally .gz), for example `export {ENV_VAR}=/path/to/mnist`"
)


@dataclass(frozen=True)
class Mnist:
    """The raw, verified dataset as uint8 arrays (read-only: they are shared via a cache)."""

    x_train: np.ndarray  # (60000, 28, 28) uint8
    y_train: np.ndarray  # (60000,) uint8
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8
    source: Path
    checksums: dict[str, str]


@dataclass(frozen=True)
class Splits:
    """Model-ready arrays: images float32 (N, 28, 28, 1) in [0, 1], labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    checksums: dict[str, str]


def default_cache_dir() -> Path:
    """The per-user cache folder that downloads go to."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digit-studio" / "mnist"


@functools.lru_cache(maxsize=8)
def _load_file(path: Path, size: int, mtime_ns: int) -> tuple[np.ndarray, str]:
    """Read and verify one file; size and mtime are in the key so an edit re-verifies."""
    stem = path.name.removesuffix(".gz")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MnistError(f"{stem} at {path} cannot be read ({exc.strerror}).") from exc
    return decode_idx(stem, data, str(path))


def _locate(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Map each stem to its file in ``folder`` (uncompressed preferred); list the missing."""
    found: dict[str, Path] = {}
    for stem in FILES:
        for name in (stem, f"{stem}.gz"):
            if (folder / name).is_file():
                found[stem] = folder / name
                break
    return found, [stem for stem in FILES if stem not in found]


def _verify(path: Path) -> tuple[np.ndarray, str]:
    """Verify one file, at most once per process while it stays unchanged."""
    try:
        resolved = path.resolve(strict=True)
        stat = resolved.stat()
    except OSError as exc:
        raise MnistError(f"{path.name} at {path} cannot be read ({exc.strerror}).") from exc
    return _load_file(resolved, stat.st_size, stat.st_mtime_ns)


def _verify_folder(folder: Path, origin: str) -> Path:
    """Verify a user-named folder completely, or say what is wrong with it."""
    if not folder.is_dir():
        raise MnistError(f"MNIST folder {folder} ({origin}) does not exist; {_HINT}.")
    found, missing = _locate(folder)
    if missing:
        raise MnistError(
            f"MNIST folder {folder} ({origin}) lacks {', '.join(missing)} (or .gz); {_HINT}."
        )
    for path in found.values():
        _verify(path)
    return folder.resolve()


def _fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data = response.read(MAX_DOWNLOAD_BYTES + 1)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise MnistError(f"{url} sent more than {MAX_DOWNLOAD_BYTES} bytes.")
    return data


def _download(stems: Sequence[str], cache: Path, mirrors: Sequence[str]) -> None:
    """Fetch and verify every stem before writing any, so a failure leaves the cache as it was."""
    live = list(mirrors)
    problems: dict[str, str] = {}
    payloads: dict[str, bytes] = {}
    for stem in stems:
        for mirror in list(live):
            url = f"{mirror.rstrip('/')}/{stem}.gz"
            try:
                data = _fetch(url, DOWNLOAD_TIMEOUT_S)
                decode_idx(stem, data, url)
            except MnistError as exc:
                problems[mirror] = str(exc).rstrip(".")
                continue
            except (OSError, http.client.HTTPException, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                problems[mirror] = f"{url}: {reason}"
                # An unreachable mirror would fail for every file; don't wait on it again.
                if not isinstance(exc, urllib.error.HTTPError):
                    live.remove(mirror)
                continue
            payloads[stem] = data
            break
        else:
            tried = "; ".join(problems.values()) or "no mirrors were given"
            raise MnistError(
                f"MNIST is not on this machine and could not be downloaded ({tried}); {_HINT}."
            )
    cache.mkdir(parents=True, exist_ok=True)
    for stem, data in payloads.items():
        name = f"{stem}.gz" if data[:2] == GZIP_MAGIC else stem
        # A stale uncompressed copy would shadow the new file (see _locate).
        with contextlib.suppress(FileNotFoundError):
            (cache / stem).unlink()
        atomic_write_bytes(cache / name, data)


def find_mnist_dir(
    data_dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
) -> Path:
    """Return the resolved folder holding four verified MNIST files, downloading if needed."""
    if data_dir is not None:
        return _verify_folder(Path(data_dir).expanduser(), "given as data_dir")
    if env_dir := os.environ.get(ENV_VAR):
        return _verify_folder(Path(env_dir).expanduser(), f"from ${ENV_VAR}")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    found, missing = _locate(cache)
    for stem, path in found.items():
        try:
            _verify(path)
        except MnistError:
            # The cache is ours to repair: a damaged copy is simply fetched again.
            missing.append(stem)
    if missing:
        if not download:
            raise MnistError(f"No verified MNIST copy found (looked in {cache}); {_HINT}.")
        _download(missing, cache, MIRRORS if mirrors is None else mirrors)
        return _verify_folder(cache, "the download cache")
    return cache.resolve()


def load_mnist(
    data_dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
) -> Mnist:
    """Find (see :func:`find_mnist_dir`), verify and return MNIST; cached per process."""
    folder = find_mnist_dir(data_dir, cache_dir=cache_dir, mirrors=mirrors, download=download)
    found, _ = _locate(folder)
    arrays = {stem: _verify(path) for stem, path in found.items()}
    return Mnist(
        x_train=arrays["train-images-idx3-ubyte"][0],
        y_train=arrays["train-labels-idx1-ubyte"][0],
        x_test=arrays["t10k-images-idx3-ubyte"][0],
        y_test=arrays["t10k-labels-idx1-ubyte"][0],
        source=folder,
        checksums={stem: digest for stem, (_, digest) in arrays.items()},
    )


def mnist_available(
    data_dir: str | Path | None = None, *, cache_dir: str | Path | None = None
) -> bool:
    """True if a verified local copy exists (never downloads)."""
    try:
        find_mnist_dir(data_dir, cache_dir=cache_dir, download=False)
    except MnistError:
        return False
    return True


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]: the one normalisation."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        # Refusing floats makes double normalisation impossible.
        raise TypeError(f"to_model_input expects uint8 pixels, got {images.dtype}.")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"to_model_input expects (N, 28, 28) images, got {images.shape}.")
    out = images.astype(np.float32)
    out /= PIXEL_MAX
    return out[..., np.newaxis]


def prepare(
    mnist: Mnist, validation_split: float = 0.1, seed: int = 0, limit: int | None = None
) -> Splits:
    """Shuffle the training set with ``seed``, keep ``limit`` images, split off validation."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}.")
    total = len(mnist.x_train)
    if limit is not None and not 0 < limit <= total:
        raise ValueError(f"limit must be in 1..{total}, got {limit}.")
    order = np.random.default_rng(seed).permutation(total)[:limit]
    n_val = round(len(order) * validation_split)
    if n_val >= len(order):
        raise ValueError(f"validation_split={validation_split} leaves no training images.")
    val, train = order[:n_val], order[n_val:]
    return Splits(
        x_train=to_model_input(mnist.x_train[train]),
        y_train=mnist.y_train[train].astype(np.int64),
        x_val=to_model_input(mnist.x_train[val]),
        y_val=mnist.y_train[val].astype(np.int64),
        x_test=to_model_input(mnist.x_test),
        y_test=mnist.y_test.astype(np.int64),
        checksums=dict(mnist.checksums),
    )
