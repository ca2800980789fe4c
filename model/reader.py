"""The digit reader: one pipeline from any picture to digits, shared by every consumer.

The draw page, the upload page, the CLI, a web service and batch scoring all call
:func:`read_digits` (or :func:`read_canvas` for a drawing canvas), so they agree:

    decode (model.imaging) -> find ink (model.ink) -> segment (model.segment)
    -> normalise each digit MNIST-style (model.normalize) -> one batched predict_proba

Where segmentation is unsure (a group as wide as two digits might be two touching
digits), every alternative is classified in the same batch and the most probable
reading wins, with a prior against inventing digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from model.imaging import ImageSource, NoDigitError, ReadError, decode_image
from model.ink import InkMap, find_ink
from model.normalize import normalize_digit
from model.options import Option, Slot
from model.pieces import Piece
from model.segment import segment
from model.settings import SETTINGS

__all__ = ["DigitReading", "NoDigitError", "ReadError", "Reading", "decode_image",
           "read_canvas", "read_digits"]

_TINY = 1e-6
# A network without a "not a digit" class can be sure of a scribble. What it saw is
# checked against MNIST itself (10,000 training digits, normalised like ours): 99 %
# have at most two enclosed holes and 99.8 % have an ink mass (sum of the 28x28
# image) between 29 and 191. Outside either, a reading is never "sure".
MAX_HOLES = 2
MIN_HOLE_AREA = 2.0
INK_MASS_RANGE = (29.0, 191.0)
EDGE_KERNEL = np.ones((3, 3), np.uint8)


class ProbabilityModel(Protocol):
    """Anything with model.Predictor's `predict_proba`: (N, 28, 28) float32 -> (N, 10)."""

    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class DigitReading:
    """One digit as read: the class, how sure, where it is and what the network saw."""

    digit: int
    confidence: float  # the top probability
    probabilities: np.ndarray  # (10,) float32
    box: tuple[int, int, int, int]  # x, y, w, h in the decoded picture's pixels
    image: np.ndarray  # (28, 28) float32 in [0, 1], white on black: the network's input
    sure: bool  # False below SETTINGS.min_confidence or unlike any digit: show "not sure"
    line: int  # 0-based text line


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


def read_digits(source: ImageSource, predictor: ProbabilityModel, *,
                single: bool = False) -> Reading:
    """Read every digit of a picture (path, bytes, PIL image or array).

    `single=True` reads all the picture's ink as one digit. Raises ReadError (one
    sentence for the user) for unreadable input and NoDigitError when there is no digit.
    """
    return _read(decode_image(source), predictor, single)


def read_canvas(rgba: np.ndarray, predictor: ProbabilityModel, *,
                single: bool = False) -> Reading | None:
    """Read a drawing canvas (H, W, 4) uint8; None while it is blank.

    Transparent pixels count as paper whatever the stroke colour, so the canvas may
    return its strokes on a transparent or on a painted background.
    """
    try:
        return _read(decode_image(np.asarray(rgba)), predictor, single)
    except NoDigitError:
        return None


def _read(gray: np.ndarray, predictor: ProbabilityModel, single: bool) -> Reading:
    ink = find_ink(gray)
    lines = segment(ink, single=single)
    pieces: list[Piece] = []
    index: dict[int, int] = {}
    for line in lines:
        for slot in line:
            for option in slot.options:
                for piece in option.pieces:
                    if id(piece) not in index:
                        index[id(piece)] = len(pieces)
                        pieces.append(piece)
    images = np.stack([normalize_digit(_digit_ink(ink, p)) for p in pieces])
    proba = np.asarray(predictor.predict_proba(images), dtype=np.float32)
    height, width = gray.shape
    digits: list[DigitReading] = []
    for number, line in enumerate(lines):
        for slot in line:
            for piece in _best_option(slot, proba, index).pieces:
                row = index[id(piece)]
                digits.append(_digit(piece, proba[row], images[row], number, ink.scale,
                                     (width, height)))
    if not digits:
        raise NoDigitError()
    return Reading(digits=tuple(digits), width=width, height=height)


def _digit_ink(ink: InkMap, piece: Piece) -> np.ndarray:
    """The piece's ink with its soft edges (one pixel round its mask), nothing else."""
    near = cv2.dilate(piece.mask.astype(np.uint8), EDGE_KERNEL)
    return ink.ink[piece.y:piece.y + piece.h, piece.x:piece.x + piece.w] * near


def _best_option(slot: Slot, proba: np.ndarray, index: dict[int, int]) -> Option:
    """The option with the highest classifier log-probability plus geometric log-prior."""
    def score(option: Option) -> float:
        top = [float(proba[index[id(p)]].max()) for p in option.pieces]
        return sum(math.log(max(t, _TINY)) for t in top) + option.prior

    return max(slot.options, key=score)


def _digit(piece: Piece, probabilities: np.ndarray, image: np.ndarray, line: int,
           scale: float, size: tuple[int, int]) -> DigitReading:
    digit = int(np.argmax(probabilities))
    confidence = float(probabilities[digit])
    # Working-resolution box -> the decoded picture's pixels, rounded outwards.
    x0, y0 = math.floor(piece.x / scale), math.floor(piece.y / scale)
    x1 = min(size[0], math.ceil((piece.x + piece.w) / scale))
    y1 = min(size[1], math.ceil((piece.y + piece.h) / scale))
    sure = confidence >= SETTINGS.min_confidence and looks_like_a_digit(image)
    return DigitReading(digit=digit, confidence=confidence, probabilities=probabilities,
                        box=(x0, y0, x1 - x0, y1 - y0), image=image, sure=sure, line=line)


def looks_like_a_digit(image: np.ndarray) -> bool:
    """Whether a normalised 28x28 image is within what MNIST digits look like."""
    mass = float(image.sum())
    if not INK_MASS_RANGE[0] <= mass <= INK_MASS_RANGE[1]:
        return False
    contours, hierarchy = cv2.findContours((image >= 0.5).astype(np.uint8), cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = sum(1 for contour, link in zip(contours, hierarchy[0], strict=True)
                if link[3] >= 0 and cv2.contourArea(contour) >= MIN_HOLE_AREA)
    return holes <= MAX_HOLES
