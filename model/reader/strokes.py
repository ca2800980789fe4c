"""Canvas strokes: which pen strokes make one digit, told by the strokes themselves.

streamlit-drawable-canvas returns every path it drew in `json_data["objects"]`, in
drawing order, each with its points. A digit drawn in several strokes (a crossed 7,
a 4 in two strokes, a 5 with its bar added last, a 1 with a flag and a foot) has
strokes that overlap each other horizontally; two digits side by side do not. So:

- a stroke whose x-range overlaps a digit's by JOIN_OVERLAP of the narrower joins it;
- a small stroke (at most SMALL of the digit's height) within NEAR of its side joins it;
- otherwise it starts a new digit; digits that come to overlap are merged at the end.

The reader (`model.reader.read_strokes`) gives each canvas ink pixel to the group of
the stroke drawn over it and reads each group as one mark, so a loose bar never
becomes a digit of its own. A group as wide as two digits (two digits in one stroke)
may still be cut apart by the reader, as a scanned mark would.

The paths also say what a blob was: a digit drawn small with a wide brush, its loops
filled with ink, is drawn again from them with a pen of MNIST's share (`slimmed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from model.reader.options import Slot, mark_slot
from model.reader.pieces import Group

JOIN_OVERLAP = 0.3
SMALL = 0.5
NEAR = 0.2  # of the digit's height, horizontally
VERTICAL_SLACK = 0.3  # ... and within this share of its height above or below it
SPECK = 0.15  # groups whose extent is under this share of the tallest group are dots
MIN_OWNED = 0.9  # strokes must cover this share of the ink, or the pixels are read alone
OWN_MARGIN_PX = 2  # a stroke owns the canvas pixels within its half width plus this
MAX_STROKES = 200  # more paths than this is not a number: read the pixels instead
# A digit drawn small with a wide brush is a blob, its loops filled with ink, but its
# strokes' paths still say what was drawn. A digit whose pen is wider than SLIM_PEN of it
# (pen / (its paths' longer side + pen); MNIST's strokes: 0.07-0.25, median 0.125) is
# drawn again from its paths with a pen of that share, and that is read.
SLIM_PEN = 0.125


@dataclass(frozen=True)
class Stroke:
    """One pen stroke: its points in canvas pixels, in drawing order, and the pen width."""

    points: np.ndarray  # (n, 2) float32: x, y
    width: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 of the stroke's ink (the pen's half width included)."""
        half = self.width / 2
        (x0, y0), (x1, y1) = self.points.min(axis=0), self.points.max(axis=0)
        return float(x0 - half), float(y0 - half), float(x1 + half), float(y1 + half)


def canvas_strokes(json_data: Mapping[str, Any] | None) -> list[Stroke]:
    """The freehand paths of a drawable-canvas `json_data`, in drawing order.

    Fabric.js keeps a path's points in canvas pixels ("M", "Q" and "L" commands; the
    last pair of numbers of each is the point it reaches). Anything else is skipped.
    """
    strokes = []
    for obj in (json_data or {}).get("objects", []) or []:
        if not isinstance(obj, Mapping) or obj.get("type", "path").lower() != "path":
            continue
        points = []
        for command in obj.get("path") or []:
            numbers = [v for v in command[1:] if isinstance(v, int | float)]
            if len(numbers) >= 2:
                points.append(numbers[-2:])
        if points:
            width = float(obj.get("strokeWidth") or 1.0)
            strokes.append(Stroke(np.asarray(points, np.float32), width))
    return strokes if len(strokes) <= MAX_STROKES else []


def slimmed(strokes: Sequence[Stroke]) -> list[Stroke] | None:
    """The strokes with each digit's pen at most SLIM_PEN of it; None when no digit's pen
    was wider. A dab (paths shorter than the pen is wide) is left alone."""
    slim, changed = list(strokes), False
    for group in group_strokes(strokes):
        points = np.vstack([strokes[i].points for i in group])
        extent = float((points.max(axis=0) - points.min(axis=0)).max())
        pen = max(strokes[i].width for i in group)
        if pen <= extent and pen > SLIM_PEN * (extent + pen):
            width = SLIM_PEN / (1 - SLIM_PEN) * extent
            for i in group:
                slim[i] = Stroke(strokes[i].points, min(strokes[i].width, width))
            changed = True
    return slim if changed else None


def drawn(strokes: Sequence[Stroke], shape: tuple[int, int], scale: float) -> np.ndarray:
    """The strokes in black, anti-aliased, on a transparent RGBA canvas of `shape` (h, w);
    `scale` maps canvas pixels to its."""
    alpha = np.zeros(shape, np.uint8)
    for stroke in strokes:
        _draw(alpha, stroke, scale, 255, max(1, round(stroke.width * scale)), cv2.LINE_AA)
    return np.dstack([np.zeros((*shape, 3), np.uint8), alpha])


def _draw(image: np.ndarray, stroke: Stroke, scale: float, value: int, thickness: int,
          line: int = cv2.LINE_8) -> None:
    """Draw one stroke's path (a dot for a single point) `thickness` px wide, in place."""
    points = np.rint(stroke.points * scale).astype(np.int32).reshape(-1, 1, 2)
    if len(points) == 1:
        cv2.circle(image, tuple(int(v) for v in points[0, 0]), thickness // 2, value, -1, line)
    else:
        cv2.polylines(image, [points], False, value, thickness, line)


def group_strokes(strokes: Sequence[Stroke]) -> list[list[int]]:
    """Stroke indices per digit, digits left to right."""
    boxes = [s.box for s in strokes]
    groups: list[list[int]] = []
    extents: list[list[float]] = []
    for index, box in enumerate(boxes):
        host = _host(box, extents)
        if host is None:
            groups.append([index])
            extents.append(list(box))
        else:
            groups[host].append(index)
            _grow(extents[host], box)
    merged = True
    while merged:  # a digit that grew may now overlap its neighbour
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlap(extents[i], extents[j]) >= JOIN_OVERLAP:
                    groups[i] += groups.pop(j)
                    _grow(extents[i], extents.pop(j))
                    merged = True
                    break
            if merged:
                break
    tallest = max((e[3] - e[1] for e in extents), default=0.0)
    kept = [(e, g) for e, g in zip(extents, groups, strict=True)
            if max(e[2] - e[0], e[3] - e[1]) >= SPECK * tallest]
    return [sorted(g) for _, g in sorted(kept, key=lambda item: item[0][0] + item[0][2])]


def _host(box: Sequence[float], extents: list[list[float]]) -> int | None:
    """The digit a stroke belongs to, or None when it starts a new one."""
    best, best_overlap = None, 0.0
    for k, extent in enumerate(extents):
        overlap = _overlap(box, extent)
        if overlap >= JOIN_OVERLAP and overlap > best_overlap:
            best, best_overlap = k, overlap
    if best is not None:
        return best
    w, h = box[2] - box[0], box[3] - box[1]
    near = []
    for k, (x0, y0, x1, y1) in enumerate(extents):
        height = y1 - y0
        gap = max(x0 - box[2], box[0] - x1, 0.0)
        beside = box[1] >= y0 - VERTICAL_SLACK * height and box[3] <= y1 + VERTICAL_SLACK * height
        if max(w, h) <= SMALL * height and gap <= NEAR * height and beside:
            near.append((gap, k))
    return min(near)[1] if near else None


def _overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Horizontal overlap of two boxes as a share of the narrower one's width."""
    shared = min(a[2], b[2]) - max(a[0], b[0])
    return max(0.0, shared) / max(min(a[2] - a[0], b[2] - b[0]), 1e-6)


def _grow(extent: list[float], box: Sequence[float]) -> None:
    extent[0], extent[1] = min(extent[0], box[0]), min(extent[1], box[1])
    extent[2], extent[3] = max(extent[2], box[2]), max(extent[3], box[3])


def ownership(strokes: Sequence[Stroke], groups: Sequence[Sequence[int]],
              shape: tuple[int, int], scale: float) -> np.ndarray:
    """int32 (h, w) image: 1 + the group whose strokes cover each pixel, 0 for none.

    `scale` maps canvas pixels to the image's (the ink map may be downscaled).
    """
    owner = np.zeros(shape, np.int32)
    for label, group in enumerate(groups, start=1):
        for index in group:
            thickness = max(1, round(strokes[index].width * scale + 2 * OWN_MARGIN_PX))
            _draw(owner, strokes[index], scale, label, thickness)
    return owner


def covered(mask: np.ndarray, strokes: Sequence[Stroke], scale: float) -> bool:
    """Whether the strokes cover the ink (MIN_OWNED of it): they are this drawing's."""
    everything = [list(range(len(strokes)))]
    return bool(strokes) and _owned(ownership(strokes, everything, mask.shape, scale), mask)


def _owned(owner: np.ndarray, mask: np.ndarray) -> bool:
    return np.count_nonzero(owner[mask]) >= MIN_OWNED * np.count_nonzero(mask)


def stroke_slots(mask: np.ndarray, strokes: Sequence[Stroke], scale: float
                 ) -> list[list[Slot]] | None:
    """One line of slots, one per stroke group, for the reader; None when the strokes do
    not account for the ink (a stale or foreign `json_data`)."""
    groups = group_strokes(strokes)
    if not groups or not mask.any():
        return None
    owner = ownership(strokes, groups, mask.shape, scale)
    if not _owned(owner, mask):
        return None
    labels = np.where(mask, owner, 0)
    marks = []
    for label in range(1, len(groups) + 1):
        ys, xs = np.nonzero(labels == label)
        if ys.size:
            marks.append(Group([label], int(xs.min()), int(ys.min()), int(xs.max()) + 1,
                               int(ys.max()) + 1))
    if not marks:
        return None
    height = float(max(g.h for g in marks))
    return [[mark_slot(labels, g, marks, height) for g in marks]]
