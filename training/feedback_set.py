"""Labelled examples for retraining: feedback (store, folder or zip) and USPS train as the
network sees them.

A feedback source is the monitoring store (``model.feedback``), an exported zip, or
any folder in the folder-per-digit layout (``<digit>/<anything>.png|.jpg``): a user's
own labelled scans. Files are read with ``model.reader`` in single-digit mode, so the
network is trained on exactly what it will be shown; a 28x28 picture with a dark
border (an exported crop) is taken as the network's input as it is. Files that cannot
be used are skipped and counted by reason. A fixed share of the examples, chosen by a
hash of each one's name, is held out for evaluation: the same example is held out in
every run, whatever else the set holds.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.reader.imaging import ReadError, decode_image
from model.settings import SETTINGS
from training.fingerprints import reader_fingerprint

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
HOLDOUT_SHARE = 0.2
DARK_BORDER = 0.15  # mean border ink below this: a 28x28 picture is already the network's view


@dataclass
class LabelledSet:
    """Examples as the network sees them: uint8 (N, 28, 28), labels, names; what was skipped."""

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    skipped: Counter = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> LabelledSet:
        return LabelledSet(self.images[mask], self.labels[mask],
                           [n for n, keep in zip(self.names, mask, strict=True) if keep])

    def split(self, share: float = HOLDOUT_SHARE) -> tuple[LabelledSet, LabelledSet]:
        """(train, hold-out): each example's place is fixed by a hash of its name."""
        held = np.array([held_out(name, share) for name in self.names], bool)
        return self.subset(~held), self.subset(held)


def held_out(name: str, share: float = HOLDOUT_SHARE) -> bool:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


class _Uniform:
    """A stand-in classifier: single-digit mode cuts the same crop whatever the model says."""

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return np.full((len(images), SETTINGS.num_classes), 1 / SETTINGS.num_classes, np.float32)


def network_view(data: bytes | np.ndarray) -> np.ndarray:
    """The 28x28 uint8 image the network is shown for a picture of one digit.

    Raises ReadError (with its one sentence) when the picture cannot be read.
    """
    from model.reader import read_digits

    picture = decode_image(data)  # float grey, 1 = white
    size = SETTINGS.image_size
    if picture.shape == (size, size):
        border = np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])
        if border.mean() < DARK_BORDER and picture.max() > 0.5:  # white on black: MNIST-style
            return np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8)
    reading = read_digits(picture, _Uniform(), single=True)
    return np.round(reading.digits[0].image * 255).astype(np.uint8)


def _files(source: Path) -> Iterator[tuple[str, str | None, bytes | None, str | None]]:
    """(name, folder label, bytes, why not) for each entry of a folder or a zip."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source)
            folder = relative.parts[0] if len(relative.parts) > 1 else None
            yield str(relative), folder, None if path.suffix.lower() not in IMAGE_SUFFIXES \
                else path.read_bytes(), path.suffix.lower()
        return
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = Path(info.filename).parts
            suffix = Path(info.filename).suffix.lower()
            data = archive.read(info) if suffix in IMAGE_SUFFIXES else None
            yield info.filename, parts[0] if len(parts) > 1 else None, data, suffix


def load_folder(source: str | Path) -> LabelledSet:
    """Every usable image of a folder-per-digit folder or zip; the rest counted by reason."""
    source = Path(source)
    images, labels, names, skipped = [], [], [], Counter()
    for name, folder, data, suffix in _files(source):
        if Path(name).name.startswith("."):
            continue  # .DS_Store and friends are not examples
        if folder is None or not (len(folder) == 1 and folder.isdigit()):
            skipped["not in a digit folder (0-9)"] += 1
            continue
        if data is None:
            skipped[f"not a PNG or JPEG ({suffix or 'no extension'})"] += 1
            continue
        try:
            images.append(network_view(data))
        except ReadError as exc:
            skipped[str(exc).rstrip(".")] += 1
            continue
        except Exception:  # a file that breaks a decoder is skipped like any bad file
            skipped["could not be read"] += 1
            continue
        labels.append(int(folder))
        names.append(f"{source.name}/{name}")
    return _stack(images, labels, names, skipped)


def load_store(path: str | Path | None = None) -> LabelledSet:
    """The feedback examples in the monitoring store (the crops the model saw)."""
    from model.feedback import list_feedback

    items = list_feedback(path=path)
    return _stack([i.crop for i in items], [i.label for i in items],
                  [f"store/{i.id}" for i in items], Counter())


def load_feedback(source: str | Path | None = None) -> LabelledSet:
    """A folder or zip in the folder-per-digit layout, a store file, or (None) the store."""
    if source is None:
        return load_store()
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"There is no feedback at {path}.")
    if path.is_file() and path.suffix.lower() == ".zip":
        return load_folder(path)
    if path.is_file():
        return load_store(path)
    return load_folder(path)


def _stack(images: list, labels: list, names: list[str], skipped: Counter) -> LabelledSet:
    size = SETTINGS.image_size
    stacked = np.stack(images).astype(np.uint8) if images else np.zeros((0, size, size), np.uint8)
    return LabelledSet(stacked, np.asarray(labels, np.int64), names, skipped)


def usps_views(split: str = "train", limit: int | None = None) -> LabelledSet:
    """USPS digits of `split` rendered as scans (`training.usps_pictures.usps_samples`) as the
    network sees them; cached under runs/mix-cache/ (reading 7,291 takes minutes)."""
    from model.files import atomic_write
    from training.usps import load_usps
    from training.usps_pictures import usps_samples

    checksum = load_usps(split).checksum
    key = hashlib.sha256(repr((checksum, limit, reader_fingerprint())).encode()).hexdigest()
    path = SETTINGS.runs_dir / "mix-cache" / f"retrain-usps-{key[:20]}.npz"
    if not path.is_file():
        samples = usps_samples(split, limit)
        images = np.stack([_view_or_blank(s.image) for s in samples])
        labels = np.array([int(s.text) for s in samples], np.int64)
        atomic_write(path, lambda p: np.savez_compressed(p, images=images, labels=labels))
    with np.load(path) as data:
        images, labels = data["images"], data["labels"]
    return LabelledSet(images, labels, [f"usps-{split}/{i}" for i in range(len(labels))])


def _view_or_blank(picture: np.ndarray) -> np.ndarray:
    try:
        return network_view(picture)
    except ReadError:  # never seen on USPS; a blank keeps the indices aligned
        return np.zeros((SETTINGS.image_size,) * 2, np.uint8)


def as_png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
