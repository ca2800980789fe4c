"""usps-numbers: numbers of 3-6 USPS digits as real writers' numbers on a scan, scored.

`training.realworld --sets usps-numbers` reads them as `python -m model.predict` reads a
file (the page as PNG bytes, any number of digits) and scores exact reads, the digit
count, numbers marked sure but wrong, and the failures by kind: "split" (more digits
read than written: a wide digit cut in two, a loose piece read as a digit), "merged"
(fewer: neighbours read as one) and "misread". Thresholds are tuned on numbers of USPS
*train* digits (`--split train`); USPS test is only the check.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import cv2
import numpy as np

from model import Predictor
from model.reader import ReadError, read_digits
from training.realsets import Sample, paper_page, stamp
from training.usps_pictures import (
    BOX_SIDE,
    USPS_BLUR,
    USPS_MARGIN,
    as_file,
    boxed,
    usps_pen,
    usps_pen_level,
    usps_upscale,
)

USPS_NUMBERS = 300  # numbers in the set (the quick set, for tests: USPS_NUMBERS_QUICK)
USPS_NUMBERS_QUICK = 80
FAILURE_EXAMPLES = 12
# USPS numbers (`usps_number_samples`): 3-6 digits of one split written as one writer's
# number on a scan. One pen, blur and paper per number (as `usps_scan`); per number a
# digit height, a width (narrow to wide writing), a slant and a spacing; per digit its
# size, width and baseline vary a little, and about one gap in four is close: from a
# slight overlap of the two digits' boxes to a few pixels of paper.
NUMBER_DIGITS = (3, 6)
NUMBER_HEIGHT = (40, 90)  # px, the number's digit height
NUMBER_SIZE_JITTER = 0.12  # each digit's height: +- this share
NUMBER_WIDTH = (0.8, 1.25)  # the writer's width factor (>1: wide writing)
NUMBER_WIDTH_JITTER = 0.1
NUMBER_GAP = (0.08, 0.45)  # the writer's gap between digits, in digit heights
NUMBER_GAP_JITTER = 0.08
NUMBER_CLOSE_SHARE = 0.25
NUMBER_CLOSE_GAP = (-0.1, 0.04)  # a close gap: negative = the boxes overlap
NUMBER_WOBBLE = 0.04  # baseline wobble, sd in digit heights
NUMBER_SLANT = 0.25  # shear (x per y) up to this either way
SLANTED = 0.6  # usps-slanted: writers leaning up to 31 degrees either way
# Boxed numbers (`usps_boxed_number_samples`): each digit boxed, the boxes side by side
# this many pixels apart (of the 16 px box; 0: abutting, as digits of a published set
# set side by side are), a margin of paper round the row.
BOXED_GAP = (0, 4)
BOXED_MARGIN = (2, 4)  # rows, columns
# usps-boxed-staggered: each box set 0-BOXED_STAGGER px (of 16) lower than the row's top,
# as digits pasted side by side by hand or by a script with a little jitter are.
BOXED_STAGGER = 3


def usps_number_samples(split: str = "test", count: int = 300, seed: int = 0,
                        slant: float = NUMBER_SLANT) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of one split as a real writer's number on a scan,
    leaning by up to `slant` (shear, x per row) either way, seeded."""
    for digits, text, rng in number_picks(split, count, seed):
        yield Sample(number_scan(write_number(digits, rng, slant), rng), text)


def number_scan(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A number's ink (`write_number`) as a uint8 scan: scanner blur, a margin of paper."""
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(*USPS_BLUR))
    return paper_page(rng, np.pad(ink, int(rng.integers(*USPS_MARGIN))))


def usps_boxed_number_samples(split: str = "test", count: int = 300, seed: int = 0,
                              gaps: tuple[int, int] = BOXED_GAP,
                              stagger: int = 0) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of one split, each boxed (`training.usps_pictures.boxed`:
    cut to its ink, stretched to 16x16, one bit) and the boxes set in a row `gaps` px
    apart (0: abutting), each 0-`stagger` px lower than the row's top, written as one
    file (`as_file`, 96 px per box), seeded."""
    for digits, text, rng in number_picks(split, count, seed):
        gap = np.zeros((BOX_SIDE + stagger, int(rng.integers(gaps[0], gaps[1] + 1))),
                       np.float32)
        tiles = [part for digit in digits for part in (_lowered(boxed(digit), stagger, rng), gap)]
        row = np.pad(np.hstack(tiles[:-1]), ((BOXED_MARGIN[0],) * 2, (BOXED_MARGIN[1],) * 2))
        yield Sample(as_file(row), text)


def _lowered(box: np.ndarray, stagger: int, rng: np.random.Generator) -> np.ndarray:
    """A box in a column `stagger` px taller, 0-`stagger` px below its top (no draw at 0)."""
    if not stagger:
        return box
    drop = int(rng.integers(0, stagger + 1))
    return np.pad(box, ((drop, stagger - drop), (0, 0)))


def number_picks(split: str, count: int,
                 seed: int) -> Iterator[tuple[list[np.ndarray], str, np.random.Generator]]:
    """`count` seeded draws of 3-6 USPS digits of `split`: the digits, their text, and
    the generator, which the caller goes on drawing from."""
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        size = int(rng.integers(NUMBER_DIGITS[0], NUMBER_DIGITS[1] + 1))
        picked = rng.choice(len(usps.labels), size, replace=False)
        yield ([usps.images[i] for i in picked],
               "".join(str(int(usps.labels[i])) for i in picked), rng)


Placed = tuple[np.ndarray, int, int]  # a digit's ink on the page and its top-left (y, x)


def write_number(digits: list[np.ndarray], rng: np.random.Generator,
                 slant: float = NUMBER_SLANT,
                 join: Callable[[np.ndarray, list[Placed], np.random.Generator], None]
                 | None = None,
                 placing: Sequence[tuple[float, float]] | None = None) -> np.ndarray:
    """USPS digits (16x16 grey) side by side as one writer's ink, leaning by up to
    `slant` either way, in [0, 1]. `join` may draw on the upright page, given where each
    digit went (`training.realworld.joined_numbers`: the pen's strokes between digits). `placing`
    gives each digit's height (a share of the number's) and how far its foot drops below
    the line (in the number's heights), for uneven writing (`training.realworld.uneven_numbers`);
    without it heights vary by NUMBER_SIZE_JITTER and every foot is on the line."""
    height = rng.uniform(*NUMBER_HEIGHT)
    width = rng.uniform(*NUMBER_WIDTH)
    gap = rng.uniform(*NUMBER_GAP)
    level = usps_pen_level(rng)
    inks, tops = [], []
    for k, digit in enumerate(digits):
        rows = np.flatnonzero(digit.max(1) > 0.1)
        cols = np.flatnonzero(digit.max(0) > 0.1)
        crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        share, drop = (placing[k] if placing is not None else
                       (1 + rng.uniform(-NUMBER_SIZE_JITTER, NUMBER_SIZE_JITTER), 0.0))
        h = height * share
        w = h * crop.shape[1] / crop.shape[0] * width * (1 + rng.uniform(-NUMBER_WIDTH_JITTER,
                                                                          NUMBER_WIDTH_JITTER))
        # The crop's one-pixel border of paper scales with it.
        pad_y, pad_x = h / crop.shape[0], w / crop.shape[1]
        inks.append(usps_pen(usps_upscale(crop, (max(3, round(w + 2 * pad_x)),
                                             max(3, round(h + 2 * pad_y)))), level))
        tops.append(height - h + drop * height + rng.normal(0, NUMBER_WOBBLE * height))
    spaces = [height * (rng.uniform(*NUMBER_CLOSE_GAP) if rng.random() < NUMBER_CLOSE_SHARE
                        else max(0.0, gap + rng.normal(0, NUMBER_GAP_JITTER)))
              for _ in digits[1:]]
    top0 = min(tops)
    lefts = np.cumsum([0.0] + [i.shape[1] + s for i, s in zip(inks, spaces, strict=False)])
    lefts -= lefts.min()
    rows = round(max(t - top0 + i.shape[0] for t, i in zip(tops, inks, strict=True))) + 1
    cols = round(max(x + i.shape[1] for x, i in zip(lefts, inks, strict=True))) + 1
    slant = rng.uniform(-slant, slant)
    shift = round(abs(slant) * rows)
    page = np.zeros((rows, cols + shift), np.float32)
    placed = []
    for ink, top, left in zip(inks, tops, lefts, strict=True):
        y, x = round(top - top0), round(left) + (shift if slant > 0 else 0)
        stamp(page, ink, y, x)
        placed.append((ink, y, x))
    if join is not None:
        join(page, placed, rng)
    # Slant: x moves by slant per row above the baseline (the bottom row stays).
    shear = np.float32([[1, slant, -slant * (rows - 1)], [0, 1, 0]])
    return cv2.warpAffine(page, shear, (page.shape[1], rows), flags=cv2.INTER_LINEAR)


def read_as_file(sample: Sample, predictor: Predictor) -> tuple[str, bool]:
    """The reader's text and sureness of a page encoded as PNG, as `model.predict` reads it."""
    page = sample.image if sample.image.ndim == 2 else sample.image[..., ::-1]  # RGB -> BGR
    png = cv2.imencode(".png", page)[1].tobytes()
    try:
        reading = read_digits(png, predictor)
    except ReadError:
        return "", False
    return reading.text, reading.sure


def failure_kind(truth: str, read: str) -> str:
    """"split" (more digits read than written), "merged" (fewer) or "misread"."""
    if len(read) > len(truth):
        return "split"
    return "merged" if len(read) < len(truth) else "misread"


def numbers_report(samples: list[Sample], predictor: Predictor) -> dict:
    """Exact reads of numbers; digit count right; sure and wrong; failures by kind."""
    readings = [read_as_file(s, predictor) for s in samples]
    right = np.array([text == s.text for (text, _), s in zip(readings, samples, strict=True)])
    sure = np.array([flag for _, flag in readings])
    counted = np.mean([len(text) == len(s.text)
                       for (text, _), s in zip(readings, samples, strict=True)])
    failures = [(s.text, text) for (text, _), s, ok in zip(readings, samples, right,
                                                          strict=True) if not ok]
    kinds = Counter(failure_kind(t, r) for t, r in failures)
    return {"n": len(samples), "reader": float(right.mean()),
            "sure": float((right & sure).mean()), "count_right": float(counted),
            "sure_wrong": float((sure & ~right).mean()),
            "failures": dict(kinds.most_common()),
            "examples": [f"{t}->{r or 'none'}" for t, r in failures[:FAILURE_EXAMPLES]],
            "failed": [[i, text] for i, ((text, _), ok) in enumerate(zip(readings, right,
                                                                           strict=True))
                       if not ok]}


@functools.lru_cache(maxsize=4)
def _numbers_cached(split: str, count: int, boxed: bool, slant: float,
                    stagger: int) -> tuple[Sample, ...]:
    if boxed:
        return tuple(usps_boxed_number_samples(split, count, stagger=stagger))
    return tuple(usps_number_samples(split, count, slant=slant))


def usps_numbers_samples(split: str = "test", count: int = USPS_NUMBERS, *,
                         boxed: bool = False, slant: float = NUMBER_SLANT,
                         stagger: int = 0) -> list[Sample]:
    """The seeded usps-numbers set of `split`, usps-boxed-numbers (usps-boxed-staggered
    with `stagger=BOXED_STAGGER`), or usps-slanted with `slant=SLANTED` (cached per
    process)."""
    return list(_numbers_cached(split, count, boxed, slant, stagger))


def contact_sheet(samples: list[Sample], labels: list[str], path: str,
                  height: int = 64, width: int = 720) -> None:
    """Pages in rows, each scaled to `height` with its label above it, as one PNG."""
    rows = []
    for sample, label in zip(samples, labels, strict=True):
        page = sample.image if sample.image.ndim == 2 else cv2.cvtColor(sample.image,
                                                                        cv2.COLOR_RGB2GRAY)
        scale = height / page.shape[0]
        page = cv2.resize(page, (min(width, round(page.shape[1] * scale)), height))
        row = np.full((height + 18, width), 255, np.uint8)
        row[18:, :page.shape[1]] = page
        cv2.putText(row, label, (2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 0, 1, cv2.LINE_AA)
        rows.append(row)
    if rows:
        cv2.imwrite(path, np.vstack(rows))
