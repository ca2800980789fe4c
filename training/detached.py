"""Scanned numbers whose digits come in several pieces: a loose bar, a broken stroke.

A 5 whose top bar does not touch its body, a 4 or a 7 written in two strokes that
miss each other, a stroke the scanner broke: the digit arrives as two marks. Here
real handwritten digits (USPS or MNIST) are cut by a straight gap at a random place
and angle until they fall into exactly two pieces, the smaller at least MIN_PIECE of
the ink, and written as numbers with the gaps real writers leave (some close). The
reader must read each cut digit as one digit, and keep real neighbours apart.

    python -m training.detached [--source usps-test] [--count 200]

prints the exact-read rate of the numbers with and without the cuts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import cv2
import numpy as np

from training.form_fields import Source, digit_source, ink_of
from training.synthetic_scans import on_paper

MIN_PIECE = 0.08  # the smaller piece holds at least this share of the ink
MAX_TRIES = 60
GAP = (0.04, 0.1)  # the cut's width, in digit heights
INK = 0.5  # ink strength counted as a stroke


def detach(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The digit cut into exactly two pieces by a straight gap, or None if no cut does."""
    h, w = ink.shape
    for _ in range(MAX_TRIES):
        angle = rng.uniform(0, np.pi)
        centre = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.1, 0.9) * h)
        gap = max(2, round(rng.uniform(*GAP) * h))
        reach = 2 * max(h, w)
        a = (round(centre[0] - reach * np.cos(angle)), round(centre[1] - reach * np.sin(angle)))
        b = (round(centre[0] + reach * np.cos(angle)), round(centre[1] + reach * np.sin(angle)))
        cut = np.zeros((h, w), np.uint8)
        cv2.line(cut, a, b, 1, gap)
        # Only a short stretch of the line, round the centre: a gap in one stroke or two.
        near = np.zeros_like(cut)
        cv2.circle(near, (round(centre[0]), round(centre[1])), round(rng.uniform(0.1, 0.3) * h),
                   1, -1)
        broken = ink * (1 - (cut & near))
        count, _, stats, _ = cv2.connectedComponentsWithStats(
            (broken >= INK).astype(np.uint8), connectivity=8)
        areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
        if count == 3 and areas[1] >= MIN_PIECE * areas.sum():
            return broken
    return None


def number_pages(source: Source, count: int, seed: int = 0
                 ) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(page with cut digits, the same page whole, text): numbers of 3-6 digits, one or
    more of them cut in two."""
    images, labels, usps = digit_source(source)
    rng = np.random.default_rng(seed)
    pages = []
    while len(pages) < count:
        n = int(rng.integers(3, 7))
        height = int(rng.integers(40, 90))
        gap = float(rng.uniform(0.08, 0.45))
        picked = rng.choice(len(labels), n, replace=False)
        whole = [ink_of(images[i], height, usps) for i in picked]
        cut = list(whole)
        for k in rng.choice(n, int(rng.integers(1, n + 1)), replace=False):
            broken = detach(whole[k], rng)
            if broken is not None:
                cut[k] = broken
        if all(c is w for c, w in zip(cut, whole, strict=True)):
            continue
        text = "".join(str(labels[i]) for i in picked)
        pages.append((_write(cut, height, gap), _write(whole, height, gap), text))
    return pages


def _write(inks: Sequence[np.ndarray], height: int, gap: float) -> np.ndarray:
    """Digits side by side on a common baseline, `gap` digit heights apart."""
    space = round(gap * height)
    margin = height // 2
    width = sum(i.shape[1] for i in inks) + space * (len(inks) - 1) + 2 * margin
    strength = np.zeros((max(i.shape[0] for i in inks) + 2 * margin, width), np.float32)
    x = margin
    for ink in inks:
        top = margin + height - ink.shape[0]
        region = strength[top:top + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        x += ink.shape[1] + space
    return on_paper(strength, 0.1, 0.95)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.detached")
    parser.add_argument("--source", default="usps-test",
                        choices=["usps-test", "usps-train", "mnist-train", "mnist-test"])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    from model.predictor import load_predictor
    from model.reader import ReadError, read_digits

    predictor = load_predictor(args.model)

    def text(page: np.ndarray) -> str:
        try:
            return read_digits(page, predictor).text
        except ReadError:
            return ""

    cut_right = whole_right = count_right = 0
    pages = number_pages(args.source, args.count)
    for cut, whole, truth in pages:
        read = text(cut)
        cut_right += read == truth
        count_right += len(read) == len(truth)
        whole_right += text(whole) == truth
    n = len(pages)
    print(f"{n} numbers ({args.source}), read exactly: whole digits {whole_right / n:.1%}, "
          f"with digits cut in two {cut_right / n:.1%} (digit count right {count_right / n:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
