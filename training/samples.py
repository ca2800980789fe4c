"""The app's sample scans: phone photos of numbers written with real MNIST test digits.

`python -m training.samples` writes them to assets/samples/ (PNG files plus
labels.json with the true text of each, lines separated by one space like
`Reading.text`); the same seed always gives the same files. The pictures are
made by :mod:`training.synthetic_scans` (blue ballpoint on warm paper, tilted, unevenly
lit, grainy); the digits come from the MNIST *test* set, which no model here was
trained on.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from model.files import atomic_write, atomic_write_bytes
from model.settings import PROJECT_DIR
from training.data import Mnist, load_mnist
from training.synthetic_scans import (
    BALLPOINT_BLUE,
    WARM_PAPER,
    PageStyle,
    PhotoStyle,
    compose_page,
    photograph,
)

SAMPLES_DIR = PROJECT_DIR / "assets" / "samples"
LABELS_FILE = "labels.json"
DEFAULT_SEED = 0

# What every sample shares: ballpoint on notebook paper, written a little unevenly,
# and the softness of a phone camera.
HANDWRITING = PageStyle(ink=BALLPOINT_BLUE, paper=WARM_PAPER, gap=0.28, line_gap=0.45,
                        margin=0.6, size_jitter=0.08, gap_jitter=0.08)
CAMERA_BLUR = 0.8  # Gaussian sigma in pixels
GREY_LEVEL = 1 / 255  # noise below is given in 8-bit grey levels


@dataclass(frozen=True)
class Sample:
    """One sample scan: its file name, the digits on each line, and how it is written and shot."""

    name: str
    lines: tuple[int, ...]  # how many digits on each line
    page: PageStyle
    photo: PhotoStyle


def _sample(name: str, lines: tuple[int, ...], digit_height: int, tilt_deg: float,
            shading: float, noise_levels: float) -> Sample:
    return Sample(name, lines,
                  replace(HANDWRITING, digit_height=digit_height),
                  PhotoStyle(tilt_deg=tilt_deg, shading=shading,
                             noise=noise_levels * GREY_LEVEL, blur=CAMERA_BLUR))


SAMPLES: tuple[Sample, ...] = (
    _sample("house_number.png", (3,), 120, -2.5, 0.20, 5.0),
    _sample("invoice_total.png", (6,), 80, 1.5, 0.30, 7.0),
    _sample("two_line_note.png", (4, 5), 84, 3.0, 0.25, 6.0),
    _sample("single_digit.png", (1,), 150, -4.0, 0.15, 5.0),
)


def pick_digits(mnist: Mnist, count: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """`count` random MNIST test digits and their true text."""
    index = rng.choice(len(mnist.x_test), size=count, replace=False)
    text = "".join(str(int(label)) for label in mnist.y_test[index])
    return mnist.x_test[index], text


def write_samples(mnist: Mnist, output: Path = SAMPLES_DIR,
                  seed: int = DEFAULT_SEED) -> dict[str, str]:
    """Render every sample in SAMPLES into `output`; returns {file name: true text}."""
    pick = np.random.default_rng(seed)
    labels: dict[str, str] = {}
    for i, sample in enumerate(SAMPLES):
        lines, texts = [], []
        for count in sample.lines:
            digits, text = pick_digits(mnist, count, pick)
            lines.append(list(digits))
            texts.append(text)
        # Each sample draws its looks from its own stream, so restyling one leaves the others.
        rng = np.random.default_rng([seed, i])
        page = photograph(compose_page(lines, sample.page, rng)[0], sample.photo, rng)
        atomic_write(output / sample.name,
                     lambda tmp, page=page: Image.fromarray(page).save(tmp, format="PNG"))
        labels[sample.name] = " ".join(texts)  # the convention of Reading.text
    atomic_write_bytes(output / LABELS_FILE, (json.dumps(labels, indent=2) + "\n").encode())
    return labels


def read_labels(folder: Path = SAMPLES_DIR) -> dict[str, str]:
    """The true text of each sample scan in `folder` (empty if there is none)."""
    path = folder / LABELS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=SAMPLES_DIR)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--mnist-dir", type=Path, default=None,
                        help="folder of the MNIST files (default: $MNIST_DIR, then the cache)")
    args = parser.parse_args(argv)
    labels = write_samples(load_mnist(args.mnist_dir), args.output, args.seed)
    for name, text in labels.items():
        print(f"{args.output / name}: {text!r}")


if __name__ == "__main__":
    main()
