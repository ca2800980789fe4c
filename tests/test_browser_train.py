"""/train and /experiments in a real browser: a tiny training started from the form, its
curves growing point by point, and a second training cancelled.

The server is this module's own, with its own runs/ (jobs, MLflow store), so its one job
at a time is not shared with other tests.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = ':not([data-stale="true"])'
# Generous: without a warm standby the job imports TensorFlow on a busy 2-core machine.
FIRST_POINTS_MS = 120_000
DONE_MS = 240_000
CANCELLED_MS = 15_000  # Cancel itself waits at most 5 s; the rest is the page's rerun

# How many points the training curve (first trace) of a live chart has.
POINTS_JS = """(key) => {
    const plot = document.querySelector(`.st-key-${key}:not([data-stale="true"]) .js-plotly-plot`);
    return plot && plot._fullData && plot._fullData[0] ? plot._fullData[0].x.length : 0;
}"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-runs")


def standby_ready(runs: Path) -> bool:
    """Whether the server's standby worker has TensorFlow and MLflow imported."""
    try:
        return json.loads((runs / "jobs" / "standby.json").read_text())["ready"]
    except (OSError, ValueError, KeyError):
        return False


@pytest.fixture(scope="module")
def train_url(runs: Path) -> Iterator[str]:
    from tests.browser import streamlit_app

    saved = {k: os.environ.get(k) for k in ("DIGIT_STUDIO_RUNS", "MLFLOW_TRACKING_URI")}
    os.environ["DIGIT_STUDIO_RUNS"] = str(runs)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        with streamlit_app(runs / "server.log") as url:
            yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")


def _start(page, epochs: int) -> float:
    _set_number(page, "Data limit (training digits, 0 = all)", 2000)
    _set_number(page, "Epochs", epochs)
    page.get_by_role("button", name="Start").click()
    return time.monotonic()


def test_a_tiny_training_draws_its_curves_and_another_is_cancelled(page, train_url: str,
                                                                   runs: Path,
                                                                   artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import open_app

    open_app(page, train_url)  # a fresh server's first visit goes through the frame
    open_app(page, train_url, "train")
    expect(page.get_by_text("No training yet on this server")).to_be_visible()
    # The page started a standby worker; a teacher reading the form gives it this time.
    deadline = time.monotonic() + FIRST_POINTS_MS / 1000
    while not standby_ready(runs) and time.monotonic() < deadline:
        time.sleep(0.5)
    started = _start(page, epochs=3)
    page.wait_for_function(f"() => ({POINTS_JS})('live_loss') >= 1", timeout=FIRST_POINTS_MS)
    first_point_s = time.monotonic() - started
    page.wait_for_function(f"() => ({POINTS_JS})('live_loss') >= 2", timeout=FIRST_POINTS_MS)
    expect(page.get_by_text("Batch ", exact=False).first).to_be_visible()
    page.screenshot(path=artifacts_dir / "browser_train_live.png", full_page=True)
    expect(page.get_by_text("finished in")).to_be_visible(timeout=DONE_MS)
    expect(page.locator(f".st-key-train_confusion{LIVE}")).to_be_visible()
    print(f"first curve point {first_point_s:.1f} s after Start")

    _start(page, epochs=50)
    cancel = page.locator(f".st-key-train_cancel{LIVE} button")
    expect(cancel).to_be_visible(timeout=FIRST_POINTS_MS)
    page.wait_for_function(f"() => ({POINTS_JS})('live_loss') >= 1", timeout=FIRST_POINTS_MS)
    clicked = time.monotonic()
    cancel.click()
    expect(page.get_by_text("was cancelled")).to_be_visible(timeout=CANCELLED_MS)
    print(f"cancelled {time.monotonic() - clicked:.1f} s after the click")


def test_the_experiments_page_renders(page, train_url: str, artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import open_app

    open_app(page, train_url, "experiments")
    expect(page.get_by_role("heading", name="Experiments")).to_be_visible()
    # The first visit imports mlflow in the server: seconds on a busy machine.
    expect(page.get_by_role("heading", name="Model registry")).to_be_visible(
        timeout=FIRST_POINTS_MS)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=artifacts_dir / "browser_experiments.png", full_page=True)
