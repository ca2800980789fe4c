"""Measure on MNIST the per-class bounds `model.likeness` holds: `python -m training.likeness`.

The 60,000 training digits are normalised exactly as the reader normalises what it
reads, and for each class the 99.9th percentile of the outline length, the 0.1st
percentile of the anisotropy and the 99th percentile of the stroke ends are printed as
the tuples to paste into model.likeness.
`--mix` measures them on the mix recipe's whole training mix instead (MNIST, USPS
train and the synthesised styles, each as the reader shows it; `training.mixture`),
so a European 1 or an open 4 the model was taught can be sure too.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from model.likeness import anisotropy, outline_length, stroke_ends
from model.normalize import normalize_digit
from training.data import load_mnist

OUTLINE_PERCENTILE = 99.9
ANISOTROPY_PERCENTILE = 0.1
ENDS_PERCENTILE = 99.0


Bounds = tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...]]


def class_bounds(limit: int | None = None, mix: bool = False) -> Bounds:
    """(MAX_OUTLINE, MIN_ANISOTROPY, MAX_ENDS) per class 0-9, from the first `limit`
    training digits."""
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
        images = mnist.x_train[:limit].astype(np.float32) / 255.0
        labels = mnist.y_train[:limit]
        seen = [normalize_digit(image) for image in images]
    outline = np.array([outline_length(image) for image in seen])
    spread = np.array([anisotropy(image) for image in seen])
    ends = np.array([stroke_ends(image) for image in seen])
    top = tuple(round(float(np.percentile(outline[labels == c], OUTLINE_PERCENTILE)), 1)
                for c in range(10))
    low = tuple(round(float(np.percentile(spread[labels == c], ANISOTROPY_PERCENTILE)), 3)
                for c in range(10))
    # A count is at most a percentile exactly when it is at most its whole part.
    most = tuple(int(np.percentile(ends[labels == c], ENDS_PERCENTILE)) for c in range(10))
    return top, low, most


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N training digits")
    parser.add_argument("--mix", action="store_true", help="the mix recipe's training mix")
    args = parser.parse_args(argv)
    top, low, most = class_bounds(args.limit, args.mix)
    print(f"MAX_OUTLINE = {top}")
    print(f"MIN_ANISOTROPY = {low}")
    print(f"MAX_ENDS = {most}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
