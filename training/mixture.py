"""The training mix: MNIST, USPS train and synthesised styles, as the reader shows them.

`build_splits(cfg, data_dir)` is what `training.train` trains on. With a recipe's
mix fields at zero it is plain MNIST (`training.data.prepare`); the "mix" recipe adds:

- MNIST train: a seeded share (`mnist_normalized`) of the digits is given as the
  reader's normalisation (`model.reader.normalize.normalize_digit`: stroke width, 20x20 box,
  centre of mass) makes them, the rest as published (the MNIST test set is read as
  published, so both must stay familiar);
- USPS train (7,291 digits by other writers): each rendered `usps_copies` times as a
  scan (`training.usps_pictures.usps_scan`, a fresh pen, blur and paper each time),
  `usps_boxed` times boxed as published sets keep digits (`training.usps_pictures.boxed`:
  stretched to fill a 16x16 square, one bit deep, at a random threshold) and
  `usps_tablet` times as a pen-tablet trajectory of 8, 12 or 16 points on the canvas
  (`training.usps_tablet`: real writers' shapes as tablets record them), and read
  through the reader in single-digit mode (`training.styles.to_network_input`);
- `styles` synthetic digits (`training.styles`): European 1s, crossed 7s, open 4s, open
  and curled 9s, wide and narrow, slanted, tablet polylines, mouse and pen strokes,
  read through the reader the same way (`styles_own_orders` of the tablet digits in
  several strokes in a writer's own stroke order; none in the shipped recipe);
- `touching` pairs of MNIST and USPS train digits whose strokes touch, labelled
  NOT_ONE_DIGIT (`training.outliers`): marks the network should not be sure of.

Validation comes from these training sources only (the MNIST validation split, a
seeded tenth of the USPS train digits, a tenth of the styles; no pairs); the USPS
*test* digits are never used. The sources' conversions are built on all cores
and cached as .npz files under `<runs_dir>/mix-cache/`, keyed by the data checksums,
the counts, the seed, the reader's source (`reader_fingerprint`) and, for the styles,
the synthesiser's (`styles_fingerprint`); a cached file is
used only if its first images, converted again, still match (a new OpenCV, say).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from model.files import atomic_write
from model.settings import SETTINGS
from training.config import TrainConfig
from training.data import Splits, load_mnist, prepare, to_model_input
from training.fingerprints import reader_fingerprint, styles_fingerprint

MIX_VERSION = 2
CHUNK = 500  # digits per worker task; each chunk has its own seed, so any worker count agrees
MNIST_TRAIN = 60_000
MAX_WORKERS = 4


def build_splits(cfg: TrainConfig, data_dir: str | Path | None = None) -> Splits:
    """The splits a recipe trains on (see the module docstring)."""
    mnist = load_mnist(data_dir)
    splits = prepare(mnist, cfg.validation_split, cfg.seed, cfg.limit)
    kinds = usps_kinds(cfg)
    if not (cfg.mnist_normalized or kinds or cfg.styles or cfg.touching):
        return splits
    share = (cfg.limit or MNIST_TRAIN) / MNIST_TRAIN  # a --limit run shrinks every source
    x_train, y_train = [_mnist_part(splits, cfg)], [splits.y_train]
    x_val, y_val = [splits.x_val], [splits.y_val]
    checksums = dict(splits.checksums)
    if kinds:
        from training.usps import load_usps

        usps = load_usps("train")
        checksums["usps-train"] = usps.checksum
        order, n_val = usps_order(cfg, len(usps.labels))
        key = (tuple(order.tolist()), kinds, cfg.seed)
        images, labels = _cached("usps", _usps_images, key, usps.checksum)
        per_copy = len(order)
        held = np.zeros(per_copy, bool)
        held[:n_val] = True
        held = np.tile(held, len(kinds))
        # Validation: the held-out digits' first rendering only, so no digit is in both.
        first = np.arange(len(labels)) < per_copy
        x_train.append(images[~held]), y_train.append(labels[~held])
        x_val.append(images[held & first]), y_val.append(labels[held & first])
    if cfg.styles:
        count = max(10, round(cfg.styles * share))
        key = (count, cfg.seed, cfg.styles_own_orders)
        images, labels = _cached("styles", _style_images, key, styles_fingerprint())
        n_val = round(count * cfg.validation_split)
        checksums["styles"] = (f"training.styles v{MIX_VERSION} ({styles_fingerprint()}), "
                               f"{count} digits, seed {cfg.seed}" + (
                                   f", own stroke orders {cfg.styles_own_orders}"
                                   if cfg.styles_own_orders else ""))
        x_train.append(images[n_val:]), y_train.append(labels[n_val:])
        x_val.append(images[:n_val]), y_val.append(labels[:n_val])
    if cfg.touching:  # trained on only: validation scores digits (see training.outliers)
        count = max(10, round(cfg.touching * share))
        images, labels = _cached("touching", _touching_images, (count, cfg.seed), "")
        checksums["touching"] = f"training.outliers v{MIX_VERSION}, {count} pairs, seed {cfg.seed}"
        x_train.append(images), y_train.append(labels)
    return Splits(x_train=np.concatenate(x_train), y_train=np.concatenate(y_train),
                  x_val=np.concatenate(x_val), y_val=np.concatenate(y_val),
                  x_test=splits.x_test, y_test=splits.y_test, checksums=checksums)


def usps_order(cfg: TrainConfig, total: int) -> tuple[np.ndarray, int]:
    """The USPS train digits a recipe uses, in its seeded order; the first `n_val` validate."""
    share = (cfg.limit or MNIST_TRAIN) / MNIST_TRAIN
    order = np.random.default_rng(cfg.seed).permutation(total)
    order = order[:max(10, round(total * share))]
    return order, round(len(order) * cfg.validation_split)


def usps_kinds(cfg: TrainConfig) -> tuple[str, ...]:
    """How each USPS train digit is rendered, copy by copy: scans, then boxed, then tablet."""
    return (("scan",) * cfg.usps_copies + ("boxed",) * cfg.usps_boxed
            + ("tablet",) * cfg.usps_tablet)


def _mnist_part(splits: Splits, cfg: TrainConfig) -> np.ndarray:
    """The MNIST training digits, a seeded share of them as the reader normalises them."""
    x = splits.x_train.copy()
    pick = np.random.default_rng(cfg.seed + 1).random(len(x)) < cfg.mnist_normalized
    if pick.any():
        images = (x[pick, ..., 0] * 255).round().astype(np.uint8)
        x[pick] = to_model_input(_normalized(images))
    return x


def _normalized(images: np.ndarray) -> np.ndarray:
    from model.reader.normalize import normalize_digit

    return np.stack([np.round(normalize_digit(image / 255.0) * 255).astype(np.uint8)
                     for image in images])


def _usps_images(key: tuple) -> tuple[np.ndarray, np.ndarray]:
    order, kinds, seed = key
    from training.usps import load_usps

    labels = load_usps("train").labels[list(order)]
    # The first copy (a scan, in every recipe with scans) validates.
    tasks = [(copy, kind, seed, start, order[start:start + CHUNK])
             for copy, kind in enumerate(kinds) for start in range(0, len(order), CHUNK)]
    images = np.concatenate(_in_parallel(_usps_chunk, tasks))
    return images, np.tile(labels, len(kinds))


def _usps_chunk(task: tuple) -> np.ndarray:
    from model.reader.imaging import ReadError, decode_image
    from model.reader.ink import solid_ink
    from training.styles import BOX_LEVELS, to_network_input
    from training.usps import load_usps
    from training.usps_pictures import boxed_picture, usps_scan
    from training.usps_tablet import POINTS, tablet_canvas

    copy, kind, seed, start, indices = task
    digits = load_usps("train").images
    rng = np.random.default_rng([seed, copy, start, MIX_VERSION])

    def network_input(digit: np.ndarray) -> np.ndarray:
        if kind == "tablet":  # every USPS train digit leaves a trajectory at 8-16 points
            return to_network_input(tablet_canvas(digit, int(rng.choice(POINTS)), rng))
        if kind == "boxed":
            picture = boxed_picture(digit, rng.uniform(*BOX_LEVELS))
            # A straight 1 boxed to solid ink is given as a scan, as the shipped model
            # was taught (the reader shows such a picture as a bar, `model.reader.ink.solid_ink`).
            if solid_ink(decode_image(picture)) is None:
                try:
                    return to_network_input(picture)
                except ReadError:  # nothing left to read
                    pass
        return to_network_input(usps_scan(digit, rng))

    return np.stack([_as_u8(network_input(digits[i])) for i in indices])


def _style_images(key: tuple) -> tuple[np.ndarray, np.ndarray]:
    count, seed, own_orders = key
    tasks = [(seed, start, min(CHUNK, count - start), own_orders)
             for start in range(0, count, CHUNK)]
    parts = _in_parallel(_style_chunk, tasks)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _style_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    from training.styles import synthesize

    seed, start, n, own_orders = task
    return synthesize(n, seed * 1_000_003 + start, own_orders)


def _touching_images(key: tuple) -> tuple[np.ndarray, np.ndarray]:
    from training.outliers import NOT_ONE_DIGIT

    count, seed = key
    tasks = [(seed, start, min(CHUNK, count - start)) for start in range(0, count, CHUNK)]
    images = np.concatenate(_in_parallel(_touching_chunk, tasks))
    return images, np.full(len(images), NOT_ONE_DIGIT, np.uint8)


def _touching_chunk(task: tuple) -> np.ndarray:
    from training.outliers import touching_pairs

    seed, start, n = task
    return touching_pairs(n, seed * 1_000_003 + start + 1)


def _as_u8(image: np.ndarray) -> np.ndarray:
    return np.round(image * 255).astype(np.uint8)


def _in_parallel(work: Callable[[Any], Any], tasks: list) -> list:
    """`work` over `tasks` in order, on up to MAX_WORKERS processes."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        return [work(t) for t in tasks]
    # Spawned, not forked: the caller may already hold TensorFlow's threads.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_leave_ctrl_c_to_the_caller)
    try:
        return list(pool.map(work, tasks))
    finally:  # stopped (Ctrl-C): the tasks not begun are dropped, not run first
        pool.shutdown(cancel_futures=True)


def _leave_ctrl_c_to_the_caller() -> None:
    """A worker ignores Ctrl-C, which a terminal sends its whole process group: the
    caller stops (`training.cancel.stop_at_once`) and drops what is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


CANARY = 10  # images recomputed to check a cached conversion against today's reader


def _canary(kind: str, key: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A few images of a conversion computed afresh, and where they sit in it: the start
    of the first chunk (for USPS, of the first copy of each kind)."""
    if kind == "usps":
        order, kinds, seed = key
        first = np.arange(min(CANARY, len(order)))
        picks = [(kinds.index(k), k) for k in dict.fromkeys(kinds)]  # each kind's first copy
        fresh = [_usps_chunk((copy, k, seed, 0, order[:CANARY])) for copy, k in picks]
        return np.concatenate([copy * len(order) + first for copy, _ in picks]), \
            np.concatenate(fresh)
    if kind == "touching":
        count, seed = key
        fresh = _touching_chunk((seed, 0, min(CANARY, count)))
    else:
        count, seed, own_orders = key
        fresh = _style_chunk((seed, 0, min(CANARY, count), own_orders))[0]
    return np.arange(len(fresh)), fresh


Images = tuple[np.ndarray, np.ndarray]  # uint8 (N, 28, 28) and labels


def _cached(kind: str, make: Callable[[tuple], Images], key: tuple, checksum: str) -> Images:
    """`make(key)` -> (uint8 images, labels) as model input, from the cache when it is current.

    The file is keyed by the data, the counts and the seed; whether the reader still
    shows the digits the same way is checked by converting the first few again (the
    reader's modules change often, and mostly in ways that leave single digits alone).
    """
    identity = (MIX_VERSION, kind, key, checksum, reader_fingerprint())
    digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:20]
    path = SETTINGS.runs_dir / "mix-cache" / f"{kind}-{digest}.npz"
    if path.is_file():
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
        where, fresh = _canary(kind, key)
        # Exact but for rounding: a picture reads the same in a worker process as in one
        # that has loaded the model (tests/test_mixture.py holds that).
        if np.abs(images[where].astype(int) - fresh).max(initial=0) <= 1:
            return to_model_input(images), labels.astype(np.int64)
    images, labels = make(key)
    atomic_write(path, lambda p: np.savez_compressed(p, images=images, labels=labels))
    return to_model_input(images), labels.astype(np.int64)
