"""USPS digits redrawn as pen-tablet trajectories, for `training.realworld` and training.

Pen tablets (and the pen-digit sets recorded with them) keep a digit as a handful of
points joined by straight segments, one trajectory per digit: where the writer lifted
the pen, the recording joins the strokes by the pen's travel. MNIST has nothing like
it, and the reader's other canvas sets (Hershey strokes) are clean fonts. This set
takes real writers' shapes instead: each USPS digit is thinned to its skeleton
(scikit-image), walked as a pen would (`pen_path`: from the top-most stroke end,
keeping the direction at forks; at a branch's end going back over its ink, or lifted),
resampled to `POINTS` points evenly spaced along that path, and drawn as straight
segments with a round brush on the Draw page's transparent 280x280 canvas.

The `usps-tablet` set is the *test* digits, never trained or tuned on; the mix
(`training.mixture`) draws the train digits by the same walk. Two walks no model is
trained on check how much of a score is that walk's own: the pen lifted at a branch's
end, or wandering (any start, any branch), e.g. `python -m training.realworld --sets
usps-tablet --tablet-points 8 --tablet-walk lift`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import cv2
import numpy as np

from training.realsets import CANVAS, Sample, on_canvas
from training.styles import resample

POINTS = (8, 12, 16)  # points per digit: pen-digit recordings keep about 8
UPSCALE = 64  # px: the 16x16 digit is thinned at this size
INK_LEVEL = 0.35  # where the USPS grey profile counts as ink
HEIGHT = (130, 220)  # the digit's height on the canvas, px
MARGIN = 20  # px of canvas kept free round the digit
BRUSHES = (10, 14, 18, 24)  # px, within the Draw page's slider (6-40)
_STEPS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]


def skeleton(digit: np.ndarray) -> np.ndarray:
    """The one-pixel skeleton (bool, UPSCALE x UPSCALE) of a 16x16 ink image in [0, 1]."""
    from skimage.morphology import skeletonize

    big = cv2.resize(np.pad(digit.astype(np.float32), 1), (UPSCALE, UPSCALE),
                     interpolation=cv2.INTER_CUBIC)
    return skeletonize(big > INK_LEVEL)


def _neighbours(p: tuple[int, int], pixels: set[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(p[0] + dy, p[1] + dx) for dy, dx in _STEPS if (p[0] + dy, p[1] + dx) in pixels]


def _retrace(start: tuple[int, int], pixels: set[tuple[int, int]],
             left: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """The shortest way along the skeleton from `start` to a pixel not yet drawn ([]: none)."""
    came: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p in left:
            way = [p]
            while came[way[-1]] is not None:
                way.append(came[way[-1]])  # type: ignore[arg-type]
            return way[::-1][1:]
        for q in _neighbours(p, pixels):
            if q not in came:
                came[q] = p
                queue.append(q)
    return []


# How the pen goes (see pen_path). The mix and the usps-tablet set retrace; "lift" and
# "wander", walks no model is trained on, check how much of a score is the walk's own.
WALKS = ("retrace", "lift", "wander")


def pen_path(bones: np.ndarray, walk: str = "retrace",
             rng: np.random.Generator | None = None) -> np.ndarray:
    """The skeleton's pixels as one pen trajectory: (N, 2) float (x, y), in drawing order.

    The pen starts at the top-most stroke end and keeps its direction at forks. At a
    branch's end it goes back over its ink to the nearest fork not yet followed
    ("retrace"), or is lifted and travels straight to the nearest ink not yet drawn
    ("lift"); the recording joins a lift by the pen's travel. "wander" (with `rng`)
    starts at any stroke end, takes any branch at a fork, and retraces.
    """
    if walk not in WALKS or (walk == "wander" and rng is None):
        raise ValueError(f"Unknown pen walk {walk!r}, or a wandering pen without an rng.")
    pixels = {(int(y), int(x)) for y, x in zip(*np.nonzero(bones), strict=True)}
    left = set(pixels)
    if not left:
        return np.zeros((0, 2), np.float32)
    ends = sorted(p for p in left if len(_neighbours(p, left)) == 1) or sorted(left)
    wander = rng if walk == "wander" else None
    here = ends[int(wander.integers(len(ends)))] if wander else ends[0]
    path, heading = [here], np.zeros(2)
    left.discard(here)
    while left:
        options = _neighbours(here, left)
        if options and wander:
            way = [options[int(wander.integers(len(options)))]]
        elif options:
            # Keep the pen's direction at a fork: the step that turns least.
            way = [max(options, key=lambda q: float(np.dot(np.subtract(q, here), heading)))]
        else:
            # A branch ended: go back over the ink to the nearest fork not yet followed,
            # or, when this piece is done, travel straight to the nearest other piece.
            way = (_retrace(here, pixels, left) if walk != "lift" else []) or [
                min(left, key=lambda q: (q[0] - here[0]) ** 2 + (q[1] - here[1]) ** 2)]
        step = np.subtract(way[-1], way[-2] if len(way) > 1 else here).astype(float)
        heading = step / max(float(np.hypot(*step)), 1e-6)
        path += way
        left.difference_update(way)
        here = way[-1]
    return np.array(path, np.float32)[:, ::-1]


def tablet_points(digit: np.ndarray, points: int, rng: np.random.Generator,
                  walk: str = "retrace") -> np.ndarray:
    """One USPS digit as a `points`-point pen trajectory, (points, 2) in canvas pixels."""
    path = resample(pen_path(skeleton(digit), walk, rng), points)
    lo, hi = path.min(0), path.max(0)
    width, height = np.maximum(hi - lo, 1.0)
    # Drawn at a height in HEIGHT, but a digit wider than the canvas allows is drawn
    # smaller: a pen cannot leave the canvas (52 of the 2,007 test digits did).
    scale = min(rng.uniform(*HEIGHT) / height, (CANVAS - 2 * MARGIN) / width)
    size = (hi - lo) * scale
    corner = (CANVAS - size) / 2 + rng.normal(0, 12, 2)
    corner = np.clip(corner, MARGIN, CANVAS - MARGIN - size)
    return (path - lo) * scale + corner


def tablet_canvas(digit: np.ndarray, points: int, rng: np.random.Generator,
                  walk: str = "retrace") -> np.ndarray:
    """One USPS digit as a `points`-point pen-tablet trajectory on an RGBA canvas."""
    xy = np.round(tablet_points(digit, points, rng, walk)).astype(np.int32)
    mask = np.zeros((CANVAS, CANVAS), np.uint8)
    cv2.polylines(mask, [xy], False, 255, int(rng.choice(BRUSHES)), cv2.LINE_AA)
    return on_canvas(mask)


def usps_tablet_samples(split: str = "test", limit: int | None = None, seed: int = 0,
                        points: tuple[int, ...] = POINTS,
                        walk: str = "retrace") -> Iterator[Sample]:
    """USPS digits of `split` as pen-tablet canvases, cycling through `points` (seeded)."""
    from training.usps import load_usps

    usps = load_usps(split)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    pairs = list(zip(usps.images, usps.labels, strict=True))[:limit]
    for k, (image, label) in enumerate(pairs):
        yield Sample(tablet_canvas(image, points[k % len(points)], rng, walk),
                     str(int(label)), canvas=True)

