"""Classify segmented ink: every option of every slot in one batch, the best kept.

The reader's last stage (`model.reader`): each piece is normalised MNIST-style
(`model.reader.normalize`) and classified in one `predict_proba` call; a digit not all but
certain is read again from its nudges and averaged; segmentation's alternatives are
weighed by their pieces' averaged log-probabilities and their priors; and each digit is
marked sure only when the network and its likeness to written digits (`model.reader.likeness`)
agree, and not when it may be a piece the crop cut (`model.reader.crop.at_the_sides`: a piece
whose strokes run off the picture's edge goes) or, on a canvas, was cut out of one mark.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from model.reader.crop import at_the_sides
from model.reader.imaging import NoDigitError
from model.reader.ink import InkMap
from model.reader.likeness import looks_like_a_digit, more_stroke_than, nudges
from model.reader.normalize import normalize_digit
from model.reader.options import Option, Slot
from model.reader.pieces import Piece
from model.reader.reading import DigitReading, ProbabilityModel, Reading
from model.reader.slant import Shear
from model.reader.widths import width_prior
from model.settings import SETTINGS

_TINY = 1e-6
# A reading this confident was never made "not sure" by its nudges: not one of 581 such
# held-out USPS train digits, 1,550 USPS test digits or 84 such scribbles (of 1,000; at
# 0.999 one scribble was). Skipping them saves 6 network calls for most digits.
STEADY_ENOUGH = 0.9999
EDGE_KERNEL = np.ones((3, 3), np.uint8)
# Digits cut to their boxes (a picture all ink, `ink.solid_ink`, or a row of cells,
# `cells.boxed_cells`): a piece inked over all of its box, between STRETCHED and
# 1 / STRETCHED as wide as tall and SOLID_MIN_PX tall, is a straight stroke stretched to
# fill it. Boxed so, 79 of USPS's 9,298 digits fill their box, every one a 1. The
# network is shown the stroke as written, an upright bar SOLID_BAR (height, width) as
# MNIST's 1s are, not a filled square; the reading is never marked sure.
STRETCHED = 0.5
SOLID_MIN_PX = 8
SOLID_BAR = (20, 3)
# A piece read as a digit with more stroke than 99.9 % of MNIST's digits of that class
# (`model.reader.likeness.more_stroke_than`) is more likely two digits that touch, read whole
# ("68" as an 8), than one: reading it so costs OVERSTROKED. Tuned on 400 touching pairs
# of MNIST *train* digits: 0: 61.75 %, 0.5: 63.5 %, 1.0: 64.5 %, 2.0: 64.5 %.
OVERSTROKED = 1.0
# A number read with a digit fewer than it may have: where reading a slot as more digits
# scores within COUNT_DOUBT (natural log units) of the reading kept, a digit may have been
# swallowed (a 1 joined to its neighbour by the pen's run-on stroke, read "7"), and the
# slot's digits are never sure. Not on a picture read as one digit: of 2,007 USPS train
# digits read as pictures, 35 sure readings would be doubted so, all right. Tuned on 2,700
# USPS *train* numbers (9 sets), pages sure and right / sure and wrong: never doubted
# 2,045 / 54 (usps-joined 154 / 27); 0.5: 2,034 / 48; 1.0: 2,021 / 41 (141 / 16);
# 1.5: 1,981 / 33; 2.0: 1,927 / 30.
COUNT_DOUBT = 1.0


def classify(shape: tuple[int, ...], ink: InkMap, lines: list[list[Slot]],
             predictor: ProbabilityModel, *, boxed: bool = False, drawn: bool = False,
             shear: Shear | None = None) -> Reading:
    """Classify every option of every slot in one batch and keep the best readings;
    `boxed`: the digits are cut to their boxes (see SOLID_BAR); `drawn`: on a canvas;
    `shear`: what set the ink upright (`model.reader.slant`), the reading is the picture's."""
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
    # Segmentation's alternatives are weighed by their pieces' averaged probabilities,
    # as the digits read are: two touching digits squeezed into one picture are a
    # knife-edge reading that seldom holds when nudged (the `touching` pairs: 47.5 ->
    # 48.5 %). Every piece is in some option, so each is averaged, in one batch.
    averaged = _averaged(predictor, images, proba)
    costs = np.array([OVERSTROKED * more_stroke_than(image, int(mean.argmax()), boxed=boxed)
                      for image, mean in zip(images, averaged, strict=True)])
    picks = [(*_best_option(slot, averaged, costs, index), number)
             for number, line in enumerate(lines) for slot in line]
    chosen = [(piece, number) for option, _, number in picks for piece in option.pieces]
    # On a canvas digits cut out of one mark are never sure: people draw digits apart,
    # and a mark that must be cut is as often a scribble (a row of loops read "6221").
    # Nor are a number's digits that may have swallowed one (COUNT_DOUBT).
    several = len(chosen) > 1
    count_doubted = {id(piece) for option, lead, _ in picks
                     if (drawn and option.cut_apart) or (several and lead < COUNT_DOUBT)
                     for piece in option.pieces}
    # A narrow digit at a crop's side may be a piece of a neighbour the crop cut: it
    # goes where its strokes run off the edge, and is never sure where they touch it.
    cut, touched = (set(), set()) if boxed or drawn else (
        at_the_sides(chosen, ink, ink.mask.shape[1]) if shear is None
        else at_the_sides(chosen, ink, shear.width, shear.leaning_columns))
    chosen = [(piece, number) for piece, number in chosen if id(piece) not in cut]
    if not chosen:
        raise NoDigitError()
    rows = [index[id(piece)] for piece, _ in chosen]
    # Boxes are mapped to the picture's pixels; an upright picture is the wider one.
    height, width = ((math.ceil(n / ink.scale) for n in ink.mask.shape) if shear
                     else shape[:2])
    doubted = touched | count_doubted
    digits = tuple(_digit(piece, mean, images[row], number, ink.scale, (width, height),
                          sure=not (bars[row] or id(piece) in doubted)
                          and _sure(mean, proba[row], images[row], drawn, boxed),
                          bounds_doubted=id(piece) in doubted)
                   for (piece, number), row, mean in zip(chosen, rows, averaged[rows],
                                                         strict=True))
    reading = Reading(digits=digits, width=width, height=height)
    return shear.in_picture(reading, shape) if shear else reading


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


def _best_option(slot: Slot, proba: np.ndarray, costs: np.ndarray,
                 index: dict[int, int]) -> tuple[Option, float]:
    """The option with the highest classifier log-probability plus log-priors, less the
    `costs` of its pieces (per piece, as `proba`), and its lead over the best option
    that reads more digits (infinite: none does)."""
    def score(option: Option) -> float:
        total = option.prior
        for piece in option.pieces:
            row = index[id(piece)]
            digit = int(proba[row].argmax())
            total += math.log(max(float(proba[row, digit]), _TINY)) - costs[row]
            total += width_prior(digit, piece.w / piece.h, slot.writer_width)
        return total

    scores = [score(option) for option in slot.options]
    best = int(np.argmax(scores))
    more = [s for s, option in zip(scores, slot.options, strict=True)
            if len(option.pieces) > len(slot.options[best].pieces)]
    return slot.options[best], scores[best] - max(more, default=-math.inf)


def _sure(probabilities: np.ndarray, own: np.ndarray, image: np.ndarray,
          drawn: bool, boxed: bool) -> bool:
    """`probabilities` averaged over the image and its nudges, `own` the image's alone:
    both must pass the bar, and the image must look like the digit read (`model.reader.likeness`;
    on a canvas, whose strokes are clean, by their ends too; cut to its box, as MNIST's
    digits boxed so look)."""
    digit = int(np.argmax(probabilities))
    return (min(float(probabilities[digit]), float(own[digit])) >= SETTINGS.min_confidence
            and looks_like_a_digit(image, digit, drawn=drawn, boxed=boxed))


def _digit(piece: Piece, probabilities: np.ndarray, image: np.ndarray, line: int,
           scale: float, size: tuple[int, int], sure: bool,
           bounds_doubted: bool) -> DigitReading:
    """The reading of one digit; its box mapped to the decoded picture's pixels."""
    digit = int(np.argmax(probabilities))
    # Working-resolution box -> the decoded picture's pixels, rounded outwards.
    x0, y0 = math.floor(piece.x / scale), math.floor(piece.y / scale)
    x1 = min(size[0], math.ceil((piece.x + piece.w) / scale))
    y1 = min(size[1], math.ceil((piece.y + piece.h) / scale))
    return DigitReading(digit=digit, confidence=float(probabilities[digit]),
                        probabilities=probabilities, box=(x0, y0, x1 - x0, y1 - y0),
                        image=image, sure=sure, line=line, bounds_doubted=bounds_doubted)
