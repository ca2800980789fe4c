"""Pen digits whose strokes come in an order the shipped recipe's synthesiser never draws.

`python -m tests.benchmarks.bench_stroke_orders [--count 80] [--points 8,12] [--model DIR]`.

A pen-digit recording keeps the pen's travel between strokes as ink, so the order and
direction of a digit's strokes change its picture. Each skeleton of `training.skeletons`
draws its strokes one way (a 5's body, then its bar left to right), and the shipped
recipe trains on them so (`--styles-own-orders 0`); this draws them the other ways real
writers might, as evenly resampled trajectories on the canvas
(`training.styles.pen_digit_trajectory`), and prints how many the reader gets right in
one-digit mode, per order, and what the rest read; then, over every style, how many
read right in the synthesiser's orders and with each drawing's strokes in a random
order and direction. Synthetic: it finds faults, it is no
evidence of accuracy (the README's figures for real writers are USPS digits).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable

import numpy as np

from model import Predictor, load_predictor
from model.reader import read_canvas
from training.skeletons import STYLES, Skeleton
from training.styles import Drawing, own_order, pen_digit_trajectory, render, sample_strokes

SEED = 7
HEIGHT = (150, 220)  # px on the 280x280 canvas
BRUSH = 18.0  # the Draw page's default brush in "One digit" mode

# order -> (style, the strokes as the synthesiser draws them -> as this writer does)
ORDERS: dict[str, tuple[str, Callable[[Skeleton], Skeleton]]] = {
    "5: body, bar left to right (the synthesiser's)": ("5", lambda s: [s[0], s[1]]),
    "5: bar left to right, body": ("5", lambda s: [s[1], s[0]]),
    "5: bar right to left, body": ("5", lambda s: [s[1][::-1], s[0]]),
    "5: body, bar right to left": ("5", lambda s: [s[0], s[1][::-1]]),
    "4: stem, then the left stroke and bar": ("4", lambda s: [s[1], s[0]]),
    "open 4: stem, then the left stroke and bar": ("4-open", lambda s: [s[1], s[0]]),
    "crossed 7: bar right to left": ("7-crossed", lambda s: [s[0], s[1][::-1]]),
    "crossed 7: bar, then the 7": ("7-crossed", lambda s: [s[1], s[0]]),
    "European 1: foot right to left": ("1-european", lambda s: [s[0], s[-1][::-1]]),
}


def read_drawing(label: int, style: str, reorder: Callable[[Skeleton], Skeleton],
                 points: int, rng: np.random.Generator, predictor: Predictor) -> str:
    """One drawing of `style`, its strokes put in order by `reorder`, as a `points`-point
    pen trajectory on the canvas, read in one-digit mode ("" for nothing)."""
    # Drawn "with a pen": the skeleton varied (wobble, width, slant, turn) only.
    strokes = reorder(sample_strokes(label, rng, style=style, device="pen").strokes)
    picture = render(Drawing(label, style, [pen_digit_trajectory(strokes, points)], "tablet"),
                     rng, height=float(rng.uniform(*HEIGHT)), pen=BRUSH)
    reading = read_canvas(picture, predictor, single=True)
    return reading.text if reading else ""


def read_orders(count: int, points: int, predictor: Predictor,
                seed: int = SEED) -> dict[str, Counter[str]]:
    """Per order, what `count` drawings of it at `points` points read ("" for nothing)."""
    rng = np.random.default_rng(seed)
    return {name: Counter(read_drawing(STYLES[style][0], style, reorder, points, rng, predictor)
                          for _ in range(count))
            for name, (style, reorder) in ORDERS.items()}


def read_shuffled(count: int, points: int, predictor: Predictor,
                  seed: int = SEED) -> tuple[int, int, int]:
    """Drawings of every style read right, in the synthesiser's stroke orders and with
    the strokes shuffled and each reversed at random; and how many of each were drawn."""
    rng = np.random.default_rng(seed)

    def as_drawn(strokes: Skeleton) -> Skeleton:
        return strokes

    def shuffled(strokes: Skeleton) -> Skeleton:
        return own_order(strokes, rng)

    right: dict[Callable[[Skeleton], Skeleton], int] = {}
    for style, (label, _) in STYLES.items():
        for order in (as_drawn, shuffled):
            right[order] = right.get(order, 0) + sum(
                read_drawing(label, style, order, points, rng, predictor) == str(label)
                for _ in range(count))
    return right[as_drawn], right[shuffled], count * len(STYLES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_stroke_orders",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=80, help="drawings per order")
    parser.add_argument("--points", default="8,12", help="points per trajectory, e.g. 8,12")
    parser.add_argument("--model", default=None, help="model folder (default: shipped)")
    args = parser.parse_args(argv)
    predictor = load_predictor(args.model)
    for points in (int(p) for p in args.points.split(",")):
        print(f"{points} points, {args.count} drawings per order, read in one-digit mode:")
        for name, readings in read_orders(args.count, points, predictor).items():
            label = str(STYLES[ORDERS[name][0]][0])
            wrong = ", ".join(f"{text or 'nothing'} {n}" for text, n in readings.most_common()
                              if text != label)
            print(f"  {name:<48} {readings[label]:>4} right" + (f"; read {wrong}" if wrong else ""))
        own, shuffled, drawn = read_shuffled(args.count, points, predictor)
        print(f"  every style, {drawn} drawings each way: {own} right in the synthesiser's "
              f"orders, {shuffled} with the strokes in random order and direction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
