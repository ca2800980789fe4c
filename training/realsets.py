"""Evaluation sets of digits that are not MNIST, for `training.realworld`.

Each generator is seeded and yields `Sample`s: a page (dark ink on light paper) or an
RGBA canvas, and the text on it ("" for a scribble, which holds no digit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def stamp(page: np.ndarray, ink: np.ndarray, y: int, x: int) -> None:
    """Ink (in [0, 1]) onto a page of ink at (y, x), the stronger of the two where they
    meet; what falls past the page's edge is cut off."""
    region = page[y:y + ink.shape[0], x:x + ink.shape[1]]
    np.maximum(region, ink[:region.shape[0], :region.shape[1]], out=region)


def paper_page(rng: np.random.Generator, ink: np.ndarray) -> np.ndarray:
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
                yield Sample(paper_page(rng, ink), str(digit))


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
                yield Sample(on_canvas(mask), str(digit), canvas=True)


def on_canvas(mask: np.ndarray) -> np.ndarray:
    """Black strokes (alpha = mask, uint8) on the draw page's transparent canvas."""
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[..., 3] = mask
    return rgba


def scribble_samples(count: int = 200, seed: int = 0) -> Iterator[Sample]:
    """Things that are not digits, drawn on the canvas like `stroke_samples`: text "".

    Zig-zags, rows of cursive loops, crosses and hashes, and scrawls through 4-6
    random points, 100-220 px wide with the same brushes. A reader should not be
    sure of any of them.
    """
    rng = np.random.default_rng(seed)
    for k in range(count):
        kind = SCRIBBLES[k % len(SCRIBBLES)]
        size = rng.uniform(100, 220)
        paths = [(np.asarray(path) - 0.5) * size for path in kind(rng)]
        centre = CANVAS / 2 + rng.normal(0, 15, 2)
        width = int(rng.choice(BRUSH_WIDTHS))
        mask = np.zeros((CANVAS, CANVAS), np.uint8)
        for path in paths:
            points = np.clip(path + centre, 0, CANVAS - 1).round().astype(np.int32)
            cv2.polylines(mask, [points], False, 255, width, cv2.LINE_AA)
        yield Sample(on_canvas(mask), "", canvas=True)


def _zigzag(rng: np.random.Generator) -> list[np.ndarray]:
    turns = int(rng.integers(4, 7))
    along = np.linspace(0, 1, turns + 1)
    across = np.where(np.arange(turns + 1) % 2, 0.9, 0.1) + rng.normal(0, 0.05, turns + 1)
    path = np.stack([along, across], 1) if rng.random() < 0.5 else np.stack([across, along], 1)
    return [path]


def _loops(rng: np.random.Generator) -> list[np.ndarray]:
    """A row of 3-5 cursive loops (an 'eee' or 'lll' scrawl): a prolate cycloid."""
    loops = int(rng.integers(3, 6))
    t = np.linspace(0, 2 * np.pi * loops, 60 * loops)
    advance = 1 / t[-1]
    loop = advance * rng.uniform(1.5, 3.0)  # > advance: the pen turns back, a loop
    x = advance * t - loop * np.sin(t)
    y = 0.5 - loop * rng.uniform(1.0, 2.5) * np.cos(t)
    return [np.stack([x, y], 1)]


def _cross(rng: np.random.Generator) -> list[np.ndarray]:
    """An X, a +, an asterisk or a hash: 2-4 straight strokes crossing each other."""
    shape = int(rng.integers(0, 3))
    if shape == 2:  # a hash: two pairs of parallel strokes
        lo, hi = rng.uniform(0.2, 0.4), rng.uniform(0.6, 0.8)
        return [np.array([[lo, 0.0], [lo, 1.0]]), np.array([[hi, 0.0], [hi, 1.0]]),
                np.array([[0.0, lo], [1.0, lo]]), np.array([[0.0, hi], [1.0, hi]])]
    count = 2 if shape == 0 else 3
    angles = rng.uniform(0, np.pi) + np.arange(count) * np.pi / count
    ends = 0.5 * np.stack([np.cos(angles), np.sin(angles)], 1)
    return [np.array([0.5 + e, 0.5 - e]) for e in ends]


def _scrawl(rng: np.random.Generator) -> list[np.ndarray]:
    """A pen dragged through 5-7 random points: 4-6 strokes."""
    return [rng.uniform(0, 1, (int(rng.integers(5, 8)), 2))]


SCRIBBLES = (_zigzag, _loops, _cross, _scrawl)


def optdigit_samples(limit: int | None = None) -> Iterator[Sample]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

    digits = load_digits()
    rng = np.random.default_rng(0)
    for image, label in list(zip(digits.images, digits.target, strict=True))[:limit]:
        ink = cv2.resize(image / 16.0, (48, 48), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        yield Sample(paper_page(rng, np.pad(ink, 16)), str(int(label)))


def number_samples(mnist_x: np.ndarray, mnist_y: np.ndarray, count: int = 200,
                   seed: int = 0) -> Iterator[Sample]:
    """Numbers of 2-6 MNIST test digits in ballpoint, photographed (training.synthetic_scans)."""
    from training.synthetic_scans import (
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


def touching_samples(mnist_x: np.ndarray, mnist_y: np.ndarray, count: int = 100,
                     seed: int = 0) -> Iterator[Sample]:
    """Pairs of MNIST test digits slid together until their strokes touch: one mark."""
    from training.synthetic_scans import PhotoStyle, photograph, render_digit, touching_pair

    rng = np.random.default_rng(seed)
    for _ in range(count):
        first, second = rng.choice(len(mnist_x), 2, replace=False)
        height = int(rng.integers(50, 120))
        page = touching_pair(render_digit(mnist_x[first], height),
                             render_digit(mnist_x[second], height),
                             overlap=int(rng.integers(0, 3)))
        photo = PhotoStyle(noise=float(rng.uniform(2, 6)) / 255, blur=0.6)
        yield Sample(photograph(page, photo, rng), f"{mnist_y[first]}{mnist_y[second]}")
