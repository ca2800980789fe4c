"""usps-old-paper: numbers of USPS digits written on old paper, scanned.

Numbers are read off old letters, registers and notebooks as well as off new forms. Old
paper has yellowed, unevenly, and has spots and stains; the ink has faded to brown, more
in some places than others; and thin paper lets the writing on the back of the sheet
show through, mirrored and blurred. Each sample is one number of 3-6 USPS digits of one
split (`training.realworld.usps_numbers`: one writer's number, as usps-numbers) on such a sheet,
saved as a JPEG; read as `model.predict` reads a file and scored as usps-numbers is.
`show_through=False` writes the very same pages without the back's writing: what it
costs is the difference. Tuned on USPS *train* digits; USPS test is only the check.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from training.realsets import Sample
from training.realworld.usps_numbers import number_picks, write_number
from training.usps_pictures import USPS_BLUR, USPS_MARGIN

OLD_PAPER_NUMBERS = 300  # pages in the set (the quick set, for tests: OLD_PAPER_QUICK)
OLD_PAPER_QUICK = 60
PAPER_RGB = ((0.82, 0.95), (0.72, 0.88), (0.5, 0.72))  # yellowed, from cream to tan
MOTTLE = (0.03, 0.08)  # the paper's uneven tone: standard deviation, a share of its level
MOTTLE_SCALE = (8, 40)  # ... in patches this many pixels across
STAINS = (0, 3)  # spots and water stains on a page, fewest and most
STAIN_DARKNESS = (0.05, 0.2)
STAIN_TINT = (0.6, 0.8, 1.0)  # a stain darkens blue most: it is brown
INK_RGB = ((0.15, 0.4), (0.1, 0.3), (0.05, 0.2))  # faded iron-gall brown to near black
FADING = 0.25  # the ink's strength varies along the strokes by this (sd) ...
FADING_RANGE = (0.4, 1.2)  # ... within these bounds
FADING_SCALE = 12  # px: the patches it varies in
SHOW_THROUGH = (0.08, 0.2)  # how much the back's writing darkens the paper
SHOW_THROUGH_BLUR = (1.0, 2.5)  # the sheet between blurs it (sigma, px)
GRAIN = 0.015
JPEG_QUALITY = (60, 92)


def old_paper_samples(split: str = "test", count: int = OLD_PAPER_NUMBERS, seed: int = 0,
                      show_through: bool = True) -> Iterator[Sample]:
    """Numbers of 3-6 USPS digits of `split` on old paper, as decoded JPEG scans (RGB),
    seeded; `show_through=False`: the same pages without the back's writing."""
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    for k, (digits, text, rng) in enumerate(number_picks(split, count, seed)):
        ink = write_number(digits, rng)
        ink = np.pad(cv2.GaussianBlur(ink, (0, 0), rng.uniform(*USPS_BLUR)),
                     int(rng.integers(*USPS_MARGIN)))
        # The back's own generator: the pages without it are the same pages.
        back_rng = np.random.default_rng([seed, k])
        back = _back(usps.images, ink.shape, back_rng) if show_through else None
        yield Sample(_scan(ink, back, rng), text)


def _back(images: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Another number on the back of the sheet, seen through it: mirrored, blurred, over
    the whole page, as strength in [0, 1] times how much it shows."""
    picked = rng.choice(len(images), int(rng.integers(3, 7)), replace=False)
    number = write_number([images[i] for i in picked], rng)
    number = cv2.resize(number[:, ::-1], (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    number = cv2.GaussianBlur(number, (0, 0), rng.uniform(*SHOW_THROUGH_BLUR))
    return rng.uniform(*SHOW_THROUGH) * number


def _scan(ink: np.ndarray, back: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Ink on an old sheet (yellowed, mottled, stained, `back` showing through), grainy,
    through a JPEG: RGB uint8."""
    rows, cols = ink.shape
    paper = np.asarray([rng.uniform(*span) for span in PAPER_RGB], np.float32)
    tone = 1 + rng.uniform(*MOTTLE) * _patches(rng, ink.shape, int(rng.integers(*MOTTLE_SCALE)))
    page = tone[..., None] * paper
    for _ in range(int(rng.integers(STAINS[0], STAINS[1] + 1))):
        stain = np.zeros(ink.shape, np.float32)
        axes = (int(rng.integers(5, rows)), int(rng.integers(5, rows)))
        cv2.ellipse(stain, (int(rng.integers(cols)), int(rng.integers(rows))), axes,
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        stain = cv2.GaussianBlur(stain, (0, 0), rng.uniform(2, 8))
        page -= rng.uniform(*STAIN_DARKNESS) * stain[..., None] * np.float32(STAIN_TINT)
    if back is not None:
        page -= back[..., None]
    pen = np.asarray([rng.uniform(*span) for span in INK_RGB], np.float32)
    fading = np.clip(1 + FADING * _patches(rng, ink.shape, FADING_SCALE), *FADING_RANGE)
    strength = np.clip(ink * fading, 0, 1)[..., None]
    page = page * (1 - strength) + pen * strength
    page = np.clip(page + rng.normal(0, GRAIN, page.shape), 0, 1)
    rgb = (page * 255 + 0.5).astype(np.uint8)
    quality = int(rng.integers(*JPEG_QUALITY))
    jpeg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _patches(rng: np.random.Generator, shape: tuple[int, ...], size: int) -> np.ndarray:
    """Smooth noise of unit standard deviation varying over patches `size` px across."""
    coarse = rng.normal(0, 1, (max(2, shape[0] // size), max(2, shape[1] // size)))
    smooth = cv2.resize(coarse.astype(np.float32), (shape[1], shape[0]),
                        interpolation=cv2.INTER_CUBIC)
    return smooth / (smooth.std() + 1e-6)
