"""The prediction log and feedback in a real browser, against an app with its own store.

Drawing on /draw is logged under "draw"; "Wrong — it's a …" keeps a labelled example
that the Monitor page's zip export files under its label; a store scribbled over while
the app runs costs no prediction, logs one warning and recovers once it is put back.
"""

from __future__ import annotations

import os
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from model import feedback, monitor_store, predlog

pytestmark = pytest.mark.browser

READ_TIMEOUT_MS = 15_000
WAIT_S = 20.0
WARNING = "prediction log cannot be written"


@pytest.fixture(scope="module")
def monitored_app(tmp_path_factory) -> Iterator[tuple[str, Path, Path]]:
    """`streamlit run app.py` logging to a store of its own: (url, store, server log)."""
    from tests.browser import streamlit_app

    folder = tmp_path_factory.mktemp("monitored")
    store, log = folder / "monitor.db", folder / "server.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGIT_STUDIO_MONITOR_DB", str(store))
        patch.delenv(predlog.OFF_SWITCH, raising=False)
        try:
            with streamlit_app(log) as url:
                yield url, store, log
        except RuntimeError as exc:
            pytest.fail(str(exc))


def _wait_for(condition, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except (sqlite3.Error, monitor_store.StoreError):
            found = None  # the store is being put back
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _draw_and_read(page, digit: int) -> None:
    from playwright.sync_api import expect

    from tests.browser import DIGIT_STROKES, draw, metric_value, wait_until_idle

    prediction = metric_value(page, "Prediction")
    if prediction.inner_text().strip() != "–":  # a fresh page has nothing to clear
        page.locator(".st-key-draw_clear button").click()
        expect(prediction).to_have_text("–", timeout=READ_TIMEOUT_MS)
        wait_until_idle(page)
    draw(page, DIGIT_STROKES[digit])
    expect(metric_value(page, "Prediction")).to_have_text(str(digit), timeout=READ_TIMEOUT_MS)


def _drawn(store: Path, text: str, since: float) -> list:
    return [r for r in monitor_store.load_readings(since, path=store)
            if r.source == "draw" and r.text == text]


def test_a_drawing_is_logged_under_draw(page, monitored_app):
    from tests.browser import open_app

    url, store, _ = monitored_app
    started = time.time()
    open_app(page, url, "draw")
    _draw_and_read(page, 7)
    logged = _wait_for(lambda: _drawn(store, "7", started))
    assert logged and logged[0].latency_ms > 0 and logged[0].session
    assert logged[0].model and logged[0].digits == [7]


def test_a_wrong_reading_becomes_a_labelled_example_in_the_zip(page, monitored_app,
                                                               artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import open_app, wait_until_idle

    url, store, _ = monitored_app
    open_app(page, url, "draw")
    _draw_and_read(page, 1)
    page.get_by_role("button", name="Wrong — it's a …").click()
    body = page.get_by_test_id("stPopoverBody")
    four = body.get_by_role("radio", name="4", exact=True)
    four.click()
    expect(four).to_have_attribute("aria-checked", "true", timeout=READ_TIMEOUT_MS)
    wait_until_idle(page)  # the pick has reached the server before Save is pressed
    body.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your answer is kept as a labelled example")).to_be_visible(
        timeout=READ_TIMEOUT_MS)
    items = _wait_for(lambda: feedback.list_feedback(label=4, path=store))
    assert items, [(i.label, i.predicted) for i in feedback.list_feedback(path=store)]
    assert items[0].predicted == 1 and items[0].source == "draw"
    assert feedback.original_ink(items[0].id, path=store) is not None

    open_app(page, url, "monitor")
    page.get_by_role("tab", name="Feedback").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as zip").click()
    path = artifacts_dir / "feedback-export.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert f"4/{items[0].id}.png" in archive.namelist()
    page.screenshot(path=artifacts_dir / "browser_monitor_feedback.png", full_page=True)


def test_the_monitor_page_shows_the_readings(page, monitored_app, artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import metric_value, open_app

    url, _, _ = monitored_app
    open_app(page, url, "monitor")
    expect(metric_value(page, "Readings")).not_to_have_text("0", timeout=READ_TIMEOUT_MS)
    expect(page.get_by_role("tab", name="Drift")).to_be_visible(timeout=READ_TIMEOUT_MS)
    page.screenshot(path=artifacts_dir / "browser_monitor.png", full_page=True)


def test_a_corrupt_store_costs_no_prediction_and_recovers(page, monitored_app, tmp_path):
    from tests.browser import open_app

    url, store, log = monitored_app
    open_app(page, url, "draw")
    _draw_and_read(page, 0)
    assert _wait_for(lambda: monitor_store.load_readings(path=store))
    with sqlite3.connect(store) as source, sqlite3.connect(tmp_path / "good.db") as copy:
        source.backup(copy)
    warnings_before = log.read_text().count(WARNING)
    with open(store, "r+b") as f:
        f.write(b"scribbled over while the app runs")
    corrupted = time.time()
    for digit in (7, 1):  # predictions go on
        _draw_and_read(page, digit)
    assert _wait_for(lambda: log.read_text().count(WARNING) > warnings_before)
    _draw_and_read(page, 0)
    time.sleep(1.0)
    assert log.read_text().count(WARNING) == warnings_before + 1  # one warning only
    assert "Traceback" not in log.read_text()

    os.replace(tmp_path / "good.db", store)  # fixed
    _draw_and_read(page, 7)
    landed = _wait_for(lambda: len(_drawn(store, "7", corrupted)) >= 2)
    assert landed, "the readings made while the store was broken did not land"
    assert _drawn(store, "1", corrupted) and _drawn(store, "0", corrupted)
