"""The evaluation dashboard and the data explorer in a real browser (Chromium, `streamlit run`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pages.common.evaluation import GALLERY_MAX
from tests.browser import open_app, wait_until_idle
from training.evaluate import predict_test_set
from training.metrics import confusion_matrix

pytestmark = pytest.mark.browser

# The first visit predicts the 10,000 test digits; the map imports TensorFlow. Both can
# take tens of seconds on a busy 2-core machine (the benchmark measures them properly).
SLOW_MS = 180_000

# While a rerun is in flight Streamlit keeps the previous copy of an element beside the
# new one (data-stale="true"); selectors must skip it.
LIVE = ':not([data-stale="true"])'
CM_CHART = f".st-key-cm_chart{LIVE}"

# Where a data cell (predicted, true) of the confusion matrix is, in page pixels.
CELL_CENTRE_JS = """([pred, truth]) => {
    const plot = document.querySelector(
        '.st-key-cm_chart:not([data-stale="true"]) .js-plotly-plot');
    const layout = plot._fullLayout, box = plot.getBoundingClientRect();
    return [box.left + layout._size.l + layout.xaxis.l2p(pred),
            box.top + layout._size.t + layout.yaxis.l2p(truth)];
}"""


# A live chart's plot is drawn: Streamlit may still be replacing the element, with no
# plot in it yet, when the page's other elements have settled.
PLOT_DRAWN_JS = """(key) => {
    const plot = document.querySelector(
        `.st-key-${key}:not([data-stale="true"]) .js-plotly-plot`);
    return Boolean(plot && plot._fullLayout && plot._fullLayout._size);
}"""


def _drawn(page, key: str) -> None:
    """Wait until the chart with Streamlit key `key` has its plot drawn."""
    page.wait_for_function(PLOT_DRAWN_JS, arg=key, timeout=SLOW_MS)


# The first point of digit d's trace on the embedding map: page pixels and test image number.
MAP_POINT_JS = """(digit) => {
    const plot = document.querySelector(
        '.st-key-map_chart:not([data-stale="true"]) .js-plotly-plot');
    const layout = plot._fullLayout, box = plot.getBoundingClientRect();
    const trace = plot._fullData[digit];
    return [box.left + layout._size.l + layout.xaxis.l2p(trace.x[0]),
            box.top + layout._size.t + layout.yaxis.l2p(trace.y[0]), trace.customdata[0][0]];
}"""


@pytest.fixture(scope="module")
def shipped_cm(predictor, mnist) -> np.ndarray:
    """The shipped model's confusion matrix, computed here without the app."""
    return confusion_matrix(mnist.y_test, predict_test_set(predictor, mnist.x_test).argmax(1))


def _cell_to_click(cm: np.ndarray) -> tuple[int, int]:
    """(5, 3) if the model ever reads a 5 as a 3, else its second most common mistake.

    Never the most common one: the page opens on that cell, so a click on it proves nothing.
    """
    off = cm.copy()
    np.fill_diagonal(off, -1)
    opening = divmod(int(off.argmax()), len(cm))
    if cm[5, 3] > 0 and opening != (5, 3):
        return 5, 3
    off[opening] = -1
    return divmod(int(off.argmax()), len(cm))


def test_clicking_a_confusion_cell_shows_its_images(page, app_url: str, artifacts_dir: Path,
                                                   shipped_cm: np.ndarray):
    from playwright.sync_api import expect

    open_app(page, app_url, "evaluate")
    gallery = page.locator(f".st-key-cell_gallery{LIVE} img")
    expect(gallery.first).to_be_visible(timeout=SLOW_MS)
    wait_until_idle(page)
    truth, pred = _cell_to_click(shipped_cm)
    count = int(shipped_cm[truth, pred])

    chart = page.locator(CM_CHART)
    chart.scroll_into_view_if_needed()
    _drawn(page, "cm_chart")
    x, y = page.evaluate(CELL_CENTRE_JS, [pred, truth])
    page.mouse.move(x, y)  # plotly picks the point under the pointer on hover, then clicks it
    page.mouse.click(x, y)

    heading = f"{count:,} test images of a {truth} predicted as {pred}"
    expect(page.get_by_text(heading)).to_be_visible(timeout=SLOW_MS)
    wait_until_idle(page)
    expect(gallery).to_have_count(min(count, GALLERY_MAX))
    # The keyboard-friendly selectboxes follow the click.
    expect(page.get_by_role("combobox", name="True digit")).to_have_value(str(truth))
    expect(page.get_by_role("combobox", name="Predicted digit")).to_have_value(str(pred))
    chart.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "evaluate.png")


def test_data_page_draws_its_charts_and_the_map(page, app_url: str, artifacts_dir: Path):
    from playwright.sync_api import expect

    open_app(page, app_url, "data")
    # The class distribution, the pixel intensities and the map, which needs no button.
    expect(page.locator(f".st-key-map_chart{LIVE} .js-plotly-plot")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(3)
    expect(page.get_by_role("button", name="Compute the map")).to_have_count(0)
    wait_until_idle(page)
    page.locator(f".st-key-map_chart{LIVE}").scroll_into_view_if_needed()
    _drawn(page, "map_chart")
    x, y, index = page.evaluate(MAP_POINT_JS, 3)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    caption = re.compile(rf"^test #{int(index)}: true 3, predicted \d$")
    expect(page.get_by_text(caption)).to_be_visible(timeout=SLOW_MS)
    page.screenshot(path=artifacts_dir / "data.png")
