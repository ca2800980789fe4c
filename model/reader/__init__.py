"""The digit reader: one pipeline from any picture to digits, shared by every consumer.

The draw page, the upload page, the CLI, a web service and batch scoring all call
:func:`read_digits` (or :func:`read_canvas` for a drawing canvas), so they agree:

    decode (imaging) -> a dark panel on a light page alone (panels)
    -> find ink (ink) -> drop form lines (rules)
    -> set a scan's row of digits level and upright where it climbs or leans far (slant)
    -> segment (segment, or strokes on a canvas with its strokes)
    -> classify (classify): normalise each digit MNIST-style, one batched
       predict_proba, each digit not all but certain read again from its nudges

This module is the pipeline; each step is a module of this package (`model.reader.ink`
and so on). The pages, the CLI and the scoring scripts need only the names exported here.

Where segmentation is unsure (a group as wide as two digits might be two touching
digits), every alternative is classified in the same batch and the most probable
reading wins, with a prior against inventing digits. What comes back is a
`model.reader.reading.Reading`, exported here with the rest of the reader's public names.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from model.reader.cells import boxed_cells, one_digit_per_cell
from model.reader.classify import classify
from model.reader.faint import sharp_writing, within_reach
from model.reader.imaging import ImageSource, NoDigitError, ReadError, decode_image
from model.reader.ink import InkMap, find_ink, solid_ink
from model.reader.panels import without_the_page
from model.reader.pieces import Piece
from model.reader.polarity import paper_at_edges
from model.reader.reading import DigitReading, ProbabilityModel, Reading
from model.reader.rules import remove_rules
from model.reader.segment import find_marks, segment, writing_alone
from model.reader.slant import is_a_row, leaning
from model.reader.strokes import Stroke, canvas_strokes, covered, drawn, slimmed, stroke_slots

__all__ = ["DigitReading", "NoDigitError", "ProbabilityModel", "ReadError", "Reading",
           "decode_image", "read_canvas", "read_digits", "read_strokes",
           "use_one_core_per_reading"]

# A one-bit scan whose polarity is a close call (`model.reader.polarity.judge_polarity`) is
# read the other way round too, which wins when its least sure digit's log-odds are this
# much higher (e**5 times the odds; on USPS *train* digits boxed, 16x16 and 96x96, either
# way round, and plain 96x96: readings right +51 net at 5, +78 at 1 but then 5 plain
# digits lost, none lost from 5 up). Rechecked once ink over most of a box was a close
# call too: at 0, thin-pen boxes +16-19 of 1,500, but the usual pen's boxes 2,991 ->
# 2,989 of 3,000 (96x96, dark on light) and one more sure and wrong; 5 kept. Short of
# it, the way round that alone reads sure wins, and paper notches at the edges are
# never the ink (`_turned_is_ink`): 3,000 USPS *train* digits boxed, 16x16, 28x28,
# 64x64 and 96x96, each either way round: 23,797 -> 23,842 read right, 6 sure and
# wrong either way; light on dark 11,845 -> 11,883, dark on light 11,952 -> 11,959.
OTHER_POLARITY_LOG_ODDS = 5.0


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
    (:func:`read_strokes`); with `single` all the ink is one digit anyway, and the
    strokes only redraw a digit drawn with a pen too wide for it (`_drawn_again`).
    """
    try:
        if strokes is not None:
            rgba, paths, zoom = _drawn_again(np.asarray(rgba), strokes, canvas_size)
            if not single:
                return _read_paths(rgba, paths, zoom, predictor)
        return _read(decode_image(np.asarray(rgba)), predictor, single, form_lines=False)
    except NoDigitError:
        return None


def _read(gray: np.ndarray, predictor: ProbabilityModel, single: bool,
          form_lines: bool) -> Reading:
    """The pipeline; `form_lines` looks for printed lines (scans and photos, not canvases).

    A scan whose polarity is a close call (a one-bit digit cut to its box, saved dark on
    light or light on dark) is read the other way round too. Where only one way round
    makes a row of boxes (`boxed_cells`, two or more), that is the ink; else the other
    way wins only when its least sure digit is far surer (OTHER_POLARITY_LOG_ODDS)."""
    if form_lines:  # a digit shown as an image inside a figure or screenshot
        gray = without_the_page(gray)
    try:
        ink, solid = find_ink(gray, ruled=form_lines), False
    except NoDigitError:
        all_ink = solid_ink(gray) if form_lines else None  # a scan's stroke filling its box
        if all_ink is None:
            raise
        ink, solid = all_ink, True
    cells = boxed_cells(ink) if form_lines else []
    reading = _read_ink(gray.shape, ink, cells, predictor, single, form_lines, solid)
    if not (form_lines and ink.close_call):
        return reading
    # Either level of a digit stretched to its box may fill the picture, but only the
    # ink makes a row of two boxes or more.
    try:
        turned = find_ink(gray, ruled=True, light_on_dark=not ink.light_on_dark)
        turned_cells = boxed_cells(turned)
        if len(cells) > 1 and len(turned_cells) < 2:
            return reading
        other = _read_ink(gray.shape, turned, turned_cells, predictor, single, form_lines,
                          solid=False)
    except NoDigitError:  # the other way round, nothing is a digit
        return reading
    if len(turned_cells) > 1 and len(cells) < 2:
        return other
    return other if _turned_is_ink(reading, other, ink, turned) else reading


def _turned_is_ink(reading: Reading, other: Reading, ink: InkMap, turned: InkMap) -> bool:
    """Whether a close call's reading the other way round (`other`, of the `turned`
    ink) is the right one: where one level is only what is left of the paper round a
    bold stroke stretched to its box (`paper_at_edges`) and the other is not, the other
    is the ink; else the other way wins when it is far more confident
    (OTHER_POLARITY_LOG_ODDS) or, one bit deep, when it alone is sure and at least as
    confident.

    A 1 stretched to its box is a block of ink notched by paper at its edges; saved
    light on dark, the notches were taken for the ink and read as confident 1s ("11")
    or a 3, and the block's sure "1" fell short of the margin. The sure rule holds one
    bit deep only, where it was measured (boxed digits); its cost there: the paper round
    a thin stroke can pass for a sure digit (a USPS test 7 upscaled to 96x96 read "4")."""
    ink_is_paper = paper_at_edges(ink.mask)
    if ink_is_paper != paper_at_edges(turned.mask):
        return ink_is_paper
    odds = _log_odds(other) - _log_odds(reading)
    alone_sure = other.sure and not reading.sure
    return odds >= OTHER_POLARITY_LOG_ODDS or (ink.one_bit and alone_sure and odds >= 0)


def _log_odds(reading: Reading) -> float:
    """The log-odds of a reading's least sure digit."""
    weakest = min((d.confidence for d in reading.digits), default=0.0)
    weakest = min(max(weakest, 1e-7), 1 - 1e-7)
    return math.log(weakest / (1 - weakest))


def _read_ink(shape: tuple[int, ...], ink: InkMap, cells: list[Piece],
              predictor: ProbabilityModel, single: bool, form_lines: bool,
              solid: bool) -> Reading:
    """Segment and classify the ink found; `cells`: its digits cut to their boxes
    (`boxed_cells`: their bars are no printed lines, each box one digit); `solid`: a
    picture all ink (`solid_ink`)."""
    if form_lines and not cells:
        writing = within_reach(ink, remove_rules(ink.mask, ink.ruled_page, ink.one_bit))
        ink = dataclasses.replace(ink, mask=sharp_writing(ink, writing))
    # A lone box is one digit whole too: a stroke the threshold broke, stretched along a
    # side of its box, is no shading along a border (USPS test digits in a thin pen,
    # broken so: 307 -> 341 of 511 right). Single-digit mode reads a row of boxes as one.
    in_cells = bool(cells) and not (single and len(cells) > 1)
    shear = None
    if in_cells:
        lines = one_digit_per_cell(cells)
    else:
        marks = None
        if form_lines and not single and is_a_row(ink.mask):
            # A scan's row of digits that climbs or leans far is set level and upright
            # (`model.reader.slant`), first less what is no writing for where it lies, found
            # while the edges and upright lines are still so. The lean is measured on the
            # writing alone: a margin line's upright pieces would hide it (5 of 7 leaning
            # USPS test numbers beside one: 0.04-0.10 past a writer's lean, not 0.15-0.22).
            marks = find_marks(ink, scanned=True)
            writing = writing_alone(ink, marks)
            if shear := leaning(writing):
                ink, marks = shear.upright(writing), None
        lines = segment(ink, single=single, cropped=form_lines and not shear, marks=marks)
    return classify(shape, ink, lines, predictor, boxed=in_cells or solid,
                    drawn=not form_lines, shear=shear)


def read_strokes(rgba: np.ndarray, json_data: Mapping[str, Any] | None,
                 predictor: ProbabilityModel, *, canvas_size: tuple[int, int] | None = None
                 ) -> Reading | None:
    """Read a canvas of one or more digits, its strokes grouped into digits by their
    drawing (`model.reader.strokes`): a crossed 7, a 4 in two strokes or a 5 with a loose bar
    stay one digit. `json_data` is the canvas's (its paths, in canvas pixels);
    `canvas_size` (width, height) maps them onto `rgba` when the two differ. Without
    usable strokes the pixels are read as `read_canvas` does. None while blank.
    """
    try:
        rgba, paths, zoom = _drawn_again(np.asarray(rgba), json_data, canvas_size)
        return _read_paths(rgba, paths, zoom, predictor)
    except NoDigitError:
        return None


def _drawn_again(rgba: np.ndarray, json_data: Mapping[str, Any] | None,
                 canvas_size: tuple[int, int] | None) -> tuple[np.ndarray, list[Stroke], float]:
    """The drawing to read, its strokes and the scale from canvas pixels to its pixels.

    A digit drawn with a pen wide beside it is a blob, but its strokes' paths say what
    was drawn: such a digit is drawn again from them with a pen of MNIST's share
    (`model.reader.strokes.slimmed`), where the paths are this drawing's (they cover its ink).
    """
    zoom = 1.0 if canvas_size is None else rgba.shape[1] / max(canvas_size[0], 1)
    strokes = canvas_strokes(json_data)
    slim = slimmed(strokes)
    if slim is None:
        return rgba, strokes, zoom
    ink = find_ink(decode_image(rgba))
    if not covered(ink.mask, strokes, zoom * ink.scale):
        return rgba, strokes, zoom
    return drawn(slim, rgba.shape[:2], zoom), slim, zoom


def _read_paths(rgba: np.ndarray, strokes: list[Stroke], zoom: float,
                predictor: ProbabilityModel) -> Reading:
    """A canvas read digit by digit as its strokes group its ink (`model.reader.strokes`)."""
    gray = decode_image(rgba)
    ink = find_ink(gray)
    lines = stroke_slots(ink.mask, strokes, zoom * ink.scale)
    if lines is None:
        return _read(gray, predictor, False, form_lines=False)
    return classify(gray.shape, ink, lines, predictor, drawn=True)
