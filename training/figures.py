"""Pictures logged with runs, drawn with Pillow (no matplotlib, no browser needed)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CELL = 44  # pixels per confusion-matrix cell
MARGIN = 56  # room for the axis labels
FONT_SIZE = 14
INK = (20, 20, 20)
BAD = (214, 39, 40)  # off-diagonal counts
GOOD = (31, 119, 180)  # the diagonal


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow without scalable default fonts
        return ImageFont.load_default()


def confusion_png(matrix: list[list[int]]) -> Image.Image:
    """The confusion matrix as a heat map with counts: rows true digit, columns predicted.

    Diagonal cells shade blue by their row's recall, errors red by their share of the
    row, so a handful of confusions among thousands of right answers still shows.
    """
    cm = np.asarray(matrix, dtype=np.int64)
    k = len(cm)
    side = MARGIN + k * CELL + 8
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    font = _font(FONT_SIZE)
    rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    share = cm / rows
    worst = max(float((share - np.diag(np.diag(share))).max()), 1e-9)
    for t in range(k):
        for p in range(k):
            x, y = MARGIN + p * CELL, MARGIN + t * CELL
            strength = share[t, p] if t == p else share[t, p] / worst
            base = GOOD if t == p else BAD
            fill = tuple(int(255 - (255 - c) * min(1.0, strength) * 0.85) for c in base)
            if cm[t, p] == 0:
                fill = (250, 250, 250)
            draw.rectangle([x, y, x + CELL - 1, y + CELL - 1], fill=fill, outline=(225, 225, 225))
            if cm[t, p]:
                draw.text((x + CELL / 2, y + CELL / 2), str(cm[t, p]), fill=INK, font=font,
                          anchor="mm")
        draw.text((MARGIN - 10, MARGIN + t * CELL + CELL / 2), str(t), fill=INK, font=font,
                  anchor="rm")
        draw.text((MARGIN + t * CELL + CELL / 2, MARGIN - 10), str(t), fill=INK, font=font,
                  anchor="mb")
    draw.text((4, 4), "rows: true, columns: predicted", fill=INK, font=_font(11))
    return image
