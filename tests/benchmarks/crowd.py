"""Many browser sessions at once against one app: the helper the 30-session benchmarks share.

    results = run_crowd(url, 30, visit)        # visit(page, i) -> anything, async

opens `count` browser contexts in ONE headless Chromium (each context has its own
cookies, so the app sees its own Streamlit session) and runs every visit at the same
time with asyncio; each result is the visit's return value or the exception that ended
it, so a benchmark counts failed sessions instead of stopping at the first.
`install_probe(page, label)` and `draw_timed(page, strokes)` time mouse-up to the value
of an `st.metric` labelled `label` changing on screen, in the page's own clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MOUSE_STEPS,
    PEN_CURSOR,
    PEN_CURSOR_JS,
    PEN_POLL_S,
    VIEWPORT,
    Stroke,
    hover_point,
)

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

T = TypeVar("T")
CROWD_TIMEOUT_MS = 120_000  # one element or state, with 30 tabs sharing 2 cores
STAGGER_S = 0.2  # between the tabs' starts, as a class opening a link within seconds

# Records, in the page's clock, the last pointerup and the first moment after it that
# the metric labelled LABEL shows a value different from what it showed at the pointerup.
_PROBE = """
(label) => {
  const value = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const l = m.querySelector('[data-testid="stMetricLabel"]');
      if (l && l.textContent.trim() === label) {
        return m.querySelector('[data-testid="stMetricValue"]').textContent.trim();
      }
    }
    return null;
  };
  window.__crowd = {up: null, before: null, shown: null, value: null};
  document.addEventListener('pointerup', () => {
    window.__crowd = {up: performance.now(), before: value(), shown: null, value: null};
  }, true);
  new MutationObserver(() => {
    const c = window.__crowd;
    if (c.up === null || c.shown !== null) return;
    const now = value();
    if (now && now !== c.before && now !== '\u2013') {
      c.shown = performance.now();
      c.value = now;
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
}
"""


async def install_probe(page: Page, label: str) -> None:
    """Start timing mouse-ups against the metric `label` (call after the page has loaded)."""
    await page.evaluate(_PROBE, label)


async def wait_for_pen(page: Page, canvas: Locator) -> None:
    """`tests.browser.wait_for_pen`, for an async page: hover until the canvas's pen is on."""
    moves = 0
    async with asyncio.timeout(CROWD_TIMEOUT_MS / 1000):
        while await canvas.evaluate(PEN_CURSOR_JS) != PEN_CURSOR:
            box = await canvas.bounding_box()
            assert box is not None, "the drawing canvas is not on the page"
            x, y = hover_point(box)
            await page.mouse.move(x + moves % 2, y)
            moves += 1
            await asyncio.sleep(PEN_POLL_S)


async def draw_timed(page: Page, strokes: list[Stroke],
                     timeout_ms: float = CROWD_TIMEOUT_MS) -> tuple[float, str]:
    """Draw `strokes` on the page's canvas; (ms from the last mouse-up to the metric's new
    value on screen, that value). Needs `install_probe` first."""
    canvas = page.locator("canvas.upper-canvas")
    await canvas.wait_for()
    await wait_for_pen(page, canvas)
    box = await canvas.bounding_box()
    assert box is not None, "the drawing canvas is not on the page"
    for stroke in strokes:
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                  for fx, fy in stroke]
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(x, y, steps=MOUSE_STEPS)
        await page.mouse.up()
    await page.wait_for_function("() => window.__crowd && window.__crowd.shown !== null",
                                 timeout=timeout_ms)
    probe = await page.evaluate("() => window.__crowd")
    return probe["shown"] - probe["up"], probe["value"]


async def crowd(url: str, count: int, visit: Callable[[Page, int], Awaitable[T]],
                stagger_s: float = STAGGER_S) -> list[T | BaseException]:
    """Run `visit(page, i)` for i in range(count), each in its own browser context, at once."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   headless=True, args=CHROMIUM_ARGS)
        try:
            async def one(i: int) -> T:
                await asyncio.sleep(i * stagger_s)
                context = await browser.new_context(viewport=VIEWPORT)
                try:
                    page = await context.new_page()
                    page.set_default_timeout(CROWD_TIMEOUT_MS)
                    return await visit(page, i)
                finally:
                    await context.close()

            return await asyncio.gather(*(one(i) for i in range(count)),
                                        return_exceptions=True)
        finally:
            await browser.close()


def run_crowd(url: str, count: int, visit: Callable[[Page, int], Awaitable[T]],
              stagger_s: float = STAGGER_S) -> list[T | BaseException]:
    """`crowd` from synchronous code."""
    return asyncio.run(crowd(url, count, visit, stagger_s))


def latency_summary(values_ms: list[float]) -> dict[str, Any]:
    """n, median, p90, p95 and max of a list of milliseconds."""
    if not values_ms:
        return {"n": 0}
    v = np.asarray(values_ms, float)
    return {"n": len(v), "p50": float(np.median(v)), "p90": float(np.percentile(v, 90)),
            "p95": float(np.percentile(v, 95)), "max": float(v.max())}
