"""Measure on MNIST the bounds `model.reader.likeness` holds: `python -m training.likeness`.

The 60,000 training digits are normalised exactly as the reader normalises what it
reads; the 0.1st and 99.9th percentile of their ink mass, and for each class the 99.9th
percentile of the outline length, the 0.1st percentile of the anisotropy and the 99th
percentile of the stroke ends are printed, to paste into model.reader.likeness (`WRITTEN`:
its ink mass, 29-191, was set before and kept; it holds 99.7 % of them).
`--boxed` measures them on the same digits cut to their boxes as published digit sets
keep theirs (`training.usps_pictures.boxed_picture`) and read by the shipped model's
reader, for `BOXED`. `--mix` measures them on the mix recipe's whole training mix
instead (MNIST, USPS train and the synthesised styles, each as the reader shows it;
`training.mixture`), so a European 1 or an open 4 the model was taught can be sure too.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from model.reader.likeness import Bounds, anisotropy, outline_length, stroke_ends
from model.reader.normalize import normalize_digit
from training.data import load_mnist

MASS_PERCENTILES = (0.1, 99.9)
OUTLINE_PERCENTILE = 99.9
ANISOTROPY_PERCENTILE = 0.1
ENDS_PERCENTILE = 99.0


def boxed_as_read(images: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Each digit (uint8, as MNIST keeps it) cut to its box as published sets keep
    theirs and read by the reader as one digit: the 28x28 pictures the network sees,
    and which digits gave one (the reader finds none in a few faint ones).

    Read with the shipped model, not `training.styles.to_network_input`'s model-free
    reader: one bit deep, a boxed digit is a close polarity call that the reader reads
    both ways and the network settles. Without a network the first way stands, and the
    bounds come out looser (a 3's outline bound 161.5, not 148.8).
    """
    from model import load_predictor
    from model.reader import read_digits
    from model.reader.imaging import ReadError
    from model.settings import SETTINGS
    from training.usps_pictures import boxed_picture

    predictor = load_predictor(SETTINGS.shipped_model_dir)
    seen, read = [], np.zeros(len(images), bool)
    for i, image in enumerate(images):
        try:
            reading = read_digits(boxed_picture(image.astype(np.float32) / 255.0), predictor,
                                  single=True)
        except ReadError:
            continue
        seen.append(reading.digits[0].image)
        read[i] = True
    return seen, read


def class_bounds(limit: int | None = None, mix: bool = False,
                 boxed: bool = False) -> tuple[Bounds, tuple[int, ...]]:
    """The bounds and MAX_ENDS per class 0-9, from the first `limit` training digits:
    MNIST's as written, `boxed`, or the mix recipe's training mix (`mix`)."""
    if mix and boxed:
        raise ValueError("Choose one: the training mix or MNIST's digits boxed.")
    if mix:
        from training.config import PRESETS
        from training.mixture import build_splits

        # Every MNIST digit normalised, as the reader would see it written.
        cfg = dataclasses.replace(PRESETS["mix"], mnist_normalized=1.0, limit=limit)
        splits = build_splits(cfg)
        seen = list(splits.x_train[..., 0])
        labels = splits.y_train
    else:
        mnist = load_mnist()
        labels = mnist.y_train[:limit]
        if boxed:
            seen, read = boxed_as_read(mnist.x_train[:limit])
            labels = labels[read]
        else:
            seen = [normalize_digit(image.astype(np.float32) / 255.0)
                    for image in mnist.x_train[:limit]]
    mass = np.array([float(image.sum()) for image in seen])
    outline = np.array([outline_length(image) for image in seen])
    spread = np.array([anisotropy(image) for image in seen])
    ends = np.array([stroke_ends(image) for image in seen])
    top = tuple(round(float(np.percentile(outline[labels == c], OUTLINE_PERCENTILE)), 1)
                for c in range(10))
    low = tuple(round(float(np.percentile(spread[labels == c], ANISOTROPY_PERCENTILE)), 3)
                for c in range(10))
    # A count is at most a percentile exactly when it is at most its whole part.
    most = tuple(int(np.percentile(ends[labels == c], ENDS_PERCENTILE)) for c in range(10))
    lightest, heaviest = (round(float(v), 1) for v in np.percentile(mass, MASS_PERCENTILES))
    return Bounds((lightest, heaviest), top, low), most


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N training digits")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--mix", action="store_true", help="the mix recipe's training mix")
    which.add_argument("--boxed", action="store_true",
                       help="the digits cut to their boxes as published sets keep them")
    args = parser.parse_args(argv)
    bounds, most = class_bounds(args.limit, args.mix, args.boxed)
    print(bounds)
    print(f"MAX_ENDS = {most}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
