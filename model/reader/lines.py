"""Straight runs of ink, the stuff printed lines are made of (model.reader.rules,
model.reader.combs, model.reader.ruling)."""

from __future__ import annotations

import cv2
import numpy as np

MAX_TILT = 6.0  # degrees from level or upright: tilted photos keep their lines straight
MAX_GAP = 2  # pixels a line may break (a faint print, JPEG) and stay one line
THETA = np.pi / 180  # Hough's angle step
FINE_THETA = np.pi / 720  # ... where a grid's lines run across the whole picture
CROSSING = 9  # pixels: longer than a printed line (thickened by a pixel) is thick
BRIDGE = 13  # a stroke crossing a line is bridged over this many pixels of removed line
NEAR = np.ones((3, 3), np.uint8)
# A band found as one run may hold two parallel lines: side by side (a margin line
# beside a grid's line), or joined through what lies between them (a grid's two lines
# round a row of digits that touch both). A line is the ink at the offsets, across the
# band, where PARALLEL_ROW of its length lies at least, adjacent offsets together
# holding PARALLEL_LINE of it.
PARALLEL_ROW = 0.2
PARALLEL_LINE = 0.7


def grow(mask: np.ndarray) -> np.ndarray:
    """`mask` thickened by a pixel all round."""
    return cv2.dilate(mask.astype(np.uint8), NEAR).astype(bool)


def bridged(mask: np.ndarray, span: int) -> np.ndarray:
    """`mask` with its gaps along a row or a column closed, up to `span` - 1 pixels."""
    ink = mask.astype(np.uint8)
    closed = mask.astype(bool)
    for kernel in (np.ones((span, 1), np.uint8), np.ones((1, span), np.uint8)):
        closed |= cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel).astype(bool)
    return closed


def take_out(mask: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """`mask` without `lines` and their grey edges; the ink a stroke puts across a line
    (bridging at most BRIDGE pixels of it, level or upright) is given back, so a digit
    written across a line stays whole."""
    covered = mask & grow(lines)
    kept = mask & ~covered
    return kept | (covered & bridged(kept, BRIDGE))


def lines_across(runs: tuple[np.ndarray, np.ndarray],
                 share: float) -> list[tuple[np.ndarray, int]]:
    """The straight runs (`straight_runs`'s level and upright ones) that reach across
    `share` of the picture and do not lie along its edge (a crop's or a scanner's
    frame): each one's pixels and length."""
    found = []
    for kind, upright in zip(runs, (False, True), strict=True):
        along, start, across = (cv2.CC_STAT_HEIGHT, cv2.CC_STAT_LEFT, cv2.CC_STAT_WIDTH) \
            if upright else (cv2.CC_STAT_WIDTH, cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT)
        run_side, cross_side = kind.shape if upright else kind.shape[::-1]
        _, labels, stats, _ = cv2.connectedComponentsWithStats(kind.astype(np.uint8),
                                                               connectivity=8)
        stats = stats[1:]
        inside = (stats[:, start] > 0) & (stats[:, start] + stats[:, across] < cross_side)
        found += [(labels == i + 1, int(stats[i, along]))
                  for i in np.flatnonzero((stats[:, along] >= share * run_side) & inside)]
    return found


def on_its_line(run: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The pixels of `ink` on the straight line through a run, out to its ends: those no
    further from the line fitted to the run than the run's own pixels are (plus one)."""
    ys, xs = np.nonzero(run)
    points = np.column_stack([xs, ys]).astype(np.float32)
    vx, vy, x0, y0 = (float(v) for v in cv2.fitLine(points, cv2.DIST_L2, 0, 0.01, 0.01).ravel())

    def distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.abs((x - x0) * vy - (y - y0) * vx)

    iy, ix = np.nonzero(ink)
    near = distance(ix, iy) <= distance(xs, ys).max() + 1.0
    found = np.zeros(ink.shape, bool)
    found[iy[near], ix[near]] = True
    return found


def touching(candidates: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The connected parts of `candidates` that touch `found`."""
    _, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    hits = np.unique(labels[grow(found) & candidates])
    return np.isin(labels, hits[hits > 0])


def straight_runs(ink: np.ndarray, length: int,
                  crossed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Ink on straight segments at least `length` long: (level, upright), within MAX_TILT.

    One probabilistic Hough transform finds the segments whatever their tilt; the ink
    within a pixel of each is the run. Hough takes the pixels of each segment it finds
    away before it looks for the next, so the lines crossing a grid's first lines are
    left in pieces, broken at every crossing; `crossed` looks for them again, each way,
    in the ink that runs CROSSING pixels that way.
    """
    # A hairline a few degrees askew is a staircase whose steps Hough's bins drift
    # off; thickened by a pixel it stays one segment.
    thick = cv2.dilate(ink, NEAR)
    level, upright = _segments(thick, length, FINE_THETA if crossed else THETA)
    if crossed:
        # Opened along one way, the ink keeps the lines that way whole, crossings and
        # all, and loses the other way's lines but for their crossings.
        if level.any():
            upright |= _segments(_opened(thick, (CROSSING, 1)), length, FINE_THETA)[1]
        if upright.any():
            level |= _segments(_opened(thick, (1, CROSSING)), length, FINE_THETA)[0]
    # A grid's lines, a pixel or two thick across the whole picture, drift off Hough's
    # segments by a pixel here and there: their runs are the thickened ink, unbroken.
    under = thick if crossed else ink
    return (level & under).astype(bool), (upright & under).astype(bool)


def _opened(ink: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """`ink` opened by a bar of `kernel` (rows, columns): only its runs that long that way."""
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))


def _segments(thick: np.ndarray, length: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Hough's straight segments at least `length` long, drawn 3 px wide: (level, upright)."""
    segments = cv2.HoughLinesP(thick, 1, theta, threshold=max(1, length // 2),
                               minLineLength=length, maxLineGap=MAX_GAP)
    drawn = [np.zeros_like(thick), np.zeros_like(thick)]  # level, upright
    for x0, y0, x1, y1 in ([] if segments is None else segments.reshape(-1, 4)):
        angle = np.degrees(np.arctan2(abs(y1 - y0), abs(x1 - x0)))
        for canvas, tilt in zip(drawn, (angle, 90.0 - angle), strict=True):
            if tilt <= MAX_TILT:
                cv2.line(canvas, (int(x0), int(y0)), (int(x1), int(y1)), 1, 3)
    return drawn[0], drawn[1]


def parallel_lines(band: np.ndarray, length: int) -> list[np.ndarray]:
    """The straight lines (each one's pixels) `length` long in a band of ink found as one
    run (`lines_across`), told apart by their offsets across the band's direction."""
    ys, xs = np.nonzero(band)
    if len(xs) < 2:
        return []
    points = np.column_stack([xs, ys]).astype(np.float32)
    vx, vy, x0, y0 = (float(v) for v in cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
    offset = np.round((xs - x0) * vy - (ys - y0) * vx).astype(int)
    offset -= offset.min()
    counts = np.bincount(offset)
    rows = np.flatnonzero(counts >= PARALLEL_ROW * length)
    lines = []
    for run in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if rows.size else []:
        if counts[run].sum() >= PARALLEL_LINE * length:
            on = np.isin(offset, run)
            line = np.zeros_like(band, dtype=bool)
            line[ys[on], xs[on]] = True
            lines.append(line)
    return lines


def band_lines(band: np.ndarray, length: int, one_line: bool) -> list[np.ndarray]:
    """The lines of a band of ink found as one run: those side by side in it
    (`parallel_lines`) where there are two or more, else the band when it is `one_line`."""
    parts = parallel_lines(band, length)
    return parts if len(parts) > 1 or not one_line else [band]
