"""Pictures for the reader's tests, and what the reader reads in them."""

from __future__ import annotations

import cv2
import numpy as np

from model.reader import read_digits
from model.reader.imaging import ReadError


def grey_box(ink: np.ndarray) -> np.ndarray:
    """A USPS digit cut to its ink and stretched to 16x16 by linear interpolation, kept
    grey: dark ink on light paper."""
    ys, xs = np.nonzero(ink > 0.5)
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    square = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_LINEAR).clip(0, 1)
    return (255 * (1 - square)).round().astype(np.uint8)


def one_bit(page: np.ndarray) -> np.ndarray:
    """A page (grey or RGB) thresholded at Otsu's level, 0 or 255, as a bitonal scanner
    or fax keeps it."""
    gray = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def spans_across(mask: np.ndarray) -> bool:
    """Whether any mark of `mask` runs across half the picture's width or height."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    height, width = mask.shape
    return bool(((stats[1:, cv2.CC_STAT_WIDTH] >= width / 2)
                 | (stats[1:, cv2.CC_STAT_HEIGHT] >= height / 2)).any())


def text_of(picture: np.ndarray | bytes, predictor) -> str:
    """What the reader reads in a picture, "" where it reads nothing."""
    try:
        return read_digits(picture, predictor).text
    except ReadError:
        return ""
