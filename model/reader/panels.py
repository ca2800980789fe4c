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
one digit's box (`model.reader.pixels.DIGIT_BOX_SIDE`): a bold digit stretched to its box, with
a margin of paper round it, is dark at the box's corners and along its sides, but a
figure is far larger than the digit it shows.

Plotted dark on light, a digit shows inside its axes' frame on the page itself
(`model.reader.plot_frames`): where there is no dark panel, everything outside the frame is
painted the page's light.

A figure of several panels (`plt.subplots`, `_panel_grid`) has two or more dark panels
of one size, each a straight-sided dark square, the page round and between them; each
reads as a digit, each row of them as a line. Figures of several panels or plots are
looked for only where the page is one flat level: figures and screenshots.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader.pixels import is_digit_box, otsu, quantile, sample_of, shrink
from model.reader.plot_frames import (
    FRAME_MAX_SIDE,
    PAGE_LIGHT,
    Inside,
    of_one_size,
    plot_frame_insides,
)

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
# A figure's page: FLAT_PAGE of the copy or more within FLAT of its lightest level.
# Figures: 0.5-0.8 (JPEG at 75 % as well); photos, scans: 0-0.005 (synthetic exercise
# books up to 0.34); a hundred panels packed close leave little page.
FLAT = 2 / 255
FLAT_PAGE = 0.1
# A figure of several panels (`_panel_grid`, on a copy at most GRID_COPY_SIDE wide): each
# at least GRID_MIN_SIDE px of the copy across, dark along GRID_SIDES of its sides.
GRID_COPY_SIDE = 768
GRID_MIN_SIDE = 8
GRID_SIDES = 0.9
# A thin digit in viridis is dark all but its yellow core, and one panel of a figure
# may be empty: the panels' shape and number tell a figure, not what each one shows.
GRID_DARK = (PANEL_DARK[0], 1.0)
# ... and each about square, as digit images are: a light 1 stretched from the top edge
# of a dark square to its bottom edge cuts it into two straight-sided halves of one size.
GRID_ASPECT = (0.75, 1.33)


def without_the_page(gray: np.ndarray) -> np.ndarray:
    """The picture with the light page round its dark panels painted the panels' dark,
    or everything outside its plots' frames the page's light, or the picture as it is
    when it holds neither (1 = white)."""
    if is_digit_box(gray.shape):
        return gray  # one digit's box: no figure round a picture, a digit and its margin
    # Every step-th pixel first: averaging a phone photo down whole costs 30 ms.
    step = max(1, max(gray.shape) // (2 * PANEL_SIDE))
    small, factor = shrink(gray[::step, ::step], PANEL_SIDE)
    threshold = otsu(small)
    # Figures of several panels or plots are looked for on figures and screenshots only:
    # their page is one flat level. Paper in a photo or a scan has grain.
    sample = sample_of(small)
    figure = float(np.mean(sample >= sample.max() - FLAT)) >= FLAT_PAGE
    insides = _panel_grid(gray, threshold) if figure else None
    if insides is None and (box := _panel_box(small <= threshold)) is not None:
        insides = [_inside(box, step / factor)]
    if insides is not None:
        pixels = np.concatenate([sample_of(gray[inside]) for inside in insides])
        dark = pixels[pixels <= threshold]
        level = quantile(dark, 0.5) if dark.size else float(pixels.min())  # the panels' dark
    else:
        insides = plot_frame_insides(gray, threshold, figure)
        if insides is None:
            return gray
        pixels = sample_of(gray)
        light = pixels[pixels > threshold]
        level = quantile(light, 0.5) if light.size else float(pixels.max())  # the page's
    painted = np.full_like(gray, level)
    for inside in insides:
        painted[inside] = gray[inside]
    return painted


def _inside(box: tuple[int, int, int, int], scale: float) -> Inside:
    """A panel's box found on a copy `scale` times smaller, as the picture's rows and
    columns one pixel of the copy in from each side: its edge blurs the page into it."""
    top, bottom, left, right = box
    return (slice(round((top + 1) * scale), round((bottom - 1) * scale)),
            slice(round((left + 1) * scale), round((right - 1) * scale)))


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
    if not _is_panel(panel, PANEL_SIDES, PANEL_DARK):
        return None
    page_dark = (dark.sum() - panel.sum()) / (dark.size - panel.size)
    if 1 - page_dark < PAGE_LIGHT:
        return None
    return top, bottom, left, right


def _is_panel(panel: np.ndarray, sides_dark: float,
              inside_dark: tuple[float, float]) -> bool:
    """Whether `panel` (dark, a box's pixels) is a dark square: dark at its corners,
    `sides_dark` along its sides on average, and within `inside_dark` inside."""
    sides = np.concatenate([panel[0], panel[-1], panel[:, 0], panel[:, -1]])
    corners = (panel[:CORNER, :CORNER], panel[:CORNER, -CORNER:],
               panel[-CORNER:, :CORNER], panel[-CORNER:, -CORNER:])
    rows, cols = round(FRAME * panel.shape[0]), round(FRAME * panel.shape[1])
    inside = panel[rows:panel.shape[0] - rows, cols:panel.shape[1] - cols]
    return bool(inside_dark[0] <= inside.mean() <= inside_dark[1]
                and sides.mean() >= sides_dark
                and all(corner.mean() > 0.5 for corner in corners))


def _panel_grid(gray: np.ndarray, threshold: float) -> list[Inside] | None:
    """The inside of each dark panel of a figure of several (`plt.subplots`), or None.

    Each panel is one dark piece (darker than `threshold`) whose box is about square
    (GRID_ASPECT) and a panel (`_is_panel`) with straight sides (GRID_SIDES dark), and
    may be dark all over (GRID_DARK); there are two or more, of one size (`of_one_size`),
    together PANEL_MIN_AREA of the picture or more, with light page round and between
    them. They are looked for on a copy at most GRID_COPY_SIDE wide: a hundred panels
    are a few pixels each on the single panel's copy.
    """
    if max(gray.shape) > FRAME_MAX_SIDE:
        return None  # a photo, or a page: a figure's panels are looked for on figures
    step = -(-max(gray.shape) // GRID_COPY_SIDE)  # every step-th pixel: panels are big
    small = gray[::step, ::step]
    # Opened, the panels lose their axes' tick marks, thin stubs along their sides.
    dark = cv2.morphologyEx((small <= threshold).astype(np.uint8), cv2.MORPH_OPEN,
                            np.ones((3, 3), np.uint8)).astype(bool)
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    height, width = dark.shape
    boxes = [_peeled(dark, int(y), int(y + h), int(x), int(x + w))  # less a label touched
             for x, y, w, h in stats[1:, :4]
             if min(w, h) >= GRID_MIN_SIDE and x > 0 and y > 0 and x + w < width
             and y + h < height]
    boxes = [box for box in boxes
             if GRID_ASPECT[0] <= (box[3] - box[2]) / (box[1] - box[0]) <= GRID_ASPECT[1]
             and _is_panel(dark[box[0]:box[1], box[2]:box[3]], GRID_SIDES, GRID_DARK)]
    if len(boxes) < 2 or not of_one_size(boxes):
        return None
    covered = np.zeros_like(dark)
    for top, bottom, left, right in boxes:
        covered[top:bottom, left:right] = True
    if covered.mean() < PANEL_MIN_AREA or 1 - dark[~covered].mean() < PAGE_LIGHT:
        return None
    return [_inside(box, step) for box in boxes]


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
