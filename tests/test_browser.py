"""The app in a real browser: headless Chromium against `streamlit run app.py` on loopback.

Digits are drawn with the mouse on the canvas, the way a student draws them, and
a sample scan is uploaded through the file picker. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from training.samples import SAMPLES_DIR, read_labels

# The fixtures (app_url, browser, page) live in tests/browser.py, registered by conftest.py.
pytestmark = pytest.mark.browser

# A reading must be on screen within this long of the mouse-up (generous: the CPU
# may be busy training; the benchmark measures the real latency).
READ_TIMEOUT_MS = 15_000


def test_digits_drawn_with_the_mouse_are_read(page, app_url: str, artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import DIGIT_STROKES, draw, metric_value, open_app

    open_app(page, app_url, "draw")  # the landing page's own path, not just "/"
    expect(page.get_by_text("Page not found")).to_have_count(0)
    prediction = metric_value(page, "Prediction")
    expect(prediction).to_have_text("–")
    for digit in (1, 0, 7):
        draw(page, DIGIT_STROKES[digit])
        expect(prediction).to_have_text(str(digit), timeout=READ_TIMEOUT_MS)
        seen = page.locator('[data-testid="stCaptionContainer"]', has_text="What the model sees")
        expect(seen).to_be_visible()
        page.screenshot(path=artifacts_dir / f"browser_draw_{digit}.png", full_page=True)
        page.locator(".st-key-draw_clear button").click()
        expect(prediction).to_have_text("–", timeout=READ_TIMEOUT_MS)


# Counts the clicks on the canvas toolbar's send button, the one the page's quick sender
# presses at each mouse-up (pages/common/quick_send.py).
COUNT_SEND_CLICKS = """
window.sendClicks = 0;
document.addEventListener('click', (event) => {
  const send = event.composedPath().some((el) => el instanceof Element
      && el.matches('button[aria-label="Update the app with this drawing"]'));
  if (send) window.sendClicks += 1;
}, true);
"""
FOUR_IN_TWO_STROKES = [[(0.34, 0.14), (0.24, 0.56), (0.76, 0.56)], [(0.62, 0.18), (0.62, 0.88)]]


def test_every_stroke_is_sent_at_mouse_up(page, app_url: str):
    """The canvas delays its send by 200 ms; the page's quick sender sends each stroke."""
    from playwright.sync_api import expect

    from tests.browser import draw, metric_value, open_app

    page.add_init_script(COUNT_SEND_CLICKS)
    open_app(page, app_url, "draw")
    draw(page, FOUR_IN_TWO_STROKES)
    expect(metric_value(page, "Prediction")).to_have_text("4", timeout=READ_TIMEOUT_MS)
    assert page.evaluate("window.sendClicks") == len(FOUR_IN_TWO_STROKES)


def test_a_stroke_begun_at_the_top_right_corner_draws(page, app_url: str):
    """The canvas's hidden toolbar rested over the canvas's top right and swallowed a
    stroke begun there before hovering had moved it away (every touch, too)."""
    from playwright.sync_api import expect

    from tests.browser import draw, metric_value, open_app

    open_app(page, app_url)
    prediction = metric_value(page, "Prediction")
    draw(page, [[(0.8, 0.04), (0.8, 0.92)]])  # a 1 begun right under the toolbar
    expect(prediction).to_have_text("1", timeout=READ_TIMEOUT_MS)


def test_an_uploaded_scan_is_read(page, app_url: str, artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import open_app

    name = "invoice_total.png"
    truth = read_labels(SAMPLES_DIR)[name]
    open_app(page, app_url, "upload")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        SAMPLES_DIR / name)
    expect(page.locator('[data-testid="stCode"]')).to_have_text(truth, timeout=READ_TIMEOUT_MS)
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_be_visible()
    page.screenshot(path=artifacts_dir / "browser_upload.png", full_page=True)


def test_an_iphone_photo_is_read(page, app_url: str, tmp_path: Path):
    """An iPhone's file name and format (IMG_0001.HEIC) pass the picker and are read."""
    import pillow_heif
    from PIL import Image
    from playwright.sync_api import expect

    from tests.browser import open_app

    name = "invoice_total.png"
    photo = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(Image.open(SAMPLES_DIR / name).convert("RGB")).save(photo,
                                                                               quality=85)
    open_app(page, app_url, "upload")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(photo)
    expect(page.locator('[data-testid="stCode"]')).to_have_text(
        read_labels(SAMPLES_DIR)[name], timeout=READ_TIMEOUT_MS)


def test_a_first_visit_straight_to_a_page_gets_the_app_frame(browser, tmp_path: Path):
    """A fresh server whose first visitor opens /upload still shows app.py's menu and
    model sidebar (Streamlit would run pages/upload.py alone: see pages/common/state.py)."""
    from playwright.sync_api import expect

    from tests.browser import new_tab, open_app, streamlit_app

    with streamlit_app(tmp_path / "server.log") as fresh_url:
        context, tab = new_tab(browser)
        try:
            open_app(tab, fresh_url, "upload")
            expect(tab.get_by_role("heading", name="Read numbers from photos")).to_be_visible()
            sidebar = tab.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("MNIST test accuracy")).to_be_visible()
            expect(sidebar.get_by_text("app", exact=True)).to_have_count(0)  # legacy menu
        finally:
            context.close()
