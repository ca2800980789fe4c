"""How well are digits read that are NOT MNIST? `python -m training.realworld [--json]`.

MNIST test accuracy says little about a child's digit on a projected canvas or
a pen-written number on a phone photo. This builds evaluation sets from sources
that share nothing with MNIST's writers, and scores the whole reader on them:

- fonts:    digits in the handwriting fonts Debian ships (fonts-bwht, fonts-breip, ...),
            tilted and sized at random, dark ink on off-white paper, read as files are;
- strokes:  OpenCV's Hershey stroke fonts drawn on a transparent 280x280 canvas with
            brush widths from 8 to 36 px: what the draw page receives;
- optdigits: scikit-learn's bundled 8x8 digits (43 other writers), upscaled;
- numbers:  multi-digit numbers composed from MNIST *test* digits on a noisy, tilted,
            unevenly lit page: the share read exactly.

Each set is also run through the naive preprocessing most demos use (resize the
whole image to 28x28 and invert), the "before" against which the reader is judged.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model import Predictor, load_predictor
from model.reader import ReadError, read_canvas, read_digits

FONT_DIRS = ("/usr/share/fonts/opentype", "/usr/share/fonts/truetype")
HANDWRITING_FONTS = ("bwht", "breip", "femkeklaver", "fifthhorseman", "humor-sans",
                     "dancingscript", "comic-neue", "kaushanscript")
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
           cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
           cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_TRIPLEX)
BRUSH_WIDTHS = (8, 14, 22, 36)
CANVAS = 280


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # uint8 page (dark ink on light paper, grey or RGB) or an RGBA canvas
    text: str
    canvas: bool = False


def handwriting_fonts() -> list[Path]:
    """The handwriting-style font files installed (see .ci/run for the Debian packages)."""
    found = []
    for root in FONT_DIRS:
        for family in HANDWRITING_FONTS:
            found += sorted(Path(root, family).glob("*.[ot]tf"))
    return found


def _paper(rng: np.random.Generator, ink: np.ndarray) -> np.ndarray:
    """Dark ink (ink in [0,1], 1 = ink) on light, slightly noisy paper, as uint8."""
    paper = rng.uniform(0.85, 0.97) + rng.normal(0, 0.02, ink.shape)
    page = paper * (1 - ink) + rng.uniform(0.05, 0.25) * ink
    return (np.clip(page, 0, 1) * 255).astype(np.uint8)


def font_samples(seed: int = 0, variants: int = 3) -> Iterator[Sample]:
    rng = np.random.default_rng(seed)
    for path in handwriting_fonts():
        for digit in range(10):
            for _ in range(variants):
                size = int(rng.integers(40, 90))
                font = ImageFont.truetype(str(path), size)
                glyph = Image.new("L", (3 * size, 3 * size), 0)
                ImageDraw.Draw(glyph).text((size, size // 2), str(digit), fill=255, font=font)
                glyph = glyph.rotate(float(rng.uniform(-10, 10)), resample=Image.BICUBIC)
                box = glyph.getbbox()
                if box is None:
                    continue
                ink = np.asarray(glyph.crop(box), np.float32) / 255
                pad = int(rng.integers(12, 40))
                ink = np.pad(ink, pad)
                yield Sample(_paper(rng, ink), str(digit))


def stroke_samples(seed: int = 0) -> Iterator[Sample]:
    """Hershey digits drawn like brush strokes on the draw page's transparent canvas."""
    rng = np.random.default_rng(seed)
    for font in HERSHEY:
        for digit in range(10):
            for width in BRUSH_WIDTHS:
                plain = font == cv2.FONT_HERSHEY_PLAIN  # drawn at half the others' size
                scale = rng.uniform(10, 14) if plain else rng.uniform(5.0, 7.5)
                (w, h), _ = cv2.getTextSize(str(digit), font, scale, width)
                mask = np.zeros((CANVAS, CANVAS), np.uint8)
                x = int(np.clip((CANVAS - w) / 2 + rng.normal(0, 15), 0, CANVAS - w))
                y = int(np.clip((CANVAS + h) / 2 + rng.normal(0, 15), h, CANVAS - 5))
                cv2.putText(mask, str(digit), (x, y), font, scale, 255, width, cv2.LINE_AA)
                rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
                rgba[..., 3] = mask  # black strokes, transparent background
                yield Sample(rgba, str(digit), canvas=True)


def optdigit_samples(limit: int | None = None) -> Iterator[Sample]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

    digits = load_digits()
    rng = np.random.default_rng(0)
    for image, label in list(zip(digits.images, digits.target, strict=True))[:limit]:
        ink = cv2.resize(image / 16.0, (48, 48), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        yield Sample(_paper(rng, np.pad(ink, 16)), str(int(label)))


def number_samples(mnist_x: np.ndarray, mnist_y: np.ndarray, count: int = 200,
                   seed: int = 0) -> Iterator[Sample]:
    """Numbers of 2-6 MNIST test digits in ballpoint, photographed (see training.pages)."""
    from training.pages import (
        BALLPOINT_BLUE,
        WARM_PAPER,
        PageStyle,
        PhotoStyle,
        compose_page,
        photograph,
    )

    rng = np.random.default_rng(seed)
    for _ in range(count):
        idx = rng.choice(len(mnist_x), int(rng.integers(2, 7)), replace=False)
        style = PageStyle(digit_height=int(rng.integers(40, 130)), ink=BALLPOINT_BLUE,
                          paper=WARM_PAPER, gap=float(rng.uniform(0.2, 0.4)),
                          size_jitter=0.08, gap_jitter=0.08)
        photo = PhotoStyle(tilt_deg=float(rng.uniform(-4, 4)), shading=float(rng.uniform(0, 0.35)),
                           noise=float(rng.uniform(2, 9)) / 255, blur=0.8)
        page = photograph(compose_page([list(mnist_x[idx])], style, rng)[0], photo, rng)
        yield Sample(page, "".join(str(int(d)) for d in mnist_y[idx]))


def naive_read(sample: Sample, predictor: Predictor) -> str:
    """The 'before': what a typical tutorial does with an upload.

    Invert, stretch the contrast so the paper is black and the darkest ink white, and
    squeeze the whole picture to 28x28: no cropping, centring or stroke handling.
    """
    image = sample.image
    if sample.canvas:
        grey = 255 - image[..., 3]
    else:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    ink = 255.0 - grey.astype(np.float32)
    paper = np.median(ink)
    ink = np.clip((ink - paper) / max(float(ink.max() - paper), 1.0), 0, 1)
    small = cv2.resize(ink, (28, 28), interpolation=cv2.INTER_AREA)
    return str(int(predictor.predict(small[None])[0]))


def reader_read(sample: Sample, predictor: Predictor) -> str:
    try:
        if sample.canvas:
            reading = read_canvas(sample.image, predictor)
            return reading.text if reading else ""
        return read_digits(sample.image, predictor).text
    except ReadError:
        return ""


def score(samples: list[Sample], read: Callable[[Sample, Predictor], str],
          predictor: Predictor) -> float:
    return float(np.mean([read(s, predictor) == s.text for s in samples])) if samples else 0.0


def build_sets(quick: bool = False) -> dict[str, list[Sample]]:
    from training.data import load_mnist

    mnist = load_mnist()
    return {
        "fonts": list(font_samples(variants=1 if quick else 3)),
        "strokes": list(stroke_samples()),
        "optdigits": list(optdigit_samples(300 if quick else None)),
        "numbers": list(number_samples(mnist.x_test, mnist.y_test, 60 if quick else 300)),
    }


def evaluate_realworld(predictor: Predictor, quick: bool = False) -> dict[str, dict[str, float]]:
    """Exact-read accuracy per set, for the reader and the naive baseline."""
    results = {}
    for name, samples in build_sets(quick).items():
        results[name] = {"n": len(samples), "reader": score(samples, reader_read, predictor)}
        if name != "numbers":  # the naive baseline cannot read several digits at all
            results[name]["naive"] = score(samples, naive_read, predictor)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: shipped)")
    parser.add_argument("--quick", action="store_true", help="smaller sets, for tests")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = evaluate_realworld(load_predictor(args.model), args.quick)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'set':<10} {'n':>5} {'reader':>8} {'naive':>8}")
    for name, r in results.items():
        naive = f"{r['naive']:8.1%}" if "naive" in r else "       –"
        print(f"{name:<10} {r['n']:>5} {r['reader']:8.1%} {naive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
