"""Uneven lighting: the paper's level under a picture's ink, to be subtracted (`model.reader.ink`).

A phone photo is lit unevenly and a scan's paper is seldom one grey. The background is
a quadratic surface fitted to the paper (the overall gradient of the light; ink left
out by re-fitting without outliers) plus a morphological opening of what remains, with
a window a few stroke widths wide: the opening removes the strokes and keeps the
shading. Both are worked out on a coarse copy and enlarged back.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader.pixels import quantile, shrink

BACKGROUND_CELLS = 12  # the opening window spans about this many cells of the coarse copy
# The background window must be wider than any stroke, with margin.
BACKGROUND_STROKES = 3.0
BACKGROUND_MIN_FRACTION = 1 / 6  # ... and at least this share of the picture's shorter side
BACKGROUND_MAX_FRACTION = 0.5
SURFACE_ROUNDS = 2
SURFACE_GRID = 24
SURFACE_RIDGE = 1e-6  # keeps the fit defined on a picture one cell wide


def paper_background(strength: np.ndarray, stroke: float) -> np.ndarray:
    """Shading and paper colour of `strength` (ink high), whose strokes are `stroke` px
    wide: a smooth surface plus an opening wider than the strokes."""
    h, w = strength.shape
    window = max(BACKGROUND_STROKES * stroke, BACKGROUND_MIN_FRACTION * min(h, w))
    # Capped: a shadow mistaken for thick ink must not stretch the window to the whole
    # picture, and half the side is still twice the widest plausible stroke.
    window = min(window, BACKGROUND_MAX_FRACTION * min(h, w))
    cell = max(1.0, window / BACKGROUND_CELLS)
    size = (max(1, round(w / cell)), max(1, round(h / cell)))
    coarse = cv2.resize(strength, size, interpolation=cv2.INTER_AREA)
    # An opening is exact inside the picture but biased at its edges where the light
    # changes; a fitted surface takes the overall gradient out first.
    surface = _lighting_surface(coarse)
    k = 2 * round(window / cell / 2) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    rest = cv2.morphologyEx(coarse - surface, cv2.MORPH_OPEN, kernel,
                            borderType=cv2.BORDER_REFLECT)
    coarse = surface + cv2.blur(rest, (3, 3), borderType=cv2.BORDER_REFLECT)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)


def _lighting_surface(image: np.ndarray) -> np.ndarray:
    """A quadratic surface fitted to the paper; ink is excluded by re-fitting without outliers.

    Fitted on at most SURFACE_GRID x SURFACE_GRID cells (six numbers need no more)
    and evaluated at every pixel of `image`.
    """
    small, _ = shrink(image, SURFACE_GRID)
    values = small.ravel().astype(np.float64)
    design = _quadratic_terms(*small.shape)
    use = np.ones(values.size, bool)
    for _ in range(SURFACE_ROUNDS):
        terms = design[use]
        coef = np.linalg.solve(terms.T @ terms + SURFACE_RIDGE * np.eye(6), terms.T @ values[use])
        residual = values - design @ coef
        kept = residual[use]
        middle = quantile(kept, 0.5)
        spread = 1.4826 * quantile(np.abs(kept - middle), 0.5)
        use = residual <= middle + 2.0 * spread + 1e-6
    return (_quadratic_terms(*image.shape) @ coef).reshape(image.shape).astype(np.float32)


def _quadratic_terms(h: int, w: int) -> np.ndarray:
    """1, u, v, u², uv, v² at every pixel, with u, v running from -0.5 to 0.5."""
    v, u = np.meshgrid(np.linspace(-0.5, 0.5, h), np.linspace(-0.5, 0.5, w), indexing="ij")
    u, v = u.ravel(), v.ravel()
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)
