"""Is what the network saw a digit at all? The checks behind a reading's "sure" flag.

A network without a "not a digit" class is often sure of a scribble: a zig-zag is a
confident 3, a cross or an asterisk a confident 4. So besides the top probability a
reading must pass checks against MNIST itself (`python -m training.likeness`
measures them on the 60,000 training digits, normalised as the reader does):

- ink: at most two enclosed holes (99 % of MNIST) and an ink mass (sum of the 28x28
  image) between 29 and 191 (99.8 %);
- for the digit read: an outline (the length of the ink's contours) no longer than
  99.9 % of MNIST's digits of that class (a scrawl has more stroke than a digit), and
  an anisotropy (how elongated the ink's second moments are, 0 for a cross or a
  ring, 1 for a line) no lower than 99.9 % of them (crosses, stars and hashes are
  too symmetric for a 4 or a 7);
- steadiness: nudged by 2 pixels or turned by 12 degrees (well inside how people's
  digits vary), the digit keeps its probability on average (`nudges`).
"""

from __future__ import annotations

import cv2
import numpy as np

from model.settings import SETTINGS

MAX_HOLES = 2
MIN_HOLE_AREA = 2.0
INK_MASS_RANGE = (29.0, 191.0)
INK_LEVEL = 0.5  # the outline is taken at this level of the 28x28 image
# Per class 0-9, measured by `python -m training.likeness` (99.9th and 0.1st percentile).
MAX_OUTLINE = (137.4, 93.7, 137.4, 137.8, 108.3, 132.1, 131.1, 105.9, 149.2, 123.3)
MIN_ANISOTROPY = (0.020, 0.390, 0.026, 0.065, 0.013, 0.044, 0.019, 0.027, 0.062, 0.035)
NUDGE_SHIFT = 2.0  # pixels of the 28x28 image
NUDGE_ANGLE = 12.0  # degrees


def looks_like_a_digit(image: np.ndarray, digit: int | None = None) -> bool:
    """Whether a normalised 28x28 image is within what MNIST digits (of class `digit`) look like."""
    mass = float(image.sum())
    if not INK_MASS_RANGE[0] <= mass <= INK_MASS_RANGE[1]:
        return False
    ink = (image >= INK_LEVEL).astype(np.uint8)
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = sum(1 for contour, link in zip(contours, hierarchy[0], strict=True)
                if link[3] >= 0 and cv2.contourArea(contour) >= MIN_HOLE_AREA)
    if holes > MAX_HOLES:
        return False
    if digit is None:
        return True
    return (outline_length(image) <= MAX_OUTLINE[digit]
            and anisotropy(image) >= MIN_ANISOTROPY[digit])


def outline_length(image: np.ndarray) -> float:
    """Total length of the contours (outer and holes) of the image's ink, in pixels."""
    contours, _ = cv2.findContours((image >= INK_LEVEL).astype(np.uint8), cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_NONE)
    return float(sum(cv2.arcLength(contour, True) for contour in contours))


def anisotropy(image: np.ndarray) -> float:
    """(l1 - l2) / (l1 + l2) of the ink's second central moments: 0 round or cross, 1 a line."""
    m = cv2.moments(np.asarray(image, np.float32))
    a, b, c = m["mu20"], m["mu02"], m["mu11"]
    return float(np.hypot(a - b, 2.0 * c) / max(a + b, 1e-9))


def nudges(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 6, 28, 28): each image shifted 2 px four ways and turned +-12 deg."""
    size = SETTINGS.image_size
    centre = ((size - 1) / 2, (size - 1) / 2)
    shift = NUDGE_SHIFT
    moves = [cv2.getRotationMatrix2D(centre, angle, 1.0) for angle in (NUDGE_ANGLE, -NUDGE_ANGLE)]
    for dx, dy in ((shift, 0), (-shift, 0), (0, shift), (0, -shift)):
        moves.append(np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]))
    return np.stack([np.stack([cv2.warpAffine(image, move, (size, size),
                                              flags=cv2.INTER_LINEAR) for move in moves])
                     for image in np.asarray(images, np.float32)])
