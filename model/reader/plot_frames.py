"""A plot's frame on a light page: a digit plotted dark on light with its axes.

Plotted dark on light (`cmap="gray_r"`, as scikit-learn's own examples show its
digits), the digit shows on the page itself, inside the axes' frame: a closed
rectangle of hairlines with tick marks and tick numbers outside it. The numbers were
read as digits, and the hairlines, greyed by their anti-aliasing, passed for an
exercise book's faint ruling (`model.reader.ruling`), so the threshold rose over the digit's
grey pixels. `model.reader.panels` paints everything outside such a frame the page's light,
the frame itself included. Tick marks, thin stubs outside it, tell a plot's frame from
a printed box (a row of boxes has walls the frame's removal would leave standing), and
a box whose digit goes out across it is no plot's frame: only tick marks touch a frame
from outside.

A figure of several plots (`plt.subplots(2, 5)`) has a frame round each, none of them
across half the picture: each frame with its ticks is one piece of the page's dark, and
two or more such pieces of one size (`_plot_frames`) are the figure's frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader.pixels import block_min

Inside = tuple[slice, slice]  # rows, columns of the picture

FRAME_COPY_SIDE = 256  # frames are looked for on a copy at most this wide (block minima)
FRAME_MAX_SIDE = 2048  # px: figures and screenshots; larger pictures are photos
PAGE_LIGHT = 0.97  # of the page round a panel or frame, light at least (a few labels)
# A plot's frame (`_plot_frame`): hairlines along FRAME_SPAN of the picture or more,
# FRAME_FULL dark from corner to corner, at most FRAME_THIN px of the copy thick, round
# FRAME_MIN_AREA of the picture or more.
FRAME_SPAN = 0.5
FRAME_FULL = 0.95
FRAME_THIN = 2
FRAME_MIN_AREA = 0.2
MIN_TICKS = 2  # a plot's frame has tick marks outside it
PLOT_DARK = 0.5  # of the inside of a plot's frame, dark at most: the page shows in it
SUBPLOT_MIN_SIDE = 16  # px of the copy: each of several plots' frames is this wide
# The panels or plots of one figure are of one size: each one's height and width within
# ONE_SIZE of their medians.
ONE_SIZE = 0.15


def plot_frame_insides(gray: np.ndarray, threshold: float,
                       figure: bool) -> list[Inside] | None:
    """The inside of the frame of the plot in `gray`, whose lines are darker than
    `threshold`, or None where there is none. In a `figure` (its page one flat level: a
    figure or a screenshot) each plot's frame of several is looked for too."""
    if max(gray.shape) > FRAME_MAX_SIDE:
        return None  # a photo: a plot's hairlines are a figure's or a screenshot's
    zoom = -(-max(gray.shape) // FRAME_COPY_SIDE)
    frame = _plot_frame(block_min(gray, zoom) <= threshold)  # hairlines stay whole
    if frame is not None:
        frames = [frame]
    elif not figure:
        return None
    else:
        # Twice as fine: small plots' tick numbers, a few pixels from their ticks, stay
        # apart from them.
        zoom = max(1, zoom // 2)
        frames = _plot_frames(block_min(gray, zoom) <= threshold)
        if frames is None:
            return None
    return [(slice(top * zoom, bottom * zoom), slice(left * zoom, right * zoom))
            for top, bottom, left, right in frames]


def _plot_frames(dark: np.ndarray) -> list[tuple[int, int, int, int]] | None:
    """Top, bottom, left, right (exclusive) of the inside of each plot's frame of a figure
    of several, or None: two or more pieces of the dark that are each a plot's frame
    with its ticks (`_plot_frame`, on the piece alone), all of one size."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8),
                                                          connectivity=8)
    height, width = dark.shape
    frames = []
    for label, (x, y, w, h) in enumerate(stats[1:, :4], start=1):
        if min(w, h) < SUBPLOT_MIN_SIDE or min(x, y) == 0 or x + w == width or y + h == height:
            continue
        # The piece alone, with a pixel of page round it: its neighbours' labels are not
        # its business.
        rows, cols = slice(y - 1, y + h + 1), slice(x - 1, x + w + 1)
        frame = _plot_frame(labels[rows, cols] == label)
        if frame is not None:
            top, bottom, left, right = frame
            frames.append((top + y - 1, bottom + y - 1, left + x - 1, right + x - 1))
    if len(frames) < 2 or not of_one_size(frames):
        return None
    return frames


def of_one_size(boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether boxes (top, bottom, left, right) are all of one size (ONE_SIZE), as the
    panels or plots of one figure are, and pieces of one picture seldom."""
    sizes = np.array([(bottom - top, right - left) for top, bottom, left, right in boxes],
                     float)
    return bool(np.all(np.abs(sizes / np.median(sizes, axis=0) - 1) <= ONE_SIZE))


def _plot_frame(dark: np.ndarray) -> tuple[int, int, int, int] | None:
    """Top, bottom, left, right (exclusive) of the inside of a plot's frame in `dark`,
    or None.

    A plot's frame (its axes' spines) is a closed rectangle of hairlines, at most
    FRAME_THIN px of the copy thick, round FRAME_MIN_AREA of the picture or more and
    its middle, with light page on every side and mostly inside (PLOT_DARK); what
    touches it outside is tick marks (thin stubs, MIN_TICKS at least) and nothing else,
    so no stroke crosses it: a digit's tail out of a printed box does. A frame without
    ticks is a printed box's, or a row of boxes', as far as the picture says.
    """
    height, width = dark.shape
    u8 = dark.astype(np.uint8)
    level = np.flatnonzero(cv2.erode(u8, np.ones((1, round(FRAME_SPAN * width)), np.uint8)
                                     ).any(axis=1))
    upright = np.flatnonzero(cv2.erode(u8, np.ones((round(FRAME_SPAN * height), 1), np.uint8)
                                       ).any(axis=0))
    if len(level) < 2 or len(upright) < 2:
        return None
    top, bottom = int(level[0]), int(level[-1]) + 1
    left, right = int(upright[0]), int(upright[-1]) + 1
    if min(top, left) == 0 or bottom == height or right == width:
        return None  # no page on every side
    if ((bottom - top) * (right - left) < FRAME_MIN_AREA * dark.size
            or not (top <= height / 2 < bottom and left <= width / 2 < right)):
        return None  # too small, or off the picture's middle
    box = dark[top:bottom, left:right]
    depths = [_depth(lines) for lines in (box, box[::-1], box.T, box.T[::-1])]
    if min(depths) == 0 or max(depths) > FRAME_THIN:
        return None  # no closed rectangle, or no hairline
    if box.mean() > PLOT_DARK:
        return None  # a dark panel's edge (light ink stretched to it): no page inside
    outside = dark.copy()
    outside[top:bottom, left:right] = False
    rim = np.zeros_like(dark)
    rim[top - 1:bottom + 1, left - 1:right + 1] = True
    rim[top:bottom, left:right] = False
    _, labels, stats, _ = cv2.connectedComponentsWithStats(outside.astype(np.uint8),
                                                          connectivity=8)
    touching = np.unique(labels[rim & outside])
    stubs = stats[touching[touching > 0]]
    if np.any(np.minimum(stubs[:, cv2.CC_STAT_WIDTH], stubs[:, cv2.CC_STAT_HEIGHT]) > FRAME_THIN):
        return None  # a stroke across the frame, not a tick mark
    if len(stubs) < MIN_TICKS:
        return None  # a printed box (or a row of them), not a plot: `model.reader.rules`' work
    if 1 - float(outside.mean()) < PAGE_LIGHT:
        return None
    return top + depths[0], bottom - depths[1], left + depths[2], right - depths[3]


def _depth(box: np.ndarray) -> int:
    """How many rows from the top of `box` are lines across it (FRAME_FULL dark)."""
    depth = 0
    while depth <= FRAME_THIN and depth < box.shape[0] and box[depth].mean() >= FRAME_FULL:
        depth += 1
    return depth
