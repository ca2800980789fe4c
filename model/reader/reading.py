"""What the reader returns: each digit read, and all the digits of a picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model.settings import SETTINGS


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
    # Not sure where the digit ends: its mark may hold two digits read as one, it may be
    # part of a neighbour the picture's edge cut, or it was cut out of one drawn mark.
    bounds_doubted: bool = False

    @property
    def unusual(self) -> bool:
        """Not sure although the reading is confident and its bounds are not in doubt: the
        shape is unlike written digits of its class (`model.reader.likeness`), or the picture
        alone is less sure than its nudges."""
        return (not self.sure and not self.bounds_doubted
                and self.confidence >= SETTINGS.min_confidence)


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
