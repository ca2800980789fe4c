"""usps-notebook: numbers of USPS digits written in exercise books, photographed.

People write numbers in exercise books: on ruled lines, or on squared paper, one digit
in each square or each digit two squares tall. The book's lines are printed light (blue
or grey) and cross every digit that touches them. Each sample is one number of 3-6 USPS
digits of one split (`training.realworld.usps_numbers.number_picks`) on such a page in a blue
ballpoint, a black pen or a pencil (chosen at random), the page turned a little and
saved as a JPEG; read as `model.predict` reads a file and scored as usps-numbers is
(`training.realworld.usps_numbers.numbers_report`).

Every other page has a margin line as well (European exercise books print one, red or
pink, a little in from the page's left edge), darker than the ruling. `ruled=False`
writes the very same pages without their lines (the margin too): what the lines cost
is the difference. Thresholds are tuned on USPS *train* digits; USPS test is the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from training.realsets import Sample, stamp
from training.realworld.usps_numbers import number_picks, write_number
from training.usps_pictures import usps_ink

NOTEBOOK_NUMBERS = 300  # pages in the set (the quick set, for tests: NOTEBOOK_QUICK)
NOTEBOOK_QUICK = 60
RULINGS = ("squared", "squared-tall", "lined")  # one per square, two squares tall, lines
SQUARE_PX = (28, 60)  # the grid's square, pixels
ONE_PER_SQUARE = (0.65, 0.95)  # digit height / square ("squared")
TWO_SQUARES = (1.4, 1.9)  # digit height / square ("squared-tall")
LINE_SPACING = (1.3, 2.0)  # ruled lines apart, in digit heights ("lined")
NUDGE = 0.1  # a digit sits off its square's centre by up to this share of the square
LINE_PX = (1, 2)
LINE_COLOURS = ((0.55, 0.7, 0.9), (0.6, 0.6, 0.6))  # light blue, grey (RGB)
LINE_STRENGTH = (0.5, 1.0)  # how much of its colour a line shows over the paper
Colour = tuple[float, float, float]  # RGB in [0, 1]
INK_PENS: tuple[Colour, ...] = ((0.15, 0.2, 0.55), (0.1, 0.1, 0.12))  # blue ballpoint, black
PENCIL: Colour = (0.5, 0.5, 0.52)  # a school pencil: hardly darker than the grid's grey
PENS = (*INK_PENS, PENCIL)
PAPER = (0.97, 0.97, 0.95)
TILT_DEG = 2.0
GRAIN = 0.01
JPEG_QUALITY = (80, 95)
PAGE_SQUARES = (7, 6)  # paper round the number: squares (or lines) above+below, beside
MARGIN_EVERY = 2  # one page in this many has a margin line
MARGIN_COLOURS = ((0.85, 0.3, 0.3), (0.9, 0.45, 0.55))  # red, pink (RGB), printed solid
MARGIN_AT = (0.25, 0.75)  # ... this share of the paper left of the number in from the edge


def notebook_samples(split: str = "test", count: int = NOTEBOOK_NUMBERS, seed: int = 0,
                     ruled: bool = True, margins: bool = True,
                     pens: tuple[Colour, ...] = PENS) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` in exercise books (RULINGS in turn), each
    in one of `pens`, as decoded JPEG photos (RGB), seeded; `ruled=False`: the same
    pages without lines, `margins=False`: without margin lines."""
    for k, (digits, text, rng) in enumerate(number_picks(split, count, seed)):
        ruling = RULINGS[k % len(RULINGS)]
        page, lines = _write_on_page(digits, ruling, rng)
        # The margin's own generator: the pages without one are the same either way.
        margin = _margin(page, np.random.default_rng([seed, k])) \
            if ruled and margins and k % MARGIN_EVERY else None
        shown = lines if ruled else np.zeros_like(lines)
        yield Sample(_photograph(page, shown, pens, rng, margin), text)


def _write_on_page(digits: list[np.ndarray], ruling: str,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The pen's ink and the book's lines (both in [0, 1]) of one page."""
    square = int(rng.integers(*SQUARE_PX))
    if ruling == "squared":
        height = int(square * rng.uniform(*ONE_PER_SQUARE))
        inks = [usps_ink(d, height) for d in digits]
        number = np.zeros((square, square * len(inks)), np.float32)
        for k, ink in enumerate(inks):
            y = (square - ink.shape[0]) // 2 + _nudge(square, rng)
            x = k * square + (square - ink.shape[1]) // 2 + _nudge(square, rng)
            stamp(number, ink, max(0, y), max(0, x))
        baseline = square  # the number's squares' bottom line
    else:
        number = write_number(digits, rng)
        if ruling == "squared-tall":
            square = max(SQUARE_PX[0] // 2, round(number.shape[0] / rng.uniform(*TWO_SQUARES)))
        else:
            square = round(number.shape[0] * rng.uniform(*LINE_SPACING))
        baseline = number.shape[0]
    above, beside = PAGE_SQUARES
    # The photo's edges fall halfway between the lines, not on one: turned, the page's
    # reflected border then goes on with the lines instead of doubling one along the edge.
    half = square // 2
    top = half + above // 2 * square + (square - baseline % square) % square
    left = half + beside // 2 * square
    ink = np.zeros((top + baseline + above // 2 * square + half, left * 2 + number.shape[1]),
                   np.float32)
    stamp(ink, number, top, left)
    lines = np.zeros_like(ink)
    width = int(rng.integers(LINE_PX[0], LINE_PX[1] + 1))
    for y in range((top + baseline) % square, ink.shape[0], square):
        cv2.line(lines, (0, y), (ink.shape[1], y), 1.0, width)
    if ruling != "lined":
        for x in range(left % square, ink.shape[1], square):
            cv2.line(lines, (x, 0), (x, ink.shape[0]), 1.0, width)
    return ink, lines


def _margin(ink: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A margin line down the page left of the writing, and its colour."""
    left = np.flatnonzero(ink.max(axis=0) > 0)[0]
    line = np.zeros_like(ink)
    x = round(left * rng.uniform(*MARGIN_AT))
    cv2.line(line, (x, 0), (x, ink.shape[0]), 1.0, int(rng.integers(LINE_PX[0], LINE_PX[1] + 1)))
    return line, np.asarray(MARGIN_COLOURS[rng.integers(len(MARGIN_COLOURS))], np.float32)


def _photograph(ink: np.ndarray, lines: np.ndarray, pens: tuple[Colour, ...],
                rng: np.random.Generator,
                margin: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Ink in one of `pens` and lines (and a margin line, with its colour) on paper,
    turned a little, grainy, through a JPEG: RGB uint8."""
    paper = np.asarray(PAPER, np.float32)
    pen = np.asarray(pens[rng.integers(len(pens))], np.float32)
    line = np.asarray(LINE_COLOURS[rng.integers(len(LINE_COLOURS))], np.float32)
    shown = lines * rng.uniform(*LINE_STRENGTH) * (1 - ink)  # the pen covers the print
    page = paper + (pen - paper) * ink[..., None] + (line - paper) * shown[..., None]
    if margin is not None:
        where, colour = margin
        page += (colour - page) * (where * (1 - ink))[..., None]
    rows, cols = ink.shape
    turn = cv2.getRotationMatrix2D((cols / 2, rows / 2), rng.uniform(-TILT_DEG, TILT_DEG), 1)
    page = cv2.warpAffine(page, turn, (cols, rows), borderMode=cv2.BORDER_REFLECT)
    # Grain from a generator of its own, so a page's size does not shift the pages after it.
    grainy = np.random.default_rng(rng.integers(2**32))
    page = np.clip(page + grainy.normal(0, GRAIN, page.shape), 0, 1)
    rgb = (page * 255 + 0.5).astype(np.uint8)
    quality = int(rng.integers(*JPEG_QUALITY))
    jpeg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _nudge(square: int, rng: np.random.Generator) -> int:
    return int(rng.integers(-round(NUDGE * square), round(NUDGE * square) + 1))
