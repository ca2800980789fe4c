"""Printed form fields that vary like real forms, filled with real handwritten digits.

Forms put a number in a row of separate boxes (the commonest), in a comb of ticks,
on an underline, or one digit in a single box. Real forms differ in every measure,
so each field draws its geometry at random: box size relative to the digit, gaps
between boxes, printed line width and darkness, the number of digits, how far the
field is turned (a scan or photo a few degrees askew) and where in its box the
digit sits (a margin of zero touches the box, as careless writers do).

Digits come from USPS (other writers than MNIST's) or MNIST. Tune only on fields of
USPS *train* or MNIST *train* digits; measure and test on USPS *test* digits.

    python -m training.form_fields [--source usps-test] [--count 40] [--json]

prints the reader's exact-read rate per field type, how many readings had the right
number of digits, and how many wrong readings were marked sure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from training.realsets import stamp
from training.synthetic_scans import on_paper, render_digit
from training.usps_pictures import usps_ink

Form = Literal["plain", "boxes", "comb", "underline", "box"]
FORMS: tuple[Form, ...] = ("plain", "boxes", "comb", "underline", "box")
Source = Literal["usps-test", "usps-train", "mnist-train", "mnist-test"]
MAX_DIGITS = 6


@dataclass(frozen=True)
class FieldStyle:
    """The geometry of one printed field; lengths in digit heights unless stated."""

    form: Form
    digit_height: int  # pixels
    box_ratio: float  # box (or comb cell) height / digit height
    box_aspect: float  # box width / box height
    gap: float  # between separate boxes, share of the box width
    line_px: int  # printed line width in pixels
    line_ink: float  # printed line darkness (1 = as dark as the pen)
    tilt_deg: float  # the whole field turned
    offset: tuple[float, float]  # where the digit sits in its cell: -1..1 of the free room
    tick: float  # comb ticks' height, share of the cell height


def random_style(form: Form, rng: np.random.Generator) -> FieldStyle:
    """A field of `form` with every measure drawn from what forms use."""
    return FieldStyle(
        form=form,
        digit_height=int(rng.integers(36, 90)),
        box_ratio=float(rng.uniform(1.1, 1.8)),
        box_aspect=float(rng.uniform(0.7, 1.2)),
        gap=float(rng.uniform(0.05, 0.6)),
        line_px=int(rng.integers(1, 5)),
        line_ink=float(rng.uniform(0.5, 1.0)),
        tilt_deg=float(rng.uniform(-3.0, 3.0)),
        offset=(float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))),
        tick=float(rng.uniform(0.2, 0.5)),
    )


def digit_source(source: Source, mnist_dir: str | None = None
                 ) -> tuple[np.ndarray, np.ndarray, bool]:
    """(images, labels, is_usps) of a source of handwritten digits."""
    if source.startswith("usps"):
        from training.usps import load_usps

        usps = load_usps("test" if source == "usps-test" else "train")
        return usps.images, usps.labels, True
    from training.data import load_mnist

    mnist = load_mnist(mnist_dir)
    if source == "mnist-test":
        return mnist.x_test, mnist.y_test, False
    return mnist.x_train, mnist.y_train, False


def ink_of(image: np.ndarray, height: int, usps: bool) -> np.ndarray:
    return usps_ink(image, height) if usps else render_digit(image, height)


def make_field(inks: Sequence[np.ndarray], style: FieldStyle) -> np.ndarray:
    """Digits (ink strength, already `style.digit_height` tall) in a printed field: uint8."""
    h = style.digit_height
    cell_h = round(style.box_ratio * h)
    cell_w = max(round(style.box_aspect * cell_h), max(i.shape[1] for i in inks) + 2)
    lw = style.line_px
    separate = style.form == "boxes"
    step = cell_w + (round(style.gap * cell_w) if separate else 0)
    margin = h
    width = 2 * margin + step * (len(inks) - 1) + cell_w
    strength = np.zeros((cell_h + 2 * margin, width), np.float32)
    lines = np.zeros_like(strength)
    top = margin
    for k, ink in enumerate(inks):
        left = margin + k * step
        room_x, room_y = cell_w - ink.shape[1], cell_h - ink.shape[0]
        if style.form in ("underline", "plain"):
            room_y = max(0, round(0.15 * h))  # a digit is written just above its line
        x = left + round((1 + style.offset[0]) / 2 * max(room_x, 0))
        y = top + round((1 + style.offset[1]) / 2 * max(room_y, 0))
        stamp(strength, ink, y, x)
        if separate or style.form == "box":
            cv2.rectangle(lines, (left, top), (left + cell_w, top + cell_h), 1.0, lw)
    right, bottom = margin + step * (len(inks) - 1) + cell_w, top + cell_h
    if style.form in ("comb", "underline"):
        start = margin - (0 if style.form == "comb" else round(0.3 * h))
        cv2.line(lines, (start, bottom), (right + (margin - start), bottom), 1.0, lw)
    if style.form == "comb":
        for k in range(len(inks) + 1):
            x = margin + k * cell_w
            cv2.line(lines, (x, bottom), (x, bottom - round(style.tick * cell_h)), 1.0, lw)
    if style.form == "box" and len(inks) > 1:
        cv2.rectangle(lines, (margin, top), (right, bottom), 1.0, lw)
    strength = np.maximum(strength, lines * style.line_ink)
    if style.tilt_deg:
        rows, cols = strength.shape
        turn = cv2.getRotationMatrix2D((cols / 2, rows / 2), style.tilt_deg, 1.0)
        strength = cv2.warpAffine(strength, turn, (cols, rows), flags=cv2.INTER_LINEAR)
    return on_paper(strength, 0.1, 0.95)


def field_set(source: Source, form: Form, count: int, seed: int = 0,
              mnist_dir: str | None = None) -> list[tuple[np.ndarray, str]]:
    """`count` fields of `form` with 1-MAX_DIGITS digits ("box": one digit), with their text."""
    images, labels, usps = digit_source(source, mnist_dir)
    rng = np.random.default_rng([seed, FORMS.index(form)])
    fields = []
    for _ in range(count):
        style = random_style(form, rng)
        n = 1 if form == "box" else int(rng.integers(2, MAX_DIGITS + 1))
        picked = rng.choice(len(labels), n, replace=False)
        inks = [ink_of(images[i], style.digit_height, usps) for i in picked]
        fields.append((make_field(inks, style), "".join(str(labels[i]) for i in picked)))
    return fields


def score(fields: list[tuple[np.ndarray, str]], predictor) -> dict[str, float]:
    """Exact reads, right digit counts, and wrong readings marked sure (shares)."""
    from model.reader import ReadError, read_digits

    exact = count = sure_wrong = 0
    for page, truth in fields:
        try:
            reading = read_digits(page, predictor)
            text, sure = reading.text, reading.sure
        except ReadError:
            text, sure = "", False
        except ValueError:  # a reader bug on an odd field counts as a failure, not a crash
            text, sure = "?error", False
        exact += text == truth
        count += len(text) == len(truth)
        sure_wrong += text != truth and sure
    n = max(len(fields), 1)
    return {"exact": exact / n, "count_right": count / n, "wrong_and_sure": sure_wrong / n,
            "n": len(fields)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.form_fields",
                                     description="Score the reader on varied form fields.")
    parser.add_argument("--source", default="usps-test",
                        choices=["usps-test", "usps-train", "mnist-train", "mnist-test"])
    parser.add_argument("--count", type=int, default=40, help="fields per type")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="model folder (default: shipped)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from model.predictor import load_predictor

    predictor = load_predictor(args.model)
    results = {form: score(field_set(args.source, form, args.count, args.seed), predictor)
               for form in FORMS}
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{'field':10} {'exact':>7} {'count ok':>9} {'wrong+sure':>11}   ({args.source})")
        for form, r in results.items():
            print(f"{form:10} {r['exact']:7.1%} {r['count_right']:9.1%} "
                  f"{r['wrong_and_sure']:11.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
