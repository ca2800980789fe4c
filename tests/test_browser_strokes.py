"""Digits in several strokes, drawn with the mouse on /draw in headless Chromium.

A European 1 (its flag 0.6 of the stem, a foot added as a second stroke), a 7 crossed
in a second stroke and a 5 whose bar comes last: each alone in "One digit", then all
side by side in "A number", where the page passes the canvas's paths to the reader
and the strokes decide which ink is one digit.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from training.stroke_canvas import SHAPES, WIDTH_OF, label_of

pytestmark = pytest.mark.browser

READ_TIMEOUT_MS = 15_000  # generous: the CPU may be busy; benchmarks time the real latency
DIGITS = ("1-european", "7-crossed", "5-two-strokes")
HEIGHT = 0.7  # of the canvas height
GAP = 0.35  # between digits, in digit heights


def _strokes(names: tuple[str, ...], aspect: float) -> list[list[tuple[float, float]]]:
    """The digits' strokes in canvas fractions, centred, `aspect` = canvas width / height."""
    widths = [WIDTH_OF.get(n, 0.7) * HEIGHT / aspect for n in names]
    gap = GAP * HEIGHT / aspect
    x = (1.0 - sum(widths) - gap * (len(names) - 1)) / 2
    top = (1.0 - HEIGHT) / 2
    strokes = []
    for name, width in zip(names, widths, strict=True):
        strokes += [[(x + px * width, top + py * HEIGHT) for px, py in stroke]
                    for stroke in SHAPES[name]]
        x += width + gap
    return strokes


def _wait_for_canvas_width(page, width: float) -> None:
    """Until the one canvas on the page is at least `width` pixels wide (a mode switch
    remounts it: drawing on it before it has its size puts strokes in the wrong place)."""
    from playwright.sync_api import expect

    canvas = page.locator("canvas.upper-canvas")  # in the component's shadow DOM
    deadline = time.monotonic() + READ_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        expect(canvas).to_have_count(1)
        box = canvas.bounding_box()
        if box is not None and box["width"] >= width:
            time.sleep(0.3)  # and let it settle: its first paint still moves the layout
            return
        time.sleep(0.1)
    raise AssertionError(f"the canvas never became {width} pixels wide")


def test_multi_stroke_digits_drawn_with_the_mouse(page, app_url: str, artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import draw, metric_value, open_app

    open_app(page, app_url, "draw")
    prediction = metric_value(page, "Prediction")
    for name in DIGITS:
        draw(page, _strokes((name,), 1.0))
        expect(prediction).to_have_text(label_of(name), timeout=READ_TIMEOUT_MS)
        page.screenshot(path=artifacts_dir / f"browser_strokes_{name}.png", full_page=True)
        page.locator(".st-key-draw_clear button").click()
        expect(prediction).to_have_text("–", timeout=READ_TIMEOUT_MS)
    page.locator(".st-key-draw_mode").get_by_text("A number", exact=True).click()
    expect(prediction).to_have_text("–", timeout=READ_TIMEOUT_MS)
    _wait_for_canvas_width(page, 600)  # the wide canvas replaces the square one
    draw(page, _strokes(DIGITS, 640 / 240))
    try:
        expect(prediction).to_have_text("".join(map(label_of, DIGITS)),
                                        timeout=READ_TIMEOUT_MS)
    finally:
        page.screenshot(path=artifacts_dir / "browser_strokes_number.png", full_page=True)
