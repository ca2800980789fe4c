"""Printed lines on forms: the box a digit is written in, the line it is written on.

Forms, cheques and exercise sheets put each digit in a box, in a comb of ticks or on
a line. To the segmenter a box is one mark larger than any digit, and a digit written
across a line is joined to every other digit on it, so such lines are taken out of the
ink first. A line is a straight run (within a few degrees, as a tilted photo leaves
it) across at least RULE_VS_EXTENT of all the ink, in a thin mark (a pen stroke is
thicker than a printed line) at least RULE_VS_TEXT times as long as the tallest
digit-like mark, reaching past the ink beside it. A digit's own bars (a 7's top, a 2's
base) are shorter than its height, and a 1 is no taller than its neighbours, so
neither qualifies. Upright lines count where they meet a line already found (the sides
of a box, the walls of a comb). Where a digit crosses a line, the ink the line covered
is put back so the digit stays whole.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.frames import frame_mask
from model.ink import stroke_width

RULE_VS_EXTENT = 0.4  # a straight run across this share of the ink's extent may be a line
MIN_RULE_PX = 24  # ... and is this many pixels long at least
RULE_VS_TEXT = 1.2  # a mark with such runs this many times the text height is a line
LONG_VS_TEXT = 2.5  # ... and one this long is, even if it ends where the digits end (a comb)
UPRIGHT_VS_TEXT = 2.0  # ... a mark of upright runs only must be this much taller
WALL_VS_TEXT = 1.1  # upright runs this long that meet a line are its box's walls
MAX_TILT = 6.0  # degrees from level or upright: tilted photos keep their lines straight
BRIDGE = 13  # a stroke crossing a line is bridged over this many pixels of removed line
MAX_GAP = 2  # pixels a line may break (a faint print, JPEG) and stay one line
STICK_OUT = 0.1  # ... and reach this share of the text height past the ink beside them
TALL_VS_TEXT = 0.5  # ... that is, past marks at least this share of the text height
MAX_THICKNESS = 0.08  # printed lines are thinner than this share of the text height ...
LINE_VS_PEN = 1.2  # ... or than this multiple of the handwriting's stroke
MIN_TEXT_AREA = 0.2  # marks smaller than this share of the largest are specks, not text
MAX_RUN_SHARE = 0.5  # marks mostly made of straight runs are lines, not text
MIN_TEXT_VS_HEIGHT = 0.25  # with no text this share of the ink's height, nothing is removed
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
_NEAR = np.ones((3, 3), np.uint8)


def remove_rules(mask: np.ndarray) -> np.ndarray:
    """The ink mask without printed lines and boxes; unchanged when it has none."""
    if not mask.any() or min(mask.shape) < 3:
        return mask
    boxes = frame_mask(mask)
    rules = boxes | _line_rules(mask & ~_grow(boxes) if boxes.any() else mask)
    if not rules.any():
        return mask
    # The lines with their grey edges; ink a digit puts across them is given back.
    covered = mask & _grow(rules)
    kept = mask & ~covered
    kept_u8 = kept.astype(np.uint8)
    across = np.zeros_like(kept)
    for kernel in (np.ones((BRIDGE, 1), np.uint8), np.ones((1, BRIDGE), np.uint8)):
        across |= cv2.morphologyEx(kept_u8, cv2.MORPH_CLOSE, kernel).astype(bool)
    return kept | (covered & across)


def _line_rules(mask: np.ndarray) -> np.ndarray:
    """The pixels of long printed lines (underlines, combs, rows of boxes) in `mask`."""
    none = np.zeros_like(mask, dtype=bool)
    if not mask.any():
        return none
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    length = max(MIN_RULE_PX, round(RULE_VS_EXTENT * extent))
    ink = mask.astype(np.uint8)
    flat, upright = _straight_runs(ink, length)
    runs = flat | upright
    if not runs.any():
        return none
    text = _text_height(mask, flat)
    if text < MIN_TEXT_VS_HEIGHT * (rows[-1] - rows[0] + 1):
        return none  # little but straight strokes: a drawn 1 or 7, not a form
    rest = mask & ~_grow(runs)
    rules = np.zeros_like(mask)
    # A printed line is thinner than the pen, or than MAX_THICKNESS of the text when the
    # pen is fine (a ballpoint on a form printed with heavy lines).
    thickest = max(MAX_THICKNESS * text, LINE_VS_PEN * stroke_width(rest))
    # Level and upright runs are judged apart: a 1 written across a line is an upright
    # run touching it, not part of it.
    for kind in (flat, upright):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(kind.astype(np.uint8),
                                                                   connectivity=8)
        for i in range(1, count):
            w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
            part = labels == i
            level = kind is flat and max(w, h) >= RULE_VS_TEXT * text \
                and (max(w, h) >= LONG_VS_TEXT * text or _sticks_out(part, rest, text)
                     or _comb_ticks(ink, part, text, thickest).any())
            if (level or h >= UPRIGHT_VS_TEXT * text) and stroke_width(part) <= thickest:
                rules |= part
    if not rules.any():
        return none
    wall = max(MIN_RULE_PX, round(WALL_VS_TEXT * text))
    # Hough can spend a wall's pixels on a slanted segment through a digit beside it;
    # an opening with an upright bar finds the walls of an untilted row as well.
    walls = _straight_runs(ink, wall)[1]
    walls |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((wall, 1), np.uint8)).astype(bool)
    rules |= _touching(walls & ~rules, rules)
    return rules | _comb_ticks(ink, rules, text, thickest)


def _comb_ticks(ink: np.ndarray, rules: np.ndarray, text: int, thickest: float) -> np.ndarray:
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
    upright = _straight_runs(ink, short)[1] & ~rules
    alone = ink.astype(bool) & ~_grow(rules)
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
    if len(thin) < MIN_TICKS:
        return np.zeros_like(rules)
    # Hough covers a tick in parts; its height is the ink run up from where it stands.
    h = h.copy()
    for i in thin:
        h[i] = _run_up(ink, stats[i], thickest)
    middle = float(np.median(h[thin]))
    ticks = [i for i in thin if abs(h[i] - middle) <= TICK_SPREAD * middle]
    if len(ticks) < MIN_TICKS or middle > TICK_VS_DIGIT * text:  # "111" on a line
        return np.zeros_like(rules)
    centres = np.sort(stats[ticks, cv2.CC_STAT_LEFT] + stats[ticks, cv2.CC_STAT_WIDTH] / 2)
    if np.diff(centres).min() < MIN_PITCH_VS_TEXT * text:
        return np.zeros_like(rules)  # closer than a digit's width: strokes, not a comb
    found = np.isin(labels, ticks)
    grid = _tick_grid(stats[ticks], rules)
    widest = int(w[ticks].max()) + 2  # a pen's 1 is wider than a printed tick
    found |= _missed_ticks(ink, stats[ticks], grid, middle, widest)
    # What is left of a tick the Hough segment did not cover: a short thin upright
    # stub on the comb's pitch, beside the line or a tick.
    near = cv2.dilate((rules | found).astype(np.uint8), _NEAR).astype(bool)
    rest = ink.astype(bool) & ~near
    _, parts, box, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    touching = np.unique(parts[cv2.dilate(near.astype(np.uint8), _NEAR).astype(bool) & rest])
    pw, ph = box[:, cv2.CC_STAT_WIDTH], box[:, cv2.CC_STAT_HEIGHT]
    px = box[:, cv2.CC_STAT_LEFT] + pw / 2
    stubs = [i for i in touching[touching > 0] if ph[i] <= (1 + TICK_SPREAD) * middle
             and pw[i] <= widest and ph[i] >= 1.5 * pw[i]
             and np.min(np.abs(grid - px[i])) <= widest]
    return found | np.isin(parts, stubs)


def _run_up(ink: np.ndarray, box: np.ndarray, thickest: float) -> int:
    """Rows of ink going up without a break in the column band of an upright run, from
    the run's foot (so a tick's whole height, or a digit's for a stroke that joins one)."""
    left, top, width, height = (int(v) for v in box[:4])
    centre, half = left + width // 2, max(1, round(thickest / 2))
    band = ink[:top + height, max(0, centre - half):centre + half + 1].any(axis=1)
    gaps = np.flatnonzero(~band[::-1])
    return int(gaps[0]) if gaps.size else int(band.size)


def _tick_grid(ticks: np.ndarray, rules: np.ndarray) -> np.ndarray:
    """Where a comb's ticks are: the found ones' pitch, repeated along the line."""
    centres = np.sort(ticks[:, cv2.CC_STAT_LEFT] + ticks[:, cv2.CC_STAT_WIDTH] / 2)
    steps = np.diff(centres)
    steps = steps[steps >= TICK_MIN_PX]
    if steps.size == 0:
        return centres
    pitch = float(np.median(steps / np.maximum(np.rint(steps / steps.min()), 1)))
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


def _sticks_out(line: np.ndarray, rest: np.ndarray, text: int) -> bool:
    """Whether a line reaches past the other ink near it on both sides, as a box or an
    underline does.

    Two touching digits can line up their bars into one long straight run; it ends
    where their ink ends. A 2's long tail reaches past the ink on one side only. Only
    digit-sized marks count (not a comb's short ticks, not the thin walls of a row of
    boxes).
    """
    ys, xs = np.nonzero(line)
    band = rest[max(0, ys.min() - text): ys.max() + text + 1].astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    tall = 1 + np.flatnonzero((stats[1:, cv2.CC_STAT_HEIGHT] >= TALL_VS_TEXT * text)
                              & (stats[1:, cv2.CC_STAT_WIDTH] > STICK_OUT * text))
    cols = np.flatnonzero(np.isin(labels, tall).any(axis=0))
    if cols.size == 0:
        return True
    margin = STICK_OUT * text
    return bool(xs.min() < cols[0] - margin and xs.max() > cols[-1] + margin)


def _grow(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), _NEAR).astype(bool)


def _touching(candidates: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The connected parts of `candidates` that touch `found`."""
    _, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    hits = np.unique(labels[_grow(found) & candidates])
    return np.isin(labels, hits[hits > 0])


def _straight_runs(ink: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Ink on straight segments at least `length` long: (level, upright), within MAX_TILT.

    One probabilistic Hough transform finds the segments whatever their tilt; the ink
    within a pixel of each is the run.
    """
    # A hairline a few degrees askew is a staircase whose steps Hough's bins drift
    # off; thickened by a pixel it stays one segment.
    thick = cv2.dilate(ink, _NEAR)
    segments = cv2.HoughLinesP(thick, 1, np.pi / 180, threshold=max(1, length // 2),
                               minLineLength=length, maxLineGap=MAX_GAP)
    drawn = [np.zeros_like(ink), np.zeros_like(ink)]  # level, upright
    for x0, y0, x1, y1 in ([] if segments is None else segments.reshape(-1, 4)):
        angle = np.degrees(np.arctan2(abs(y1 - y0), abs(x1 - x0)))
        for canvas, tilt in zip(drawn, (angle, 90.0 - angle), strict=True):
            if tilt <= MAX_TILT:
                cv2.line(canvas, (int(x0), int(y0)), (int(x1), int(y1)), 1, 3)
    level, upright = ((canvas & ink).astype(bool) for canvas in drawn)
    return level, upright


def _text_height(mask: np.ndarray, flat: np.ndarray) -> int:
    """Height of the tallest mark that could be text (or 0).

    Not text: specks, marks mostly made of level straight runs (lines), and marks
    whose box holds another mark's box (a frame round a digit). Measured with and
    without the level runs, whichever finds taller text: digits written on a line or
    in a comb are one mark with it until the line is left out, while a digit's own
    bar left out would split the digit.
    """
    return max(_tallest_text(mask, flat), _tallest_text(mask & ~_grow(flat), flat))


def _tallest_text(mask: np.ndarray, flat: np.ndarray) -> int:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                               connectivity=8)
    if count <= 1:
        return 0
    x, y, w, h, areas = (stats[1:, k] for k in range(5))
    in_runs = np.bincount(labels[flat & mask], minlength=count)[1:]
    text = (areas >= MIN_TEXT_AREA * areas.max()) & (in_runs < MAX_RUN_SHARE * areas)
    for i in np.flatnonzero(text):
        inside = (x >= x[i]) & (y >= y[i]) & (x + w <= x[i] + w[i]) & (y + h <= y[i] + h[i])
        text[i] = inside.sum() == 1  # only itself
    return int(h[text].max()) if text.any() else 0
