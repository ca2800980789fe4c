"""Pages moved as a photo or a writer moves them, for the reader's tests."""

from __future__ import annotations

import cv2
import numpy as np


def turned(page: np.ndarray, degrees: float) -> np.ndarray:
    """`page` turned by `degrees` (counter-clockwise), grown to keep its corners, paper round it."""
    height, width = page.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    size = (int(height * sin + width * cos), int(height * cos + width * sin))
    turn[:, 2] += (size[0] - width) / 2, (size[1] - height) / 2
    return cv2.warpAffine(page, turn, size, borderValue=int(np.median(page)))
