"""A dark panel, or a plot's frame, on a light page: a picture shown inside a picture.

A digit plotted as an image (matplotlib's `imshow` with a grey colour map: white
strokes on a black square) and saved with its figure, or a screenshot of one, lies
on a light page, often with axes, ticks and their numbers round it. The page's border
says dark ink on paper, and the black square was taken for the ink. The page round
such a panel is painted over with the panel's own dark: the picture then reads as the
panel alone, light ink on dark paper, the axes and their numbers gone, and the digits'
boxes stay where they are in the picture.

A panel is a few dark pieces (the strokes inside may cut it into several where they
reach its edges) whose box covers PANEL_MIN_AREA of the picture or more and its middle,
is dark at its four corners and mostly along its sides, is mostly dark but not all
inside a frame of FRAME of each side (something is shown in it), and has light page round
it on every side. A printed box round a digit, even a heavy one, is mostly light inside
its frame, a bold digit is dark only in places along its box, and a dark header above
a page's writing is off its middle: none is a panel. Nor is a picture no larger than
one digit's box (`model.pixels.DIGIT_BOX_SIDE`): a bold digit stretched to its box, with
a margin of paper round it, is dark at the box's corners and along its sides, but a
figure is far larger than the digit it shows.

Plotted dark on light (`cmap="gray_r"`), the digit shows on the page itself, inside
the axes' frame: a closed rectangle of hairlines with tick marks and tick numbers
outside it. The numbers were read as digits, and the hairlines, greyed by their
anti-aliasing, passed for an exercise book's faint ruling (`model.ruling`), so the
threshold rose over the digit's grey pixels. Where there is no dark panel, such a frame
(`_plot_frame`) has everything outside it painted the page's light, itself included.
Tick marks, thin stubs outside it, tell a plot's frame from a printed box (a row of
boxes has walls the frame's removal would leave standing), and a box whose digit goes
out across it is no plot's frame: only tick marks touch a frame from outside.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.pixels import block_min, is_digit_box, otsu, quantile, sample_of, shrink

PANEL_SIDE = 256  # panels are looked for on a copy at most this wide
PANEL_MIN_AREA = 0.2  # of the picture
PANEL_PIECE = 0.01  # dark pieces of at least this share of the picture make the panel
# Of the panel's box less a FRAME of each side (a printed box's heavy frame), dark: at
# least (a panel, not a frame round a digit), at most (something shown in it).
PANEL_DARK = (0.4, 0.95)
FRAME = 0.1
PANEL_SIDES = 0.5  # of the panel box's sides, dark on average at least ...
CORNER = 3  # ... and each corner (this many px square, on the copy) mostly dark
# Rows and columns of the box less dark than PANEL_SIDES are peeled off its outside
# (tick marks round a plot's frame), up to this share of its side.
PEEL = 0.05
PAGE_LIGHT = 0.97  # of the page round the panel, light at least (a few labels at most)
# A light plot's frame (`_plot_frame`): hairlines along FRAME_SPAN of the picture or more,
# FRAME_FULL dark from corner to corner, at most FRAME_THIN px of the copy thick.
FRAME_SPAN = 0.5
FRAME_FULL = 0.95
FRAME_THIN = 2
MIN_TICKS = 2  # a plot's frame has tick marks outside it
PLOT_DARK = 0.5  # of the inside of a plot's frame, dark at most: the page shows in it
FRAME_MAX_SIDE = 2048  # px: figures and screenshots; larger pictures are photos


def without_the_page(gray: np.ndarray) -> np.ndarray:
    """The picture with the light page round a dark panel painted the panel's dark, or
    the picture as it is when it holds no panel (1 = white)."""
    if is_digit_box(gray.shape):
        return gray  # one digit's box: no figure round a picture, a digit and its margin
    # Every step-th pixel first: averaging a phone photo down whole costs 30 ms.
    step = max(1, max(gray.shape) // (2 * PANEL_SIDE))
    small, factor = shrink(gray[::step, ::step], PANEL_SIDE)
    threshold = otsu(small)
    dark = small <= threshold
    box = _panel_box(dark)
    if box is None:
        if max(gray.shape) > FRAME_MAX_SIDE:
            return gray  # a photo: a plot's hairlines are a figure's or a screenshot's
        pool = -(-max(gray.shape) // PANEL_SIDE)
        frame = _plot_frame(block_min(gray, pool) <= threshold)
        if frame is None:
            return gray
        return _inside_the_frame(gray, frame, pool, threshold)
    # One pixel of the copy in from each side: its edge blurs the page into the panel.
    top, bottom, left, right = (round((v + inward) * step / factor)
                                for v, inward in zip(box, (1, -1, 1, -1), strict=True))
    inside = gray[top:bottom, left:right]
    pixels = sample_of(inside)
    dark_pixels = pixels[pixels <= threshold]
    level = quantile(dark_pixels, 0.5) if dark_pixels.size else float(pixels.min())
    painted = np.full_like(gray, level)
    painted[top:bottom, left:right] = inside
    return painted


def _panel_box(dark: np.ndarray) -> tuple[int, int, int, int] | None:
    """Top, bottom, left, right (exclusive) of the dark panel in `dark`, or None."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8),
                                                      connectivity=8)
    big = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= PANEL_PIECE * dark.size]
    if not len(big):
        return None
    left = int(big[:, cv2.CC_STAT_LEFT].min())
    top = int(big[:, cv2.CC_STAT_TOP].min())
    right = int((big[:, cv2.CC_STAT_LEFT] + big[:, cv2.CC_STAT_WIDTH]).max())
    bottom = int((big[:, cv2.CC_STAT_TOP] + big[:, cv2.CC_STAT_HEIGHT]).max())
    height, width = dark.shape
    if top == 0 or left == 0 or bottom == height or right == width:
        return None  # no page on every side
    top, bottom, left, right = _peeled(dark, top, bottom, left, right)
    if ((bottom - top) * (right - left) < PANEL_MIN_AREA * dark.size
            or not (top <= height / 2 < bottom and left <= width / 2 < right)):
        return None  # too small, or off the picture's middle (a header, a logo)
    panel = dark[top:bottom, left:right]
    sides = np.concatenate([panel[0], panel[-1], panel[:, 0], panel[:, -1]])
    corners = (panel[:CORNER, :CORNER], panel[:CORNER, -CORNER:],
               panel[-CORNER:, :CORNER], panel[-CORNER:, -CORNER:])
    rows, cols = round(FRAME * panel.shape[0]), round(FRAME * panel.shape[1])
    inside = panel[rows:panel.shape[0] - rows, cols:panel.shape[1] - cols]
    if not (PANEL_DARK[0] <= inside.mean() <= PANEL_DARK[1] and sides.mean() >= PANEL_SIDES
            and all(corner.mean() > 0.5 for corner in corners)):
        return None
    page_dark = (dark.sum() - panel.sum()) / (dark.size - panel.size)
    if 1 - page_dark < PAGE_LIGHT:
        return None
    return top, bottom, left, right


def _peeled(dark: np.ndarray, top: int, bottom: int, left: int,
            right: int) -> tuple[int, int, int, int]:
    """The box less its outer rows and columns that are mostly light, PEEL of it at most."""
    rows, cols = round(PEEL * (bottom - top)), round(PEEL * (right - left))
    for _ in range(rows):
        if dark[top, left:right].mean() < PANEL_SIDES:
            top += 1
        if dark[bottom - 1, left:right].mean() < PANEL_SIDES:
            bottom -= 1
    for _ in range(cols):
        if dark[top:bottom, left].mean() < PANEL_SIDES:
            left += 1
        if dark[top:bottom, right - 1].mean() < PANEL_SIDES:
            right -= 1
    return top, bottom, left, right


def _plot_frame(dark: np.ndarray) -> tuple[int, int, int, int] | None:
    """Top, bottom, left, right (exclusive) of the inside of a plot's frame in `dark`,
    or None.

    A plot's frame (its axes' spines) is a closed rectangle of hairlines, at most
    FRAME_THIN px of the copy thick, round PANEL_MIN_AREA of the picture or more and
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
    if ((bottom - top) * (right - left) < PANEL_MIN_AREA * dark.size
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
        return None  # a printed box (or a row of them), not a plot: `model.rules`' work
    if 1 - float(outside.mean()) < PAGE_LIGHT:
        return None
    return top + depths[0], bottom - depths[1], left + depths[2], right - depths[3]


def _depth(box: np.ndarray) -> int:
    """How many rows from the top of `box` are lines across it (FRAME_FULL dark)."""
    depth = 0
    while depth <= FRAME_THIN and depth < box.shape[0] and box[depth].mean() >= FRAME_FULL:
        depth += 1
    return depth


def _inside_the_frame(gray: np.ndarray, frame: tuple[int, int, int, int], zoom: int,
                      threshold: float) -> np.ndarray:
    """The picture with everything but the inside of a plot's frame (`frame`, on the copy
    `zoom` times smaller) painted the page's light: the frame, its ticks and labels."""
    top, bottom, left, right = (v * zoom for v in frame)
    pixels = sample_of(gray)
    light = pixels[pixels > threshold]
    level = quantile(light, 0.5) if light.size else float(pixels.max())
    painted = np.full_like(gray, level)
    painted[top:bottom, left:right] = gray[top:bottom, left:right]
    return painted
