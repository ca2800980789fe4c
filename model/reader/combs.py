"""Combs: the ticks printed along a line, one cell per digit, and a comb of one cell.

A comb is a line with upright ticks a digit's width apart, shorter than the digits.
Its line is found as a printed line (model.reader.rules); its ticks are the thin upright runs
standing on it, at least MIN_TICKS of one height, then those on the same pitch that a
digit touches. Where digits touch all but two, the line's ends tell the comb: a comb's
line stops at its first and last ticks. A comb of one cell has a line too short to be
taken for one and only two ticks, so it is found by its shape alone.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from model.reader.lines import MAX_TILT, NEAR, grow, straight_runs

# Comb ticks: upright runs ending within TICK_REACH pixels (or TICK_REACH_VS_TEXT of the
# text height) of a line, at least TICK_MIN_PX tall, at least MIN_TICKS of them within
# TICK_SPREAD of their median height.
TICK_REACH = 2
TICK_REACH_VS_TEXT = 0.2
TICK_MIN_PX = 4
TICK_VS_TEXT = 0.15  # ... and this share of the text height
TICK_VS_DIGIT = 0.85  # ticks are shorter than the digits (at most this share of them)
MIN_PITCH_VS_TEXT = 0.5  # ... and a cell apart, a cell holding a digit
MIN_TICKS = 3
TICK_SPREAD = 0.25
TICK_FILL = 0.8
PITCH_SLACK = 0.1  # a printed comb's ticks are on their pitch within this share of it
MAX_TICKS = 40  # more candidates than this on a line: handwriting on a ruled line, not a comb


def comb_ticks(ink: np.ndarray, rules: np.ndarray, text: int, thickest: float) -> np.ndarray:
    """A comb's ticks: thin upright runs standing on a line, at least MIN_TICKS of one height.

    Ticks can be almost as tall as the digits, so they are not dropped as dashes, and a
    digit written against one joins it. A 1 standing on the line is as thin and as
    straight, but it is not as tall as MIN_TICKS others.
    """
    short = max(TICK_MIN_PX, round(TICK_VS_TEXT * text))
    reach = 2 * max(TICK_REACH, round(TICK_REACH_VS_TEXT * text)) + 1
    near = cv2.dilate(rules.astype(np.uint8), np.ones((reach, reach), np.uint8))
    # Candidates: upright runs (Hough finds a tick a digit touches), and marks of their
    # own standing on the line (Hough can miss a short one in the corner with it).
    upright = straight_runs(ink, short)[1] & ~rules
    alone = ink.astype(bool) & ~grow(rules)
    _, parts, boxes, _ = cv2.connectedComponentsWithStats(alone.astype(np.uint8),
                                                          connectivity=8)
    standing = np.unique(parts[near.astype(bool) & alone])
    pw, ph = boxes[:, cv2.CC_STAT_WIDTH], boxes[:, cv2.CC_STAT_HEIGHT]
    posts = [i for i in standing[standing > 0] if ph[i] >= max(short, 2 * pw[i])]
    upright |= np.isin(parts, posts)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(upright.astype(np.uint8),
                                                           connectivity=8)
    on_line = np.unique(labels[near.astype(bool) & upright])
    slant = np.tan(np.radians(MAX_TILT))
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    thin = [i for i in on_line[on_line > 0] if w[i] <= thickest + 2 + slant * h[i]]
    if len(thin) < 2:
        return np.zeros_like(rules)
    # Hough covers a tick in parts; its height is the ink run up from where it stands.
    run = h.copy()
    for i in thin:
        run[i] = _run_up(ink, stats[i], thickest)
    centres = stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH] / 2
    middle, ticks = _of_one_height(thin, run)
    if len(ticks) < MIN_TICKS:
        # A digit written down onto a tick runs up it: with only three ticks, one such
        # leaves two of one height. Hough's own runs stop where the digit's stroke bends.
        middle, ticks = _of_one_height(thin, h)
    on_pitch: list[int] = []
    if len(ticks) >= MIN_TICKS and middle <= TICK_VS_DIGIT * text:  # not "111" on a line
        # Upright strokes of the digits can stand on the line at a tick's height too: the
        # comb is the ticks on one pitch, a cell (a digit's width at least) apart.
        on_pitch, pitch = _on_one_pitch(centres[ticks], MIN_PITCH_VS_TEXT * text)
    ticks = [ticks[k] for k in on_pitch]
    if len(ticks) < MIN_TICKS:
        # Digits touch most ticks: the comb is told by its line's ends, from the runs
        # clear of the digits (no ink goes on up from their top).
        clear = [i for i in thin if run[i] <= (1 + TICK_SPREAD) * h[i]]
        comb = _ticks_on_line_ends(ink, rules, clear, h, centres, text, round(thickest) + 2)
        if comb is None:
            return np.zeros_like(rules)
        middle, ticks, pitch = comb
    found = np.isin(labels, ticks)
    grid = _tick_grid(centres[ticks], pitch, rules)
    widest = int(w[ticks].max()) + 2  # a pen's 1 is wider than a printed tick
    found |= _missed_ticks(ink, stats[ticks], grid, middle, widest)
    # What is left of a tick the Hough segment did not cover: a short thin upright
    # stub on the comb's pitch, beside the line or a tick.
    near = cv2.dilate((rules | found).astype(np.uint8), NEAR).astype(bool)
    rest = ink.astype(bool) & ~near
    _, parts, box, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    touching = np.unique(parts[cv2.dilate(near.astype(np.uint8), NEAR).astype(bool) & rest])
    pw, ph = box[:, cv2.CC_STAT_WIDTH], box[:, cv2.CC_STAT_HEIGHT]
    px = box[:, cv2.CC_STAT_LEFT] + pw / 2
    stubs = [i for i in touching[touching > 0] if ph[i] <= (1 + TICK_SPREAD) * middle
             and pw[i] <= widest and ph[i] >= 1.5 * pw[i]
             and np.min(np.abs(grid - px[i])) <= widest]
    return found | np.isin(parts, stubs)


def comb_cell(marks: np.ndarray, line: np.ndarray, text: int, thickest: float) -> np.ndarray:
    """A comb of one cell, a mark of its own: a short level line with a printed tick
    standing at each end, and nothing else (its pixels, or none). `marks` labels the
    ink's connected marks (8-connected, as cv2.connectedComponents gives them).

    Too short for a line and with too few ticks for a comb, it reads as part of the
    digit it holds: a lone 1 standing in one read as a 2 or a 6.
    """
    ids = np.unique(marks[line])
    none = np.zeros(marks.shape, dtype=bool)
    if ids.size != 1 or ids[0] == 0:
        return none
    cell = marks == ids[0]
    ys, xs = np.nonzero(cell)
    if xs.max() - xs.min() + 1 < MIN_PITCH_VS_TEXT * text \
            or ys.max() - ys.min() + 1 > TICK_VS_DIGIT * text:
        return none  # narrower than a digit, or tall enough to be one
    band = round(thickest + 2 + np.tan(np.radians(MAX_TILT)) * (ys.max() - ys.min()))
    rest = cell & ~grow(line)
    short = max(TICK_MIN_PX, round(TICK_VS_TEXT * text))
    ticks = [rest[:, :xs.min() + band], rest[:, xs.max() - band + 1:]]
    standing = all(t.any() and np.ptp(np.nonzero(t)[0]) + 1 >= short
                   and np.nonzero(t)[0].max() <= np.nonzero(line)[0].max() for t in ticks)
    inside = rest[:, xs.min() + band:xs.max() - band + 1]
    return cell if standing and not inside.any() else none


def _ticks_on_line_ends(ink: np.ndarray, rules: np.ndarray, thin: list[int],
                        heights: np.ndarray, centres: np.ndarray, text: int,
                        reach: int) -> tuple[float, list[int], float] | None:
    """A comb told by its line, when digits touch most of its ticks (fewer than MIN_TICKS
    of one height are left): the line runs from the first tick to the last and stops
    there, so the ticks stand on a grid of 1-N cells from end to end. Of the grids that
    put at least two upright runs (`thin`) of one height on them, one at an end where
    the line stops, the one with a run at both ends, then the most runs, then the fewest
    cells: (their height, those runs, the pitch), or None. An underline broken by the
    writing does not stop where a digit's stroke stands on a piece of it."""
    cols = np.flatnonzero(rules.any(axis=0))
    stops = [_stops(ink, rules, end, side, reach) for end, side in ((cols[0], -1), (cols[-1], 1))]
    if not any(stops):
        return None
    span = float(cols[-1] - cols[0])
    found, best = None, (0, 0)  # (line ends among the ticks, ticks)
    for cells in range(1, int(span / (MIN_PITCH_VS_TEXT * text)) + 1):
        pitch = span / cells
        slack = max(reach, PITCH_SLACK * pitch)
        nearest: dict[int, tuple[float, int]] = {}  # grid position -> (how far off, run)
        for i in thin:
            k = round((centres[i] - cols[0]) / pitch)
            off = abs(centres[i] - cols[0] - k * pitch)
            if 0 <= k <= cells and off <= slack and off < nearest.get(k, (np.inf, 0))[0]:
                nearest[k] = (off, i)
        hits = [i for _, i in nearest.values()]
        ends = {nearest[k][1] for k, stop in zip((0, cells), stops, strict=True)
                if stop and k in nearest}
        for middle in np.unique(heights[hits]):
            if not 0 < middle <= TICK_VS_DIGIT * text:
                continue
            ticks = [i for i in hits if abs(heights[i] - middle) <= TICK_SPREAD * middle]
            score = (len(ends.intersection(ticks)), len(ticks))
            if len(ticks) >= 2 and score[0] >= 1 and score > best:
                found, best = (float(middle), ticks, pitch), score
    return found


def _stops(ink: np.ndarray, rules: np.ndarray, end: int, side: int, reach: int) -> bool:
    """Whether the line (`rules`) stops at column `end`: no ink beyond it along the line
    for `reach` pixels (`side` -1: to the left)."""
    rows = np.flatnonzero(rules[:, end])
    band = slice(max(0, rows.min() - 1), rows.max() + 2)
    beyond = slice(max(0, end - reach), end) if side < 0 else slice(end + 1, end + 1 + reach)
    return not ink[band, beyond].any()


def _of_one_height(runs: list[int], heights: np.ndarray) -> tuple[float, list[int]]:
    """The runs' median height and those within TICK_SPREAD of it."""
    middle = float(np.median(heights[runs]))
    return middle, [i for i in runs if abs(heights[i] - middle) <= TICK_SPREAD * middle]


def _on_one_pitch(centres: np.ndarray, min_pitch: float) -> tuple[list[int], float]:
    """The indices of the most `centres` on one grid, and its pitch: the grid anchored at
    one of them, its pitch the distance to another (`min_pitch` at least), a centre on it
    within PITCH_SLACK of the pitch (a tick found in two parts counts twice); of grids as
    good, the one of the longer pitch. Over MAX_TICKS centres, none (the search is cubic
    in them)."""
    best: list[int] = []
    best_pitch = 0.0
    if len(centres) > MAX_TICKS:
        return best, best_pitch
    for a, b in itertools.permutations(range(len(centres)), 2):
        pitch = float(centres[b] - centres[a])
        if pitch < min_pitch:
            continue
        steps = (centres - centres[a]) / pitch
        hits = np.flatnonzero(np.abs(steps - np.rint(steps)) <= PITCH_SLACK).tolist()
        if (len(hits), pitch) > (len(best), best_pitch):
            best, best_pitch = hits, pitch
    return best, best_pitch


def _run_up(ink: np.ndarray, box: np.ndarray, thickest: float) -> int:
    """Rows of ink going up without a break in the column band of an upright run, from
    the run's foot (so a tick's whole height, or a digit's for a stroke that joins one)."""
    left, top, width, height = (int(v) for v in box[:4])
    centre, half = left + width // 2, max(1, round(thickest / 2))
    band = ink[:top + height, max(0, centre - half):centre + half + 1].any(axis=1)
    gaps = np.flatnonzero(~band[::-1])
    return int(gaps[0]) if gaps.size else int(band.size)


def _tick_grid(centres: np.ndarray, pitch: float, rules: np.ndarray) -> np.ndarray:
    """Where a comb's ticks are: the found ones (`centres`, on one grid of about `pitch`)
    on their pitch, measured over all of them, repeated along the line."""
    centres = np.sort(centres)
    steps = np.diff(centres)
    steps = steps[steps >= TICK_MIN_PX]  # not the two parts of one tick
    if steps.size:
        pitch = float(np.median(steps / np.maximum(np.rint(steps / pitch), 1)))
    cols = np.flatnonzero(rules.any(axis=0))
    first = centres[0] - np.floor((centres[0] - cols[0] + pitch / 4) / pitch) * pitch
    return np.arange(first, cols[-1] + pitch / 4, pitch)


def _missed_ticks(ink: np.ndarray, ticks: np.ndarray, grid: np.ndarray, middle: float,
                  widest: int) -> np.ndarray:
    """Ticks a digit touches (merged into its stroke): where the comb's pitch puts them.

    Only a column band that is inked over TICK_FILL of the tick's height goes.
    """
    centres = ticks[:, cv2.CC_STAT_LEFT] + ticks[:, cv2.CC_STAT_WIDTH] / 2
    missed = np.zeros(ink.shape, bool)
    bottom = int(np.median(ticks[:, cv2.CC_STAT_TOP] + ticks[:, cv2.CC_STAT_HEIGHT]))
    top = max(0, bottom - round(middle))
    half = max(1, widest // 2)
    for x in grid:
        if np.min(np.abs(centres - x)) < widest:
            continue
        columns = slice(max(0, round(x) - half), round(x) + half + 1)
        band = ink[top:bottom, columns].astype(bool)
        if band.size and band.any(axis=1).mean() >= TICK_FILL:
            missed[top:bottom, columns] = band
    return missed
