"""Real MNIST test digits turned into the inputs people give the app.

`render_page` writes digits as dark ink on off-white paper (slight tilt, uneven
lighting, sensor noise, a touch of blur), like a phone photo of a handwritten
number; `canvas_drawing` renders them as black ink on a transparent RGBA array,
like the draw page's canvas returns. Digits are drawn from the MNIST *test* set,
which no model here was trained on.

`python -m training.samples` writes the app's sample scans to assets/samples/
(PNG files plus labels.json with the true text of each, lines separated by one
space like `Reading.text`); the same seed always gives the same files.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from model.files import atomic_write, atomic_write_bytes
from model.settings import PROJECT_DIR
from training.data import Mnist, load_mnist

SAMPLES_DIR = PROJECT_DIR / "assets" / "samples"
LABELS_FILE = "labels.json"
DEFAULT_SEED = 0

PAPER_RGB = np.array([241, 237, 226], np.float32)  # off-white, slightly warm
INK_RGB = np.array([28, 32, 58], np.float32)  # blue-black ballpoint
MARGIN = 60  # paper around the writing, in page pixels
LINE_GAP = 0.45  # blank space between lines, as a fraction of the digit height
INK_THRESHOLD = 40  # MNIST grey level that counts as ink when cropping a digit

# On the canvas MNIST's 20-pixel digit box becomes 20/28 of the canvas height.
CANVAS_DIGIT_FRACTION = 20 / 28
# Strokes on the canvas are solid with soft edges; MNIST's upscaled grey ramp is
# mapped onto that: below LOW is paper, above HIGH full ink.
CANVAS_ALPHA_LOW, CANVAS_ALPHA_HIGH = 0.25, 0.6


@dataclass(frozen=True)
class Sample:
    """One sample scan: its file name, the lines of digits on it, and how it is shot."""

    name: str
    lines: tuple[int, ...]  # how many digits on each line
    digit_height: int  # page pixels
    tilt_degrees: float
    lighting: float  # 0 = flat light, 1 = one corner at about half brightness
    noise: float  # standard deviation of the sensor noise, in grey levels


SAMPLES: tuple[Sample, ...] = (
    Sample("house_number.png", (3,), 120, -2.5, 0.35, 5.0),
    Sample("invoice_total.png", (6,), 80, 1.5, 0.55, 7.0),
    Sample("two_line_note.png", (4, 5), 84, 3.0, 0.45, 6.0),
    Sample("single_digit.png", (1,), 150, -4.0, 0.3, 5.0),
)


def _ink_crop(digit: np.ndarray) -> np.ndarray:
    """The digit's ink, cropped to its bounding box, as floats in [0, 1]."""
    rows = np.flatnonzero((digit > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((digit > INK_THRESHOLD).any(axis=0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return crop.astype(np.float32) / 255.0


def _resize_to_height(ink: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return cv2.resize(ink, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _ink_layer(lines: Sequence[Sequence[np.ndarray]], digit_height: int,
               rng: np.random.Generator) -> np.ndarray:
    """Ink coverage of a page holding `lines` of MNIST digits, with handwriting jitter."""
    placed: list[tuple[int, int, np.ndarray]] = []  # (top, left, ink)
    top = MARGIN
    for line in lines:
        left = MARGIN
        for digit in line:
            height = round(digit_height * rng.uniform(0.9, 1.08))
            ink = _resize_to_height(_ink_crop(digit), height)
            dy = round(rng.uniform(-0.06, 0.06) * digit_height)
            placed.append((top + dy + (digit_height - height), left, ink))
            left += ink.shape[1] + round(rng.uniform(0.18, 0.35) * digit_height)
        top += round(digit_height * (1 + LINE_GAP))
    height = top - round(digit_height * LINE_GAP) + MARGIN
    width = max(x + ink.shape[1] for _, x, ink in placed) + MARGIN
    layer = np.zeros((height, width), np.float32)
    for y, x, ink in placed:
        region = layer[y : y + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0]], out=region)
    return layer


def _lighting(shape: tuple[int, int], strength: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth brightness field: one corner darker, as under a desk lamp."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = rng.uniform(-0.3, 1.3) * h, rng.uniform(-0.3, 1.3) * w
    dist = np.hypot((yy - cy) / h, (xx - cx) / w)
    return 1.0 - strength * 0.5 * (dist / dist.max()) ** 1.5


def render_page(lines: Sequence[Sequence[np.ndarray]], *, digit_height: int = 96,
                tilt_degrees: float = 0.0, lighting: float = 0.4, noise: float = 6.0,
                seed: int = DEFAULT_SEED) -> np.ndarray:
    """An RGB uint8 photo of `lines` of MNIST digits (uint8 28x28, white on black) on paper."""
    rng = np.random.default_rng(seed)
    ink = _ink_layer(lines, digit_height, rng)
    h, w = ink.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), tilt_degrees, 1.0)
    ink = cv2.warpAffine(ink, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    ink = cv2.GaussianBlur(ink, (0, 0), 0.8)[..., None]  # camera softness
    page = PAPER_RGB * (1 - ink) + INK_RGB * ink
    page *= _lighting((h, w), lighting, rng)[..., None]
    page += rng.normal(0.0, noise, page.shape)
    return page.clip(0, 255).astype(np.uint8)


def canvas_drawing(digits: Sequence[np.ndarray], height: int = 280,
                   width: int | None = None) -> np.ndarray:
    """MNIST digits as the draw page's canvas returns them: RGBA, black ink, transparent paper.

    One digit on a square canvas fills it like MNIST fills 28x28; several are
    written side by side on a canvas `width` pixels wide (default: just wide enough).
    """
    scale = height / 28
    side = round(28 * scale)
    width = width or side * len(digits)
    alpha = np.zeros((height, width), np.float32)
    step = width / len(digits)
    for i, digit in enumerate(digits):
        big = cv2.resize(digit.astype(np.float32) / 255, (side, side),
                         interpolation=cv2.INTER_LINEAR)
        left = round(i * step + (step - side) / 2)
        region = alpha[:, max(0, left) : left + side]
        np.maximum(region, big[:, : region.shape[1]], out=region)
    alpha = ((alpha - CANVAS_ALPHA_LOW) / (CANVAS_ALPHA_HIGH - CANVAS_ALPHA_LOW)).clip(0, 1)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    return rgba


def pick_digits(mnist: Mnist, count: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """`count` random MNIST test digits and their true text."""
    index = rng.choice(len(mnist.x_test), size=count, replace=False)
    text = "".join(str(int(label)) for label in mnist.y_test[index])
    return mnist.x_test[index], text


def write_samples(mnist: Mnist, output: Path = SAMPLES_DIR,
                  seed: int = DEFAULT_SEED) -> dict[str, str]:
    """Render every sample in SAMPLES into `output`; returns {file name: true text}."""
    rng = np.random.default_rng(seed)
    labels: dict[str, str] = {}
    for i, sample in enumerate(SAMPLES):
        lines, texts = [], []
        for count in sample.lines:
            digits, text = pick_digits(mnist, count, rng)
            lines.append(list(digits))
            texts.append(text)
        page = render_page(lines, digit_height=sample.digit_height,
                           tilt_degrees=sample.tilt_degrees, lighting=sample.lighting,
                           noise=sample.noise, seed=seed * 1000 + i)
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
