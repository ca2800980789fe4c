"""Picture statistics the reader's steps share: cheap quantiles on a sample of the
pixels, Otsu's threshold, small copies, and whether a picture is one bit deep."""

from __future__ import annotations

import cv2
import numpy as np

SAMPLE_SIZE = 65536  # pixels that statistics of the whole picture are taken from
TWO_LEVEL_SHARE = 0.6  # of the pixels near the lightest or darkest level: one bit deep
# A one-bit picture upscaled smoothly rings within this of its two levels (8 grey levels);
# boxed USPS digits keep >= 62 % of their pixels there, synthetic photos <= 32 %.
ONE_BIT_TOLERANCE = 0.03
# A picture this small (px, longer side) is one digit's box, not a page: it has no room
# for uneven lighting, and a digit stretched to fill it may reach every edge.
DIGIT_BOX_SIDE = 32


def is_digit_box(shape: tuple[int, ...]) -> bool:
    """A picture of this shape is one digit's box (`DIGIT_BOX_SIDE`), not a page."""
    return max(shape[:2]) <= DIGIT_BOX_SIDE
# Otsu's two classes hold this share of the variance of an even spread of greys: a
# picture whose classes hold less is shades (shadow, faint strokes), not ink and paper.
EVEN_SPREAD_SEPARATION = 0.75


def block_max(values: np.ndarray, block: int) -> np.ndarray:
    """A copy `block` times smaller, each pixel the largest of the `block` x `block` it
    stands for: a hairline stays whole and keeps its level (`block_min`: the smallest)."""
    if block == 1:
        return values
    return cv2.dilate(values, np.ones((block, block), np.uint8), anchor=(0, 0))[::block, ::block]


def block_min(values: np.ndarray, block: int) -> np.ndarray:
    """As `block_max`, each pixel the smallest of those it stands for (the darkest grey)."""
    if block == 1:
        return values
    return cv2.erode(values, np.ones((block, block), np.uint8), anchor=(0, 0))[::block, ::block]


def shrink(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """An area-averaged copy at most `side` pixels wide, and its scale factor."""
    factor = min(1.0, side / max(image.shape))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), factor


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of float values in [0, 1]."""
    u8 = np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(level) / 255.0


def quantile(values: np.ndarray, share: float) -> float:
    """np.quantile's (linear) estimate of `values` at `share`, without its overhead:
    np.median and np.percentile cost 15-35 us a call on small arrays, a reading makes a
    dozen, and one np.partition costs 3 us."""
    flat = np.ravel(values)
    position = share * (flat.size - 1)
    low = int(position)
    high = min(low + 1, flat.size - 1)
    part = np.partition(flat, (low, high))
    return float(part[low]) + (float(part[high]) - float(part[low])) * (position - low)


def sample_of(values: np.ndarray) -> np.ndarray:
    """At most about SAMPLE_SIZE evenly strided values: medians of big pictures stay cheap."""
    flat = values.ravel()
    return flat[:: max(1, flat.size // SAMPLE_SIZE)]


def extremes_share(sample: np.ndarray, tolerance: float = 0.0) -> float:
    """The share of `sample` within `tolerance` of its lowest or highest value."""
    lowest, highest = sample.min(), sample.max()
    return float(np.mean((sample <= lowest + tolerance) | (sample >= highest - tolerance)))


def two_level_separation(values: np.ndarray) -> float:
    """The share of the variance of `values` (in [0, 1]) that Otsu's two classes explain:
    1 for two levels, 0.75 for an even spread of greys, 2/pi (0.64) for one level with
    normal noise."""
    flat = np.ravel(values)
    dark = flat <= otsu(flat)
    share = float(dark.mean())
    if share in (0.0, 1.0):
        return 0.0
    gap = float(flat[~dark].mean() - flat[dark].mean())
    return share * (1 - share) * gap * gap / max(float(flat.var()), 1e-12)


def is_one_bit(sample: np.ndarray) -> bool:
    """Mostly within ONE_BIT_TOLERANCE of its two extreme levels: a one-bit picture, even
    upscaled smoothly (its ringing stays near the levels), never a photo or a grey scan."""
    return bool(np.ptp(sample) > 0 and
                extremes_share(sample, ONE_BIT_TOLERANCE) >= TWO_LEVEL_SHARE)
