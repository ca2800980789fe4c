"""The digit reader: one pipeline from any picture to digits, shared by every consumer.

The draw page, the upload page, the CLI, a web service and batch scoring all call
:func:`read_digits` (or :func:`read_canvas` for a drawing canvas), so they agree:

    decode (model.imaging) -> find ink (model.ink) -> drop form lines (model.rules)
    -> segment (model.segment)
    -> normalise each digit MNIST-style (model.normalize) -> one batched predict_proba
    -> each digit not all but certain read again from its nudges, and averaged

Where segmentation is unsure (a group as wide as two digits might be two touching
digits), every alternative is classified in the same batch and the most probable
reading wins, with a prior against inventing digits.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from model.imaging import ImageSource, NoDigitError, ReadError, decode_image
from model.ink import InkMap, find_ink, solid_ink
from model.likeness import looks_like_a_digit, nudges
from model.normalize import normalize_digit
from model.options import Option, Slot, width_prior
from model.pieces import Piece
from model.rules import remove_rules
from model.segment import boxed_cells, one_digit_per_cell, segment
from model.settings import SETTINGS
from model.strokes import canvas_strokes, stroke_slots

__all__ = ["DigitReading", "NoDigitError", "ReadError", "Reading", "decode_image",
           "read_canvas", "read_digits", "read_strokes"]

_TINY = 1e-6
# A reading this confident was never made "not sure" by its nudges: not one of 581 such
# held-out USPS train digits, 1,550 USPS test digits or 84 such scribbles (of 1,000; at
# 0.999 one scribble was). Skipping them saves 6 network calls for most digits.
STEADY_ENOUGH = 0.9999
EDGE_KERNEL = np.ones((3, 3), np.uint8)
# Digits cut to their boxes (a picture all ink, `ink.solid_ink`, or a row of cells,
# `segment.boxed_cells`): a piece inked over all of its box, between STRETCHED and
# 1 / STRETCHED as wide as tall and SOLID_MIN_PX tall, is a straight stroke stretched to
# fill it. Boxed so, 79 of USPS's 9,298 digits fill their box, every one a 1. The
# network is shown the stroke as written, an upright bar SOLID_BAR (height, width) as
# MNIST's 1s are, not a filled square; the reading is never marked sure.
STRETCHED = 0.5
SOLID_MIN_PX = 8
SOLID_BAR = (20, 3)
# A one-bit scan whose polarity is a close call (`model.polarity.judge_polarity`) is
# read the other way round too, which wins when its least sure digit's log-odds are this
# much higher (e**5 times the odds; on USPS *train* digits boxed, 16x16 and 96x96, either
# way round, and plain 96x96: readings right +51 net at 5, +78 at 1 but then 5 plain
# digits lost, none lost from 5 up).
OTHER_POLARITY_LOG_ODDS = 5.0


class ProbabilityModel(Protocol):
    """Anything with model.Predictor's `predict_proba`: (N, 28, 28) float32 -> (N, 10)."""

    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class DigitReading:
    """One digit as read: the class, how sure, where it is and what the network saw."""

    digit: int
    confidence: float  # the top probability
    # (10,) float32: the network's on `image`, averaged with its nudges' unless all but certain
    probabilities: np.ndarray
    box: tuple[int, int, int, int]  # x, y, w, h in the decoded picture's pixels
    image: np.ndarray  # (28, 28) float32 in [0, 1], white on black: the network's input
    sure: bool  # False below SETTINGS.min_confidence or unlike any digit: show "not sure"
    line: int  # 0-based text line

    @property
    def unusual(self) -> bool:
        """Not sure although the reading is confident: the shape is unlike written digits
        of its class (`model.likeness`), or the picture alone is less sure than its nudges."""
        return not self.sure and self.confidence >= SETTINGS.min_confidence


@dataclass(frozen=True)
class Reading:
    """All digits of a picture in reading order: line by line, left to right."""

    digits: tuple[DigitReading, ...]
    width: int  # of the decoded picture
    height: int

    @property
    def lines(self) -> tuple[str, ...]:
        """The text of each line."""
        count = max((d.line for d in self.digits), default=-1) + 1
        return tuple("".join(str(d.digit) for d in self.digits if d.line == i)
                     for i in range(count))

    @property
    def text(self) -> str:
        """Digits of a line joined with no separator, lines joined by one space: "4071 12"."""
        return " ".join(self.lines)

    @property
    def sure(self) -> bool:
        """True when every digit is sure."""
        return all(d.sure for d in self.digits)


def use_one_core_per_reading() -> None:
    """Keep OpenCV's work on the reading's own thread, for the whole process.

    For servers that read many small pictures side by side (scoring workers, the app's
    sessions): OpenCV's pool spread each small filter over all cores, which cost a
    scoring request 4.9 ms of CPU instead of 3.0 ms for the same wall time, CPU the
    requests beside it were waiting for.
    """
    cv2.setNumThreads(1)


def read_digits(source: ImageSource, predictor: ProbabilityModel, *,
                single: bool = False) -> Reading:
    """Read every digit of a picture (path, bytes, PIL image or array).

    `single=True` reads all the picture's ink as one digit. Raises ReadError (one
    sentence for the user) for unreadable input and NoDigitError when there is no digit.
    """
    return _read(decode_image(source), predictor, single, form_lines=True)


def read_canvas(rgba: np.ndarray, predictor: ProbabilityModel, *,
                single: bool = False, strokes: Mapping[str, Any] | None = None,
                canvas_size: tuple[int, int] | None = None) -> Reading | None:
    """Read a drawing canvas (H, W, 4) uint8; None while it is blank.

    Transparent pixels count as paper whatever the stroke colour, so the canvas may
    return its strokes on a transparent or on a painted background. A canvas has no
    printed lines, so that step (the costliest per stroke) is skipped. `strokes`, the
    canvas's `json_data`, groups the ink into digits by its pen strokes
    (:func:`read_strokes`); with `single` all the ink is one digit anyway.
    """
    if strokes is not None and not single:
        return read_strokes(rgba, strokes, predictor, canvas_size=canvas_size)
    try:
        return _read(decode_image(np.asarray(rgba)), predictor, single, form_lines=False)
    except NoDigitError:
        return None


def _read(gray: np.ndarray, predictor: ProbabilityModel, single: bool,
          form_lines: bool) -> Reading:
    """The pipeline; `form_lines` looks for printed lines (scans and photos, not canvases).

    A scan whose polarity is a close call (a one-bit digit cut to its box, saved dark on
    light or light on dark) is read the other way round too, which wins only when its
    least sure digit is far surer (OTHER_POLARITY_LOG_ODDS)."""
    try:
        ink, solid = find_ink(gray, ruled=form_lines), False
    except NoDigitError:
        all_ink = solid_ink(gray) if form_lines else None  # a scan's stroke filling its box
        if all_ink is None:
            raise
        ink, solid = all_ink, True
    reading = _read_ink(gray.shape, ink, predictor, single, form_lines, solid)
    if not (form_lines and ink.close_call):
        return reading
    try:
        turned = find_ink(gray, ruled=True, light_on_dark=not ink.light_on_dark)
    except NoDigitError:
        return reading
    other = _read_ink(gray.shape, turned, predictor, single, form_lines, solid=False)
    surer = _log_odds(other) - _log_odds(reading) >= OTHER_POLARITY_LOG_ODDS
    return other if surer else reading


def _log_odds(reading: Reading) -> float:
    """The log-odds of a reading's least sure digit."""
    weakest = min((d.confidence for d in reading.digits), default=0.0)
    weakest = min(max(weakest, 1e-7), 1 - 1e-7)
    return math.log(weakest / (1 - weakest))


def _read_ink(shape: tuple[int, ...], ink: InkMap, predictor: ProbabilityModel,
              single: bool, form_lines: bool, solid: bool) -> Reading:
    """Segment and classify the ink found; `solid`: a picture all ink (`solid_ink`)."""
    # Digits cut to their boxes: their bars are no printed lines, each box one digit.
    cells = boxed_cells(ink) if form_lines else []
    if form_lines and not cells:
        ink = dataclasses.replace(ink, mask=remove_rules(ink.mask))
    in_cells = len(cells) > 1 and not single
    # Else one box is all the picture's marks, as single-digit mode takes them, which
    # drops faint smudges along the edges (10 more of 2,007 usps96 digits right).
    lines = one_digit_per_cell(cells) if in_cells else segment(ink, single=single or bool(cells))
    return _classify(shape, ink, lines, predictor, boxed=in_cells or solid,
                     drawn=not form_lines)


def read_strokes(rgba: np.ndarray, json_data: Mapping[str, Any] | None,
                 predictor: ProbabilityModel, *, canvas_size: tuple[int, int] | None = None
                 ) -> Reading | None:
    """Read a canvas of one or more digits, its strokes grouped into digits by their
    drawing (`model.strokes`): a crossed 7, a 4 in two strokes or a 5 with a loose bar
    stay one digit. `json_data` is the canvas's (its paths, in canvas pixels);
    `canvas_size` (width, height) maps them onto `rgba` when the two differ. Without
    usable strokes the pixels are read as `read_canvas` does. None while blank.
    """
    try:
        gray = decode_image(np.asarray(rgba))
        ink = find_ink(gray)
        zoom = 1.0 if canvas_size is None else gray.shape[1] / max(canvas_size[0], 1)
        lines = stroke_slots(ink.mask, canvas_strokes(json_data), zoom * ink.scale)
        if lines is None:
            return _read(gray, predictor, False, form_lines=False)
        return _classify(gray.shape, ink, lines, predictor, drawn=True)
    except NoDigitError:
        return None


def _classify(shape: tuple[int, ...], ink: InkMap, lines: list[list[Slot]],
              predictor: ProbabilityModel, *, boxed: bool = False,
              drawn: bool = False) -> Reading:
    """Classify every option of every slot in one batch and keep the best readings;
    `boxed`: the digits are cut to their boxes (see SOLID_BAR); `drawn`: on a canvas."""
    pieces: list[Piece] = []
    index: dict[int, int] = {}
    for line in lines:
        for slot in line:
            for option in slot.options:
                for piece in option.pieces:
                    if id(piece) not in index:
                        index[id(piece)] = len(pieces)
                        pieces.append(piece)
    if not pieces:  # every mark was a dash or a dot
        raise NoDigitError()
    bars = [boxed and _solid(p) for p in pieces]
    stroke = np.ones(SOLID_BAR, np.float32)
    images = np.stack([normalize_digit(stroke if bar else _digit_ink(ink, p))
                       for p, bar in zip(pieces, bars, strict=True)])
    proba = np.asarray(predictor.predict_proba(images), dtype=np.float32)
    chosen = [(piece, number) for number, line in enumerate(lines) for slot in line
              for piece in _best_option(slot, proba, index).pieces]
    if not chosen:
        raise NoDigitError()
    rows = [index[id(piece)] for piece, _ in chosen]
    averaged = _averaged(predictor, images[rows], proba[rows])
    height, width = shape[:2]
    digits = tuple(_digit(piece, mean, images[row], number, ink.scale, (width, height),
                          sure=not bars[row] and _sure(mean, proba[row], images[row], drawn))
                   for (piece, number), row, mean in zip(chosen, rows, averaged, strict=True))
    return Reading(digits=digits, width=width, height=height)


def _averaged(predictor: ProbabilityModel, images: np.ndarray,
              proba: np.ndarray) -> np.ndarray:
    """Each digit's probabilities averaged over its image and the image's six nudges.

    A digit the network is all but certain of (STEADY_ENOUGH) keeps its own. For the
    rest the average reads an ambiguous digit better than its one picture (test-time
    augmentation: USPS test numbers 87.3 -> 88.0 %), and tells a real digit, which keeps
    its class when moved or turned a little, from the knife-edge reading of a scribble.
    """
    averaged = proba.copy()
    keep = np.flatnonzero(proba.max(axis=1) < STEADY_ENOUGH)
    if len(keep):
        moved = nudges(images[keep])
        count, kinds = moved.shape[:2]
        nudged = np.asarray(predictor.predict_proba(
            moved.reshape(count * kinds, *moved.shape[2:])), dtype=np.float32
        ).reshape(count, kinds, -1)
        averaged[keep] = (proba[keep] + nudged.sum(axis=1)) / (kinds + 1)
    return averaged


def _digit_ink(ink: InkMap, piece: Piece) -> np.ndarray:
    """The piece's ink with its soft edges (one pixel round its mask), nothing else."""
    near = cv2.dilate(piece.mask.astype(np.uint8), EDGE_KERNEL)
    return ink.ink[piece.y:piece.y + piece.h, piece.x:piece.x + piece.w] * near


def _solid(piece: Piece) -> bool:
    """Ink over its whole box, squarish and not tiny: in a boxed cell, a stretched stroke."""
    return (STRETCHED * piece.h <= piece.w <= piece.h / STRETCHED
            and piece.h >= SOLID_MIN_PX and bool(piece.mask.all()))


def _best_option(slot: Slot, proba: np.ndarray, index: dict[int, int]) -> Option:
    """The option with the highest classifier log-probability plus log-priors."""
    def score(option: Option) -> float:
        total = option.prior
        for piece in option.pieces:
            probabilities = proba[index[id(piece)]]
            digit = int(probabilities.argmax())
            total += math.log(max(float(probabilities[digit]), _TINY))
            total += width_prior(digit, piece.w / piece.h, slot.writer_width)
        return total

    return max(slot.options, key=score)


def _sure(probabilities: np.ndarray, own: np.ndarray, image: np.ndarray,
          drawn: bool) -> bool:
    """`probabilities` averaged over the image and its nudges, `own` the image's alone:
    both must pass the bar, and the image must look like the digit read (`model.likeness`;
    on a canvas, whose strokes are clean, by their ends too)."""
    digit = int(np.argmax(probabilities))
    return (min(float(probabilities[digit]), float(own[digit])) >= SETTINGS.min_confidence
            and looks_like_a_digit(image, digit, drawn=drawn))


def _digit(piece: Piece, probabilities: np.ndarray, image: np.ndarray, line: int,
           scale: float, size: tuple[int, int], sure: bool) -> DigitReading:
    """The reading of one digit; its box mapped to the decoded picture's pixels."""
    digit = int(np.argmax(probabilities))
    # Working-resolution box -> the decoded picture's pixels, rounded outwards.
    x0, y0 = math.floor(piece.x / scale), math.floor(piece.y / scale)
    x1 = min(size[0], math.ceil((piece.x + piece.w) / scale))
    y1 = min(size[1], math.ceil((piece.y + piece.h) / scale))
    return DigitReading(digit=digit, confidence=float(probabilities[digit]),
                        probabilities=probabilities, box=(x0, y0, x1 - x0, y1 - y0),
                        image=image, sure=sure, line=line)
