"""Real-browser fixtures: `streamlit run app.py` on loopback, driven by headless Chromium.

tests/conftest.py registers the fixtures, so any test can ask
for ``app_url`` (the server's base URL), ``browser`` (one Chromium per session) or
``page`` (a fresh tab per test). ``open_app(page, app_url, "upload")`` loads a page of
the app and waits until its script has run. A missing Chromium fails the test: the
browser tests are part of the suite, not an optional extra.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 1000}
# The first start imports streamlit, plotly and ONNX Runtime; on a busy 2-core
# machine that has taken up to ~20 s.
SERVER_START_TIMEOUT_S = 60.0
# Playwright's default wait for one element or state, in ms.
UI_TIMEOUT_MS = 20_000
FRAME_MENU_ENTRY = "Draw"  # a page title in app.py's menu (the legacy one says "draw")
LANDING_PATHS = ("", "draw")
MOUSE_STEPS = 8  # intermediate mouse events per stroke segment, like a real drag
# fabric.js sets its drawing cursor on the canvas at a mouse move once the pen is on.
PEN_CURSOR = "crosshair"
PEN_CURSOR_JS = "(canvas) => canvas.style.cursor"
PEN_PROBE_PX = 6
PEN_POLL_S = 0.02

# Digits as strokes: polylines in canvas fractions (0-1 across, 0-1 down).
Stroke = list[tuple[float, float]]
_ZERO = [(0.5 + 0.2 * dx, 0.5 + 0.32 * dy) for dx, dy in (
    (0, -1), (-0.6, -0.85), (-0.95, -0.4), (-1, 0), (-0.95, 0.4), (-0.6, 0.85), (0, 1),
    (0.6, 0.85), (0.95, 0.4), (1, 0), (0.95, -0.4), (0.6, -0.85), (0, -1))]
DIGIT_STROKES: dict[int, list[Stroke]] = {
    1: [[(0.52, 0.16), (0.50, 0.50), (0.48, 0.84)]],
    0: [_ZERO],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.58, 0.5), (0.44, 0.84)]],
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}:\n"
                               f"{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit was not healthy after {SERVER_START_TIMEOUT_S:.0f} s:\n"
                       f"{log.read_text()}")


@contextmanager
def streamlit_app(log: Path) -> Iterator[str]:
    """Run `streamlit run app.py` on a free loopback port (output to `log`); yield its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_DIR / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
    ]
    with open(log, "wb") as sink:
        # Its own process group, so stopping it stops whatever it started too.
        server = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=sink,
                                  stderr=subprocess.STDOUT, env=os.environ.copy(),
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium (never a browser Playwright downloads itself)."""
    if not CHROMIUM.is_file():
        raise RuntimeError(f"Chromium is missing at {CHROMIUM}: apt-get install chromium.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_tab(browser: Browser) -> tuple[BrowserContext, Page]:
    """A fresh tab with its own cookies (so its own Streamlit session) and generous waits."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(UI_TIMEOUT_MS)
    return context, tab


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app, served by `streamlit run` for the whole session."""
    try:
        with streamlit_app(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; a missing browser fails the tests."""
    try:
        with chromium() as launched:
            yield launched
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab per test."""
    context, tab = new_tab(browser)
    try:
        yield tab
    finally:
        context.close()


def wait_until_idle(page: Page) -> None:
    """Wait until the page shows content and no script run is in progress."""
    page.wait_for_function(
        "() => document.querySelector("
        "'[data-testid=\"stMain\"] [data-testid=\"stElementContainer\"]') !== null"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    )


def open_app(page: Page, app_url: str, path: str = "") -> None:
    """Load one page of the app (`path` is its url_path, "" for the default) and wait for it.

    It waits for app.py's menu (titled pages), not Streamlit's legacy one, which a
    page shows only while it sends a first visit through app.py (see
    pages/common/state.py).
    """
    from playwright.sync_api import expect

    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
    menu = page.get_by_test_id("stSidebarNav")
    # Playwright's expect waits 5 s unless told; a cold server's first visit can take longer.
    expect(menu.get_by_text(FRAME_MENU_ENTRY, exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
    # The landing page lives at "/" (its own path redirects there).
    expect(page).to_have_url(f"{app_url}/" if path in LANDING_PATHS else f"{app_url}/{path}")
    wait_until_idle(page)


def metric_value(page: Page, label: str) -> Locator:
    """The locator of the value of the `st.metric` labelled `label`."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
    return metric.locator('[data-testid="stMetricValue"]')


def hover_point(box: dict) -> tuple[float, float]:
    """A point inside the canvas's bottom-left corner, away from any digit's strokes."""
    return box["x"] + PEN_PROBE_PX, box["y"] + box["height"] - PEN_PROBE_PX


def wait_for_pen(page: Page, canvas: Locator) -> None:
    """Wait until the canvas draws when dragged on.

    streamlit-drawable-canvas 0.13 shows its canvas first and turns its pen on only once it
    has loaded its `initial_drawing` (a promise): a drag begun in between draws nothing.
    A class student's first stroke, begun under 30 ms after the canvas appeared on a
    machine kept busy, was lost that way 3 times in 35 (and twice in CI). A person is never
    that quick; a test is. With the pen on, a mouse move over the canvas sets fabric.js's
    drawing cursor, which this waits for.
    """
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    moves = 0
    while canvas.evaluate(PEN_CURSOR_JS) != PEN_CURSOR:
        if time.monotonic() > deadline:
            raise AssertionError("the canvas never turned its pen on")
        box = canvas.bounding_box()  # asked each time: the page's layout may still move it
        assert box is not None, "the drawing canvas is not on the page"
        x, y = hover_point(box)
        page.mouse.move(x + moves % 2, y)  # a pixel to and fro: a move fabric.js sees
        moves += 1
        time.sleep(PEN_POLL_S)


def draw(page: Page, strokes: list[Stroke]) -> None:
    """Drag the mouse along each stroke on the draw page's canvas."""
    from playwright.sync_api import expect

    canvas = page.locator("canvas.upper-canvas")
    # After a switch of mode the old canvas lingers until the rerun ends; use the new one.
    expect(canvas).to_have_count(1)
    wait_for_pen(page, canvas)
    box = canvas.bounding_box()
    assert box is not None, "the drawing canvas is not on the page"
    for stroke in strokes:
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                  for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=MOUSE_STEPS)
        page.mouse.up()
