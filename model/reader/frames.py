"""Printed boxes round digits: found by their shape, whatever their size, line or tilt.

A form's box is a rectangle of thin straight lines: every column between its walls
has ink on its top and bottom line, every row between them ink on its walls. No
digit looks like that (a 0's top is curved, a 7's bar has no walls), so a mark is a
box when, turned by the angle that makes its lines sharpest (a scan a few degrees
askew), its outermost rows and columns are covered end to end. The walls between
the cells of a row of boxes sharing their sides are columns covered from top to
bottom, as thin as the frame's lines. A digit touching or crossing its box is part
of the same mark; only the frame's own pixels are returned, and `model.reader.rules` gives
back the ink a digit puts across them.

Unlike the long-line search in `model.reader.rules`, this needs no comparison with the rest
of the page, so a row of separate boxes (each one short beside the whole field), a
single small box and a box drawn with a thick line are all found.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_TILT = 6.0  # degrees: a scan or photo askew by more than this is not straightened
TILT_STEP = 0.5
MIN_FRAME_PX = 16  # boxes smaller than this (either side) are specks or letters
# A box's mark (its frame and any digit written against it) covers at most MAX_FILL of
# its bounding box; over OPEN_FILL (a bold digit touching its box, or a bold 0 on its
# own) its sides must be its outermost ink, within OUTER_SLACK of its extent.
OPEN_FILL = 0.5
MAX_FILL = 0.8
OUTER_SLACK = 0.05
MAX_CANDIDATES = 60  # more marks than this that could be boxes: a texture, not a form
EDGE_BAND = 0.15  # share of the box's side its tilted edges stay within (6 degrees, thick)
SEED_COVER = 0.5  # a row (column) covering this share of the mark's width may be a side
SIDE_COVER = 0.93  # a side covers this share of the span between the opposite sides
BAND = 1  # rows either side a side's coverage is gathered over (a 1 px wobble)
MAX_LINE_VS_SIDE = 0.12  # a frame's line is thinner than this share of its shorter side
WALL_SLACK = 2  # an inner wall is at most WALL_LINES line widths plus this many pixels
WALL_LINES = 3  # (two boxes side by side, their walls touching, make one double wall)
NARROWEST_CELL = 0.25  # cells between walls: none narrower than this share of the height
NARROW_CELL = 0.5  # ... and of two beside a wall, one at least this wide
_ANGLES = np.radians(np.arange(-MAX_TILT, MAX_TILT + TILT_STEP / 2, TILT_STEP))


def frame_mask(mask: np.ndarray) -> np.ndarray:
    """The pixels of printed boxes (bool, like `mask`); all False when there are none."""
    frames = np.zeros_like(mask, dtype=bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                               connectivity=8)
    if count <= 1:
        return frames
    x, y, w, h, area = (stats[1:, k] for k in range(5))
    candidates = np.flatnonzero((w >= MIN_FRAME_PX) & (h >= MIN_FRAME_PX)
                                & (area <= MAX_FILL * w * h))
    if candidates.size > MAX_CANDIDATES:
        return frames
    for i in candidates:
        window = (slice(y[i], y[i] + h[i]), slice(x[i], x[i] + w[i]))
        own = labels[window] == i + 1
        if not _edges_inked(own):
            continue
        found = _frame_of(own, outermost=area[i] > OPEN_FILL * w[i] * h[i])
        if found is not None:
            frames[window] |= found
    return frames


def _edges_inked(own: np.ndarray) -> bool:
    """A quick look before the costly one: a box, even askew, has ink along all four
    edges of its bounding box; most digits leave some edge bare."""
    band_y = max(2, round(EDGE_BAND * own.shape[0]))
    band_x = max(2, round(EDGE_BAND * own.shape[1]))
    return (own[:band_y].any(axis=0).mean() >= SEED_COVER
            and own[-band_y:].any(axis=0).mean() >= SEED_COVER
            and own[:, :band_x].any(axis=1).mean() >= SEED_COVER
            and own[:, -band_x:].any(axis=1).mean() >= SEED_COVER)


def _frame_of(own: np.ndarray, *, outermost: bool) -> np.ndarray | None:
    """The frame pixels of one mark (its box-sized crop), or None when it is no box;
    with `outermost`, only a box whose sides are the mark's outermost ink."""
    ys, xs = np.nonzero(own)
    u, v = _straightened(xs.astype(np.float32), ys.astype(np.float32))
    u, v = u - u.min(), v - v.min()
    grid = np.zeros((v.max() + 1, u.max() + 1), bool)
    grid[v, u] = True
    rows = _runs(_cover(grid, axis=1) >= SEED_COVER)
    cols = _runs(_cover(grid.T, axis=1) >= SEED_COVER)
    if len(rows) < 2 or len(cols) < 2:
        return None
    (left, _), (_, right_end) = cols[0], cols[-1]
    (top, _), (_, bottom_end) = rows[0], rows[-1]
    # Each side is the outermost rows (columns) that cover SIDE_COVER of the span between
    # the other two sides; a digit written against it is not as long.
    across = _cover(grid[:, left:right_end + 1], axis=1)
    down = _cover(grid[top:bottom_end + 1].T, axis=1)
    found_sides = [_side(across, rows[0], True), _side(across, rows[-1], False),
                   _side(down, cols[0], True), _side(down, cols[-1], False)]
    if any(side is None for side in found_sides) or found_sides[0] == found_sides[1] \
            or found_sides[2] == found_sides[3]:
        return None
    (top, top_end), (bottom, bottom_end), (left, left_end), (right, right_end) = found_sides
    if outermost and not _outermost(found_sides, int(v.max()), int(u.max())):
        return None  # a rectangle inside a bold mark (a 0's thick ring), not round it
    # A printed box has square corners: its sides meet. A 0 as narrow as a box is round
    # there, its corners paper.
    for row in ((top + top_end) // 2, (bottom + bottom_end) // 2):
        for col in ((left + left_end) // 2, (right + right_end) // 2):
            if not grid[max(0, row - BAND):row + BAND + 1, max(0, col - BAND):col + BAND + 1].any():
                return None
    line = max(b - a for a, b in found_sides) + 1 - 2 * BAND
    if line > MAX_LINE_VS_SIDE * min(bottom_end - top, right_end - left):
        return None  # thick and small: a drawn square or a blot, not a printed box
    walls = [side for run in cols[1:-1] if (side := _side(down, run, True, whole=True))
             and side[1] - side[0] + 1 - 2 * BAND <= WALL_LINES * line + WALL_SLACK
             and _straight(grid[top:bottom_end + 1].T[side[0]:side[1] + 1])]
    walls = _cell_walls(walls, (left, left_end), (right, right_end), bottom_end - top)
    sides = [(top, top_end), (bottom, bottom_end)]
    on_frame = np.zeros(u.shape, bool)
    across = (u >= left - BAND) & (u <= right_end + BAND)
    for a, b in sides:
        on_frame |= across & (v >= a - BAND) & (v <= b + BAND)
    down = (v >= top - BAND) & (v <= bottom_end + BAND)
    for a, b in [(left, left_end), *walls, (right, right_end)]:
        on_frame |= down & (u >= a - BAND) & (u <= b + BAND)
    found = np.zeros_like(own)
    found[ys[on_frame], xs[on_frame]] = True
    return found


def _outermost(sides: list[tuple[int, int]], bottom: int, right: int) -> bool:
    """Whether the sides (top, bottom, left, right) lie at the grid's edges."""
    (top, _), (_, bottom_end), (left, _), (_, right_end) = sides
    slack_v, slack_u = 2 + OUTER_SLACK * bottom, 2 + OUTER_SLACK * right
    return (top <= slack_v and bottom - bottom_end <= slack_v
            and left <= slack_u and right - right_end <= slack_u)


def _cell_walls(walls: list[tuple[int, int]], left: tuple[int, int], right: tuple[int, int],
                height: int) -> list[tuple[int, int]]:
    """The walls (left to right) that part two cells a digit fits in, the cells as all
    the walls found divide the box: neither narrower than NARROWEST_CELL of the box's
    height, one of them NARROW_CELL wide at least. A 1 written from the top of its box
    to the bottom is as straight and thin as a wall, but it leaves a sliver of a cell
    beside it, or two narrow ones either side."""
    bounds = [left, *walls, right]
    kept = []
    for before, wall, after in zip(bounds, bounds[1:], bounds[2:], strict=False):
        cells = sorted((wall[0] - before[1], after[0] - wall[1]))
        if cells[0] >= NARROWEST_CELL * height and cells[1] >= NARROW_CELL * height:
            kept.append(wall)
    return kept


def _straightened(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates turned by the tilt that makes the mark's rows and columns sharpest."""
    best, best_score = (xs, ys), -1
    for angle in _ANGLES:
        c, s = np.cos(angle), np.sin(angle)
        u, v = np.rint(xs * c + ys * s), np.rint(ys * c - xs * s)
        score = (np.bincount((u - u.min()).astype(np.int64)).max()
                 + np.bincount((v - v.min()).astype(np.int64)).max())
        if score > best_score:
            best, best_score = (u, v), score
    return best[0].astype(np.int64), best[1].astype(np.int64)


def _cover(grid: np.ndarray, axis: int) -> np.ndarray:
    """Per row of `grid` (axis=1), the share of the columns with ink within BAND rows."""
    band = cv2.dilate(grid.astype(np.uint8), np.ones((2 * BAND + 1, 1), np.uint8))
    return band.mean(axis=axis)


def _covers(rows: np.ndarray) -> bool:
    """Whether a side (its rows of the grid, cut to the span between the other two sides)
    has ink at SIDE_COVER of its length."""
    return rows.size > 0 and float(rows.any(axis=0).mean()) >= SIDE_COVER


def _side(cover: np.ndarray, run: tuple[int, int], outer_first: bool,
          whole: bool = False) -> tuple[int, int] | None:
    """Within a seed run, the rows covering SIDE_COVER: the outermost group of them (the
    first or the last), or from the first to the last with `whole` (a double wall)."""
    a, b = run
    full = np.flatnonzero(cover[a:b + 1] >= SIDE_COVER) + a
    if full.size == 0:
        return None
    if whole:
        return int(full[0]), int(full[-1])
    groups = _runs(np.isin(np.arange(a, b + 1), full))
    first, last = groups[0] if outer_first else groups[-1]
    return a + first, a + last


def _straight(rows: np.ndarray) -> bool:
    """Whether one column of a wall's band (with a pixel either side) is covered end to
    end: a printed wall is, a slanted pen stroke across the band is not."""
    return any(_covers(rows[max(0, c - BAND):c + BAND + 1]) for c in range(rows.shape[0]))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (first, last) index pairs."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]
