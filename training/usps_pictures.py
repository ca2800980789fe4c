"""USPS digits as the pictures real inputs arrive as, for `training.realworld` and the mix.

- `usps_scan`: a scan of the digit (pen, blur and paper vary, seeded);
- `boxed`: the digit as some published sets keep theirs, cut to its ink, stretched to
  fill 16x16 and thresholded to one bit, and `as_file`, such a digit written as a file;
- `usps_samples` (cached), `usps_boxed_samples`, `usps_plain_samples`: a split in each
  form.

The pen-tablet trajectories are in `training.usps_tablet`, the numbers in
`training.realworld.usps_numbers`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from training.realsets import Sample, paper_page

# USPS digits as scans (`usps_samples`): each 16x16 digit is upscaled to 64-96 px, then
# written either with the scan's own soft grey profile (a third) or as a crisp pen whose
# edge lies at a random level of that profile (thinner or thicker strokes), blurred a
# little like a scanner's optics, on noisy off-white paper. A quarter are cropped tight
# (0-3 px of paper, as a form's box or the USPS files themselves crop), the rest have
# a margin of 10-40 px.
USPS_SIDES = (64, 96)
USPS_SOFT_SHARE = 1 / 3
USPS_PEN_LEVELS = (0.25, 0.6)  # lower level: the pen's edge further out, a thicker stroke
USPS_PEN_EDGE = 0.08  # half-width of the pen edge's ramp, in ink levels
USPS_BLUR = (0.3, 1.2)  # scanner blur, Gaussian sigma in pixels of the scan
USPS_MARGIN = (10, 40)
USPS_TIGHT_SHARE = 0.25
USPS_TIGHT_MARGIN = (0, 4)
BOX_SIDE = 16  # the box of the published sets that keep digits so (and USPS's)
BOX_LEVEL = 0.5  # a fixed threshold at half scale, grey 127 of 255
FILE_SIZE = 96  # px: how 16x16 digits are written as files (edge to edge)
USPS_SHARPNESS = 2.5  # upscaled USPS grey -> ink with a pen-like edge (contrast gain)


def usps_scan(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One USPS digit (16x16 ink in [0, 1]) as a uint8 scan: dark ink on light paper."""
    side = int(rng.integers(USPS_SIDES[0], USPS_SIDES[1] + 1))
    ink = usps_pen(usps_upscale(digit, (side + side // 8,) * 2), usps_pen_level(rng))
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(*USPS_BLUR))
    tight = rng.random() < USPS_TIGHT_SHARE
    margin = int(rng.integers(*(USPS_TIGHT_MARGIN if tight else USPS_MARGIN)))
    return paper_page(rng, np.pad(ink, margin))


def usps_ink(image: np.ndarray, height: int) -> np.ndarray:
    """A 16x16 USPS digit (ink in [0, 1]) as a scan of `height` pixels, cropped to its ink."""
    rows, cols = np.flatnonzero(image.max(1) > 0.1), np.flatnonzero(image.max(0) > 0.1)
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = height / crop.shape[0]
    size = (max(2, round(crop.shape[1] * scale)), height)
    big = cv2.resize(np.pad(crop, 1), (size[0] + round(2 * scale), size[1] + round(2 * scale)),
                     interpolation=cv2.INTER_CUBIC)
    ink = np.clip((big - 0.5) * USPS_SHARPNESS + 0.5, 0.0, 1.0).astype(np.float32)
    rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def usps_pen_level(rng: np.random.Generator) -> float | None:
    """The pen of one scan: None for the scan's own soft profile, else its edge level."""
    return None if rng.random() < USPS_SOFT_SHARE else float(rng.uniform(*USPS_PEN_LEVELS))


def usps_pen(ink: np.ndarray, level: float | None) -> np.ndarray:
    """Upscaled USPS grey as written by the pen `level` (None: unchanged, soft)."""
    if level is None:
        return ink
    return np.clip((ink - level) / (2 * USPS_PEN_EDGE) + 0.5, 0, 1)


def usps_upscale(digit: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """USPS grey (16x16 or a crop of it) cubic-upscaled to `size` (w, h), in [0, 1].

    One pixel of paper round the box, so the cubic kernel sees where strokes end.
    """
    return cv2.resize(np.pad(digit.astype(np.float32), 1), size,
                      interpolation=cv2.INTER_CUBIC).clip(0, 1)


def usps_samples(split: str = "test", limit: int | None = None, seed: int = 0) -> list[Sample]:
    """The first `limit` USPS digits of `split` rendered as scans (see `usps_scan`), seeded.

    Cached per process: the evaluation sets, the tests and the feedback set read the
    same scans many times, and rendering 2,007 of them takes seconds.
    """
    return list(_usps_scans(split, limit, seed))


@functools.lru_cache(maxsize=4)
def _usps_scans(split: str, limit: int | None, seed: int) -> tuple[Sample, ...]:
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    return tuple(Sample(usps_scan(image, rng), str(int(label)))
                 for image, label in list(zip(usps.images, usps.labels, strict=True))[:limit])


def boxed(ink: np.ndarray, level: float = BOX_LEVEL, side: int = BOX_SIDE) -> np.ndarray:
    """A digit as some published sets keep it: cut to its ink's box, stretched to fill a
    `side` x `side` square whatever its shape, and thresholded to one bit (float32 0/1).

    A narrow 1 comes out as wide as an 8, and its flag as a bar. Only the format is
    imitated, on USPS digits; no digit of such a set is used.
    """
    level = min(level, float(ink.max()) / 2)  # a faint digit keeps its ink
    ys, xs = np.nonzero(ink > level)
    if not len(ys):
        return np.zeros((side, side), np.float32)
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    shrink = crop.shape[0] * crop.shape[1] > side * side
    square = cv2.resize(crop, (side, side),
                        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return (square > level).astype(np.float32)


def as_file(ink: np.ndarray) -> np.ndarray:
    """A small ink image in [0, 1] upscaled edge to edge, a 16x16 digit to FILE_SIZE
    square (any other shape by the same factor): dark on white, uint8, as such digits
    are written to files."""
    zoom = FILE_SIZE / BOX_SIDE
    size = (round(ink.shape[1] * zoom), round(ink.shape[0] * zoom))
    big = cv2.resize(ink.astype(np.float32), size, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return (255 * (1 - big)).round().astype(np.uint8)


def boxed_picture(ink: np.ndarray, level: float = BOX_LEVEL) -> np.ndarray:
    """`boxed(ink)` as a file of such a set is read (`as_file`)."""
    return as_file(boxed(ink, level))


def usps_boxed_samples(split: str = "test", limit: int | None = None, *,
                       light: bool = False) -> Iterator[Sample]:
    """The USPS digits of `split` boxed (`boxed_picture`); `light`: saved as their bits,
    the ink white on black (MNIST's way round)."""
    if light:
        return _usps_files(split, limit, lambda ink: 255 - boxed_picture(ink))
    return _usps_files(split, limit, boxed_picture)


def usps_plain_samples(split: str = "test", limit: int | None = None) -> Iterator[Sample]:
    """The USPS digits upscaled edge to edge to 96x96, dark on white, nothing else.

    How the issue first measured USPS (as `model.predict` reads a file): no margin, so
    the ink touches the picture's border, and no pen or paper variation.
    """
    return _usps_files(split, limit, as_file)


def _usps_files(split: str, limit: int | None,
                picture: Callable[[np.ndarray], np.ndarray]) -> Iterator[Sample]:
    """The first `limit` USPS digits of `split`, each made a file by `picture`."""
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    for image, label in zip(usps.images[:limit], usps.labels[:limit], strict=True):
        yield Sample(picture(image), str(int(label)))

